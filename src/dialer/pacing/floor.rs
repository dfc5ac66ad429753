//! A queue's floor as the engine paces by it: its members from AMI (the
//! same `pbx::State` the console draws) counted into agents free, busy and
//! paused, and its callers waiting.

use crate::pbx::queue::{Activity, Queue};

/// One queue's agents and callers at a moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueFloor {
    /// Members reachable, not paused, idle, not on a queue call and not in
    /// their wrap-up (`QueueMember` `Status` 1, `Paused` 0, `InCall` 0,
    /// `LastCall` more than `Wrapuptime` ago).
    pub available: u32,
    /// Members reachable, not paused and not available (on a call,
    /// ringing, in wrap-up, device busy).
    pub busy: u32,
    /// Members reachable and paused.
    pub paused: u32,
    /// Callers waiting in the queue (`QueueCallerJoin` not yet left),
    /// whoever placed them: they take the next free agent too.
    pub waiting: u32,
}

/// `queue`'s floor at `now_ms` (ms since the Unix epoch, UTC), its agents
/// wrapping up `wrapup_s` seconds after a call unless their own
/// `Wrapuptime` says otherwise (Asterisk does not report a queue's
/// `wrapuptime`: `[kpi.queues.NAME] wrapup_s` gives it). Members logged out
/// or unreachable count nowhere.
pub fn of_queue(queue: &Queue, now_ms: i64, wrapup_s: u32) -> QueueFloor {
    let mut f = QueueFloor {
        waiting: u32::try_from(queue.callers.len()).unwrap_or(u32::MAX),
        ..QueueFloor::default()
    };
    for m in queue.members.values() {
        match m.activity() {
            Some(Activity::Available) if m.in_wrapup(now_ms, wrapup_s) => f.busy += 1,
            Some(Activity::Available) => f.available += 1,
            Some(Activity::Busy) => f.busy += 1,
            Some(Activity::Paused) => f.paused += 1,
            None => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::QueueCaller;
    use crate::pbx::device::DeviceState;
    use crate::pbx::queue::QueueMember;

    fn member(name: &str, status: DeviceState, paused: bool) -> QueueMember {
        QueueMember {
            interface: name.into(),
            status,
            paused,
            ..QueueMember::default()
        }
    }

    #[test]
    fn members_count_by_what_they_can_take_now() {
        let mut q = Queue::new("sales");
        for m in [
            member("a", DeviceState::NotInUse, false),
            member("b", DeviceState::NotInUse, true),
            member("c", DeviceState::InUse, false),
            member("d", DeviceState::Ringing, false),
            member("e", DeviceState::Unavailable, false),
            QueueMember {
                // Idle, but its last call ended 1 s ago and it wraps up 5 s.
                last_call: 99,
                wrapup_time_s: 5,
                ..member("f", DeviceState::NotInUse, false)
            },
            QueueMember {
                // Idle, its last call ended 1 s ago, the queue's 2 s wrap-up.
                last_call: 99,
                ..member("h", DeviceState::NotInUse, false)
            },
            QueueMember {
                in_call: true,
                ..member("g", DeviceState::NotInUse, false)
            },
        ] {
            q.members.insert(m.interface.clone(), m);
        }
        q.callers.join(
            QueueCaller {
                uniqueid: "1.1".into(),
                ..QueueCaller::default()
            },
            0,
        );
        assert_eq!(
            of_queue(&q, 100_000, 2),
            QueueFloor {
                available: 1,
                busy: 5,
                paused: 1,
                waiting: 1,
            }
        );
    }
}
