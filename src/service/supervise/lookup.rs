//! What the worker asks of the live state before it acts: may the user
//! reach this call, which channel carries this agent's audio, which of the
//! supervisor's own channels is spying. In the daemon the hub answers from
//! its state; a direct console's worker reads a fresh snapshot of the PBX
//! (the resync lists) for each act, as its screen's state lives elsewhere.

use crate::access::{LiveAccess, Visibility};
use crate::ami::connection::Handle;
use crate::endpoints::ExtensionRule;
use crate::pbx::{Call, State};
use tokio::sync::oneshot;

/// What to find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The call a channel is on.
    Call(String),
    /// The channel carrying an agent's audio (a member's interface or an
    /// extension's device), see [`crate::pbx::spyee`].
    AgentAudio(String),
    /// The supervisor's phone (`PJSIP/303`) channel running ChanSpy.
    SpyOf(String),
}

/// A question to the hub.
#[derive(Debug)]
pub struct LiveQuery {
    /// The PBX, by index.
    pub pbx: usize,
    /// What to find.
    pub lookup: Lookup,
    /// Every one of these must see the call found (the user's ACL, the
    /// act's role scope); not checked for [`Lookup::SpyOf`].
    pub checks: Vec<Visibility>,
    /// The answer.
    pub reply: oneshot::Sender<Found>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// No such live channel (the call ended, the agent is on no call).
    Missing,
    /// The call is outside one of the checks.
    Hidden,
    /// Reachable, on this channel.
    Reachable(String),
}

/// Answers `lookup` from `state`. Costs a pass over the PBX's channels:
/// asked once per supervisor action, never per event.
pub fn find(state: &State, rule: &ExtensionRule, lookup: &Lookup, checks: &[Visibility]) -> Found {
    let channel = match lookup {
        Lookup::Call(name) => state.channels.values().find(|c| &c.name == name),
        Lookup::AgentAudio(interface) => crate::pbx::spyee::audio_channel(state, interface),
        Lookup::SpyOf(phone) => {
            let prefix = format!("{phone}-");
            return state
                .channels
                .values()
                .find(|c| {
                    c.name.starts_with(&prefix)
                        && (!c.spying.is_empty() || c.application == "ChanSpy")
                })
                .map_or(Found::Missing, |c| Found::Reachable(c.name.clone()));
        }
    };
    let Some(channel) = channel else {
        return Found::Missing;
    };
    let linkedid = channel.linkedid.as_str();
    let mut call = Call {
        linkedid,
        channels: state
            .channels
            .values()
            .filter(|c| c.linkedid == linkedid)
            .collect(),
    };
    call.channels.sort_by_key(|c| c.created_ms);
    let seen = checks
        .iter()
        .all(|visibility| LiveAccess { visibility, rule }.sees_call(state, &call));
    if seen {
        Found::Reachable(channel.name.clone())
    } else {
        Found::Hidden
    }
}

/// The PBX's state now, from its snapshot lists (channels, queues, device
/// and hint states), read on `link`.
///
/// Errors: a list Asterisk did not answer within `deadline`.
pub async fn snapshot(link: &Handle, deadline: std::time::Duration) -> Result<State, String> {
    let mut state = State::new();
    state.begin_resync();
    let now = crate::clock::now_ms();
    for action in crate::pbx::resync::actions().map_err(|e| e.to_string())? {
        let name = action.name().to_string();
        let reply = tokio::time::timeout(deadline, link.request(action))
            .await
            .map_err(|_| format!("Asterisk did not answer {name} within {deadline:?}"))?;
        // A list the user may not run (PJSIPShowEndpoints) leaves it out.
        if let Ok(reply) = reply {
            for event in &reply.events {
                state.apply(event, now);
            }
        }
    }
    state.end_resync();
    Ok(state)
}
