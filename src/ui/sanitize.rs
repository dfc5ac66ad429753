//! Text from Asterisk made safe for the terminal.
//!
//! Caller names come from the outside world. Control characters (C0, DEL, C1),
//! which include ESC and so every escape sequence, and the Unicode bidi
//! overrides that can reorder what a supervisor reads, are replaced with `�`
//! before anything reaches a cell. Everything else, non-ASCII included, passes.

use std::borrow::Cow;

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `text` with unsafe characters replaced; borrowed when nothing changed.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_unsafe) {
        Cow::Owned(
            text.chars()
                .map(|c| if is_unsafe(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_never_pass() {
        assert_eq!(clean("Zoë \x1b[2J\x07x\u{9b}y\u{202E}z"), "Zoë �[2J�x�y�z");
        assert!(matches!(clean("José Núñez 李小龙"), Cow::Borrowed(_)));
    }
}
