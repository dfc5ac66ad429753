//! How many leads a campaign may claim at a step: a queue campaign by its
//! `[pacing]` mode on the agents of its queue
//! ([`crate::dialer::pacing::decide`] on the floor the engine's AMI link
//! shows, with the campaign's statistics and its abandon ledger), any other
//! within `max_concurrent`.
//!
//! Power and predictive dial ahead of the agents: lawful because every call
//! no agent takes within `drop_s` gets the safe-harbour message (the
//! engine's drop timer) and counts in the ledger, and every mode falls back
//! to progressive as the ledger nears the cap. Predictive dials progressive
//! until the campaign has the statistics it steers by.

use crate::dialer::campaign::CampaignDef;
use crate::dialer::pacing::floor::QueueFloor;
use crate::dialer::pacing::{self, Floor, Mode, Stats};
use crate::dialer::store::CampaignRow;
use std::collections::HashMap;

/// What a supervisor applying `def` should know of how the engine dials it
/// (power and predictive campaigns).
pub fn note(def: &CampaignDef) -> Option<String> {
    def.destination.queue.as_ref()?;
    match def.pacing.mode {
        Mode::Progressive => None,
        Mode::Power => Some(format!(
            "[pacing] power: {} calls per free agent; every call no agent takes within {} s hears the safe-harbour message and counts as abandoned; progressive from 80 % of the {} % cap",
            def.pacing.ratio, def.pacing.drop_s, def.pacing.max_abandon_percent
        )),
        Mode::Predictive => Some(format!(
            "[pacing] predictive: progressive until {} of its calls have ended (the statistics it steers by); every call no agent takes within {} s hears the safe-harbour message and counts as abandoned; progressive from 80 % of the {} % cap",
            pacing::stats::MIN_DIALS,
            def.pacing.drop_s,
            def.pacing.max_abandon_percent
        )),
    }
}

/// A campaign's pacing inputs besides the floor, refreshed by the engine
/// every few seconds from the app database.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Steering {
    /// Its statistics ([`pacing::stats::estimate`]); `None` until it has
    /// enough ended calls.
    pub stats: Option<Stats>,
    /// Drops over live answers in the regime's window, 0 to 1; `None`
    /// below [`pacing::ledger::MIN_ANSWERS`] answers.
    pub abandon_rate: Option<f64>,
}

/// What progressive and power decide with (they use no statistics).
const NO_STATS: Stats = Stats {
    answer_rate: 1.0,
    ring_to_answer_s: 0.0,
    handle_s: 1.0,
};

/// Most leads one campaign claims at one step.
pub const MAX_BATCH: u32 = 50;

/// A campaign's calls this engine follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    /// Dialed, not answered yet.
    pub ringing: u32,
    /// Every call in flight, answered or not.
    pub total: u32,
}

/// What a campaign may claim now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Leads to claim.
    pub n: u32,
    /// The campaign's attempts in flight after the claim, at most (counted
    /// in the database over every engine).
    pub cap: u32,
}

/// The engine's view at a step: the floors of its campaigns' queues (or why
/// the agents are unknown) and its calls in flight per campaign.
#[derive(Clone, Debug)]
pub struct Pace {
    /// Floors by queue name; `Err`: why the agents are unknown.
    pub agents: Result<HashMap<String, QueueFloor>, String>,
    /// Calls in flight by campaign id.
    pub in_flight: HashMap<i64, InFlight>,
    /// Statistics and abandon rates by campaign id.
    pub steering: HashMap<i64, Steering>,
}

impl Pace {
    /// What campaign `c` may claim now.
    pub fn allowance(&self, c: &CampaignRow) -> Allowance {
        let max = c.def.max_concurrent;
        let calls = self.in_flight.get(&c.id).copied().unwrap_or_default();
        let Some(queue) = c.def.destination.queue.as_deref() else {
            return Allowance {
                n: max.min(MAX_BATCH),
                cap: max,
            };
        };
        let Some(q) = self.agents.as_ref().ok().and_then(|m| m.get(queue)) else {
            return Allowance {
                n: 0,
                cap: calls.total,
            };
        };
        let floor = Floor {
            available: q.available,
            busy: q.busy,
            ringing: calls.ringing,
            waiting: q.waiting,
        };
        let steer = self.steering.get(&c.id).copied().unwrap_or_default();
        let mut def = c.def.pacing.clone();
        let stats = match (def.mode, steer.stats) {
            (Mode::Predictive, Some(s)) => s,
            (Mode::Predictive, None) => {
                def.mode = Mode::Progressive;
                NO_STATS
            }
            _ => NO_STATS,
        };
        let room = max.saturating_sub(calls.total);
        let n = pacing::decide(&def, &floor, &stats, steer.abandon_rate, room)
            .dial
            .min(MAX_BATCH);
        Allowance {
            n,
            cap: calls.total + n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(dest: &str, extra: &str) -> CampaignRow {
        let text = format!(
            "name = \"c\"\ndial = \"Local/{{number}}@customers\"\ncaller_id = \"x\"\ndestination = {dest}\nmax_concurrent = 10\n{extra}"
        );
        CampaignRow {
            id: 1,
            name: "c".into(),
            def: CampaignDef::parse(&text).unwrap_or_else(|e| panic!("{e}")),
            status: "running".into(),
            acked_status: "running".into(),
            acked_by: None,
            acked_at: None,
            updated_at: 0,
        }
    }

    fn pace(floor: Result<QueueFloor, String>, calls: InFlight) -> Pace {
        Pace {
            agents: floor.map(|f| HashMap::from([("sales".to_string(), f)])),
            in_flight: HashMap::from([(1, calls)]),
            steering: HashMap::new(),
        }
    }

    #[test]
    fn a_queue_campaign_dials_one_call_per_free_agent() {
        let c = campaign("{ queue = \"sales\" }", "");
        let floor = QueueFloor {
            available: 3,
            busy: 2,
            paused: 4,
            waiting: 1,
        };
        let calls = InFlight {
            ringing: 1,
            total: 3,
        };
        // 3 free, 1 caller waiting, 1 of ours ringing: 1 more.
        assert_eq!(
            pace(Ok(floor), calls).allowance(&c),
            Allowance { n: 1, cap: 4 }
        );
        // No agent free: nothing, whatever max_concurrent allows.
        let none = QueueFloor {
            available: 0,
            ..floor
        };
        assert_eq!(pace(Ok(none), calls).allowance(&c).n, 0);
    }

    #[test]
    fn power_dials_ahead_and_every_mode_falls_back_near_the_cap() {
        let power = campaign(
            "{ queue = \"sales\" }",
            "[pacing]\nmode = \"power\"\nratio = 2.5\n",
        );
        let floor = QueueFloor {
            available: 4,
            busy: 2,
            ..QueueFloor::default()
        };
        let mut p = pace(Ok(floor), InFlight::default());
        // 2.5 calls per free agent: 10 for 4 agents.
        assert_eq!(p.allowance(&power), Allowance { n: 10, cap: 10 });
        assert!(note(&power.def).is_some_and(|n| n.contains("safe-harbour")));
        // The window's rate at 80 % of the 3 % cap: progressive, 4.
        p.steering.insert(
            1,
            Steering {
                stats: None,
                abandon_rate: Some(0.024),
            },
        );
        assert_eq!(p.allowance(&power).n, 4);
    }

    #[test]
    fn predictive_dials_progressive_until_it_has_statistics() {
        let c = campaign("{ queue = \"sales\" }", "[pacing]\nmode = \"predictive\"\n");
        let floor = QueueFloor {
            available: 2,
            busy: 18,
            ..QueueFloor::default()
        };
        let mut p = pace(Ok(floor), InFlight::default());
        assert_eq!(
            p.allowance(&c).n,
            2,
            "no statistics yet: one per free agent"
        );
        // 30 % answer, 10 s to answer, 180 s handled: with 18 agents busy,
        // several will be free by the time new calls answer.
        p.steering.insert(
            1,
            Steering {
                stats: Some(Stats {
                    answer_rate: 0.3,
                    ring_to_answer_s: 10.0,
                    handle_s: 60.0,
                }),
                abandon_rate: None,
            },
        );
        let n = p.allowance(&c).n;
        assert!(n > 4, "predictive dials ahead of the free agents: {n}");
        assert!(n <= 10, "within max_concurrent: {n}");
    }

    #[test]
    fn unknown_agents_dial_nothing_and_other_destinations_keep_their_cap() {
        let c = campaign("{ queue = \"sales\" }", "");
        let down = pace(Err("AMI down".into()), InFlight::default());
        assert_eq!(down.allowance(&c), Allowance { n: 0, cap: 0 });
        // A queue the floors do not list is unknown too.
        let other = campaign("{ queue = \"support\" }", "");
        assert_eq!(
            pace(Ok(QueueFloor::default()), InFlight::default())
                .allowance(&other)
                .n,
            0
        );
        let ext = campaign("{ extension = \"201\" }", "");
        assert_eq!(down.allowance(&ext), Allowance { n: 10, cap: 10 });
    }
}
