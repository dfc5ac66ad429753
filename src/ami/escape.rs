//! Asterisk's C-style escaping of some AMI values, undone.
//!
//! Asterisk runs `ast_escape_c` over caller and connected-line names in every
//! channel-state block (`CallerIDName`, `ConnectedLineName` and their prefixed
//! forms such as `DestCallerIDName`), over `VarSet`'s `Value`, and over
//! `PresenceStateChange`'s `Subtype` and `Message`. It escapes
//! `\a \b \f \n \r \t \v \\ \' \" \?`. Other values are sent raw, so a backslash
//! in an `Exten` is a real backslash and is left alone.

/// True when Asterisk escapes header `key` of event `event` (both raw bytes).
pub fn is_escaped(event: &[u8], key: &[u8]) -> bool {
    ends_with_ignore_case(key, b"CallerIDName")
        || ends_with_ignore_case(key, b"ConnectedLineName")
        || (event.eq_ignore_ascii_case(b"VarSet") && key.eq_ignore_ascii_case(b"Value"))
        || (event.eq_ignore_ascii_case(b"PresenceStateChange")
            && (key.eq_ignore_ascii_case(b"Subtype") || key.eq_ignore_ascii_case(b"Message")))
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Appends `raw` to `out` with escapes undone and invalid UTF-8 replaced.
/// An unknown escape (`\x`) or a trailing lone backslash is kept as it is.
pub fn unescape_into(raw: &[u8], out: &mut String) {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' && i + 1 < raw.len() {
            let decoded = match raw[i + 1] {
                b'a' => Some(0x07),
                b'b' => Some(0x08),
                b'f' => Some(0x0c),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'v' => Some(0x0b),
                b'\\' => Some(b'\\'),
                b'\'' => Some(b'\''),
                b'"' => Some(b'"'),
                b'?' => Some(b'?'),
                _ => None,
            };
            if let Some(d) = decoded {
                bytes.push(d);
                i += 2;
                continue;
            }
        }
        bytes.push(b);
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &[u8]) -> String {
        let mut out = String::new();
        unescape_into(s, &mut out);
        out
    }

    #[test]
    fn known_escapes_are_undone() {
        assert_eq!(un(br#"a\\b\"c\'d\?e\tf\ng"#), "a\\b\"c'd?e\tf\ng");
    }

    #[test]
    fn unknown_and_trailing_backslash_are_kept() {
        assert_eq!(un(br"a\xb\"), "a\\xb\\");
    }

    #[test]
    fn escaped_keys() {
        assert!(is_escaped(b"Newchannel", b"CallerIDName"));
        assert!(is_escaped(b"DialBegin", b"DestConnectedLineName"));
        assert!(is_escaped(b"VarSet", b"Value"));
        assert!(!is_escaped(b"Newexten", b"Value"));
        assert!(!is_escaped(b"Newchannel", b"Exten"));
    }
}
