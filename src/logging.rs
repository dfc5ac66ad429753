//! Logs: to a file in the state folder for the console (the screen belongs to
//! the TUI), to stderr for one-shot commands, to journald for the engine
//! under systemd. `SWITCHBOARD_LOG` sets the
//! filter (`info` by default, e.g. `switchboard=debug`). Secrets never reach
//! a log: they are [`crate::secret::Secret`] values, which print as `***`.

use crate::config::paths;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Logs to `<state>/switchboard.log`. Keep the guard alive until exit (it
/// flushes). Returns `None` (and logs nothing) when the folder cannot be made.
pub fn to_file() -> Option<WorkerGuard> {
    let dir = paths::state_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::never(dir, "switchboard.log"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter())
        .try_init()
        .ok()?;
    Some(guard)
}

/// Logs to stderr (one-shot commands).
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter())
        .try_init();
}

/// The engine's logs: to journald when systemd connected our output to the
/// journal (`JOURNAL_STREAM` set), else plain stderr.
pub fn for_engine() {
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        let _ = tracing_subscriber::registry()
            .with(filter())
            .with(journald.with_syslog_identifier("switchboard-engine".into()))
            .try_init();
        return;
    }
    to_stderr();
}
