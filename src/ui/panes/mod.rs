//! The panes: each turns the model into rows or lines; drawing goes through
//! the shared table engine.

pub mod calls;
pub mod campaigns;
pub mod detail;
pub mod extensions;
pub mod footer;
pub mod header;
pub mod help;
pub mod history;
pub mod kpi;
pub mod queues;
pub mod status;
