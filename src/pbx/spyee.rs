//! Which live channel carries an agent's audio, for ChanSpy. Queue members
//! are often `Local/` channels (`Local/201@from-queue/n`) whose state
//! interface is the phone (`PJSIP/201`) or a hint (`hint:201@ext-local`):
//! spying on the Local half gives silence or the wrong leg, the known
//! failure of open dashboards. The phone's own channel is the one to spy
//! on; only an agent with no device behind its Local channel (a dialplan
//! agent) is spied on its Local `;2` half, the one that runs its
//! dialplan.

use super::{Channel, State};

/// The device behind `interface` (a member's interface, `/n` or not, or
/// an extension's device): the member's state interface, a hint resolved
/// through the extensions it names, else the interface itself less `/n`.
pub fn device_of<'a>(state: &'a State, interface: &'a str) -> &'a str {
    let bare = interface.trim_end_matches("/n");
    let member = state
        .queues
        .values()
        .flat_map(|q| q.members.values())
        .find(|m| m.interface == interface || m.interface.trim_end_matches("/n") == bare);
    let si = member
        .map(|m| m.state_interface.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(bare);
    match si.strip_prefix("hint:") {
        Some(hint) => {
            let (exten, context) = hint.split_once('@').unwrap_or((hint, ""));
            state
                .extensions
                .values()
                .find(|e| e.exten == exten && (context.is_empty() || e.context == context))
                .map_or(si, |e| e.device.as_str())
        }
        None => si,
    }
}

/// The live channel carrying `interface`'s audio: the device's channel
/// (`PJSIP/201-0000002a`), answered first; for a device that is itself a
/// Local channel, its `;2` half. `None` when the agent is on no call.
pub fn audio_channel<'a>(state: &'a State, interface: &str) -> Option<&'a Channel> {
    let device = device_of(state, interface);
    let prefix = format!("{device}-");
    let local = device.starts_with("Local/");
    let mut found: Vec<&Channel> = state
        .channels
        .values()
        .filter(|c| c.name.starts_with(&prefix) && (!local || c.name.ends_with(";2")))
        .collect();
    // Up (6) before ringing, then the oldest.
    found.sort_by_key(|c| (c.state != 6, c.created_ms));
    found.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::{Extension, Queue, QueueMember};

    fn channel(name: &str, state: u8) -> Channel {
        Channel {
            uniqueid: name.into(),
            linkedid: "1".into(),
            name: name.into(),
            state,
            ..Channel::default()
        }
    }

    fn with_member(interface: &str, state_interface: &str) -> State {
        let mut s = State::new();
        let mut q = Queue {
            name: "sales".into(),
            ..Queue::default()
        };
        q.members.insert(
            interface.into(),
            QueueMember {
                interface: interface.into(),
                state_interface: state_interface.into(),
                ..QueueMember::default()
            },
        );
        s.queues.insert("sales".into(), q);
        s
    }

    fn add(s: &mut State, c: Channel) {
        s.channels.insert(c.uniqueid.clone(), c);
    }

    #[test]
    fn a_local_member_is_spied_on_its_phone_not_the_local_channel() {
        let mut s = with_member("Local/201@from-queue/n", "PJSIP/201");
        add(&mut s, channel("Local/201@from-queue-00000001;1", 6));
        add(&mut s, channel("Local/201@from-queue-00000001;2", 6));
        add(&mut s, channel("PJSIP/201-0000000a", 6));
        let c = audio_channel(&s, "Local/201@from-queue/n").map(|c| c.name.as_str());
        assert_eq!(c, Some("PJSIP/201-0000000a"));
    }

    #[test]
    fn a_hint_is_resolved_through_the_extensions() {
        let mut s = with_member("Local/202@from-queue/n", "hint:202@ext-local");
        s.extensions.insert(
            "PJSIP/202".into(),
            Extension {
                context: "ext-local".into(),
                ..Extension::new("PJSIP/202", 0)
            },
        );
        add(&mut s, channel("PJSIP/2021-00000001", 6));
        add(&mut s, channel("PJSIP/202-00000003", 5));
        add(&mut s, channel("PJSIP/202-00000004", 6));
        let c = audio_channel(&s, "Local/202@from-queue/n").map(|c| c.name.as_str());
        assert_eq!(c, Some("PJSIP/202-00000004"), "the answered one, not 2021");
    }

    #[test]
    fn a_dialplan_agent_is_spied_on_its_local_second_half() {
        let mut s = with_member("Local/206@agents/n", "Local/206@agents");
        add(&mut s, channel("Local/206@agents-00000007;1", 6));
        add(&mut s, channel("Local/206@agents-00000007;2", 6));
        let c = audio_channel(&s, "Local/206@agents/n").map(|c| c.name.as_str());
        assert_eq!(c, Some("Local/206@agents-00000007;2"));
        assert!(audio_channel(&s, "PJSIP/301").is_none());
    }
}
