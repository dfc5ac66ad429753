//! Logs: to a file in the state folder for the console (the screen belongs to
//! the TUI), to stderr for one-shot commands, to journald for the engine
//! under systemd. `SWITCHBOARD_LOG` sets the filter (`info` for the file and
//! the engine, `warn` for commands; e.g. `switchboard=debug`).
//!
//! - Secrets never reach a log: they are [`crate::secret::Secret`] values,
//!   which print as `***`.
//! - Every line written to the file or to stderr goes through
//!   [`crate::sanitize::escape`]: text from a peer (a login refusal's
//!   `Message`, an ARI error body, a caller name) cannot move the cursor,
//!   retitle a terminal, write the clipboard or forge a second log line.
//! - The file is rotated daily and the last [`KEEP_FILES`] are kept; files
//!   are created 0600 (they hold caller numbers): see [`private_files`].
//! - A warning that repeats (a peer sending oversized messages) is
//!   rate-limited at its source with [`RateLimit`].
//! - sqlx's own statement logs are kept at `error`: they carry whole SQL
//!   texts and belong to debugging (`SWITCHBOARD_LOG=sqlx=warn`).

use crate::config::paths;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log files kept (one a day).
pub const KEEP_FILES: usize = 7;

/// The file logger's worker, kept so a panic can flush it before the
/// process ends (see [`flush`]).
static FILE_GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{default},sqlx=error")))
}

/// Makes every file this process creates private to its user (umask 077):
/// logs, captures and exports hold caller numbers.
pub fn private_files() {
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Logs to `<state>/switchboard.log.YYYY-MM-DD`, rotated daily, the last
/// [`KEEP_FILES`] kept. Does nothing when the folder cannot be made.
pub fn to_file() {
    let Some(dir) = paths::state_dir() else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let Ok(appender) = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("switchboard.log")
        .max_log_files(KEEP_FILES)
        .build(&dir)
    else {
        return;
    };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    if tracing_subscriber::fmt()
        .with_writer(Safe(writer))
        .with_ansi(false)
        .with_env_filter(filter("info"))
        .try_init()
        .is_ok()
        && let Ok(mut g) = FILE_GUARD.lock()
    {
        *g = Some(guard);
    }
}

/// Writes out what the file logger still holds (before an abnormal exit).
pub fn flush() {
    if let Ok(mut g) = FILE_GUARD.lock() {
        g.take();
    }
}

/// Logs warnings and errors to stderr (one-shot commands), no colours.
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_writer(Safe(std::io::stderr))
        .with_ansi(false)
        .with_env_filter(filter("warn"))
        .try_init();
}

/// The engine's logs: to journald when systemd connected our output to the
/// journal (`JOURNAL_STREAM` set), else stderr at `info`.
///
/// The journald layer writes fields as they are: the engine escapes peer
/// text (ARI error bodies) itself before logging it (`sanitize::escape`).
pub fn for_engine() {
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        let _ = tracing_subscriber::registry()
            .with(filter("info"))
            .with(journald.with_syslog_identifier("switchboard-engine".into()))
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(Safe(std::io::stderr))
        .with_ansi(false)
        .with_env_filter(filter("info"))
        .try_init();
}

/// A `MakeWriter` whose writers escape unsafe characters (see
/// [`crate::sanitize`]) in everything but each line's final newline.
#[derive(Clone)]
pub struct Safe<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Safe<M> {
    type Writer = SafeWriter<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        SafeWriter(self.0.make_writer())
    }
}

/// The writer of [`Safe`].
pub struct SafeWriter<W>(W);

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (&*text, false),
        };
        let mut line = crate::sanitize::escape(body).into_owned();
        if newline {
            line.push('\n');
        }
        self.0.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Lets a repeating message through at most once per `every`, and says how
/// many were held back meanwhile.
#[derive(Debug)]
pub struct RateLimit {
    every: Duration,
    last: Option<Instant>,
    held: u64,
}

impl RateLimit {
    /// At most one message per `every`.
    pub const fn new(every: Duration) -> Self {
        RateLimit {
            every,
            last: None,
            held: 0,
        }
    }

    /// `Some(held back since the last one)` when a message may go out now.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < self.every)
        {
            self.held = self.held.saturating_add(1);
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_cannot_carry_escapes_or_a_second_line() {
        let mut out = Vec::new();
        SafeWriter(&mut out)
            .write_all("WARN refused: \x1b]52;c;AAAA\x07\r\nINFO forged\u{9b}\n".as_bytes())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            text,
            "WARN refused: \\u{1b}]52;c;AAAA\\u{7}\\u{d}\\u{a}INFO forged\\u{9b}\n"
        );
    }

    #[test]
    fn rate_limit_counts_what_it_holds_back() {
        let mut r = RateLimit::new(Duration::from_secs(1));
        let t = Instant::now();
        assert_eq!(r.allow(t), Some(0));
        assert_eq!(r.allow(t + Duration::from_millis(10)), None);
        assert_eq!(r.allow(t + Duration::from_millis(20)), None);
        assert_eq!(r.allow(t + Duration::from_secs(2)), Some(2));
    }
}
