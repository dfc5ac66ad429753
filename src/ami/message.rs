//! A decoded AMI message: an ordered list of `Key: Value` headers.
//!
//! One owned text buffer holds every key and value back to back; fields are
//! offset ranges into it. Decoding a message costs two allocations however many
//! headers it has, which keeps the codec well above the throughput target
//! (docs/performance.md).

use std::fmt;

/// Byte range `start..end` into [`Message::text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// One header as two spans of the message text (the codec builds these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    key: Span,
    value: Span,
}

fn span(r: std::ops::Range<usize>) -> Span {
    Span {
        start: r.start as u32,
        end: r.end as u32,
    }
}

impl Field {
    /// A field from byte ranges of the message text.
    pub(crate) fn new(key: std::ops::Range<usize>, value: std::ops::Range<usize>) -> Self {
        Field {
            key: span(key),
            value: span(value),
        }
    }

    /// Byte range of the key in the message text.
    pub(crate) fn key_range(&self) -> std::ops::Range<usize> {
        self.key.start as usize..self.key.end as usize
    }

    /// Byte range of the value in the message text.
    pub(crate) fn value_range(&self) -> std::ops::Range<usize> {
        self.value.start as usize..self.value.end as usize
    }

    /// The same key with another value range.
    pub(crate) fn with_value(self, value: std::ops::Range<usize>) -> Self {
        Field {
            key: self.key,
            value: span(value),
        }
    }
}

/// What a message is, from its first header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind<'a> {
    /// `Event: <name>`: an unsolicited event, or an item of an event list
    /// (then it carries the `ActionID` of the action that asked for it).
    Event(&'a str),
    /// `Response: <status>` (`Success`, `Error`, `Goodbye`, `Follows`).
    Response(&'a str),
    /// Anything else (a capture that starts mid-stream, a foreign header).
    Other,
}

/// One AMI message with its headers in wire order; repeated keys (`Output`,
/// `ChanVariable`, `Variable`) are all kept.
///
/// Values are already decoded: invalid UTF-8 replaced by U+FFFD, and the
/// backslash escaping that Asterisk applies to some values (caller and
/// connected-line names, `VarSet` values) undone. Values are *not* sanitized for
/// the terminal: that is the view's job.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Message {
    text: String,
    fields: Vec<Field>,
}

impl Message {
    /// An empty message, to be filled with [`Message::push`].
    pub fn with_capacity(text_bytes: usize, headers: usize) -> Self {
        Message {
            text: String::with_capacity(text_bytes),
            fields: Vec::with_capacity(headers),
        }
    }

    /// Appends a header. Used by the codec and by tests that build events.
    pub fn push(&mut self, key: &str, value: &str) {
        let key = self.push_text(key);
        let value = self.push_text(value);
        self.fields.push(Field { key, value });
    }

    /// A message over `text` with `fields` spanning it (the codec's path).
    /// Spans must lie on char boundaries of `text`.
    pub(crate) fn from_parts(text: String, fields: Vec<Field>) -> Self {
        Message { text, fields }
    }

    fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }

    fn slice(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    /// Key bytes of a field: comparing bytes skips the char-boundary checks
    /// of `str` slicing, which dominated lookups.
    fn key_bytes(&self, f: &Field) -> &[u8] {
        &self.text.as_bytes()[f.key.start as usize..f.key.end as usize]
    }

    fn find(&self, key: &str) -> Option<&Field> {
        let key = key.as_bytes();
        self.fields.iter().find(|f| {
            (f.key.end - f.key.start) as usize == key.len()
                && self.key_bytes(f).eq_ignore_ascii_case(key)
        })
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the message has no header.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Headers in wire order as `(key, value)`.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(|f| (self.slice(f.key), self.slice(f.value)))
    }

    /// First value of `key`, compared ASCII case-insensitively (Asterisk is not
    /// consistent: `EventList` vs `Eventlist`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).map(|f| self.slice(f.value))
    }

    /// Value of `key`, or `""` when absent.
    pub fn str(&self, key: &str) -> &str {
        self.get(key).unwrap_or("")
    }

    /// Every value of a repeated `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |f| self.key_bytes(f).eq_ignore_ascii_case(key.as_bytes()))
            .map(|f| self.slice(f.value))
    }

    /// What the message is, from its first header.
    pub fn kind(&self) -> MessageKind<'_> {
        match self.fields.first() {
            Some(f) => {
                let key = self.key_bytes(f);
                if key.eq_ignore_ascii_case(b"Event") {
                    MessageKind::Event(self.slice(f.value))
                } else if key.eq_ignore_ascii_case(b"Response") {
                    MessageKind::Response(self.slice(f.value))
                } else {
                    MessageKind::Other
                }
            }
            None => MessageKind::Other,
        }
    }

    /// The event name when this is an event, else `None`.
    pub fn event_name(&self) -> Option<&str> {
        match self.kind() {
            MessageKind::Event(name) => Some(name),
            _ => None,
        }
    }

    /// The `ActionID` header, when present.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_list();
        for (k, v) in self.headers() {
            // `Secret` never appears in what Asterisk sends, but a message built
            // by a test or a future action path must not print one either.
            if k.eq_ignore_ascii_case("Secret") {
                map.entry(&(k, "***"));
            } else {
                map.entry(&(k, v));
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_keep_order_and_lookup_ignores_case() {
        let mut m = Message::default();
        m.push("Event", "VarSet");
        m.push("Output", "a");
        m.push("output", "b");
        assert_eq!(m.kind(), MessageKind::Event("VarSet"));
        assert_eq!(m.get("OUTPUT"), Some("a"));
        assert_eq!(m.get_all("Output").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.str("missing"), "");
    }

    #[test]
    fn debug_hides_secret() {
        let mut m = Message::default();
        m.push("Action", "Login");
        m.push("Secret", "hunter2");
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
