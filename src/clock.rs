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

/// A PBX-local time as a UTC instant: the earlier of an ambiguous time (the
/// hour repeated when clocks go back); a time that does not exist (the
/// hour skipped when clocks go forward, e.g. midnight of 2026-09-06 in
/// America/Santiago) is the end of the gap, the first valid local time, so
/// such a day starts at its first real instant.
pub fn local_to_utc(tz: chrono_tz::Tz, t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::{LocalResult, Offset, TimeZone};
    match tz.from_local_datetime(&t) {
        LocalResult::Single(l) | LocalResult::Ambiguous(l, _) => l.with_timezone(&chrono::Utc),
        LocalResult::None => {
            // The offset in force before the gap: a day earlier, as no zone
            // changes its offset twice in a day.
            let before = tz
                .offset_from_utc_datetime(&(t - chrono::Duration::days(1)))
                .fix();
            (t - before).and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_midnight_is_the_first_valid_local_time() {
        let t =
            |s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default();
        let santiago = chrono_tz::America::Santiago;
        // Clocks jump from 00:00 (-04) to 01:00 (-03) on 2026-09-06.
        let day = local_to_utc(santiago, t("2026-09-06 00:00:00"));
        assert_eq!(day.to_rfc3339(), "2026-09-06T04:00:00+00:00");
        assert_eq!(
            day.with_timezone(&santiago).to_rfc3339(),
            "2026-09-06T01:00:00-03:00"
        );
        // An ordinary midnight, and an ambiguous time (the earlier).
        assert_eq!(
            local_to_utc(santiago, t("2026-09-07 00:00:00")).to_rfc3339(),
            "2026-09-07T03:00:00+00:00"
        );
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            local_to_utc(paris, t("2026-10-25 02:30:00")).to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
    }
}
