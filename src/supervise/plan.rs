//! The AMI actions an [`Act`] becomes. Every value passed [`Act::check`]
//! first; [`Action`] refuses CR, LF and NUL again on the way out.

use super::act::{Act, Destination, SpyMode};
use super::config::ActionsConfig;
use crate::ami::action::{Action, ActionError};

/// The actions for `act`, applied in `queues` where the act names no queue
/// of its own (a pause, unpause or log-off in every queue the user may act
/// in: the worker finds those with [`member_queues`]). None for a spy,
/// which needs live channels ([`spy`], [`spy_mode`]).
///
/// Errors: a value an AMI header cannot carry (already refused by
/// [`Act::check`]).
pub fn actions(
    act: &Act,
    queues: &[String],
    config: &ActionsConfig,
) -> Result<Vec<Action>, ActionError> {
    let pause = |interface: &str, paused: bool, reason: &str| {
        queues
            .iter()
            .map(|q| {
                let a = Action::new("QueuePause")?
                    .header("Interface", interface)?
                    .header("Queue", q)?
                    .header("Paused", if paused { "true" } else { "false" })?;
                if reason.is_empty() {
                    Ok(a)
                } else {
                    a.header("Reason", reason)
                }
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let remove = |queue: &str, interface: &str| {
        Action::new("QueueRemove")?
            .header("Queue", queue)?
            .header("Interface", interface)
    };
    Ok(match act {
        Act::Pause {
            interface, reason, ..
        } => pause(interface, true, reason)?,
        Act::Unpause { interface, .. } => pause(interface, false, "")?,
        Act::Logoff { interface } => queues
            .iter()
            .map(|q| remove(q, interface))
            .collect::<Result<_, _>>()?,
        Act::Add {
            queue,
            interface,
            member_name,
            penalty,
        } => {
            let a = Action::new("QueueAdd")?
                .header("Queue", queue)?
                .header("Interface", interface)?
                .header("Penalty", &penalty.to_string())?;
            vec![if member_name.is_empty() {
                a
            } else {
                a.header("MemberName", member_name)?
            }]
        }
        Act::Remove { queue, interface } => vec![remove(queue, interface)?],
        Act::Penalty {
            queue,
            interface,
            penalty,
        } => vec![
            Action::new("QueuePenalty")?
                .header("Interface", interface)?
                .header("Penalty", &penalty.to_string())?
                .header("Queue", queue)?,
        ],
        Act::Hangup { channel } => vec![
            Action::new("Hangup")?
                .header("Channel", channel)?
                .header("Cause", "16")?,
        ],
        // They need live channels (the agent's, the supervisor's): the
        // worker plans them with [`spy`] and [`spy_mode`].
        Act::Spy { .. } | Act::SpyMode { .. } => Vec::new(),
        Act::Transfer { channel, to } => {
            let (context, exten) = match to {
                Destination::Extension(e) => (config.extension_context.as_str(), e.as_str()),
                Destination::Queue(q) => (config.queue_context.as_str(), q.as_str()),
                Destination::Dialplan { context, exten } => (context.as_str(), exten.as_str()),
            };
            vec![
                Action::new("Redirect")?
                    .header("Channel", channel)?
                    .header("Context", context)?
                    .header("Exten", exten)?
                    .header("Priority", "1")?,
            ]
        }
    })
}

/// Rings `phone` and, when it answers, runs ChanSpy on `spyee` in `mode`
/// (`q` no announcement, `E` ends with the spied call, `d` digits 4/5/6
/// switch the mode), as an asynchronous originate: Asterisk answers at
/// once, and `ChanSpyStart` follows when the supervisor picks up.
///
/// Errors: a value an AMI header cannot carry (checked before).
pub fn spy(phone: &str, spyee: &str, mode: SpyMode, who: &str) -> Result<Action, ActionError> {
    Action::new("Originate")?
        .header("Channel", phone)?
        .header("Application", "ChanSpy")?
        .header("Data", &format!("{spyee},qEd{}", mode.option()))?
        .header("CallerID", &format!("\"{} {who}\" <>", mode.name()))?
        .header("Timeout", "30000")?
        .header("Async", "true")
}

/// Switches the running ChanSpy on `spyer` (the supervisor's phone
/// channel) to `mode`: its digit, as if the supervisor had pressed it.
///
/// Errors: as [`spy`].
pub fn spy_mode(spyer: &str, mode: SpyMode) -> Result<Action, ActionError> {
    Action::new("PlayDTMF")?
        .header("Channel", spyer)?
        .header("Digit", mode.digit())?
        .header("Receive", "true")
}

/// `QueueStatus` for one member: its answer lists a `QueueMember` event
/// (with `Queue`) per queue the member is in.
///
/// Errors: as [`actions`].
pub fn member_queues(interface: &str) -> Result<Action, ActionError> {
    Action::new("QueueStatus")?.header("Member", interface)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| String::from_utf8_lossy(&a.encode("1")).into_owned())
            .collect()
    }

    #[test]
    fn a_pause_in_every_queue_is_one_queue_pause_per_queue_with_the_reason() {
        let act = Act::Pause {
            interface: "PJSIP/301".into(),
            queue: None,
            reason: "Lunch".into(),
        };
        let queues = ["sales".to_string(), "support".to_string()];
        let got = wire(&actions(&act, &queues, &ActionsConfig::default()).unwrap_or_default());
        assert_eq!(got.len(), 2);
        assert!(
            got[1].contains("Queue: support\r\nPaused: true\r\nReason: Lunch\r\n"),
            "{}",
            got[1]
        );
    }

    #[test]
    fn a_transfer_to_a_queue_lands_in_the_queue_context() {
        let config = ActionsConfig {
            queue_context: "switchboard-queue".into(),
            ..ActionsConfig::default()
        };
        let act = Act::Transfer {
            channel: "PJSIP/301-00000001".into(),
            to: Destination::Queue("support".into()),
        };
        let got = wire(&actions(&act, &[], &config).unwrap_or_default());
        assert!(
            got[0].contains("Context: switchboard-queue\r\nExten: support\r\nPriority: 1\r\n"),
            "{}",
            got[0]
        );
    }
}
