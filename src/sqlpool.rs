//! Opening an sqlx pool the same way for every database switchboard reads
//! or writes (CDR, and the app database): one probe connection first, so a
//! wrong host or password fails within [`CONNECT_TIMEOUT`] with the
//! driver's own reason ("Connection refused", "Access denied") instead of a
//! pool timeout.

use sqlx::pool::PoolOptions;
use sqlx::{ConnectOptions, Connection, Database};
use std::time::Duration;

/// How long a connection may take before it fails with a message (a wrong
/// host must not leave a screen or a command waiting).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of at most `max` connections to `opts`, after one probe
/// connection succeeded.
///
/// Errors: the probe's error, or an I/O timeout after [`CONNECT_TIMEOUT`].
pub async fn open<DB: Database>(
    opts: <DB::Connection as Connection>::Options,
    max: u32,
) -> Result<sqlx::Pool<DB>, sqlx::Error> {
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, opts.connect())
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            ))
        })??;
    probe.close().await?;
    Ok(PoolOptions::<DB>::new()
        .max_connections(max)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(opts))
}
