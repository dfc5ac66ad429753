//! A stable, serialisable view of [`State`]: what `switchboard replay
//! --dump-state` prints and what the lab tests compare with Asterisk's own
//! `QueueStatus` and `CoreShowChannels`.

use super::State;
use serde::Serialize;

/// The whole state, sorted so that equal states give equal JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Queues by name.
    pub queues: Vec<QueueView>,
    /// Number of live channels.
    pub channel_count: usize,
    /// Live channel names, sorted.
    pub channels: Vec<String>,
    /// Extensions by device.
    pub extensions: Vec<ExtensionView>,
}

/// One queue in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueView {
    /// Queue name.
    pub name: String,
    /// Members sorted by interface.
    pub members: Vec<MemberView>,
    /// Waiting callers by position.
    pub callers: Vec<CallerView>,
    /// Asterisk's `Completed` counter as followed live.
    pub completed: u32,
    /// Asterisk's `Abandoned` counter as followed live.
    pub abandoned: u32,
}

/// One member in a [`QueueView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// Interface (`Local/201@agents/n`).
    pub interface: String,
    /// Member name.
    pub name: String,
    /// Paused.
    pub paused: bool,
    /// Pause reason (empty when none given).
    pub paused_reason: String,
    /// Calls taken.
    pub calls_taken: u32,
}

/// One waiting caller in a [`QueueView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallerView {
    /// 1-based position.
    pub position: u32,
    /// Caller channel.
    pub channel: String,
    /// Caller number.
    pub caller_num: String,
    /// Caller name.
    pub caller_name: String,
}

/// One extension in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtensionView {
    /// Device (`PJSIP/301`).
    pub device: String,
    /// Extension number.
    pub exten: String,
    /// Derived state label (`Idle`, `In call`, `Paused`...).
    pub state: String,
    /// Pause reason when paused.
    pub paused_reason: Option<String>,
}

impl Snapshot {
    /// Builds the view of `state`.
    pub fn of(state: &State) -> Self {
        let mut channels: Vec<String> = state.channels.values().map(|c| c.name.clone()).collect();
        channels.sort();
        let mut queues: Vec<&super::Queue> = state.queues.values().collect();
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        Snapshot {
            queues: queues
                .into_iter()
                .map(|q| QueueView {
                    name: q.name.clone(),
                    members: q
                        .members
                        .values()
                        .map(|m| MemberView {
                            interface: m.interface.clone(),
                            name: m.name.clone(),
                            paused: m.paused,
                            paused_reason: m.paused_reason.clone(),
                            calls_taken: m.calls_taken,
                        })
                        .collect(),
                    callers: q
                        .callers
                        .positioned()
                        .map(|(position, c)| CallerView {
                            position,
                            channel: c.channel.clone(),
                            caller_num: c.caller_num.clone(),
                            caller_name: c.caller_name.clone(),
                        })
                        .collect(),
                    completed: q.completed,
                    abandoned: q.abandoned,
                })
                .collect(),
            channel_count: channels.len(),
            channels,
            extensions: state
                .extensions
                .values()
                .map(|e| ExtensionView {
                    device: e.device.clone(),
                    exten: e.exten.clone(),
                    state: e.state.label().to_string(),
                    paused_reason: e.paused_reason.clone(),
                })
                .collect(),
        }
    }
}
