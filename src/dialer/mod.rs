//! The outbound dialer: campaigns and leads in the app database, and the
//! engine that dials them through ARI.
//!
//! - [`number`]: the numbers the dialer accepts;
//! - [`campaign`]: a campaign's definition (TOML), checked once;
//! - [`amd`]: answering-machine detection (a campaign's `[amd]`, AMD()'s
//!   verdicts);
//! - [`import`]: leads from CSV, all or nothing;
//! - [`outcome`]: an attempt's outcome from the hangup cause;
//! - [`store`]: the app database (SQLite, MariaDB/MySQL, PostgreSQL);
//! - [`verdict`]: an attempt's outcome from everything known (pure rules);
//! - [`pacing`]: how many calls to dial now, within the abandon cap (pure);
//! - [`simulate`]: a campaign's pacing against a model floor;
//! - [`sound`]: sound names given to the dialplan, checked;
//! - [`engine`]: the dialing loop (`switchboard --engine`), its jobs and
//!   its writer.

pub mod amd;
pub mod campaign;
pub mod config;
pub mod engine;
pub mod import;
pub mod number;
pub mod outcome;
pub mod pacing;
pub mod simulate;
pub mod sound;
pub mod store;
pub mod verdict;

use thiserror::Error;

/// A dialer problem, with what to do about it.
#[derive(Debug, Error)]
pub enum DialerError {
    /// Wrong input or configuration; the message names it.
    #[error("{0}")]
    Config(String),
    /// Another engine with this id holds the lease: this one must stop.
    #[error(
        "engine `{0}` lost its lease to another engine with the same id (this one froze or lost its database for longer than the lease); it stops dialing and exits"
    )]
    LeaseLost(String),
    /// The app database refused the connection.
    #[error("cannot connect to the app database {url}: {reason}")]
    Connect {
        /// The URL, password hidden.
        url: String,
        /// The driver's message, password hidden.
        reason: String,
    },
    /// A query or migration failed, or the database did not answer in
    /// time.
    #[error("app database: {0}")]
    Db(String),
    /// Asterisk's REST interface failed or did not answer in time.
    #[error("Asterisk (ARI): {0}")]
    Pbx(String),
}

impl From<sqlx::Error> for DialerError {
    fn from(e: sqlx::Error) -> Self {
        DialerError::Db(e.to_string())
    }
}
