//! The capture file: the AMI byte stream exactly as read, with read times.
//!
//! ```text
//! switchboard-ami-capture 1\n
//! start_ms 1795245776000\n
//! <offset_ms> <len>\n<len bytes>\n     (repeated, one record per socket read)
//! ```
//!
//! `start_ms` is ms since the Unix epoch (UTC); `offset_ms` is ms since then.
//! A file without the first line is read as a raw AMI stream (one record at
//! offset 0), so a stream cut from a packet capture replays too. Only what
//! Asterisk sent is recorded: the login (and its secret) never is.

use std::io::{self, Write};
use thiserror::Error;

/// First line of a capture file.
pub(crate) const MAGIC: &str = "switchboard-ami-capture 1";

/// A capture that cannot be read, with the byte offset where it went wrong.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum CaptureError {
    /// The header lines are not `switchboard-ami-capture 1` / `start_ms N`.
    #[error("capture header is malformed at byte {offset}: expected `start_ms <ms>`")]
    BadHeader {
        /// Byte offset in the file.
        offset: usize,
    },
    /// A record line is not `<offset_ms> <len>` or its bytes are cut short.
    #[error("capture record at byte {offset} is malformed or truncated; the file may be cut short")]
    BadRecord {
        /// Byte offset in the file.
        offset: usize,
    },
}

/// One socket read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Milliseconds since the capture's start.
    pub offset_ms: i64,
    /// The bytes read.
    pub bytes: &'a [u8],
}

/// A parsed capture borrowing the file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture<'a> {
    /// Capture start, ms since the Unix epoch (UTC); 0 for a raw stream.
    pub start_ms: i64,
    /// Records in file order.
    pub records: Vec<Record<'a>>,
}

impl<'a> Capture<'a> {
    /// Parses a capture file (or a raw AMI stream).
    pub fn parse(data: &'a [u8]) -> Result<Self, CaptureError> {
        let Some(rest) = data.strip_prefix(MAGIC.as_bytes()) else {
            return Ok(Capture {
                start_ms: 0,
                records: vec![Record {
                    offset_ms: 0,
                    bytes: data,
                }],
            });
        };
        let mut pos = data.len() - rest.len();
        let header_err = |offset| CaptureError::BadHeader { offset };
        let (line, next) = line_at(data, pos).ok_or(header_err(pos))?;
        if !line.is_empty() {
            return Err(header_err(pos));
        }
        pos = next;
        let (line, next) = line_at(data, pos).ok_or(header_err(pos))?;
        let start_ms = std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.strip_prefix("start_ms "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or(header_err(pos))?;
        pos = next;
        let mut records = Vec::new();
        while pos < data.len() {
            let bad = CaptureError::BadRecord { offset: pos };
            let (line, next) = line_at(data, pos).ok_or(bad)?;
            let (offset_ms, len) = std::str::from_utf8(line)
                .ok()
                .and_then(|l| l.split_once(' '))
                .and_then(|(o, n)| Some((o.parse::<i64>().ok()?, n.parse::<usize>().ok()?)))
                .ok_or(bad)?;
            let end = next
                .checked_add(len)
                .filter(|e| *e < data.len())
                .ok_or(bad)?;
            if data[end] != b'\n' {
                return Err(bad);
            }
            records.push(Record {
                offset_ms,
                bytes: &data[next..end],
            });
            pos = end + 1;
        }
        Ok(Capture { start_ms, records })
    }

    /// Total AMI bytes in the capture.
    pub fn bytes(&self) -> usize {
        self.records.iter().map(|r| r.bytes.len()).sum()
    }

    /// Duration covered, ms (offset of the last record).
    pub fn duration_ms(&self) -> i64 {
        self.records.last().map(|r| r.offset_ms).unwrap_or(0)
    }
}

/// `(line without '\n', index after '\n')` for the line starting at `pos`.
fn line_at(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let nl = memchr::memchr(b'\n', data.get(pos..)?)?;
    Some((&data[pos..pos + nl], pos + nl + 1))
}

/// Writes a capture file record by record.
pub struct CaptureWriter<W: Write> {
    out: W,
    start_ms: i64,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the header; `start_ms` is ms since the Unix epoch (UTC).
    pub fn new(mut out: W, start_ms: i64) -> io::Result<Self> {
        writeln!(out, "{MAGIC}\nstart_ms {start_ms}")?;
        Ok(CaptureWriter { out, start_ms })
    }

    /// Appends the bytes of one read made at `at_ms`.
    pub fn record(&mut self, at_ms: i64, bytes: &[u8]) -> io::Result<()> {
        writeln!(
            self.out,
            "{} {}",
            (at_ms - self.start_ms).max(0),
            bytes.len()
        )?;
        self.out.write_all(bytes)?;
        self.out.write_all(b"\n")
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> io::Result<()> {
        let mut w = CaptureWriter::new(Vec::new(), 1_000)?;
        w.record(1_000, b"Asterisk Call Manager/11.0.0\r\n")?;
        w.record(1_250, b"Event: X\r\n\r\n")?;
        let data = w.finish()?;
        let c = Capture::parse(&data).map_err(io::Error::other)?;
        assert_eq!(c.start_ms, 1_000);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[1].offset_ms, 250);
        assert_eq!(c.records[1].bytes, b"Event: X\r\n\r\n");
        assert_eq!(c.duration_ms(), 250);
        Ok(())
    }

    #[test]
    fn raw_stream_is_one_record() {
        let c = Capture::parse(b"Event: X\r\n\r\n");
        assert_eq!(c.map(|c| c.records.len()), Ok(1));
    }

    #[test]
    fn truncated_record_names_its_offset() {
        let data = b"switchboard-ami-capture 1\nstart_ms 5\n0 100\nEvent";
        assert_eq!(
            Capture::parse(data),
            Err(CaptureError::BadRecord { offset: 37 })
        );
        assert!(matches!(
            Capture::parse(b"switchboard-ami-capture 1\nstart 5\n"),
            Err(CaptureError::BadHeader { .. })
        ));
    }
}
