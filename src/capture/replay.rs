//! Turns a capture back into the messages the live connection would have
//! sent: `Resyncing`, the events with their original receive times, and
//! `Ready` once every snapshot list has completed. The console and the
//! headless replay consume exactly what they consume live.

use super::format::{Capture, CaptureError};
use super::reader::{CHUNK, Reader};
use crate::ami::{AmiMsg, ConnectionState, Decoder, Frame, MessageKind, ReceivedEvent};
use std::collections::{HashSet, VecDeque};

/// Chunks of a capture: `(offset_ms, bytes)`, or the error that ended it.
type Chunks<'a> = Box<dyn Iterator<Item = Result<(i64, Vec<u8>), CaptureError>> + Send + 'a>;

/// Iterator over `(offset_ms, AmiMsg)` of a capture; `offset_ms` is ms since
/// the capture start. Framing errors are counted and skipped.
///
/// Memory is bounded whatever the input: bytes are fed to the decoder at
/// most [`CHUNK`] at a time, and the next chunk is read only when every
/// message of the previous one has been handed out.
pub struct Replay<'a> {
    chunks: Chunks<'a>,
    start_ms: i64,
    last_offset_ms: i64,
    decoder: Decoder,
    out: VecDeque<(i64, AmiMsg)>,
    lists: HashSet<String>,
    ready_sent: bool,
    /// Framing errors met so far.
    pub framing_errors: u64,
    /// AMI bytes decoded so far.
    pub bytes: usize,
    /// Why the capture ended early (a record cut short), if it did.
    pub error: Option<CaptureError>,
}

impl<'a> Replay<'a> {
    /// A replay of a capture held in memory.
    pub fn new(capture: &'a Capture<'_>) -> Self {
        let chunks = capture.records.iter().flat_map(|r| {
            r.bytes
                .chunks(CHUNK)
                .map(move |b| Ok((r.offset_ms, b.to_vec())))
        });
        Self::from_chunks(Box::new(chunks), capture.start_ms)
    }

    /// A replay streamed from `reader` (a file), in bounded memory.
    pub fn from_reader<R: std::io::BufRead + Send + 'a>(reader: Reader<R>) -> Self {
        let start_ms = reader.start_ms;
        Self::from_chunks(Box::new(reader), start_ms)
    }

    fn from_chunks(chunks: Chunks<'a>, start_ms: i64) -> Self {
        let mut out = VecDeque::new();
        out.push_back((0, AmiMsg::State(ConnectionState::Resyncing)));
        Replay {
            chunks,
            start_ms,
            last_offset_ms: 0,
            decoder: Decoder::new(),
            out,
            lists: HashSet::new(),
            ready_sent: false,
            framing_errors: 0,
            bytes: 0,
            error: None,
        }
    }

    fn decode_next_chunk(&mut self) -> bool {
        let (offset_ms, bytes) = match self.chunks.next() {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                self.error = Some(e);
                return false;
            }
            None => return false,
        };
        self.last_offset_ms = offset_ms;
        self.bytes += bytes.len();
        self.decoder.feed(&bytes);
        let at_ms = self.start_ms + offset_ms;
        while let Some(frame) = self.decoder.next_frame() {
            let m = match frame {
                Ok(Frame::Message(m)) => m,
                Ok(Frame::Banner(_)) => continue,
                Err(_) => {
                    self.framing_errors += 1;
                    continue;
                }
            };
            let list = m.get("EventList");
            let is = |v: &str| list.is_some_and(|l| l.eq_ignore_ascii_case(v));
            match m.kind() {
                MessageKind::Response(_) if is("start") => {
                    self.lists.insert(m.action_id().unwrap_or("").to_string());
                }
                MessageKind::Event(_) => {
                    let done = is("complete") && self.lists.remove(m.action_id().unwrap_or(""));
                    self.out.push_back((
                        offset_ms,
                        AmiMsg::Event(ReceivedEvent { at_ms, message: m }),
                    ));
                    if done && self.lists.is_empty() && !self.ready_sent {
                        self.ready_sent = true;
                        self.out
                            .push_back((offset_ms, AmiMsg::State(ConnectionState::Ready)));
                    }
                }
                _ => {}
            }
        }
        true
    }
}

impl Iterator for Replay<'_> {
    type Item = (i64, AmiMsg);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if !self.decode_next_chunk() {
                if !self.ready_sent {
                    // A capture without snapshot lists: live from the start.
                    self.ready_sent = true;
                    return Some((self.last_offset_ms, AmiMsg::State(ConnectionState::Ready)));
                }
                return None;
            }
        }
    }
}

/// Replay speed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// A factor of real time (1.0 = real time).
    Factor(f64),
}

impl Speed {
    /// Parses `max` or a positive number.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.parse::<f64>() {
            Ok(f) if (0.01..=10_000.0).contains(&f) => Ok(Speed::Factor(f)),
            _ => anyhow::bail!(
                "--speed `{s}`: use a number from 0.01 to 10000 (1 = real time) or `max`"
            ),
        }
    }
}

/// Sends the replay's messages to `tx` at `speed`, calling `follow` with
/// each event's capture time as it goes (a replayed console's clock follows
/// the capture's); returns at the end (the caller drops `tx`, which the
/// receiver sees as the end of the recording) or when `tx` closes.
pub async fn feed(
    replay: Replay<'_>,
    speed: Speed,
    tx: tokio::sync::mpsc::Sender<AmiMsg>,
    follow: impl Fn(i64),
) {
    let start = tokio::time::Instant::now();
    for (offset_ms, msg) in replay {
        if let Speed::Factor(f) = speed {
            let due =
                start + std::time::Duration::from_secs_f64(offset_ms.max(0) as f64 / 1000.0 / f);
            tokio::time::sleep_until(due).await;
        }
        if let AmiMsg::Event(e) = &msg {
            follow(e.at_ms);
        }
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}
