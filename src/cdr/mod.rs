//! CDR history: the call detail records Asterisk writes to MariaDB/MySQL
//! (FreePBX/Issabel `asteriskcdrdb.cdr`, cdr_adaptive_odbc), PostgreSQL
//! (cdr_pgsql) or SQLite (cdr_sqlite3_custom). Read-only: switchboard never
//! writes CDRs.
//!
//! - [`config`]: the `[cdr]` table (URL, time zone, queue_log, waits),
//!   [`kpi_config`]: the `[kpi]` table;
//! - [`columns`]: which column holds which field, found at connect;
//! - [`filter`]: the query (time window in PBX local time, src/dst,
//!   disposition, free text, per-user visibility) as bound SQL;
//! - [`store`]: the connection and the row stream;
//! - [`search`]: free-text search folded alike on every backend;
//! - [`export`]: CSV and JSON-lines output;
//! - [`history`]: legs grouped into calls, a page at a time;
//! - [`kpi`]: per-extension KPIs from CDRs, [`kpi_cache`]: over any range
//!   of days, closed days kept in the app database; [`queue_log`]: per-queue
//!   and per-agent KPIs.

pub mod columns;
pub mod config;
pub mod export;
pub mod filter;
pub mod history;
pub mod kpi;
pub mod kpi_cache;
pub mod kpi_config;
pub mod queue_log;
pub mod record;
pub mod search;
pub mod store;

use thiserror::Error;

/// A CDR problem, with what to do about it.
#[derive(Debug, Error)]
pub enum CdrError {
    /// Wrong configuration (URL scheme, table, column mapping, ACL).
    #[error("{0}")]
    Config(String),
    /// The database refused the connection.
    #[error("cannot connect to the CDR database {url}: {reason}")]
    Connect {
        /// The URL, password hidden.
        url: String,
        /// The driver's message, password hidden.
        reason: String,
    },
    /// A query failed.
    #[error("CDR query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The server sent nothing for `secs` seconds (frozen, or overloaded).
    #[error(
        "the CDR database {server} sent nothing for {secs} s; is it frozen or overloaded? ([cdr] query_timeout_s sets the wait)"
    )]
    Timeout {
        /// The URL, password hidden.
        server: String,
        /// The deadline, seconds.
        secs: u64,
    },
    /// Writing the output failed (disk full).
    #[error("cannot write the export: {0}")]
    Output(String),
    /// Whoever read the output stopped (`| head`): not an error for a CLI.
    #[error("the reader closed the output")]
    OutputClosed,
}
