//! Opening an sqlx pool the same way for every database switchboard reads
//! or writes (CDR, and the app database): one probe connection first, so a
//! wrong host or password fails within [`CONNECT_TIMEOUT`] with the
//! driver's own reason ("Connection refused", "Access denied") instead of a
//! pool timeout.

use sqlx::mysql::MySqlConnectOptions;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Database};
use std::str::FromStr;
use std::time::Duration;

/// The database a URL names, with its connect options.
pub enum Backend {
    /// `mysql://` or `mariadb://`.
    MySql(MySqlConnectOptions),
    /// `postgres://` or `postgresql://`.
    Postgres(PgConnectOptions),
    /// `sqlite:`.
    Sqlite(SqliteConnectOptions),
}

/// Parses `url`; `Ok(None)` for a scheme switchboard does not read.
///
/// Errors: a URL the driver cannot parse.
pub fn backend(url: &str) -> Result<Option<Backend>, sqlx::Error> {
    if let Some(rest) = url.strip_prefix("mariadb://") {
        return MySqlConnectOptions::from_str(&format!("mysql://{rest}"))
            .map(|o| Some(Backend::MySql(o)));
    }
    if url.starts_with("mysql://") {
        return MySqlConnectOptions::from_str(url).map(|o| Some(Backend::MySql(o)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return PgConnectOptions::from_str(url).map(|o| Some(Backend::Postgres(o)));
    }
    if url.starts_with("sqlite:") {
        return SqliteConnectOptions::from_str(url).map(|o| Some(Backend::Sqlite(o)));
    }
    Ok(None)
}

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
) -> Result<sqlx::Pool<DB>, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    open_with(opts, max, None).await
}

/// [`open`], with `init` (one SQL statement) run on every connection as it
/// is made, the probe's included, so a server that refuses it fails here.
///
/// Errors: as [`open`], or `init`'s error.
pub async fn open_with<DB: Database>(
    opts: <DB::Connection as Connection>::Options,
    max: u32,
    init: Option<&'static str>,
) -> Result<sqlx::Pool<DB>, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut conn = opts.connect().await?;
        if let Some(init) = init {
            sqlx::raw_sql(sqlx::AssertSqlSafe(init))
                .execute(&mut conn)
                .await?;
        }
        Ok::<_, sqlx::Error>(conn)
    })
    .await
    .map_err(|_| {
        sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        ))
    })??;
    probe.close().await?;
    let mut pool = PoolOptions::<DB>::new()
        .max_connections(max)
        .acquire_timeout(CONNECT_TIMEOUT);
    if let Some(init) = init {
        pool = pool.after_connect(move |conn, _| {
            Box::pin(async move {
                sqlx::raw_sql(sqlx::AssertSqlSafe(init))
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        });
    }
    Ok(pool.connect_lazy_with(opts))
}
