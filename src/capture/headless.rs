//! `switchboard replay --headless`: a capture through the codec and the
//! reducer as fast as one core goes.

use super::{Capture, CaptureError, Replay};
use crate::ami::AmiMsg;
use crate::pbx::State;
use serde::Serialize;
use std::time::Instant;

/// Throughput of one headless replay, printed as JSON by `--stats`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// AMI events applied.
    pub events: u64,
    /// AMI bytes decoded.
    pub bytes: usize,
    /// Wall-clock seconds spent decoding and reducing.
    pub seconds: f64,
    /// `events / seconds`.
    pub events_per_second: f64,
}

/// Replays `capture` into a fresh [`State`] and measures it.
pub fn run(capture: &Capture<'_>) -> (State, Stats) {
    let (state, stats, _) = run_replay(Replay::new(capture));
    (state, stats)
}

/// Runs `replay` to its end into a fresh [`State`] and measures it; also
/// returns why the capture ended early, if it did.
pub fn run_replay(mut replay: Replay<'_>) -> (State, Stats, Option<CaptureError>) {
    let mut state = State::new();
    let mut events = 0u64;
    let started = Instant::now();
    for (_, msg) in replay.by_ref() {
        if matches!(msg, AmiMsg::Event(_)) {
            events += 1;
        }
        state.handle(&msg);
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = Stats {
        events,
        bytes: replay.bytes,
        seconds,
        events_per_second: if seconds > 0.0 {
            events as f64 / seconds
        } else {
            0.0
        },
    };
    (state, stats, replay.error)
}
