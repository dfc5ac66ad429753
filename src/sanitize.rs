//! Text from peers made safe for a terminal, on every path: panes, titles,
//! notices, stderr, the log file and JSON printed to stdout.
//!
//! Caller names, queue names, AMI `Message` headers, ARI error bodies and CDR
//! rows come from the outside world. What is replaced with `�`:
//! - control characters (C0, DEL, C1), which include ESC and so every escape
//!   sequence (CSI, OSC 52 clipboard writes, title changes) and CR;
//! - the Unicode bidi controls that reorder what a supervisor reads
//!   (U+061C, U+200E/F, U+202A–202E, U+2066–2069);
//! - invisible characters that make two different names look identical or
//!   split a line (U+00AD, U+180E, U+200B/C, U+2028/2029, U+2060–2064,
//!   U+FEFF, U+FFF9–FFFB, tag characters U+E0000–E007F).
//!
//! Everything else, non-ASCII letters and emoji included, passes unchanged.

use std::borrow::Cow;

/// True for a character that must never reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// `text` with unsafe characters replaced by `�`; borrowed when nothing
/// changed.
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

/// `text` with unsafe characters written as `\u{..}` escapes: for log lines
/// and error messages, where the exact bytes a peer sent matter to whoever
/// debugs it, but must not act on the terminal that shows them.
pub fn escape(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_unsafe) {
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            if is_unsafe(c) {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Pretty JSON of `value` in which every unsafe character inside a string is
/// written as a `\uXXXX` escape: the JSON means exactly the same (a parser
/// gets the original text back), but the bytes printed are terminal-safe.
pub fn json_pretty<T: serde::Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        SafeFormatter(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Compact JSON, like [`json_pretty`].
pub fn json<T: serde::Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        SafeFormatter(serde_json::ser::CompactFormatter),
    );
    value.serialize(&mut ser)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A JSON formatter that escapes unsafe characters in strings (serde_json
/// escapes only C0 controls by itself).
struct SafeFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            writer.write_all(&rest.as_bytes()[..i])?;
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(writer, "\\u{:04x}", u)?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_never_pass() {
        assert_eq!(clean("Zoë \x1b[2J\x07x\u{9b}y\u{202E}z"), "Zoë �[2J�x�y�z");
        assert!(matches!(clean("José Núñez 李小龙 👩‍💻"), Cow::Borrowed(_)));
    }

    #[test]
    fn invisible_and_bidi_characters_never_pass() {
        for c in [
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{2029}',
            '\u{E0041}',
            '\u{2066}',
            '\u{00AD}',
        ] {
            assert_eq!(clean(&format!("a{c}b")), "a�b", "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn escape_keeps_the_evidence_readable() {
        assert_eq!(
            escape("x\x1b]52;c;AAA\x07\ry"),
            "x\\u{1b}]52;c;AAA\\u{7}\\u{d}y"
        );
    }

    #[test]
    fn json_escapes_unsafe_characters_and_means_the_same() {
        let v = serde_json::json!({"name": "A\u{9b}B\u{202E}C\u{E0041}😀"});
        let text = json_pretty(&v).unwrap_or_default();
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, v);
    }
}
