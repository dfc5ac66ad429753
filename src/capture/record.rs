//! `switchboard record`: a live AMI session written to a capture file.

use super::CaptureWriter;
use crate::ami::connection::{self, Chunk};
use crate::ami::{AmiMsg, ConnectionState, Settings};
use crate::clock::now_ms;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a recording captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Socket reads written.
    pub records: u64,
    /// AMI bytes written.
    pub bytes: u64,
    /// The login succeeded at least once (the capture holds PBX data).
    pub logged_in: bool,
}

/// Connects with `settings` (its resync actions included, so the capture
/// starts with a full snapshot) and records every byte Asterisk sends for
/// `duration` into `path`. Reconnects are recorded as they happen; each
/// failure is logged once (warning, on stderr) and `logged_in` says whether
/// any login succeeded.
///
/// Errors: the file cannot be created or written (the message names it).
pub async fn record(
    settings: Settings,
    duration: Duration,
    path: &Path,
) -> anyhow::Result<Recorded> {
    let file = File::create(path)
        .map_err(|e| anyhow::anyhow!("cannot create capture file {}: {e}", path.display()))?;
    let mut writer = CaptureWriter::new(BufWriter::new(file), now_ms())?;
    let (events_tx, mut events_rx) = mpsc::channel(4096);
    let (tap_tx, mut tap_rx) = mpsc::unbounded_channel::<Chunk>();
    let (_handle, task) = connection::spawn(settings, events_tx, Some(tap_tx));
    let deadline = tokio::time::sleep(duration);
    tokio::pin!(deadline);
    let mut done = Recorded {
        records: 0,
        bytes: 0,
        logged_in: false,
    };
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            chunk = tap_rx.recv() => match chunk {
                Some(c) => {
                    writer.record(c.at_ms, &c.bytes)?;
                    done.records += 1;
                    done.bytes += c.bytes.len() as u64;
                }
                None => break,
            },
            msg = events_rx.recv() => match msg {
                // The connection logs each failure once (stderr, sanitized).
                Some(AmiMsg::State(ConnectionState::Resyncing)) => done.logged_in = true,
                Some(_) => {}
                None => break,
            },
        }
    }
    task.abort();
    writer.finish()?;
    Ok(done)
}
