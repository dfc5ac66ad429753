//! What surrounds every screen: the header (connection, STALE, clock,
//! headline figures), the footer (key hints or the line being typed), the
//! status line (query, progress, notices) and the popups (help, yes/no).

pub mod footer;
pub mod header;
pub mod help;
pub mod status;
