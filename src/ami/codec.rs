//! AMI wire framing: bytes in, [`Frame`]s out.
//!
//! The stream is a one-line banner (`Asterisk Call Manager/x.y.z`) with no
//! blank line after it, then messages of `Key: Value` lines, each message ended
//! by an empty line. Lines end in CRLF, but a bare LF is accepted (some versions
//! and proxies send one). Bytes that are not UTF-8 are replaced, never a panic.
//! A line longer than [`Limits::max_line`] or a message with more than
//! [`Limits::max_headers`] headers yields a [`CodecError`]; the decoder then
//! skips to the end of that message and goes on.

use super::escape::{is_escaped, unescape_into};
use super::message::{Field, Message};
use memchr::memchr_iter;
use thiserror::Error;

/// Size limits that protect the console from a broken or hostile peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line in bytes, line ending excluded.
    pub max_line: usize,
    /// Most headers in one message.
    pub max_headers: usize,
}

impl Default for Limits {
    /// 64 KiB lines (a `Command` response line or a long `ChanVariable` fits),
    /// 1024 headers per message.
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_headers: 1024,
        }
    }
}

/// A framing error. The offending message is dropped; decoding goes on with the
/// next one.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// A line longer than [`Limits::max_line`] bytes.
    #[error("AMI line of {len} bytes exceeds the limit of {max} bytes; message dropped")]
    LineTooLong {
        /// Length seen so far, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// A message with more than [`Limits::max_headers`] headers.
    #[error("AMI message with more than {max} headers; message dropped")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The greeting line, e.g. `Asterisk Call Manager/11.0.0` (line ending removed).
    Banner(String),
    /// A complete message.
    Message(Message),
}

/// Incremental AMI decoder. Feed it bytes as they arrive in any chunking;
/// call [`Decoder::next_frame`] until it returns `None`.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    pos: usize,
    /// Where the search for the end of the current message resumes.
    scan: usize,
    /// True once the banner (or the first message, for a capture without one)
    /// has been passed.
    past_banner: bool,
    /// Skipping the rest of an oversized message.
    discarding: bool,
    /// Header spans (offsets from `pos`) of the message being framed, found
    /// in the same pass that looks for its end.
    lines: Vec<Field>,
    limits: Limits,
}

const BANNER_PREFIX: &[u8] = b"Asterisk Call Manager/";

impl Decoder {
    /// A decoder with default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            limits,
            ..Self::default()
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.scan -= self.pos.min(self.scan);
            self.pos = 0;
        } else if self.pos > 64 * 1024 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.scan -= self.pos.min(self.scan);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete frame, an error for a dropped message, or `None` when
    /// more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, CodecError>> {
        loop {
            if !self.past_banner {
                match self.take_banner() {
                    Banner::Need => return None,
                    Banner::Found(line) => return Some(Ok(Frame::Banner(line))),
                    Banner::Absent => self.past_banner = true,
                }
            }
            let end = match self.find_message_end() {
                Ok(Some(end)) => end,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            let start = self.pos;
            self.pos = end.next;
            self.scan = self.pos;
            if self.discarding {
                self.discarding = false;
                continue;
            }
            if end.body_end == start {
                // A stray blank line between messages.
                continue;
            }
            return Some(self.parse(start, end.body_end));
        }
    }

    fn take_banner(&mut self) -> Banner {
        let rest = &self.buf[self.pos..];
        let probe = rest.len().min(BANNER_PREFIX.len());
        if rest[..probe] != BANNER_PREFIX[..probe] {
            return Banner::Absent;
        }
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            if rest.len() > self.limits.max_line {
                return Banner::Absent;
            }
            return Banner::Need;
        };
        let line = trim_cr(&rest[..nl]);
        let text = String::from_utf8_lossy(line).into_owned();
        self.pos += nl + 1;
        self.scan = self.pos;
        self.past_banner = true;
        Banner::Found(text)
    }

    /// Finds the blank line that ends the message starting at `self.pos`,
    /// splitting each header line on the way. Reports a too-long line or too
    /// many lines once per message, then skips the rest of it, forgetting its
    /// bytes as it goes so a peer that never ends a message cannot grow the
    /// buffer.
    fn find_message_end(&mut self) -> Result<Option<MessageEnd>, CodecError> {
        let max = self.limits.max_line;
        let from = self.scan.max(self.pos);
        if from == self.pos {
            self.lines.clear();
        }
        let mut line_start = self.line_start_before(from);
        for nl in memchr_iter(b'\n', &self.buf[from..]) {
            let nl = from + nl;
            let end = if nl > line_start && self.buf[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            let len = end - line_start;
            if len == 0 {
                return Ok(Some(MessageEnd {
                    body_end: line_start,
                    next: nl + 1,
                }));
            }
            if self.discarding {
                self.pos = nl + 1;
                self.lines.clear();
            } else {
                let error = if len > max {
                    Some(CodecError::LineTooLong { len, max })
                } else if self.lines.len() >= self.limits.max_headers {
                    Some(CodecError::TooManyHeaders {
                        max: self.limits.max_headers,
                    })
                } else {
                    None
                };
                if let Some(e) = error {
                    self.discarding = true;
                    self.pos = nl + 1;
                    self.scan = nl + 1;
                    self.lines.clear();
                    return Err(e);
                }
                self.lines.push(split_line(
                    &self.buf[line_start..end],
                    line_start - self.pos,
                ));
            }
            line_start = nl + 1;
        }
        let partial = self.buf.len() - line_start;
        if partial > max + 1 {
            // Forget the bytes of the unterminated long line; the message is
            // dropped anyway.
            self.buf.truncate(line_start + 1);
            self.scan = self.buf.len();
            if !self.discarding {
                self.discarding = true;
                return Err(CodecError::LineTooLong { len: partial, max });
            }
            return Ok(None);
        }
        self.scan = line_start;
        Ok(None)
    }

    fn line_start_before(&self, from: usize) -> usize {
        if from <= self.pos {
            return self.pos;
        }
        match memchr::memrchr(b'\n', &self.buf[self.pos..from]) {
            Some(i) => self.pos + i + 1,
            None => self.pos,
        }
    }

    fn parse(&self, start: usize, end: usize) -> Result<Frame, CodecError> {
        let block = &self.buf[start..end];
        // Valid UTF-8 (the norm): one copy, and the spans found while framing
        // still hold. Otherwise: lossy text (offsets move), split again.
        let msg = match std::str::from_utf8(block) {
            Ok(text) => build_message(text.to_owned(), &self.lines),
            Err(_) => {
                let text = String::from_utf8_lossy(block).into_owned();
                let mut spans = Vec::new();
                let mut line_start = 0;
                for nl in memchr_iter(b'\n', text.as_bytes()) {
                    let end = if nl > line_start && text.as_bytes()[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    if end > line_start {
                        spans.push(split_line(&text.as_bytes()[line_start..end], line_start));
                    }
                    line_start = nl + 1;
                }
                build_message(text, &spans)
            }
        };
        Ok(Frame::Message(msg))
    }
}

/// Splits the header line `line`, found at `offset` in the message text:
/// `Key: Value` (one optional space after the colon is dropped); a line
/// without a colon is an empty key with the whole line as value.
fn split_line(line: &[u8], offset: usize) -> Field {
    let end = offset + line.len();
    match find_colon(line) {
        Some(i) => {
            let mut v = i + 1;
            if line.get(v) == Some(&b' ') {
                v += 1;
            }
            Field::new(offset..offset + i, offset + v..end)
        }
        None => Field::new(offset..offset, offset..end),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `word` equal to `byte`; the lowest set bit
/// is exact (higher ones may be false positives after a match).
fn matches(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Position of the first `:`, eight bytes at a time (keys are short, so this
/// beats both a byte loop and a SIMD call's setup).
fn find_colon(line: &[u8]) -> Option<usize> {
    let mut chunks = line.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let found = matches(u64::from_le_bytes(word), b':');
        if found != 0 {
            return Some(base + found.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b':')
        .map(|i| base + i)
}

/// Builds the message from its text and header fields, undoing Asterisk's
/// escaping where it applies. Without a backslash in the message (the norm)
/// the fields found while framing are used as they are.
fn build_message(mut text: String, spans: &[Field]) -> Message {
    let mut fields = spans.to_vec();
    if memchr::memchr(b'\\', text.as_bytes()).is_none() {
        return Message::from_parts(text, fields);
    }
    let mut unescaped: Vec<(usize, String)> = Vec::new();
    {
        let bytes = text.as_bytes();
        let event = match fields.first() {
            Some(f) if bytes[f.key_range()].eq_ignore_ascii_case(b"Event") => f.value_range(),
            _ => 0..0,
        };
        for (i, f) in fields.iter().enumerate() {
            let value = &bytes[f.value_range()];
            if is_escaped(&bytes[event.clone()], &bytes[f.key_range()])
                && memchr::memchr(b'\\', value).is_some()
            {
                let mut out = String::with_capacity(value.len());
                unescape_into(value, &mut out);
                unescaped.push((i, out));
            }
        }
    }
    for (i, value) in unescaped {
        let start = text.len();
        text.push_str(&value);
        fields[i] = fields[i].with_value(start..text.len());
    }
    Message::from_parts(text, fields)
}

enum Banner {
    Need,
    Found(String),
    Absent,
}

struct MessageEnd {
    /// End of the last header line (start of the blank line).
    body_end: usize,
    /// First byte after the blank line.
    next: usize,
}

fn trim_cr(line: &[u8]) -> &[u8] {
    match line.split_last() {
        Some((b'\r', rest)) => rest,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Result<Frame, CodecError>> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c);
            while let Some(f) = d.next_frame() {
                out.push(f);
            }
        }
        out
    }

    fn msg(f: &Result<Frame, CodecError>) -> &Message {
        match f {
            Ok(Frame::Message(m)) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn banner_then_messages_with_crlf_and_bare_lf() {
        let out = decode_all(&[
            b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\nStatus: Fully Booted\n\n",
        ]);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            Ok(Frame::Banner("Asterisk Call Manager/11.0.0".into()))
        );
        assert_eq!(msg(&out[1]).get("Message"), Some("Authentication accepted"));
        assert_eq!(msg(&out[2]).event_name(), Some("FullyBooted"));
    }

    #[test]
    fn capture_without_banner_decodes() {
        let out = decode_all(&[b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"]);
        assert_eq!(msg(&out[0]).get("Uniqueid"), Some("1.1"));
    }

    #[test]
    fn caller_names_are_unescaped_other_values_are_not() {
        let out = decode_all(&[
            b"Event: Newchannel\r\nCallerIDName: O\\'Brien \\\"Jr\\\"\r\nDestConnectedLineName: a\\\\b\r\nExten: 1\\n2\r\n\r\n",
        ]);
        let m = msg(&out[0]);
        assert_eq!(m.get("CallerIDName"), Some("O'Brien \"Jr\""));
        assert_eq!(m.get("DestConnectedLineName"), Some("a\\b"));
        assert_eq!(m.get("Exten"), Some("1\\n2"));
    }

    #[test]
    fn varset_value_is_unescaped() {
        let out = decode_all(&[b"Event: VarSet\r\nVariable: X\r\nValue: a\\tb\r\n\r\n"]);
        assert_eq!(msg(&out[0]).get("Value"), Some("a\tb"));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let out = decode_all(&[b"Event: Newchannel\r\nCallerIDName: M\xfcller\r\n\r\n"]);
        assert_eq!(msg(&out[0]).get("CallerIDName"), Some("M\u{fffd}ller"));
    }

    #[test]
    fn too_long_line_is_an_error_and_decoding_goes_on() {
        let mut d = Decoder::with_limits(Limits {
            max_line: 16,
            max_headers: 8,
        });
        d.feed(b"Event: X\r\nLong: 0123456789abcdefXYZ\r\nMore: 1\r\n\r\nEvent: Next\r\n\r\n");
        assert!(matches!(
            d.next_frame(),
            Some(Err(CodecError::LineTooLong { .. }))
        ));
        let next = d.next_frame();
        assert_eq!(
            msg(next.as_ref().unwrap_or_else(|| panic!("no frame"))).event_name(),
            Some("Next")
        );
    }

    #[test]
    fn too_many_headers_is_an_error() {
        let mut d = Decoder::with_limits(Limits {
            max_line: 100,
            max_headers: 2,
        });
        d.feed(b"Event: X\r\nA: 1\r\nB: 2\r\n\r\nEvent: Y\r\n\r\n");
        assert_eq!(
            d.next_frame(),
            Some(Err(CodecError::TooManyHeaders { max: 2 }))
        );
        assert!(matches!(d.next_frame(), Some(Ok(Frame::Message(_)))));
    }

    #[test]
    fn unterminated_long_line_does_not_grow_forever() {
        let mut d = Decoder::with_limits(Limits {
            max_line: 12,
            max_headers: 8,
        });
        d.feed(b"Event: X\r\nHuge: ");
        d.feed(&[b'a'; 64]);
        assert!(matches!(d.next_frame(), Some(Err(_))));
        assert!(d.pending() < 64);
        d.feed(b"aaaa\r\n\r\nEvent: Ok\r\n\r\n");
        let mut names = Vec::new();
        while let Some(f) = d.next_frame() {
            if let Ok(Frame::Message(m)) = f {
                names.push(m.event_name().unwrap_or("").to_string());
            }
        }
        assert_eq!(names, ["Ok"]);
    }

    #[test]
    fn colon_search_matches_a_byte_loop() {
        for line in [
            "",
            ":",
            "a:b",
            "Channel: x",
            "ConnectedLineName: a:b",
            "0123456:",
            "01234567:",
            "no colon here at all",
        ] {
            let expected = line.bytes().position(|b| b == b':');
            assert_eq!(find_colon(line.as_bytes()), expected, "{line:?}");
        }
        let high = [0xff, 0xfe, b':', 0x80, 0x3a, 0x3b, 0x39, 0x00, b'x'];
        assert_eq!(find_colon(&high), Some(2));
    }

    #[test]
    fn line_without_colon_is_kept() {
        let out = decode_all(&[b"Response: Follows\r\n--END COMMAND--\r\n\r\n"]);
        let m = msg(&out[0]);
        assert_eq!(m.get(""), Some("--END COMMAND--"));
    }
}
