//! How many leads a campaign may claim at a step: a queue campaign by the
//! agents free in its queue ([`crate::dialer::pacing::decide`] on the floor
//! the engine's AMI link shows), any other within `max_concurrent`.
//!
//! Until the drop timer and the abandon ledger run in the engine, every
//! queue campaign dials progressive (one call in flight per free agent,
//! answered callers waiting counted against them), whatever its
//! `[pacing] mode`: power and predictive dial ahead of the agents, which is
//! only lawful with the drops counted and capped.

use crate::dialer::campaign::CampaignDef;
use crate::dialer::pacing::floor::QueueFloor;
use crate::dialer::pacing::{self, Floor, Mode, PacingDef, Stats};
use crate::dialer::store::CampaignRow;
use std::collections::HashMap;

/// The mode the engine dials a queue campaign in, whatever its own (see
/// the module's doc).
pub const DIALED: Mode = Mode::Progressive;

/// What a supervisor applying `def` must know of how the engine dials it:
/// `Some` when its mode is not the one dialed.
pub fn note(def: &CampaignDef) -> Option<String> {
    (def.destination.queue.is_some() && def.pacing.mode != DIALED).then(|| {
        format!(
            "[pacing] mode {}: the engine dials it progressive until it catches and counts drops (docs/dialer.md, Pacing)",
            format!("{:?}", def.pacing.mode).to_lowercase()
        )
    })
}

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
        let def = PacingDef {
            mode: DIALED,
            ..c.def.pacing.clone()
        };
        // Progressive uses no statistics.
        let stats = Stats {
            answer_rate: 1.0,
            ring_to_answer_s: 0.0,
            handle_s: 1.0,
        };
        let room = max.saturating_sub(calls.total);
        let n = pacing::decide(&def, &floor, &stats, None, room)
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
    fn power_and_predictive_dial_progressive_until_drops_are_counted() {
        for pacing in ["mode = \"power\"\nratio = 2.5", "mode = \"predictive\""] {
            let c = campaign("{ queue = \"sales\" }", &format!("[pacing]\n{pacing}\n"));
            let floor = QueueFloor {
                available: 4,
                ..QueueFloor::default()
            };
            assert_eq!(
                pace(Ok(floor), InFlight::default()).allowance(&c),
                Allowance { n: 4, cap: 4 },
                "{pacing}"
            );
            assert!(note(&c.def).is_some_and(|n| n.contains("dials it progressive")));
        }
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
