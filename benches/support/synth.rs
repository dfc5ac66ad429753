//! A synthetic call centre built through the real reducer: AMI events as
//! Asterisk would send them, at any size.

use switchboard::ami::{ConnectionState, Message};
use switchboard::pbx::{HealthThresholds, State};
use switchboard::ui::config::TimeInState;
use switchboard::ui::model::{Model, Source};

const NAMES: [&str; 6] = [
    "José Núñez",
    "Zoë Šťastná",
    "Renée O'Brien",
    "Дмитрий Иванов",
    "李小龙",
    "Smith, John",
];
const STATES: [&str; 6] = [
    "NOT_INUSE",
    "INUSE",
    "RINGING",
    "UNAVAILABLE",
    "ONHOLD",
    "NOT_INUSE",
];

fn event(name: &str, headers: &[(&str, String)]) -> Message {
    let mut m = Message::default();
    m.push("Event", name);
    for (k, v) in headers {
        m.push(k, v);
    }
    m
}

/// A state with `extensions` PJSIP phones, `queues` queues of `members`
/// members and up to 5 waiting callers each, and `channels` live channels in
/// two-leg calls. `now_ms` stamps every event.
pub fn call_centre(
    extensions: usize,
    queues: usize,
    members: usize,
    channels: usize,
    now_ms: i64,
) -> State {
    let mut s = State::new();
    s.begin_resync();
    for i in 0..extensions {
        let ext = 1000 + i;
        s.apply(
            &event(
                "ExtensionStatus",
                &[
                    ("Exten", ext.to_string()),
                    ("Context", "from-internal".into()),
                    ("Hint", format!("PJSIP/{ext}")),
                    ("StatusText", "Idle".into()),
                ],
            ),
            now_ms - (i as i64 % 900) * 1000,
        );
        s.apply(
            &event(
                "DeviceStateChange",
                &[
                    ("Device", format!("PJSIP/{ext}")),
                    ("State", STATES[i % STATES.len()].into()),
                ],
            ),
            now_ms - (i as i64 % 600) * 1000,
        );
    }
    for q in 0..queues {
        let queue = format!("queue-{q:03}");
        s.apply(
            &event(
                "QueueParams",
                &[
                    ("Queue", queue.clone()),
                    ("Strategy", "rrmemory".into()),
                    ("ServiceLevel", "20".into()),
                    ("Completed", (q * 7).to_string()),
                    ("Abandoned", q.to_string()),
                    ("ServicelevelPerf2", "85.0".into()),
                ],
            ),
            now_ms,
        );
        for m in 0..members {
            let ext = 1000 + (q * members + m) % extensions.max(1);
            s.apply(
                &event(
                    "QueueMember",
                    &[
                        ("Queue", queue.clone()),
                        ("Name", format!("Agent {ext}")),
                        ("Location", format!("PJSIP/{ext}")),
                        ("StateInterface", format!("PJSIP/{ext}")),
                        ("CallsTaken", (m * 3).to_string()),
                        ("Status", ((m % 3) + 1).to_string()),
                        ("Paused", if m % 7 == 0 { "1".into() } else { "0".into() }),
                        (
                            "PausedReason",
                            if m % 7 == 0 {
                                "Lunch".into()
                            } else {
                                String::new()
                            },
                        ),
                    ],
                ),
                now_ms,
            );
        }
        for c in 0..(q % 6) {
            s.apply(
                &event(
                    "QueueEntry",
                    &[
                        ("Queue", queue.clone()),
                        ("Position", (c + 1).to_string()),
                        ("Channel", format!("PJSIP/trunk-{q:03}{c:03}")),
                        ("Uniqueid", format!("q{q}.{c}")),
                        ("CallerIDNum", format!("5550{q:03}{c}")),
                        ("CallerIDName", NAMES[c % NAMES.len()].into()),
                        ("Wait", (c * 11).to_string()),
                    ],
                ),
                now_ms,
            );
        }
    }
    for c in 0..channels {
        let link = c / 2 * 2;
        let ext = 1000 + c % extensions.max(1);
        s.apply(
            &event(
                "Newchannel",
                &[
                    ("Channel", format!("PJSIP/{ext}-{c:08x}")),
                    ("ChannelState", "6".into()),
                    ("CallerIDNum", format!("555{c:07}")),
                    ("CallerIDName", NAMES[c % NAMES.len()].into()),
                    ("ConnectedLineNum", ext.to_string()),
                    ("Context", "from-internal".into()),
                    ("Exten", ext.to_string()),
                    ("Uniqueid", format!("1700000000.{c}")),
                    ("Linkedid", format!("1700000000.{link}")),
                ],
            ),
            now_ms - (c as i64 % 300) * 1000,
        );
    }
    s.end_resync();
    s
}

/// A Ready console model over [`call_centre`], its clock at `now_ms`.
pub fn model(
    extensions: usize,
    queues: usize,
    members: usize,
    channels: usize,
    now_ms: i64,
) -> Model {
    let mut model = Model::new(
        Source::Live {
            addr: "pbx:5038".into(),
        },
        TimeInState::default(),
        HealthThresholds::default(),
        now_ms,
    );
    model.pbxs.0[0].state = call_centre(extensions, queues, members, channels, now_ms);
    model.pbxs.0[0].link.conn = ConnectionState::Ready;
    model
}
