//! Small text formats shared by the panes.

use super::config::Ramp;
use super::theme::Item;

/// `m:ss` under an hour, `h:mm:ss` from an hour on; negative shows as 0:00.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Theme item for `seconds` on `ramp`: text, warning or critical.
pub fn ramp_item(seconds: i64, ramp: Option<Ramp>) -> Item {
    match ramp {
        Some(r) if seconds >= i64::from(r.crit_s) => Item::RampCrit,
        Some(r) if seconds >= i64::from(r.warn_s) => Item::RampWarn,
        _ => Item::Text,
    }
}

/// A sort key that orders extension numbers numerically and names
/// alphabetically (`2` before `10`, `sales` after both).
pub fn natural(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        format!("{text:0>20}")
    } else {
        format!("~{}", text.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ramps() {
        assert_eq!(duration(59), "0:59");
        assert_eq!(duration(3_661), "1:01:01");
        assert_eq!(duration(-5), "0:00");
        let r = Some(Ramp {
            warn_s: 10,
            crit_s: 20,
        });
        assert_eq!(ramp_item(9, r), Item::Text);
        assert_eq!(ramp_item(10, r), Item::RampWarn);
        assert_eq!(ramp_item(20, r), Item::RampCrit);
        assert!(natural("2") < natural("10") && natural("10") < natural("sales"));
    }
}
