//! Turns a capture back into the messages the live connection would have
//! sent: `Resyncing`, the events with their original receive times, and
//! `Ready` once every snapshot list has completed. The console and the
//! headless replay consume exactly what they consume live.

use super::format::Capture;
use crate::ami::{AmiMsg, ConnectionState, Decoder, Frame, MessageKind, ReceivedEvent};
use std::collections::{HashSet, VecDeque};

/// Iterator over `(offset_ms, AmiMsg)` of a capture; `offset_ms` is ms since
/// the capture start. Framing errors are counted and skipped.
pub struct Replay<'c, 'a> {
    capture: &'c Capture<'a>,
    next_record: usize,
    decoder: Decoder,
    out: VecDeque<(i64, AmiMsg)>,
    lists: HashSet<String>,
    ready_sent: bool,
    /// Framing errors met so far.
    pub framing_errors: u64,
}

impl<'c, 'a> Replay<'c, 'a> {
    /// A replay positioned before the first record.
    pub fn new(capture: &'c Capture<'a>) -> Self {
        let mut out = VecDeque::new();
        out.push_back((0, AmiMsg::State(ConnectionState::Resyncing)));
        Replay {
            capture,
            next_record: 0,
            decoder: Decoder::new(),
            out,
            lists: HashSet::new(),
            ready_sent: false,
            framing_errors: 0,
        }
    }

    fn decode_next_record(&mut self) -> bool {
        let Some(rec) = self.capture.records.get(self.next_record) else {
            return false;
        };
        self.next_record += 1;
        self.decoder.feed(rec.bytes);
        let at_ms = self.capture.start_ms + rec.offset_ms;
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
                        rec.offset_ms,
                        AmiMsg::Event(ReceivedEvent { at_ms, message: m }),
                    ));
                    if done && self.lists.is_empty() && !self.ready_sent {
                        self.ready_sent = true;
                        self.out
                            .push_back((rec.offset_ms, AmiMsg::State(ConnectionState::Ready)));
                    }
                }
                _ => {}
            }
        }
        true
    }
}

impl Iterator for Replay<'_, '_> {
    type Item = (i64, AmiMsg);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if !self.decode_next_record() {
                if !self.ready_sent {
                    // A capture without snapshot lists: live from the start.
                    self.ready_sent = true;
                    return Some((
                        self.capture.duration_ms(),
                        AmiMsg::State(ConnectionState::Ready),
                    ));
                }
                return None;
            }
        }
    }
}
