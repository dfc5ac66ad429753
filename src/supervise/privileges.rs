//! What the PBX's manager user may send. Asterisk answers "Permission
//! denied" to an action outside the user's `write =` classes; `ListCommands`
//! lists only the ones it may send, so switchboard asks once per login and
//! says, per kind of act, what is missing and the `manager.conf` class that
//! enables it.

use crate::access::ActKind;
use crate::ami::Message;
use serde::{Deserialize, Serialize};

/// The AMI actions a kind of act sends, and the `write =` class Asterisk
/// checks for them (from `manager.c` and `app_queue.c`'s registrations).
pub fn needs(kind: ActKind) -> (&'static [&'static str], &'static str) {
    match kind {
        ActKind::Pause => (&["QueuePause"], "agent"),
        ActKind::Members => (&["QueueAdd", "QueueRemove", "QueuePenalty"], "agent"),
        ActKind::Logoff => (&["QueueRemove"], "agent"),
        ActKind::Hangup => (&["Hangup"], "call"),
        ActKind::Transfer => (&["Redirect"], "call"),
        // Originate rings the supervisor's phone; PlayDTMF switches modes.
        ActKind::Listen | ActKind::Whisper | ActKind::Barge => {
            (&["Originate", "PlayDTMF"], "originate` and `call")
        }
    }
}

/// A kind of act a PBX's manager user may not send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// The PBX (`[[pbx]] name`).
    pub pbx: String,
    /// The kind.
    pub kind: ActKind,
    /// Why, and the `write =` class to add.
    pub why: String,
}

/// The kinds `ListCommands`' answer (`response`, one header per action the
/// user may send) leaves out on `pbx`.
pub fn unavailable(pbx: &str, response: &Message) -> Vec<Unavailable> {
    ActKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let (actions, class) = needs(kind);
            let missing: Vec<&str> = actions
                .iter()
                .copied()
                .filter(|a| response.get(a).is_none())
                .collect();
            (!missing.is_empty()).then(|| Unavailable {
                pbx: pbx.to_string(),
                kind,
                why: format!(
                    "PBX {pbx}: its AMI user may not send {}; add `{class}` to that user's write = line in manager.conf",
                    missing.join(", ")
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_without_agent_writes_cannot_pause_and_is_told_the_class() {
        let mut m = Message::with_capacity(64, 4);
        m.push("Response", "Success");
        m.push("Hangup", "Hangup channel. (Priv: system,call,all)");
        m.push("Redirect", "Redirect (transfer) a call. (Priv: call,all)");
        let got = unavailable("paris", &m);
        let kinds: Vec<ActKind> = got.iter().map(|u| u.kind).collect();
        assert!(kinds.contains(&ActKind::Pause) && kinds.contains(&ActKind::Listen));
        assert!(!kinds.contains(&ActKind::Hangup) && !kinds.contains(&ActKind::Transfer));
        assert!(
            got[0]
                .why
                .contains("add `agent` to that user's write = line"),
            "{}",
            got[0].why
        );
    }
}
