//! The statistics predictive pacing steers by, estimated from a campaign's
//! recent attempts (the app database's `attempts` rows). Pure: rows in,
//! [`Stats`] out.

use super::Stats;

/// One ended attempt's times, ms since the epoch (UTC), from `attempts`:
/// `originated_at`, `answered_at`, `agent_at` (an agent took it) and
/// `ended_at`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptTimes {
    /// Asterisk took the originate.
    pub originated_at: Option<i64>,
    /// A live customer needed an agent: the end of the greeting (AMD's
    /// verdict) with AMD, else the answer; `None` for a machine or no
    /// answer.
    pub answered_at: Option<i64>,
    /// An agent took the call.
    pub agent_at: Option<i64>,
    /// The call ended.
    pub ended_at: i64,
}

/// Fewer ended dials than this, or no call an agent handled: too little to
/// estimate from (predictive then dials progressive).
pub const MIN_DIALS: usize = 20;

/// The campaign's answer rate, ring-to-answer time and handle time (talk
/// from the agent's answer to the end, plus `wrapup_s`) over `sample`;
/// `None` when it holds fewer than [`MIN_DIALS`] dials or no handled call.
pub fn estimate(sample: &[AttemptTimes], wrapup_s: f64) -> Option<Stats> {
    let dials: Vec<&AttemptTimes> = sample
        .iter()
        .filter(|a| a.originated_at.is_some())
        .collect();
    if dials.len() < MIN_DIALS {
        return None;
    }
    let mean = |v: Vec<i64>| (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64 / v.len() as f64);
    let rings: Vec<i64> = dials
        .iter()
        .filter_map(|a| Some(a.answered_at? - a.originated_at?))
        .map(|ms| ms.max(0))
        .collect();
    let answered = rings.len();
    let talks: Vec<i64> = dials
        .iter()
        .filter_map(|a| Some((a.ended_at - a.agent_at?).max(0)))
        .collect();
    Some(Stats {
        answer_rate: answered as f64 / dials.len() as f64,
        ring_to_answer_s: mean(rings).unwrap_or(0.0) / 1000.0,
        handle_s: mean(talks)? / 1000.0 + wrapup_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(answer_ms: Option<i64>, talk_ms: Option<i64>) -> AttemptTimes {
        let at = 1_000_000;
        let answered_at = answer_ms.map(|ms| at + ms);
        let agent_at = answered_at.filter(|_| talk_ms.is_some()).map(|a| a + 500);
        AttemptTimes {
            originated_at: Some(at),
            answered_at,
            agent_at,
            ended_at: agent_at.map_or(at + 20_000, |a| a + talk_ms.unwrap_or(0)),
        }
    }

    #[test]
    fn rates_and_times_come_from_the_rows() {
        // 30 dials: 12 answered after 6 s, 9 of them taken by an agent for
        // 120 s; the rest rang out.
        let mut sample: Vec<AttemptTimes> = (0..30).map(|_| dial(None, None)).collect();
        for (i, a) in sample.iter_mut().take(12).enumerate() {
            *a = dial(Some(6_000), (i < 9).then_some(120_000));
        }
        let s = estimate(&sample, 10.0).unwrap_or_else(|| panic!("enough rows"));
        assert!((s.answer_rate - 0.4).abs() < 1e-9, "{s:?}");
        assert!((s.ring_to_answer_s - 6.0).abs() < 1e-9, "{s:?}");
        assert!((s.handle_s - 130.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn too_few_rows_or_no_handled_call_say_nothing() {
        let few: Vec<AttemptTimes> = (0..MIN_DIALS - 1).map(|_| dial(Some(1), Some(1))).collect();
        assert_eq!(estimate(&few, 0.0), None);
        let unhandled: Vec<AttemptTimes> = (0..40).map(|_| dial(Some(1_000), None)).collect();
        assert_eq!(estimate(&unhandled, 0.0), None);
    }
}
