//! The one wall clock: milliseconds since the Unix epoch, UTC. Every face
//! reads time here (the console's replay clock offsets it, see
//! `ui::app::Clock`); pure cores (`pbx::State`) never read it, time comes in
//! with their events.

/// Now, ms since the Unix epoch (UTC); 0 if the system clock is before 1970.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
