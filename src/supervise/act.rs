//! What a supervisor asks Asterisk to do: an [`Act`] on one PBX, the
//! [`ActKind`] roles grant, and the checks every text passes before it
//! reaches an AMI header (the console, or a hostile client of the daemon,
//! composes these).

pub use crate::access::ActKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a transferred call goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    /// An extension, in `[actions] extension_context`.
    Extension(String),
    /// A queue, by name, in `[actions] queue_context`.
    Queue(String),
    /// Any dialplan place.
    Dialplan {
        /// Context.
        context: String,
        /// Extension.
        exten: String,
    },
}

/// How a supervisor joins an agent's call: ChanSpy's modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpyMode {
    /// Hear both sides, unheard.
    Listen,
    /// Speak to the agent only (ChanSpy `w`).
    Whisper,
    /// Speak to both sides (ChanSpy `B`).
    Barge,
}

impl SpyMode {
    /// The right it needs.
    pub fn kind(self) -> ActKind {
        match self {
            SpyMode::Listen => ActKind::Listen,
            SpyMode::Whisper => ActKind::Whisper,
            SpyMode::Barge => ActKind::Barge,
        }
    }

    /// `listen`, `whisper`, `barge`.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Reads `listen`, `whisper` or `barge`.
    pub fn parse(text: &str) -> Option<Self> {
        [SpyMode::Listen, SpyMode::Whisper, SpyMode::Barge]
            .into_iter()
            .find(|m| m.name() == text)
    }

    /// ChanSpy's option letter for the mode (none for listening).
    pub fn option(self) -> &'static str {
        match self {
            SpyMode::Listen => "",
            SpyMode::Whisper => "w",
            SpyMode::Barge => "B",
        }
    }

    /// The digit that switches a running ChanSpy (option `d`) to it.
    pub fn digit(self) -> &'static str {
        match self {
            SpyMode::Listen => "4",
            SpyMode::Whisper => "5",
            SpyMode::Barge => "6",
        }
    }
}

/// One supervisor action. Interfaces are a queue member's (`PJSIP/301`,
/// `Local/201@agents/n`), as `QueueMember` events name them; channels are
/// live channel names (`PJSIP/301-0000002a`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Act {
    /// Pause `interface` in `queue` (every queue the user may act in when
    /// `None`) with `reason` (empty: none), Asterisk's `paused_reason`.
    Pause {
        /// The member's interface.
        interface: String,
        /// One queue, or every allowed one.
        queue: Option<String>,
        /// Picked from `[actions] pause_reasons` or typed.
        reason: String,
    },
    /// Unpause `interface` in `queue` (every allowed one when `None`).
    Unpause {
        /// The member's interface.
        interface: String,
        /// One queue, or every allowed one.
        queue: Option<String>,
    },
    /// Add `interface` to `queue` as `member_name` with `penalty`.
    Add {
        /// The queue.
        queue: String,
        /// The member's interface (`PJSIP/305`).
        interface: String,
        /// The name shown for it (empty: Asterisk uses the interface).
        member_name: String,
        /// Its penalty (0: first choice).
        penalty: u32,
    },
    /// Remove `interface` from `queue`.
    Remove {
        /// The queue.
        queue: String,
        /// The member's interface.
        interface: String,
    },
    /// Set `interface`'s penalty in `queue`.
    Penalty {
        /// The queue.
        queue: String,
        /// The member's interface.
        interface: String,
        /// The new penalty.
        penalty: u32,
    },
    /// Remove `interface` from every queue the user may act in.
    Logoff {
        /// The member's interface.
        interface: String,
    },
    /// Hang up `channel`.
    Hangup {
        /// The channel.
        channel: String,
    },
    /// Move `channel` to `to`.
    Transfer {
        /// The channel.
        channel: String,
        /// Where to.
        to: Destination,
    },
    /// Ring the supervisor's own phone and, when answered, join the call of
    /// agent `interface` (a member's interface or an extension's device)
    /// in `mode`, on the channel that carries the agent's audio.
    Spy {
        /// The agent.
        interface: String,
        /// How.
        mode: SpyMode,
    },
    /// Switch the supervisor's running spy to `mode`, without hanging up.
    SpyMode {
        /// The new mode.
        mode: SpyMode,
    },
}

impl Act {
    /// The right it needs.
    pub fn kind(&self) -> ActKind {
        match self {
            Act::Pause { .. } | Act::Unpause { .. } => ActKind::Pause,
            Act::Add { .. } | Act::Remove { .. } | Act::Penalty { .. } => ActKind::Members,
            Act::Logoff { .. } => ActKind::Logoff,
            Act::Hangup { .. } => ActKind::Hangup,
            Act::Transfer { .. } => ActKind::Transfer,
            Act::Spy { mode, .. } | Act::SpyMode { mode } => mode.kind(),
        }
    }

    /// The audit trail's action name (`pause`, `unpause`, `add`, …).
    pub fn verb(&self) -> &'static str {
        match self {
            Act::Pause { .. } => "pause",
            Act::Unpause { .. } => "unpause",
            Act::Add { .. } => "add",
            Act::Remove { .. } => "remove",
            Act::Penalty { .. } => "penalty",
            Act::Logoff { .. } => "logoff",
            Act::Hangup { .. } => "hangup",
            Act::Transfer { .. } => "transfer",
            Act::Spy { mode, .. } | Act::SpyMode { mode } => mode.name(),
        }
    }

    /// The one queue it names, if any (a role's queue scope applies to
    /// it).
    pub fn queue(&self) -> Option<&str> {
        match self {
            Act::Pause { queue, .. } | Act::Unpause { queue, .. } => queue.as_deref(),
            Act::Add { queue, .. } | Act::Remove { queue, .. } | Act::Penalty { queue, .. } => {
                Some(queue)
            }
            _ => None,
        }
    }

    /// The channel it acts on, for call actions.
    pub fn channel(&self) -> Option<&str> {
        match self {
            Act::Hangup { channel } | Act::Transfer { channel, .. } => Some(channel),
            _ => None,
        }
    }

    /// What it acts on, for the audit trail and notices: `PJSIP/301 in
    /// sales`, `PJSIP/301-0000002a to queue support`.
    pub fn target(&self) -> String {
        let in_queue = |i: &str, q: Option<&str>| match q {
            Some(q) => format!("{i} in {q}"),
            None => format!("{i} in every queue"),
        };
        match self {
            Act::Pause {
                interface, queue, ..
            }
            | Act::Unpause { interface, queue } => in_queue(interface, queue.as_deref()),
            Act::Add {
                queue, interface, ..
            }
            | Act::Remove { queue, interface }
            | Act::Penalty {
                queue, interface, ..
            } => in_queue(interface, Some(queue)),
            Act::Logoff { interface } => in_queue(interface, None),
            Act::Hangup { channel } => channel.clone(),
            Act::Transfer { channel, to } => format!("{channel} to {to}"),
            Act::Spy { interface, .. } => interface.clone(),
            Act::SpyMode { .. } => "the running spy".into(),
        }
    }

    /// The reason or value it carries, for the audit trail (`Lunch`,
    /// `penalty 2`); empty when none.
    pub fn detail(&self) -> String {
        match self {
            Act::Pause { reason, .. } => reason.clone(),
            Act::Add {
                member_name,
                penalty,
                ..
            } => format!("name {member_name:?}, penalty {penalty}"),
            Act::Penalty { penalty, .. } => format!("penalty {penalty}"),
            _ => String::new(),
        }
    }

    /// Checks every text it carries before any of it reaches Asterisk.
    ///
    /// Errors: the first bad value, named with what to type instead.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Act::Pause {
                interface,
                queue,
                reason,
            } => {
                check_interface(interface)?;
                queue.as_deref().map_or(Ok(()), check_queue)?;
                check_label("reason", reason)
            }
            Act::Unpause { interface, queue } => {
                check_interface(interface)?;
                queue.as_deref().map_or(Ok(()), check_queue)
            }
            Act::Add {
                queue,
                interface,
                member_name,
                penalty,
            } => {
                check_queue(queue)?;
                check_interface(interface)?;
                check_label("member name", member_name)?;
                check_penalty(*penalty)
            }
            Act::Remove { queue, interface } => {
                check_queue(queue)?;
                check_interface(interface)
            }
            Act::Penalty {
                queue,
                interface,
                penalty,
            } => {
                check_queue(queue)?;
                check_interface(interface)?;
                check_penalty(*penalty)
            }
            Act::Logoff { interface } | Act::Spy { interface, .. } => check_interface(interface),
            Act::SpyMode { .. } => Ok(()),
            Act::Hangup { channel } => check_channel(channel),
            Act::Transfer { channel, to } => {
                check_channel(channel)?;
                match to {
                    Destination::Extension(e) => check_exten(e),
                    Destination::Queue(q) => check_queue(q),
                    Destination::Dialplan { context, exten } => {
                        check_context(context)?;
                        check_exten(exten)
                    }
                }
            }
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Extension(e) => write!(f, "extension {e}"),
            Destination::Queue(q) => write!(f, "queue {q}"),
            Destination::Dialplan { context, exten } => write!(f, "{exten}@{context}"),
        }
    }
}

impl Destination {
    /// Reads what a supervisor types: `301` (an extension), `queue:NAME`,
    /// or `EXTEN@CONTEXT`.
    ///
    /// Errors: an empty text, or a part that is not an extension, queue or
    /// context name (the message says which).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let to = if let Some(q) = text.strip_prefix("queue:") {
            Destination::Queue(q.to_string())
        } else if let Some((exten, context)) = text.split_once('@') {
            Destination::Dialplan {
                context: context.to_string(),
                exten: exten.to_string(),
            }
        } else {
            Destination::Extension(text.to_string())
        };
        match &to {
            Destination::Extension(e) => check_exten(e),
            Destination::Queue(q) => check_queue(q),
            Destination::Dialplan { context, exten } => {
                check_context(context).and_then(|()| check_exten(exten))
            }
        }
        .map(|()| to)
    }
}

/// Longest reason or member name, characters (Asterisk keeps 80 bytes of
/// a pause reason).
pub const MAX_LABEL: usize = 60;

/// Highest penalty accepted (Asterisk takes any int; sites use 0 to a few
/// tens).
pub const MAX_PENALTY: u32 = 1000;

fn bad(what: &str, value: &str, rule: &str) -> String {
    format!(
        "{what} `{}`: {rule}",
        crate::sanitize::escape(&value.chars().take(80).collect::<String>())
    )
}

fn only(value: &str, extra: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// A queue member's interface: `TECH/resource`, ASCII letters, digits and
/// `/@._-+#*:` (the `/n` of a Local member included).
fn check_interface(i: &str) -> Result<(), String> {
    if only(i, "/@._-+#*:") && i.contains('/') {
        Ok(())
    } else {
        Err(bad(
            "interface",
            i,
            "give a member's interface such as PJSIP/301 or Local/201@agents/n",
        ))
    }
}

/// A queue name: ASCII letters, digits and `._-`.
fn check_queue(q: &str) -> Result<(), String> {
    if only(q, "._-") {
        Ok(())
    } else {
        Err(bad(
            "queue",
            q,
            "a queue name has only letters, digits and . _ -",
        ))
    }
}

/// A live channel: an interface, then `-` and Asterisk's counter, with
/// `;1`/`;2` for a Local channel's halves. Also checks a channel name read
/// from Asterisk before it becomes an application's argument (ChanSpy's
/// first argument: a comma there would add options).
///
/// Errors: a character outside the set, named.
pub fn check_channel(c: &str) -> Result<(), String> {
    if only(c, "/@._-+#*:;") && c.contains('/') {
        Ok(())
    } else {
        Err(bad(
            "channel",
            c,
            "give a live channel's name such as PJSIP/301-0000002a",
        ))
    }
}

/// A dialplan extension: digits, letters, `*#+_-`.
fn check_exten(e: &str) -> Result<(), String> {
    if only(e, "*#+_-") {
        Ok(())
    } else {
        Err(bad(
            "extension",
            e,
            "an extension has only digits, letters and * # + _ -",
        ))
    }
}

/// A dialplan context: ASCII letters, digits and `._-`.
fn check_context(c: &str) -> Result<(), String> {
    if only(c, "._-") {
        Ok(())
    } else {
        Err(bad(
            "context",
            c,
            "a context has only letters, digits and . _ -",
        ))
    }
}

/// A pause reason or a member name: printable text of at most
/// [`MAX_LABEL`] characters, without `|` (queue_log's separator), `,` or
/// `;` (dialplan and config separators).
fn check_label(what: &str, text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_LABEL {
        return Err(bad(what, text, &format!("at most {MAX_LABEL} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() || crate::sanitize::is_unsafe(c) || "|,;".contains(c))
    {
        return Err(bad(
            what,
            text,
            "use printable text without | , ; or control characters",
        ));
    }
    Ok(())
}

fn check_penalty(p: u32) -> Result<(), String> {
    if p <= MAX_PENALTY {
        Ok(())
    } else {
        Err(format!("penalty {p}: use 0 to {MAX_PENALTY}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(interface: &str, reason: &str) -> Act {
        Act::Pause {
            interface: interface.into(),
            queue: Some("sales".into()),
            reason: reason.into(),
        }
    }

    #[test]
    fn texts_that_could_reach_a_header_or_the_queue_log_are_refused() {
        assert!(pause("PJSIP/301", "Lunch break").check().is_ok());
        assert!(pause("Local/201@agents/n", "").check().is_ok());
        for bad in ["PJSIP/301\r\nAction: Originate", "301", "PJSIP/30 1", ""] {
            assert!(pause(bad, "x").check().is_err(), "{bad:?}");
        }
        for bad in ["a|b", "a\nb", "a,b", "\u{1b}[2J", &"x".repeat(61)] {
            assert!(pause("PJSIP/301", bad).check().is_err(), "{bad:?}");
        }
        let hang = |c: &str| Act::Hangup { channel: c.into() }.check();
        assert!(hang("Local/201@agents-00000001;2").is_ok());
        assert!(hang("PJSIP/301-0000002a").is_ok());
        assert!(hang("PJSIP/301-0000002a\0").is_err());
        let err = Act::Penalty {
            queue: "sales".into(),
            interface: "PJSIP/301".into(),
            penalty: 5000,
        }
        .check();
        assert!(err.is_err_and(|e| e.contains("0 to 1000")));
    }

    #[test]
    fn destinations_read_as_typed() {
        assert_eq!(
            Destination::parse("301"),
            Ok(Destination::Extension("301".into()))
        );
        assert_eq!(
            Destination::parse(" queue:support "),
            Ok(Destination::Queue("support".into()))
        );
        assert_eq!(
            Destination::parse("s@switchboard-drop"),
            Ok(Destination::Dialplan {
                context: "switchboard-drop".into(),
                exten: "s".into()
            })
        );
        assert!(Destination::parse("1@a,b").is_err());
        assert!(Destination::parse("").is_err());
    }
}
