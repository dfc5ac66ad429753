//! switchboard: a terminal console for Asterisk call-centre supervisors.
//!
//! Data flows one way: [`ami`] turns bytes into messages, [`pbx`] reduces
//! events into call-centre state, [`ui`] draws it. [`capture`] records and
//! replays AMI streams; [`cdr`] reads CDR history (export, KPIs);
//! [`dialer`] is the outbound engine; [`serve`] the daemon consoles attach
//! to; [`service`] the CDR and campaign services every front-end calls.
//! Each module owns its table of the config file; [`config`] is what they
//! share (errors, paths, secrets), and [`setup`] (the composition root)
//! reads the file and builds every part's settings.

#![warn(missing_docs)]

pub mod access;
pub mod ami;
pub mod ari;
pub mod backoff;
pub mod capture;
pub mod cdr;
pub mod clock;
pub mod config;
pub mod dialer;
pub mod endpoints;
pub mod logging;
pub mod pbx;
pub mod sanitize;
pub mod secret;
pub mod serve;
pub mod service;
pub mod service_level;
pub mod setup;
pub mod sqlpool;
pub mod staffing;
pub mod supervise;
pub mod ui;
