//! Service level, in the three variants call centres use, defined once for
//! the live queue pane (Asterisk's counters) and the history (queue_log).
//! docs/kpi.md "Service level" gives the formulas; each figure on screen
//! carries its variant's [`SlVariant::label`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which service level a queue is judged by (`[kpi] sl`, or per queue
/// `[kpi.queues.NAME] sl`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SlVariant {
    /// Asterisk's `SL` (`ServicelevelPerf`): answered within T / answered.
    Sl,
    /// Asterisk's `SL2` (`ServicelevelPerf2`): (answered within T +
    /// abandoned within T) / (answered + abandoned): what `queue show`
    /// prints second.
    Sl2,
    /// Answered within T / offered: every caller who entered counts,
    /// timeouts, key exits and abandons included. The default, as the one
    /// that cannot hide a failure (a queue whose callers all hang up or
    /// time out reads 0 %, where SL and SL2 can read 100 %). History only:
    /// the live pane shows SL2 for it, named so (Asterisk keeps no count of
    /// timeouts).
    #[default]
    Offered,
}

impl SlVariant {
    /// The name shown beside the figure: `SL`, `SL2`, `SL/off`.
    pub fn label(self) -> &'static str {
        match self {
            SlVariant::Sl => "SL",
            SlVariant::Sl2 => "SL2",
            SlVariant::Offered => "SL/off",
        }
    }
}

/// The counts every variant is computed from. "Within T": a wait of at
/// most T seconds (Asterisk's own test, `<=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SlCounts {
    /// Callers who entered the queue (history only; 0 live).
    pub offered: u64,
    /// Callers answered by a member.
    pub answered: u64,
    /// Of `answered`, those who waited at most T.
    pub answered_in_sl: u64,
    /// Callers who hung up while waiting.
    pub abandoned: u64,
    /// Of `abandoned`, those who hung up within T.
    pub abandoned_in_sl: u64,
}

impl SlCounts {
    /// The service level (%) in `variant`; `None` when its denominator is
    /// 0 (nothing to judge yet). `Offered` without an offered count (the
    /// live pane) falls back to SL2.
    pub fn percent(&self, variant: SlVariant) -> Option<f64> {
        let (num, den) = match variant {
            SlVariant::Sl => (self.answered_in_sl, self.answered),
            SlVariant::Offered if self.offered > 0 => (self.answered_in_sl, self.offered),
            SlVariant::Sl2 | SlVariant::Offered => (
                self.answered_in_sl + self.abandoned_in_sl,
                self.answered + self.abandoned,
            ),
        };
        (den > 0).then(|| num as f64 * 100.0 / den as f64)
    }

    /// The variant actually computed for `variant` (`Offered` without an
    /// offered count is SL2).
    pub fn shown(&self, variant: SlVariant) -> SlVariant {
        if variant == SlVariant::Offered && self.offered == 0 {
            SlVariant::Sl2
        } else {
            variant
        }
    }
}

/// One queue's targets (`[kpi.queues.NAME]`); unset keys take `[kpi]`'s.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QueueTarget {
    /// The variant judged and shown.
    pub sl: Option<SlVariant>,
    /// T, seconds (history; the live pane uses the queue's own
    /// `servicelevel`, as Asterisk does).
    pub sl_seconds: Option<u32>,
    /// After-call work per answered call, seconds: the queue's
    /// `wrapuptime`, added to talk time in AHT.
    pub wrapup_s: Option<u32>,
}

/// The targets of every queue: defaults and per-queue overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// `[kpi] sl`.
    pub sl: SlVariant,
    /// `[kpi.queues]`.
    pub queues: BTreeMap<String, QueueTarget>,
}

impl Targets {
    /// The variant for `queue`.
    pub fn variant(&self, queue: &str) -> SlVariant {
        self.queues.get(queue).and_then(|q| q.sl).unwrap_or(self.sl)
    }

    /// T for `queue`, or `default_s`.
    pub fn sl_seconds(&self, queue: &str, default_s: u32) -> u32 {
        self.queues
            .get(queue)
            .and_then(|q| q.sl_seconds)
            .unwrap_or(default_s)
    }

    /// After-call work for `queue`, seconds (0 when not configured).
    pub fn wrapup_s(&self, queue: &str) -> u32 {
        self.queues.get(queue).and_then(|q| q.wrapup_s).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_variants_by_hand() {
        // 10 offered: 6 answered (4 within T), 3 abandoned (1 within T), 1
        // timed out.
        let c = SlCounts {
            offered: 10,
            answered: 6,
            answered_in_sl: 4,
            abandoned: 3,
            abandoned_in_sl: 1,
        };
        let r = |v| c.percent(v).map(|p| (p * 10.0).round() / 10.0);
        assert_eq!(r(SlVariant::Sl), Some(66.7));
        assert_eq!(r(SlVariant::Sl2), Some(55.6));
        assert_eq!(r(SlVariant::Offered), Some(40.0));
        let live = SlCounts { offered: 0, ..c };
        assert_eq!(live.shown(SlVariant::Offered), SlVariant::Sl2);
        assert_eq!(live.percent(SlVariant::Offered), Some(500.0 / 9.0));
        assert_eq!(SlCounts::default().percent(SlVariant::Sl2), None);
    }
}
