//! Asterisk sound names a campaign gives the dialplan (the safe-harbour
//! message, the message left on a machine): checked before they reach a
//! channel variable.

/// A sound name: letters, digits, `/ _ -`, 1 to 80 characters, no `..`
/// (`custom/safe-harbour`).
pub fn is_sound_name(m: &str) -> bool {
    !m.is_empty()
        && m.len() <= 80
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
        && !m.contains("..")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_cannot_climb_or_inject() {
        assert!(super::is_sound_name("custom/safe-harbour"));
        for bad in ["", "../etc/passwd", "a,b", "x\ny", &"a".repeat(81)] {
            assert!(!super::is_sound_name(bad), "{bad:?}");
        }
    }
}
