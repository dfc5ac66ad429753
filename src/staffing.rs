//! Staffing advice with Erlang C: how many agents a queue needs to answer
//! a share of its calls within a time, given its arrival rate and average
//! handle time, and what service level a number of agents gives.
//!
//! The model (A. K. Erlang, 1917; as call-centre planning uses it): calls
//! arrive at random (Poisson) at `rate` per second, each takes `aht_s`
//! seconds on average (exponential), nobody abandons, `agents` serve one
//! queue. The traffic is `A = rate × aht_s` erlangs; with `N > A` agents
//! the probability that a call waits is Erlang C, computed here through
//! the Erlang B recursion (stable for hundreds of agents):
//!
//! - `B(0) = 1`, `B(n) = A·B(n−1) / (n + A·B(n−1))`;
//! - `C = N·B(N) / (N − A·(1 − B(N)))`;
//! - service level within `T` s: `1 − C·e^(−(N−A)·T/aht_s)`;
//! - ASA (average speed of answer): `C·aht_s / (N − A)`.
//!
//! With `N ≤ A` the queue grows without bound: no service level, no ASA.
//! Real queues lose callers who abandon, so Erlang C errs on the safe side
//! (it asks for a little more staff than strictly needed).

use serde::Serialize;

/// A queue's load: arrivals and handle time.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Load {
    /// Calls arriving per second.
    pub rate: f64,
    /// Average handle time of a call, seconds.
    pub aht_s: f64,
}

impl Load {
    /// The offered traffic, erlangs (`rate × aht_s`).
    pub fn erlangs(&self) -> f64 {
        self.rate * self.aht_s
    }

    /// The probability that a call waits with `agents` (Erlang C); `None`
    /// when `agents` cannot carry the traffic (`agents ≤ erlangs`) or the
    /// load is not a real number.
    pub fn wait_probability(&self, agents: u32) -> Option<f64> {
        let a = self.erlangs();
        let n = f64::from(agents);
        if !a.is_finite() || a < 0.0 || n <= a {
            return None;
        }
        let mut b = 1.0;
        for k in 1..=agents {
            b = a * b / (f64::from(k) + a * b);
        }
        Some(n * b / (n - a * (1.0 - b)))
    }

    /// The share of calls answered within `target_s` seconds with
    /// `agents`, 0 to 1; `None` as for [`Load::wait_probability`].
    pub fn service_level(&self, agents: u32, target_s: f64) -> Option<f64> {
        let c = self.wait_probability(agents)?;
        if self.aht_s <= 0.0 {
            return Some(1.0);
        }
        let spare = f64::from(agents) - self.erlangs();
        Some((1.0 - c * (-spare * target_s / self.aht_s).exp()).clamp(0.0, 1.0))
    }

    /// The average speed of answer with `agents`, seconds; `None` as for
    /// [`Load::wait_probability`].
    pub fn asa_s(&self, agents: u32) -> Option<f64> {
        let c = self.wait_probability(agents)?;
        Some(c * self.aht_s / (f64::from(agents) - self.erlangs()))
    }

    /// The fewest agents that answer `goal` (0 to 1) of the calls within
    /// `target_s` seconds; `None` when the load is not a real number or
    /// more than `MAX_AGENTS` would be needed.
    pub fn agents_needed(&self, target_s: f64, goal: f64) -> Option<u32> {
        let a = self.erlangs();
        if !a.is_finite() || a < 0.0 || !(0.0..1.0).contains(&goal) {
            return None;
        }
        // The first count above the traffic, then up until the goal holds.
        let first = (a.floor() as u32).saturating_add(1).max(1);
        (first..=MAX_AGENTS).find(|&n| self.service_level(n, target_s).is_some_and(|sl| sl >= goal))
    }
}

/// The largest staff [`Load::agents_needed`] looks at.
pub const MAX_AGENTS: u32 = 10_000;

/// Staffing advice for one queue over a window (queue_log: `ENTERQUEUE`
/// arrivals, `COMPLETEAGENT`/`COMPLETECALLER` talk times), as `switchboard
/// kpi --by queue` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Advice {
    /// Calls that arrived in the window, per hour.
    pub window_calls_per_hour: f64,
    /// Average handle time of the calls completed in the window, seconds
    /// (talk time: queue_log carries no wrap-up).
    pub window_aht_s: Option<f64>,
    /// Offered traffic, erlangs.
    pub window_erlangs: Option<f64>,
    /// Agents needed for the service-level goal (Erlang C).
    pub agents_needed: Option<u32>,
}

impl Advice {
    /// Advice from `arrivals` over `window_s` seconds and the talk times of
    /// the `completed` calls (`talk_s` in all, seconds), for `goal` (0 to 1)
    /// of calls answered within `target_s` seconds. Without a completed call
    /// there is no handle time, so no advice.
    pub fn new(
        arrivals: u64,
        talk_s: u64,
        completed: u64,
        window_s: u32,
        target_s: f64,
        goal: f64,
    ) -> Self {
        let rate = arrivals as f64 / f64::from(window_s.max(1));
        let aht_s = (completed > 0).then(|| talk_s as f64 / completed as f64);
        let load = aht_s.map(|aht_s| Load { rate, aht_s });
        Advice {
            window_calls_per_hour: rate * 3600.0,
            window_aht_s: aht_s,
            window_erlangs: load.map(|l| l.erlangs()),
            agents_needed: load.and_then(|l| l.agents_needed(target_s, goal)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook case: 360 calls in 30 minutes, AHT 240 s (48 erlangs),
    /// a 15-second target.
    fn textbook() -> Load {
        Load {
            rate: 360.0 / 1800.0,
            aht_s: 240.0,
        }
    }

    #[test]
    fn matches_published_erlang_c_tables() {
        let l = textbook();
        assert!((l.erlangs() - 48.0).abs() < 1e-9);
        // Published: 55 agents give SL ≈ 84.6 % within 15 s, ASA ≈ 8.2 s.
        let sl = l.service_level(55, 15.0).unwrap_or_default();
        assert!((sl - 0.846).abs() < 0.001, "{sl}");
        let asa = l.asa_s(55).unwrap_or_default();
        assert!((asa - 8.2).abs() < 0.05, "{asa}");
        // 80 % within 15 s: 54 agents give 79.3 %, so 55 are needed.
        let needed = l.agents_needed(15.0, 0.80);
        assert_eq!(needed, Some(55));
        assert!(l.service_level(54, 15.0).is_some_and(|sl| sl < 0.80));
    }

    #[test]
    fn too_few_agents_have_no_service_level() {
        let l = textbook();
        assert_eq!(l.wait_probability(48), None);
        assert_eq!(l.service_level(40, 15.0), None);
        assert!(l.wait_probability(49).is_some_and(|c| c > 0.0 && c < 1.0));
    }

    #[test]
    fn more_agents_never_serve_worse() {
        let l = textbook();
        let mut last = 0.0;
        for n in 49..120 {
            let sl = l.service_level(n, 20.0).unwrap_or_default();
            assert!(sl >= last, "{n}: {sl} < {last}");
            last = sl;
        }
        assert!(last > 0.999);
    }

    #[test]
    fn advice_from_a_window() {
        // 120 calls in 30 minutes, talk 60 s each: 4 erlangs.
        let a = Advice::new(120, 3000, 50, 1800, 20.0, 0.8);
        assert_eq!(a.window_calls_per_hour, 240.0);
        assert_eq!(a.window_aht_s, Some(60.0));
        assert_eq!(a.window_erlangs, Some(4.0));
        assert!(a.agents_needed.is_some_and(|n| n > 4 && n < 10));
        // No call completed: no handle time, no advice.
        assert_eq!(Advice::new(10, 0, 0, 1800, 20.0, 0.8).agents_needed, None);
        // No arrivals: one agent is enough.
        assert_eq!(
            Advice::new(0, 60, 1, 1800, 20.0, 0.8).agents_needed,
            Some(1)
        );
    }
}
