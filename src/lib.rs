//! switchboard: a terminal console for Asterisk call-centre supervisors.
//!
//! Data flows one way: [`ami`] turns bytes into messages, [`pbx`] reduces
//! events into call-centre state, [`ui`] draws it. [`capture`] records and
//! replays AMI streams; [`config`] loads settings and secrets.

pub mod ami;
pub mod capture;
pub mod cdr;
pub mod config;
pub mod logging;
pub mod pbx;
pub mod secret;
pub mod ui;
