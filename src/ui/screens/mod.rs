//! The console's screens, one folder each: `state` (what the screen holds
//! in the model), `rows` (its tables' rows, shared by its update and its
//! view), `update` (its keys and replies), `view` (how it draws), and the key
//! hints its footer shows (`HINTS`).

pub mod audit;
pub mod campaigns;
pub mod history;
pub mod kpi;
pub mod live;
