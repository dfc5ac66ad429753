//! The engine's writes to the app database: in order, off the engine's
//! loop, retried until they land, and spooled to disk until they do.
//!
//! Every fact the engine learns about an attempt (its originate was taken,
//! the customer answered, who took the call, how it ended) is a [`Write`].
//! The loop hands it to the [`Writer`] and goes on at once, so a slow or
//! absent database never delays an ARI event: a customer who answers during
//! a database outage is still sent on to an agent. One task applies the
//! writes one at a time, in the order given (an answer lands before the
//! end of the same call), each within [`WRITE_DEADLINE`]; a write that
//! fails is retried, 0.5 s and then up to 5 s apart, until it lands.
//! Nothing is dropped, and an attempt keeps its concurrency slot (the
//! database counts it in flight) only until its end lands.
//!
//! Crash safety: each write is appended to the spool file before it is
//! queued, and the file is emptied whenever the queue is. An engine killed
//! with writes pending finds them in its spool at its next start and lands
//! them first, so an outcome it observed is recorded as observed instead of
//! being guessed (`unknown`) by reconciliation. Replaying is safe because
//! every write is idempotent: a stamp only fills an empty column, an end
//! only ends an open attempt, and an answer recorded wins over any end
//! ([`crate::dialer::verdict::settle`]).

use crate::dialer::DialerError;
use crate::dialer::campaign::CampaignDef;
use crate::dialer::outcome::Outcome;
use crate::dialer::store::AppDb;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long one write may take before it counts as failed and is retried.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(5);

/// One fact about an attempt, for the app database. Times are ms since the
/// Unix epoch (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum Write {
    /// Asterisk took the originate ([`AppDb::originated`]).
    Originated {
        /// Attempt id (= channel id).
        attempt: String,
        /// When.
        at: i64,
    },
    /// The customer answered ([`AppDb::answered`]).
    Answered {
        /// Attempt id.
        attempt: String,
        /// When.
        at: i64,
    },
    /// Who took the call (`MEMBERINTERFACE`, [`AppDb::agent`]).
    Agent {
        /// Attempt id.
        attempt: String,
        /// The member's interface.
        agent: String,
        /// When the agent took it (0 in a spool written before it was kept).
        #[serde(default)]
        at: i64,
    },
    /// AMD's verdict on the call ([`AppDb::amd`]).
    Amd {
        /// Attempt id.
        attempt: String,
        /// `AMDSTATUS`: `HUMAN`, `MACHINE`, `NOTSURE` or `HANGUP`.
        status: String,
        /// When the verdict came (the end of the greeting).
        at: i64,
    },
    /// The attempt ended ([`AppDb::finish`]); the campaign's definition
    /// decides the lead's next state.
    Finish {
        /// Attempt id.
        attempt: String,
        /// The outcome the engine saw.
        outcome: Outcome,
        /// Q.850 hangup cause, when a channel ended.
        cause: Option<i64>,
        /// The campaign's definition (its retry rules).
        def: Box<CampaignDef>,
        /// When.
        at: i64,
    },
    /// Nothing was dialed: the attempt ends `not_dialed` and its lead is
    /// due again at `retry_at` ([`AppDb::requeue`]).
    Requeue {
        /// Attempt id.
        attempt: String,
        /// When.
        at: i64,
        /// When the lead is due again.
        retry_at: i64,
    },
}

impl Write {
    /// The attempt it is about.
    pub fn attempt(&self) -> &str {
        match self {
            Write::Originated { attempt, .. }
            | Write::Answered { attempt, .. }
            | Write::Agent { attempt, .. }
            | Write::Amd { attempt, .. }
            | Write::Finish { attempt, .. }
            | Write::Requeue { attempt, .. } => attempt,
        }
    }

    async fn apply(&self, db: &AppDb) -> Result<(), DialerError> {
        match self {
            Write::Originated { attempt, at } => db.originated(attempt, *at).await,
            Write::Answered { attempt, at } => db.answered(attempt, *at).await,
            Write::Agent { attempt, agent, at } => db.agent(attempt, agent, *at).await,
            Write::Amd {
                attempt,
                status,
                at,
            } => db.amd(attempt, status, *at).await,
            Write::Finish {
                attempt,
                outcome,
                cause,
                def,
                at,
            } => db.finish(attempt, *outcome, *cause, def, *at).await,
            Write::Requeue {
                attempt,
                at,
                retry_at,
            } => db.requeue(attempt, *at, *retry_at).await,
        }
    }
}

/// What the loop and the writer task share.
struct Shared {
    /// Writes queued or being applied.
    pending: AtomicUsize,
    /// The spool file; held while appending and while emptying, so a write
    /// is never appended between "the queue is empty" and the truncation.
    spool: Mutex<Option<std::fs::File>>,
    /// Why the last write failed, while writes fail (escaped, one line).
    failing: Mutex<Option<String>>,
}

/// The handle the engine's loop writes through.
pub struct Writer {
    tx: mpsc::UnboundedSender<Write>,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Starts the writer task on `db`, spooling to `spool`. Writes found in
    /// the spool (an engine killed with writes pending) are queued first,
    /// before any new one. A spool that cannot be opened is logged and the
    /// writer runs without one (writes are then kept in memory only).
    pub fn start(db: AppDb, spool: Option<&Path>) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        let leftover = spool.map(read_spool).unwrap_or_default();
        let file = spool.and_then(|p| match open_spool(p) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(
                    "cannot open the spool {}: {}; writes not landed yet are kept in memory only, and lost if the engine is killed",
                    p.display(),
                    crate::sanitize::escape(&e.to_string())
                );
                None
            }
        });
        let shared = Arc::new(Shared {
            pending: AtomicUsize::new(0),
            spool: Mutex::new(file),
            failing: Mutex::new(None),
        });
        if !leftover.is_empty() {
            tracing::info!(
                writes = leftover.len(),
                "replaying writes spooled by the last run"
            );
        }
        let task = tokio::spawn(run(db, rx, shared.clone()));
        let writer = Writer { tx, shared, task };
        for w in leftover {
            writer.send(w);
        }
        writer
    }

    /// Queues `w` (spooled first); never waits on the database.
    pub fn send(&self, w: Write) {
        let mut spool = self
            .shared
            .spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(f) = spool.as_mut()
            && let Err(e) = append(f, &w)
        {
            tracing::warn!(
                attempt = w.attempt(),
                "spooling a write: {}",
                crate::sanitize::escape(&e.to_string())
            );
        }
        self.shared.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(w).is_err() {
            // The task ended (the runtime is stopping): the write stays in
            // the spool for the next start.
            self.shared.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Writes queued or being applied.
    pub fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::SeqCst)
    }

    /// Why writes fail, while they do (escaped, one line).
    pub fn failing(&self) -> Option<String> {
        self.shared
            .failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // What is still queued is in the spool: the next start lands it.
        self.task.abort();
    }
}

/// The writer task: each write until it lands, in order.
async fn run(db: AppDb, mut rx: mpsc::UnboundedReceiver<Write>, shared: Arc<Shared>) {
    let mut warn = crate::logging::RateLimit::new(Duration::from_secs(30));
    while let Some(w) = rx.recv().await {
        let mut backoff =
            crate::backoff::Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        loop {
            let why = match tokio::time::timeout(WRITE_DEADLINE, w.apply(&db)).await {
                Ok(Ok(())) => break,
                Ok(Err(e)) => crate::sanitize::escape(&e.to_string()).into_owned(),
                Err(_) => format!(
                    "the app database did not answer within {} s",
                    WRITE_DEADLINE.as_secs()
                ),
            };
            let queued = shared.pending.load(Ordering::SeqCst);
            if let Some(held) = warn.allow(std::time::Instant::now()) {
                tracing::warn!(
                    attempt = w.attempt(),
                    queued,
                    held_back = held,
                    "a write to the app database failed, kept and retried: {why}"
                );
            }
            *shared
                .failing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
            tokio::time::sleep(backoff.next_delay()).await;
        }
        let was_failing = shared
            .failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .is_some();
        let mut spool = shared
            .spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = shared.pending.fetch_sub(1, Ordering::SeqCst) - 1;
        if was_failing {
            tracing::info!(queued = left, "the app database takes writes again");
        }
        if left == 0
            && let Some(f) = spool.as_mut()
            && let Err(e) = f.set_len(0)
        {
            tracing::warn!(
                "emptying the spool: {}",
                crate::sanitize::escape(&e.to_string())
            );
        }
    }
}

/// Opens `path` for appending, mode 0600 (it names customers' attempts),
/// creating its folder.
fn open_spool(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    f.set_len(0)?;
    Ok(f)
}

/// One write as one line (a single `write` call, so a kill leaves at most
/// the last line cut short).
fn append(f: &mut std::fs::File, w: &Write) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(w).map_err(std::io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)
}

/// The writes left in the spool at `path` by the last run, in order. A
/// line that does not parse (cut short by a kill) is skipped with a
/// warning naming its line number; a missing file is an empty spool.
fn read_spool(path: &Path) -> Vec<Write> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::error!(
                "cannot read the spool {}: {}",
                path.display(),
                crate::sanitize::escape(&e.to_string())
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let parsed = line
            .map_err(|e| e.to_string())
            .and_then(|l| serde_json::from_str::<Write>(&l).map_err(|e| e.to_string()));
        match parsed {
            Ok(w) => out.push(w),
            Err(e) => tracing::warn!(
                "spool {} line {}: skipped ({})",
                path.display(),
                n + 1,
                crate::sanitize::escape(&e)
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(attempt: &str) -> Write {
        Write::Finish {
            attempt: attempt.into(),
            outcome: Outcome::NoAnswer,
            cause: Some(19),
            def: Box::new(
                CampaignDef::parse(
                    "name = \"c\"\ndial = \"PJSIP/{number}\"\ncaller_id = \"5551000\"\ndestination = { queue = \"q\" }\n",
                )
                .unwrap_or_else(|e| panic!("{e}")),
            ),
            at: 1,
        }
    }

    #[test]
    fn a_spool_cut_short_by_a_kill_gives_back_every_whole_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("engine-x.spool");
        let mut f = open_spool(&path).unwrap_or_else(|e| panic!("{e}"));
        let writes = [
            Write::Answered {
                attempt: "a".into(),
                at: 5,
            },
            finish("a"),
            Write::Requeue {
                attempt: "b".into(),
                at: 1,
                retry_at: 2,
            },
        ];
        for w in &writes {
            append(&mut f, w).unwrap_or_else(|e| panic!("{e}"));
        }
        f.write_all(b"{\"write\":\"answ")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_spool(&path), writes);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
}
