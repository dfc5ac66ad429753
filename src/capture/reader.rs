//! Reads a capture file (or a raw AMI stream) as a stream of chunks of at
//! most [`CHUNK`] bytes, so a replay's memory stays bounded whatever the size
//! of the file or of one record in it.

use super::format::{CaptureError, MAGIC};
use std::io::{BufRead, Read};

/// Largest chunk handed on, bytes.
pub const CHUNK: usize = 64 * 1024;

/// Longest header or record line accepted, bytes.
const MAX_LINE: usize = 256;

/// A streaming capture reader.
pub struct Reader<R> {
    input: R,
    /// Capture start, ms since the Unix epoch (UTC); 0 for a raw stream.
    pub start_ms: i64,
    raw: bool,
    /// Byte offset in the file of the next byte to read.
    pos: usize,
    /// The record being read: its offset (ms), bytes still to come, and
    /// where its `<offset_ms> <len>` line starts in the file.
    record: Option<(i64, usize, usize)>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// Reads the header. A stream without the capture's first line is a raw
    /// AMI stream (one record at offset 0).
    ///
    /// Errors: a capture header that is malformed.
    pub fn open(mut input: R) -> Result<Self, CaptureError> {
        let peek = input
            .fill_buf()
            .map_err(|_| CaptureError::BadHeader { offset: 0 })?;
        let raw = !peek.starts_with(MAGIC.as_bytes());
        let mut r = Reader {
            input,
            start_ms: 0,
            raw,
            pos: 0,
            record: None,
            done: false,
        };
        if !raw {
            let first = r.line().ok_or(CaptureError::BadHeader { offset: 0 })?;
            if first != MAGIC {
                return Err(CaptureError::BadHeader { offset: 0 });
            }
            let at = r.pos;
            r.start_ms = r
                .line()
                .and_then(|l| l.strip_prefix("start_ms ").map(str::to_string))
                .and_then(|v| v.trim().parse().ok())
                .ok_or(CaptureError::BadHeader { offset: at })?;
        }
        Ok(r)
    }

    /// One line without its `\n`, at most [`MAX_LINE`] bytes.
    fn line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        let n = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .ok()?;
        self.pos += n;
        if buf.pop() != Some(b'\n') {
            return None;
        }
        String::from_utf8(buf).ok()
    }

    fn read_exact_counted(&mut self, buf: &mut [u8]) -> bool {
        let ok = self.input.read_exact(buf).is_ok();
        self.pos += buf.len();
        ok
    }

    /// The next chunk: `(offset_ms, bytes)`, `None` at the end, or the error
    /// that ended the file early (a record cut short, named by its offset).
    pub fn next_chunk(&mut self) -> Option<Result<(i64, Vec<u8>), CaptureError>> {
        if self.done {
            return None;
        }
        if self.raw {
            let mut buf = vec![0u8; CHUNK];
            let n = loop {
                match self.input.read(&mut buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break 0,
                }
            };
            self.pos += n;
            if n == 0 {
                self.done = true;
                return None;
            }
            buf.truncate(n);
            return Some(Ok((0, buf)));
        }
        if self.record.is_none() {
            let at = self.pos;
            let bad = CaptureError::BadRecord { offset: at };
            let at_end = self.input.fill_buf().map(|b| b.is_empty()).unwrap_or(true);
            if at_end {
                self.done = true;
                return None;
            }
            let parsed = self.line().and_then(|l| {
                let (o, n) = l.split_once(' ')?;
                Some((o.parse::<i64>().ok()?, n.parse::<usize>().ok()?))
            });
            match parsed {
                Some((o, n)) => self.record = Some((o, n, at)),
                None => {
                    self.done = true;
                    return Some(Err(bad));
                }
            }
        }
        let (offset_ms, left, start) = self.record?;
        let mut buf = vec![0u8; left.min(CHUNK)];
        if !self.read_exact_counted(&mut buf) {
            self.done = true;
            return Some(Err(CaptureError::BadRecord { offset: start }));
        }
        let left = left - buf.len();
        if left == 0 {
            self.record = None;
            let mut nl = [0u8; 1];
            if !self.read_exact_counted(&mut nl) || nl[0] != b'\n' {
                self.done = true;
                return Some(Err(CaptureError::BadRecord { offset: start }));
            }
        } else {
            self.record = Some((offset_ms, left, start));
        }
        Some(Ok((offset_ms, buf)))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<(i64, Vec<u8>), CaptureError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureWriter;

    #[test]
    fn streams_records_in_bounded_chunks() -> std::io::Result<()> {
        let big = vec![b'x'; CHUNK * 2 + 10];
        let mut w = CaptureWriter::new(Vec::new(), 1_000)?;
        w.record(1_000, b"Event: A\r\n\r\n")?;
        w.record(1_500, &big)?;
        let data = w.finish()?;
        let r = Reader::open(&data[..]).map_err(std::io::Error::other)?;
        assert_eq!(r.start_ms, 1_000);
        let chunks: Vec<(i64, usize)> = r
            .map(|c| c.map(|(o, b)| (o, b.len())))
            .collect::<Result<_, _>>()
            .map_err(std::io::Error::other)?;
        assert_eq!(chunks, [(0, 12), (500, CHUNK), (500, CHUNK), (500, 10)]);
        Ok(())
    }

    #[test]
    fn raw_streams_and_truncation() {
        let raw: Vec<_> = Reader::open(&b"Event: X\r\n\r\n"[..])
            .map(|r| r.collect::<Vec<_>>())
            .unwrap_or_default();
        assert_eq!(raw, [Ok((0, b"Event: X\r\n\r\n".to_vec()))]);
        let cut = b"switchboard-ami-capture 1\nstart_ms 5\n0 100\nEvent";
        let last = Reader::open(&cut[..]).ok().and_then(|r| r.last());
        assert_eq!(last, Some(Err(CaptureError::BadRecord { offset: 37 })));
    }
}
