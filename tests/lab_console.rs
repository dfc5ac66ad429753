//! The live console's core against the lab's real Asterisk: switchboard's
//! connection and reducer follow real traffic, and what they hold must match
//! what Asterisk itself answers to QueueStatus and CoreShowChannels, during
//! traffic, after it, and after the AMI session is killed or Asterisk restarts.

mod common;

use common::Lab;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::ami::connection::{self, Handle};
use switchboard::ami::{Action, AmiMsg, ConnectionState, Message};
use switchboard::pbx::snapshot::Snapshot;
use switchboard::pbx::{self, ExtensionState, State};
use switchboard::service_level::SlVariant;
use tokio::sync::mpsc;

/// Lab tests share one Asterisk: run them one at a time.
static LAB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A member as compared: (name, paused, paused reason, calls taken).
type MemberView = (String, bool, String, u32);
/// A caller as compared: (position, channel, number, name).
type CallerView = (u32, String, String, String);

#[derive(Debug, Default, PartialEq, Eq)]
struct QueueView {
    members: BTreeMap<String, MemberView>,
    callers: Vec<CallerView>,
    completed: Option<u32>,
    abandoned: Option<u32>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct View {
    queues: BTreeMap<String, QueueView>,
    channels: Vec<String>,
}

/// Asterisk shows an absent caller ID part as `<unknown>`; switchboard as "".
fn known(v: &str) -> String {
    if v == "<unknown>" {
        String::new()
    } else {
        v.to_string()
    }
}

/// Asterisk's own view, built straight from its list answers (independent of
/// switchboard's reducer).
async fn asterisk_view(reference: &Handle, counters: bool) -> Result<View, String> {
    let ask = |name: &str| {
        let action = Action::new(name).map_err(|e| e.to_string());
        async move { reference.request(action?).await.map_err(|e| e.to_string()) }
    };
    let queues = ask("QueueStatus").await?;
    let channels = ask("CoreShowChannels").await?;
    let mut view = View::default();
    for m in &queues.events {
        let q = |m: &Message| m.str("Queue").to_string();
        match m.event_name() {
            Some("QueueParams") => {
                let e = view.queues.entry(q(m)).or_default();
                if counters {
                    e.completed = m.str("Completed").parse().ok();
                    e.abandoned = m.str("Abandoned").parse().ok();
                }
            }
            Some("QueueMember") => {
                view.queues.entry(q(m)).or_default().members.insert(
                    m.str("Location").to_string(),
                    (
                        m.str("Name").to_string(),
                        m.str("Paused") == "1",
                        m.str("PausedReason").to_string(),
                        // A counter, compared with the counters (below).
                        if counters {
                            m.str("CallsTaken").parse().unwrap_or(0)
                        } else {
                            0
                        },
                    ),
                );
            }
            Some("QueueEntry") => view.queues.entry(q(m)).or_default().callers.push((
                m.str("Position").parse().unwrap_or(0),
                m.str("Channel").to_string(),
                known(m.str("CallerIDNum")),
                known(m.str("CallerIDName")),
            )),
            _ => {}
        }
    }
    for q in view.queues.values_mut() {
        q.callers.sort();
    }
    view.channels = channels
        .events
        .iter()
        .filter(|m| m.event_name() == Some("CoreShowChannel"))
        .map(|m| m.str("Channel").to_string())
        .collect();
    view.channels.sort();
    Ok(view)
}

/// What differs between Asterisk's view and switchboard's, compactly.
fn diff(asterisk: &View, ours: &View) -> String {
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        asterisk.queues.keys().chain(ours.queues.keys()).collect();
    for name in names {
        let (a, o) = (asterisk.queues.get(name), ours.queues.get(name));
        if a != o {
            out.push(format!(
                "queue {name}:\n  asterisk:    {a:?}\n  switchboard: {o:?}"
            ));
        }
    }
    let only_a: Vec<_> = asterisk
        .channels
        .iter()
        .filter(|c| !ours.channels.contains(c))
        .collect();
    let only_o: Vec<_> = ours
        .channels
        .iter()
        .filter(|c| !asterisk.channels.contains(c))
        .collect();
    if !only_a.is_empty() || !only_o.is_empty() {
        out.push(format!(
            "channels only in asterisk: {only_a:?}\nchannels only in switchboard: {only_o:?}"
        ));
    }
    out.join("\n")
}

fn our_view(state: &State, counters: bool) -> View {
    let snap = Snapshot::of(state);
    View {
        queues: snap
            .queues
            .into_iter()
            .map(|q| {
                let view = QueueView {
                    members: q
                        .members
                        .into_iter()
                        .map(|m| {
                            (
                                m.interface,
                                (
                                    m.name,
                                    m.paused,
                                    m.paused_reason,
                                    // During traffic Asterisk can count a call
                                    // taken before any event carries the new
                                    // count (one run in six saw a member lag
                                    // for 8 s): compared at the quiet end, where
                                    // the hangups publish every member's status.
                                    if counters { m.calls_taken } else { 0 },
                                ),
                            )
                        })
                        .collect(),
                    callers: q
                        .callers
                        .into_iter()
                        .map(|c| (c.position, c.channel, c.caller_num, c.caller_name))
                        .collect(),
                    completed: counters.then_some(q.completed),
                    abandoned: counters.then_some(q.abandoned),
                };
                (q.name, view)
            })
            .collect(),
        channels: snap.channels,
    }
}

/// switchboard following the lab: its state, its connection state, and how
/// many times it became Ready.
struct Follower {
    state: Arc<Mutex<State>>,
    conn: Arc<Mutex<ConnectionState>>,
    readies: Arc<AtomicU32>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Follower {
    fn start(lab: &Lab) -> Self {
        Self::with_queue(lab, 65_536, None)
    }

    /// A follower whose queue from the connection holds `capacity` messages;
    /// with `stall`, it stops reading while the flag is set.
    fn with_queue(
        lab: &Lab,
        capacity: usize,
        stall: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> Self {
        let actions = pbx::resync::actions().unwrap_or_else(|e| panic!("{e}"));
        let (tx, mut rx) = mpsc::channel(capacity);
        let (_handle, task) = connection::spawn(lab.settings(actions), tx, None);
        let state = Arc::new(Mutex::new(State::new()));
        let conn = Arc::new(Mutex::new(ConnectionState::Connecting { attempt: 1 }));
        let readies = Arc::new(AtomicU32::new(0));
        let (s, c, r) = (state.clone(), conn.clone(), readies.clone());
        let reader = tokio::spawn(async move {
            loop {
                while stall.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let Some(msg) = rx.recv().await else { break };
                if let AmiMsg::State(st) = &msg {
                    if *st == ConnectionState::Ready {
                        r.fetch_add(1, Ordering::SeqCst);
                    }
                    *c.lock().unwrap_or_else(|e| e.into_inner()) = st.clone();
                }
                s.lock().unwrap_or_else(|e| e.into_inner()).handle(&msg);
            }
        });
        Follower {
            state,
            conn,
            readies,
            tasks: vec![task, reader],
        }
    }

    async fn wait_readies(&self, n: u32, within: Duration) {
        let start = Instant::now();
        while self.readies.load(Ordering::SeqCst) < n {
            assert!(
                start.elapsed() < within,
                "not Ready {n} time(s) within {within:?}; state {:?}",
                self.conn.lock().unwrap_or_else(|e| e.into_inner())
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn view(&self, counters: bool) -> View {
        our_view(
            &self.state.lock().unwrap_or_else(|e| e.into_inner()),
            counters,
        )
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A plain AMI session used only to ask Asterisk for its own view.
fn reference(lab: &Lab) -> (Handle, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let (handle, task) = connection::spawn(lab.settings(Vec::new()), tx, None);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    (handle, task)
}

/// Waits until switchboard's view equals Asterisk's at a moment when
/// Asterisk's own answer is stable (the same just before and just after
/// switchboard's view is read). Returns how long that took.
async fn converge(
    f: &Follower,
    reference: &Handle,
    within: Duration,
    counters: bool,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut last = String::from("no answer from Asterisk");
    while start.elapsed() < within {
        if let Ok(before) = asterisk_view(reference, counters).await {
            let ours = f.view(counters);
            if let Ok(after) = asterisk_view(reference, counters).await
                && before == after
            {
                if ours == before {
                    return Ok(start.elapsed());
                }
                last = diff(&before, &ours);
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    Err(last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_matches_asterisk_during_and_after_traffic() {
    let _guard = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (reference, ref_task) = reference(&lab);
    let f = Follower::start(&lab);
    f.wait_readies(1, Duration::from_secs(10)).await;

    let traffic = lab.traffic(10, 3.0);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let r = converge(&f, &reference, Duration::from_secs(8), false).await;
        assert!(r.is_ok(), "during traffic: {}", r.err().unwrap_or_default());
    }
    traffic.finish();

    // End every call at once: a burst of hangups, abandons and member
    // updates, then a quiet PBX where even the counters must agree.
    lab.cli("channel request hangup all")
        .unwrap_or_else(|e| panic!("{e}"));
    let r = converge(&f, &reference, Duration::from_secs(10), true).await;
    assert!(r.is_ok(), "after traffic: {}", r.err().unwrap_or_default());
    let state = f.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let q = state
        .queues
        .get("sales")
        .unwrap_or_else(|| panic!("no sales queue"));
    assert!(q.completed > 0, "lab traffic answered no sales call");
    // The live SL and SL2 are what Asterisk's own `queue show` prints.
    for name in ["sales", "support"] {
        let shown = lab
            .cli(&format!("queue show {name}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let printed = |label: &str| {
            shown
                .split(&format!(" {label}:"))
                .nth(1)
                .and_then(|rest| rest.split('%').next())
                .unwrap_or_else(|| panic!("no {label} in {shown}"))
                .to_string()
        };
        let c = state.queues[name].sl_counts();
        for (label, variant) in [("SL", SlVariant::Sl), ("SL2", SlVariant::Sl2)] {
            assert_eq!(
                format!("{:.1}", c.percent(variant).unwrap_or(0.0)),
                printed(label),
                "{name} {label}: ours from {c:?}; Asterisk: {shown}"
            );
        }
    }
    // The phones: 301-304 registered by SIPp, 305 never registers.
    for (device, online) in [
        ("PJSIP/301", true),
        ("PJSIP/304", true),
        ("PJSIP/305", false),
    ] {
        let e = state
            .extensions
            .get(device)
            .unwrap_or_else(|| panic!("no extension {device}"));
        assert_eq!(
            e.state != ExtensionState::Offline,
            online,
            "{device}: {:?}",
            e.state
        );
    }
    ref_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_matches_again_after_kill_and_restart() {
    let _guard = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (reference, ref_task) = reference(&lab);
    let f = Follower::start(&lab);
    f.wait_readies(1, Duration::from_secs(10)).await;
    let traffic = lab.traffic(30, 2.0);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // 1. Asterisk's end of the AMI socket is destroyed mid-traffic.
    lab.kill_ami_sessions();
    f.wait_readies(2, Duration::from_secs(10)).await;
    let r = converge(&f, &reference, Duration::from_secs(2), false).await;
    assert!(
        r.is_ok(),
        "2 s after reconnect (session killed): {}",
        r.err().unwrap_or_default()
    );

    // 2. Asterisk restarts: every channel and counter is gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    lab.restart_asterisk();
    f.wait_readies(3, Duration::from_secs(30)).await;
    let r = converge(&f, &reference, Duration::from_secs(2), false).await;
    assert!(
        r.is_ok(),
        "2 s after reconnect (Asterisk restarted): {}",
        r.err().unwrap_or_default()
    );

    drop(traffic);
    ref_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_asterisk_is_detected_by_the_ping_deadline() {
    let _guard = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (reference, ref_task) = reference(&lab);
    let f = Follower::start(&lab);
    f.wait_readies(1, Duration::from_secs(10)).await;

    // The socket stays open but nothing answers: only the Ping deadline
    // (2 s interval + 2 s timeout in the test settings) can tell.
    lab.signal_asterisk("STOP");
    let frozen = Instant::now();
    let down = loop {
        let state = f.conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if matches!(
            state,
            ConnectionState::Down { .. } | ConnectionState::Connecting { .. }
        ) {
            break frozen.elapsed();
        }
        if frozen.elapsed() > Duration::from_secs(10) {
            lab.signal_asterisk("CONT");
            panic!("still {state:?} 10 s after Asterisk froze");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    lab.signal_asterisk("CONT");
    assert!(down <= Duration::from_secs(6), "took {down:?} to notice");
    f.wait_readies(2, Duration::from_secs(20)).await;
    let r = converge(&f, &reference, Duration::from_secs(2), false).await;
    assert!(
        r.is_ok(),
        "after the freeze: {}",
        r.err().unwrap_or_default()
    );
    ref_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_falls_behind_gets_a_resync_not_a_silent_gap() {
    let _guard = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (reference, ref_task) = reference(&lab);
    let stall = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A queue of 64 messages and an app that stops reading under traffic:
    // the connection must drop events rather than block its reader (Asterisk
    // would drop it), then resync once there is room.
    let f = Follower::with_queue(&lab, 64, Some(stall.clone()));
    f.wait_readies(1, Duration::from_secs(10)).await;
    let traffic = lab.traffic(6, 4.0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stall.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stall.store(false, Ordering::SeqCst);
    f.wait_readies(2, Duration::from_secs(10)).await;
    traffic.finish();
    let r = converge(&f, &reference, Duration::from_secs(10), false).await;
    assert!(
        r.is_ok(),
        "after the overflow: {}",
        r.err().unwrap_or_default()
    );
    ref_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_replays_to_the_state_it_recorded() {
    let _guard = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("lab.cap");
    let f = Follower::start(&lab);
    f.wait_readies(1, Duration::from_secs(10)).await;
    let traffic = lab.traffic(4, 3.0);
    let actions = pbx::resync::actions().unwrap_or_else(|e| panic!("{e}"));
    let recorded =
        switchboard::capture::record::record(lab.settings(actions), Duration::from_secs(5), &file)
            .await
            .unwrap_or_else(|e| panic!("record: {e}"));
    traffic.finish();
    assert!(recorded.bytes > 10_000, "recorded only {recorded:?}");
    // What the recording replays to must be what a live follower held at
    // the end of the recording (both saw the same AMI stream).
    let live = f.view(true);
    let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{e}"));
    let capture = switchboard::capture::Capture::parse(&data).unwrap_or_else(|e| panic!("{e}"));
    let (replayed, stats) = switchboard::capture::headless::run(&capture);
    assert!(stats.events > 100, "{stats:?}");
    let replayed = our_view(&replayed, true);
    assert_eq!(
        replayed.queues.keys().collect::<Vec<_>>(),
        live.queues.keys().collect::<Vec<_>>()
    );
    for (name, q) in &replayed.queues {
        let l = &live.queues[name];
        assert_eq!(
            q.members.keys().collect::<Vec<_>>(),
            l.members.keys().collect::<Vec<_>>(),
            "{name}"
        );
    }
    assert!(!replayed.channels.is_empty() || !live.channels.is_empty() || stats.events > 0);
}
