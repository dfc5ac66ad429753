//! The action commands, typed after `:` in the console (the menu fills
//! them in when an action needs a value) or after `switchboard act`:
//!
//! ```text
//! pause IFACE [in QUEUE] [REASON…]      unpause IFACE [in QUEUE]
//! add IFACE to QUEUE [penalty N] [as NAME…]   (or add to QUEUE IFACE …)
//! remove IFACE from QUEUE               penalty IFACE in QUEUE N
//! logoff IFACE                          hangup CHANNEL
//! transfer CHANNEL to 301|queue:NAME|EXTEN@CONTEXT
//! listen IFACE    whisper IFACE    barge IFACE    (rings your phone)
//! spy listen|whisper|barge          (switches the spy you are on)
//! ```
//!
//! `pbx:NAME` anywhere picks the PBX (default: the first one shown).

use super::{Act, Destination, SpyMode};

/// The words that start an action command.
pub const VERBS: [&str; 12] = [
    "pause", "unpause", "add", "remove", "penalty", "logoff", "hangup", "transfer", "listen",
    "whisper", "barge", "spy",
];

/// What to type, shown when a command does not parse.
pub const USAGE: &str = "use :pause IFACE [in QUEUE] [REASON], :unpause IFACE [in QUEUE], :add IFACE to QUEUE [penalty N] [as NAME], :remove IFACE from QUEUE, :penalty IFACE in QUEUE N, :logoff IFACE, :hangup CHANNEL, :transfer CHANNEL to DEST, :listen|whisper|barge IFACE or :spy listen|whisper|barge";

/// `text` is an action command (its first word is one of [`VERBS`]).
pub fn is_act(text: &str) -> bool {
    text.split_whitespace()
        .next()
        .is_some_and(|w| VERBS.contains(&w))
}

/// Reads an action command: the PBX (`pbx:NAME`, else `default_pbx`) and
/// the act, checked.
///
/// Errors: what to type instead.
pub fn parse(text: &str, default_pbx: &str) -> Result<(String, Act), String> {
    let mut pbx = default_pbx.to_string();
    let mut words = Vec::new();
    for w in text.split_whitespace() {
        match w.strip_prefix("pbx:") {
            Some(name) => pbx = name.to_string(),
            None => words.push(w),
        }
    }
    // `add to QUEUE IFACE …` (what a queue's menu types for you, the
    // interface last) reads as `add IFACE to QUEUE …`.
    if let ["add", "to", _, _, ..] = words.as_slice() {
        words.swap(1, 3);
        words.swap(2, 3);
    }
    let rest = |from: usize| words.get(from..).map(|w| w.join(" ")).unwrap_or_default();
    let number = |w: &str| {
        w.parse::<u32>()
            .map_err(|_| format!("`{w}`: a penalty is a whole number, like 2"))
    };
    let s = |w: &&str| (*w).to_string();
    let act = match words.as_slice() {
        ["pause", iface, "in", queue, ..] => Act::Pause {
            interface: s(iface),
            queue: Some(s(queue)),
            reason: rest(4),
        },
        ["pause", iface, ..] => Act::Pause {
            interface: s(iface),
            queue: None,
            reason: rest(2),
        },
        ["unpause", iface, "in", queue] => Act::Unpause {
            interface: s(iface),
            queue: Some(s(queue)),
        },
        ["unpause", iface] => Act::Unpause {
            interface: s(iface),
            queue: None,
        },
        ["add", iface, "to", queue, more @ ..] => {
            let (penalty, name_at) = match more {
                ["penalty", n, ..] => (number(n)?, 6),
                _ => (0, 4),
            };
            let member_name = match words.get(name_at) {
                Some(&"as") => rest(name_at + 1),
                Some(w) => return Err(format!("`{w}`: {USAGE}")),
                None => String::new(),
            };
            Act::Add {
                queue: s(queue),
                interface: s(iface),
                member_name,
                penalty,
            }
        }
        ["remove", iface, "from", queue] => Act::Remove {
            queue: s(queue),
            interface: s(iface),
        },
        ["penalty", iface, "in", queue, n] => Act::Penalty {
            queue: s(queue),
            interface: s(iface),
            penalty: number(n)?,
        },
        ["logoff", iface] => Act::Logoff {
            interface: s(iface),
        },
        ["hangup", channel] => Act::Hangup {
            channel: s(channel),
        },
        ["transfer", channel, "to", dest] => Act::Transfer {
            channel: s(channel),
            to: Destination::parse(dest)?,
        },
        [verb @ ("listen" | "whisper" | "barge"), iface] => Act::Spy {
            interface: s(iface),
            mode: SpyMode::parse(verb).ok_or(USAGE)?,
        },
        ["spy", mode] => Act::SpyMode {
            mode: SpyMode::parse(mode)
                .ok_or_else(|| format!("`{mode}`: use listen, whisper or barge"))?,
        },
        _ => return Err(USAGE.to_string()),
    };
    act.check()?;
    Ok((pbx, act))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_into_acts() {
        assert_eq!(
            parse("pause PJSIP/301 in sales Lunch break", "a"),
            Ok((
                "a".into(),
                Act::Pause {
                    interface: "PJSIP/301".into(),
                    queue: Some("sales".into()),
                    reason: "Lunch break".into()
                }
            ))
        );
        assert_eq!(
            parse("pbx:lyon unpause PJSIP/301", "a"),
            Ok((
                "lyon".into(),
                Act::Unpause {
                    interface: "PJSIP/301".into(),
                    queue: None
                }
            ))
        );
        assert_eq!(
            parse("add PJSIP/305 to support penalty 2 as Desk 305", "a").map(|(_, a)| a),
            Ok(Act::Add {
                queue: "support".into(),
                interface: "PJSIP/305".into(),
                member_name: "Desk 305".into(),
                penalty: 2
            })
        );
        assert!(
            parse("penalty PJSIP/301 in sales two", "a").is_err_and(|e| e.contains("whole number"))
        );
        assert!(parse("transfer PJSIP/301-00000001 to queue:support", "a").is_ok());
        assert!(parse("pause PJSIP/301 in sales a|b", "a").is_err());
        assert!(parse("hangup", "a").is_err_and(|e| e.starts_with("use :pause")));
        assert!(is_act("logoff PJSIP/301") && !is_act("campaign start x"));
        assert_eq!(
            parse("whisper Local/201@agents/n", "a").map(|(_, a)| a),
            Ok(Act::Spy {
                interface: "Local/201@agents/n".into(),
                mode: SpyMode::Whisper
            })
        );
        assert_eq!(
            parse("spy barge", "a").map(|(_, a)| a),
            Ok(Act::SpyMode {
                mode: SpyMode::Barge
            })
        );
        assert!(parse("spy shout", "a").is_err_and(|e| e.contains("listen, whisper or barge")));
    }
}
