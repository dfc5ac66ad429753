//! The console's workers: actors off the UI loop that run database work and
//! answer with messages, so a slow query never freezes the screen.
//!
//! - [`db`]: CDR history, KPIs and exports;
//! - [`appdb`]: the app database (campaign status, intents, imports).

pub mod appdb;
pub mod db;
