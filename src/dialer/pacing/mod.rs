//! Pacing: how many calls a campaign dials now, and when it must fall back.
//!
//! A pure core: the floor (agents, calls) and the campaign's statistics
//! in, a decision out; no I/O and no clock of its own, so the engine and
//! the simulator ([`super::simulate`]) call the same code and every rule is
//! a unit test. The modes and the algorithm are described in
//! docs/dialer.md ("Pacing").
//!
//! - [`PacingDef`]: the campaign's `[pacing]` table;
//! - [`decide`]: calls to dial now, from a [`Floor`] and [`Stats`];
//! - [`ledger`]: the abandon ledger over the regulator's window;
//! - [`stats`]: the campaign's statistics from its recent attempts.

pub mod floor;
pub mod ledger;
mod normal;
pub mod stats;

use serde::{Deserialize, Serialize};

/// How a campaign paces its dials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One call in flight per available agent, never more.
    #[default]
    Progressive,
    /// `ratio` calls in flight per available agent.
    Power,
    /// As many calls as the statistics say the agents about to be free can
    /// take, within the abandon target.
    Predictive,
}

impl Mode {
    /// The mode named `s` (`progressive`, `power`, `predictive`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "progressive" => Some(Mode::Progressive),
            "power" => Some(Mode::Power),
            "predictive" => Some(Mode::Predictive),
            _ => None,
        }
    }
}

/// A change to a running campaign's `[pacing]` (`campaign pace`, the
/// console's `:campaign pace`): the values given replace the campaign's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PaceChange {
    /// The new mode.
    pub mode: Option<Mode>,
    /// The new power ratio.
    pub ratio: Option<f64>,
    /// The new abandon cap, percent.
    pub max_abandon_percent: Option<f64>,
}

impl PaceChange {
    /// `def` with the change, checked.
    ///
    /// Errors: nothing to change, or a value out of range (named, as
    /// [`PacingDef::validate`] says).
    pub fn applied_to(&self, def: &PacingDef) -> Result<PacingDef, String> {
        if *self == PaceChange::default() {
            return Err("nothing to change: give a mode, a ratio or a cap".into());
        }
        let mut d = def.clone();
        d.mode = self.mode.unwrap_or(d.mode);
        d.ratio = self.ratio.unwrap_or(d.ratio);
        d.max_abandon_percent = self.max_abandon_percent.unwrap_or(d.max_abandon_percent);
        d.validate()?;
        Ok(d)
    }
}

/// Which regulator's rules the abandon cap follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// US Telemarketing Sales Rule: 3 % of live answers per campaign per 30
    /// days, an agent within 2 s.
    #[default]
    Us,
    /// UK (Ofcom): 3 % over any 24 hours, an agent within 2 s, no redial of
    /// an abandoned number within 72 hours.
    Uk,
    /// Neither: a drop timer up to 5 s is allowed (the campaign says so).
    Custom,
}

impl Regime {
    /// Its name in a campaign file and in messages: `us`, `uk`, `custom`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Us => "us",
            Regime::Uk => "uk",
            Regime::Custom => "custom",
        }
    }

    /// The window the abandon rate is measured over, seconds.
    pub fn window_s(self) -> i64 {
        match self {
            Regime::Uk => 24 * 3600,
            Regime::Us | Regime::Custom => 30 * 24 * 3600,
        }
    }

    /// The hours calls are allowed in, in the called party's time: 8 am to
    /// 9 pm under `us` (TSR 310.4(c)); none set by rule otherwise.
    pub fn legal_hours(self) -> Option<(chrono::NaiveTime, chrono::NaiveTime)> {
        (self == Regime::Us).then(|| {
            (
                chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                chrono::NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            )
        })
    }

    /// How long a number that was a drop is not called again, seconds:
    /// 72 hours under `uk` (Ofcom), none otherwise.
    pub fn redial_hold_s(self) -> Option<i64> {
        (self == Regime::Uk).then_some(72 * 3600)
    }
}

fn default_ratio() -> f64 {
    1.0
}

fn default_cap() -> f64 {
    3.0
}

fn default_drop() -> u32 {
    2
}

/// A campaign's `[pacing]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacingDef {
    /// The mode (default progressive).
    #[serde(default)]
    pub mode: Mode,
    /// Power mode: calls in flight per available agent (1.0 to 5.0).
    #[serde(default = "default_ratio")]
    pub ratio: f64,
    /// The abandon cap, percent of live answers (default 3.0, lower
    /// allowed).
    #[serde(default = "default_cap")]
    pub max_abandon_percent: f64,
    /// An answered call not bridged to an agent within this many seconds
    /// is a drop: it gets the safe-harbour message and is hung up (default
    /// 2; up to 5 only with `regime = "custom"`).
    #[serde(default = "default_drop")]
    pub drop_s: u32,
    /// Whose rules the cap follows (default `us`).
    #[serde(default)]
    pub regime: Regime,
    /// Whether the engine moves a call no agent took within `drop_s` to the
    /// safe-harbour message (default true). Off only with `regime =
    /// "custom"`: for a dialplan place that is not meant to reach an agent
    /// (an IVR), where the timer would cut every call.
    #[serde(default = "default_true")]
    pub drop_timer: bool,
    /// The safe-harbour recording a dropped call hears: an Asterisk sound
    /// name (`custom/acme-safe-harbour`), given to the drop context as
    /// `SB_DROP_MESSAGE`; unset, the context plays its own.
    #[serde(default)]
    pub drop_message: Option<String>,
}

impl Default for PacingDef {
    fn default() -> Self {
        PacingDef {
            mode: Mode::Progressive,
            ratio: default_ratio(),
            max_abandon_percent: default_cap(),
            drop_s: default_drop(),
            regime: Regime::Us,
            drop_timer: true,
            drop_message: None,
        }
    }
}

fn default_true() -> bool {
    true
}

/// How long before `drop_s` runs out the engine moves an unconnected call
/// to the safe-harbour message, ms: the redirect, the dialplan and the
/// first audio frame take time, and the message must begin within
/// `drop_s` of the answer, not after it.
pub const DROP_MARGIN_MS: u64 = 300;

/// How long after a customer's answer the engine gives up waiting for an
/// agent and plays the safe-harbour message: `drop_s` less
/// [`DROP_MARGIN_MS`].
pub fn safe_harbour_after(drop_s: u32) -> std::time::Duration {
    std::time::Duration::from_millis((u64::from(drop_s) * 1000).saturating_sub(DROP_MARGIN_MS))
}

impl PacingDef {
    /// Checks the values.
    ///
    /// Errors: the first wrong key, named, with its allowed range.
    pub fn validate(&self) -> Result<(), String> {
        if !(1.0..=5.0).contains(&self.ratio) {
            return Err(format!("pacing.ratio {}: use 1.0 to 5.0", self.ratio));
        }
        if !(self.max_abandon_percent > 0.0 && self.max_abandon_percent <= 3.0) {
            return Err(format!(
                "pacing.max_abandon_percent {}: use more than 0 and at most 3.0 (the regulators' cap)",
                self.max_abandon_percent
            ));
        }
        let longest = if self.regime == Regime::Custom { 5 } else { 2 };
        if !(1..=longest).contains(&self.drop_s) {
            return Err(format!(
                "pacing.drop_s {}: use 1 to {longest} (the US and UK rules allow 2 s; regime = \"custom\" allows up to 5)",
                self.drop_s
            ));
        }
        if !self.drop_timer && self.regime != Regime::Custom {
            return Err(
                "pacing.drop_timer = false: the US and UK rules require the safe-harbour message for every call no agent takes within drop_s; only regime = \"custom\" may turn it off".into(),
            );
        }
        if let Some(m) = &self.drop_message
            && !crate::dialer::sound::is_sound_name(m)
        {
            return Err(format!(
                "pacing.drop_message `{}`: an Asterisk sound name (letters, digits, / _ -, at most 80), e.g. custom/safe-harbour",
                crate::sanitize::escape(m)
            ));
        }
        Ok(())
    }
}

/// The floor at a decision, for one campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Floor {
    /// Agents logged in, not paused, not on a call nor in wrap-up.
    pub available: u32,
    /// Agents on a call or in wrap-up.
    pub busy: u32,
    /// Calls dialed and not answered (nor ended) yet.
    pub ringing: u32,
    /// Answered calls waiting for an agent.
    pub waiting: u32,
}

/// The campaign's recent statistics (the engine's and the simulator's
/// estimates).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Share of dials a live person answers, 0 to 1.
    pub answer_rate: f64,
    /// Mean time from dial to answer of the answered calls, seconds.
    pub ring_to_answer_s: f64,
    /// Mean time an agent is busy with a call (talk and wrap-up), seconds.
    pub handle_s: f64,
}

/// What [`decide`] chose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Calls to dial now.
    pub dial: u32,
    /// The mode used (the campaign's, or progressive after a fallback).
    pub mode: Mode,
    /// Predictive: the expected drops per answer allowed at this decision.
    pub target: f64,
}

/// The most calls in flight per agent on duty, whatever the mode (the
/// hard cap of a predictive or power campaign).
pub const MAX_DIAL_LEVEL: f64 = 3.0;

/// Of the cap, the share predictive aims at (the rest is margin for the
/// estimates' error).
const AIM: f64 = 0.5;

/// The most the per-decision target may rise above `AIM × cap` while the
/// window's rate stays low.
const BOOST: f64 = 4.0;

/// From this share of the cap on, predictive aims lower and lower…
const EASE_FROM: f64 = 0.5;

/// …and from this share on, every mode falls back to progressive.
const FALLBACK_AT: f64 = 0.8;

/// Calls to dial now for a campaign with `def`, on `floor`, given `stats`
/// and the abandon rate of the regulator's window so far (`abandon_rate`,
/// 0 to 1; `None` while too few calls were answered to tell). `room` is
/// what `max_concurrent` still allows.
pub fn decide(
    def: &PacingDef,
    floor: &Floor,
    stats: &Stats,
    abandon_rate: Option<f64>,
    room: u32,
) -> Decision {
    let cap = def.max_abandon_percent / 100.0;
    let used = abandon_rate.map_or(0.0, |r| r / cap);
    let mode = if used >= FALLBACK_AT {
        Mode::Progressive
    } else {
        def.mode
    };
    let in_flight = floor.ringing + floor.waiting;
    let on_duty = floor.available + floor.busy;
    let level_cap = (MAX_DIAL_LEVEL * f64::from(on_duty)).floor() as u32;
    let limit = room.min(level_cap.saturating_sub(in_flight));
    let (dial, target) = match mode {
        Mode::Progressive => (floor.available.saturating_sub(in_flight), 0.0),
        Mode::Power => {
            let lines = (def.ratio * f64::from(floor.available)).floor() as u32;
            (lines.saturating_sub(in_flight), 0.0)
        }
        Mode::Predictive => {
            // Feedback on the model's error: the estimate errs on the safe
            // side, so while the window's rate stays below the aim the
            // per-decision target rises (at most BOOST times), and from
            // EASE_FROM of the cap it falls to 0 at the fallback.
            let boost = abandon_rate.map_or(1.0, |r| (AIM * cap / r.max(1e-6)).clamp(1.0, BOOST));
            let ease = ((used - EASE_FROM) / (FALLBACK_AT - EASE_FROM)).clamp(0.0, 1.0);
            let target = cap * AIM * boost * (1.0 - ease);
            (predictive(def, floor, stats, target, limit), target)
        }
    };
    Decision {
        dial: dial.min(limit),
        mode,
        target,
    }
}

/// The most new calls for which the expected drops per answer stay within
/// `target`: the answers of the calls in flight and the new ones (binomial)
/// against the agents free now and those who will be by the time they
/// answer (each busy agent ends within the horizon with probability
/// `1 − e^(−horizon/handle)`), both taken as normal.
fn predictive(def: &PacingDef, floor: &Floor, stats: &Stats, target: f64, limit: u32) -> u32 {
    let p = stats.answer_rate.clamp(0.001, 1.0);
    let horizon = stats.ring_to_answer_s.max(0.0) + f64::from(def.drop_s);
    let q = 1.0 - (-horizon / stats.handle_s.max(1.0)).exp();
    let busy = f64::from(floor.busy);
    let supply = f64::from(floor.available) + busy * q;
    let supply_var = busy * q * (1.0 - q);
    let waiting = f64::from(floor.waiting);
    let mut chosen = 0;
    for n in 1..=limit {
        let calls = f64::from(floor.ringing + n);
        let answers = calls * p;
        let mean = waiting + answers - supply;
        let sd = (calls * p * (1.0 - p) + supply_var).sqrt();
        let drops = normal::expected_excess(mean, sd);
        if drops > target * (answers + waiting) {
            break;
        }
        chosen = n;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Stats {
        Stats {
            answer_rate: 0.3,
            ring_to_answer_s: 8.0,
            handle_s: 190.0,
        }
    }

    fn def(mode: Mode) -> PacingDef {
        PacingDef {
            mode,
            ratio: 1.5,
            ..PacingDef::default()
        }
    }

    #[test]
    fn progressive_never_has_more_in_flight_than_free_agents() {
        let d = def(Mode::Progressive);
        for (available, ringing, waiting, want) in [
            (5, 0, 0, 5),
            (5, 3, 0, 2),
            (5, 3, 2, 0),
            (2, 4, 0, 0),
            (0, 0, 0, 0),
        ] {
            let floor = Floor {
                available,
                busy: 10,
                ringing,
                waiting,
            };
            let got = decide(&d, &floor, &stats(), None, 100);
            assert_eq!(got.dial, want, "{floor:?}");
            assert_eq!(got.mode, Mode::Progressive);
        }
    }

    #[test]
    fn power_dials_its_ratio_per_available_agent() {
        let floor = Floor {
            available: 4,
            busy: 6,
            ringing: 2,
            waiting: 0,
        };
        assert_eq!(
            decide(&def(Mode::Power), &floor, &stats(), None, 100).dial,
            4
        );
        // max_concurrent's room bounds every mode.
        assert_eq!(decide(&def(Mode::Power), &floor, &stats(), None, 3).dial, 3);
    }

    #[test]
    fn predictive_dials_ahead_of_free_agents_but_not_without_any() {
        let d = def(Mode::Predictive);
        let free = Floor {
            available: 5,
            busy: 15,
            ringing: 0,
            waiting: 0,
        };
        let n = decide(&d, &free, &stats(), None, 100).dial;
        // At a 30 % answer rate, more calls than free agents…
        assert!(n > 5, "{n}");
        // …but never past the hard dial level.
        assert!(n <= 60, "{n}");
        // Nobody free and nobody about to be: nothing.
        let none = Floor {
            available: 0,
            busy: 0,
            ringing: 0,
            waiting: 0,
        };
        assert_eq!(decide(&d, &none, &stats(), None, 100).dial, 0);
        // Customers already waiting for an agent hold it back.
        let waiting = Floor { waiting: 3, ..free };
        assert!(decide(&d, &waiting, &stats(), None, 100).dial < n);
    }

    #[test]
    fn every_mode_falls_back_to_progressive_near_the_cap() {
        let floor = Floor {
            available: 4,
            busy: 16,
            ringing: 0,
            waiting: 0,
        };
        for mode in [Mode::Power, Mode::Predictive] {
            let d = def(mode);
            let near = decide(&d, &floor, &stats(), Some(0.025), 100);
            assert_eq!((near.mode, near.dial), (Mode::Progressive, 4), "{mode:?}");
        }
        // Predictive aims lower as the window's rate rises.
        let d = def(Mode::Predictive);
        let low = decide(&d, &floor, &stats(), Some(0.001), 100);
        let mid = decide(&d, &floor, &stats(), Some(0.02), 100);
        assert!(
            mid.target < low.target && mid.dial <= low.dial,
            "{low:?} {mid:?}"
        );
    }

    #[test]
    fn a_pace_change_replaces_only_what_it_names() {
        let d = PacingDef::default();
        let power = PaceChange {
            mode: Mode::parse("power"),
            ratio: Some(2.0),
            ..PaceChange::default()
        };
        let got = power.applied_to(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (got.mode, got.ratio, got.drop_s),
            (Mode::Power, 2.0, d.drop_s)
        );
        let too_much = PaceChange {
            max_abandon_percent: Some(5.0),
            ..PaceChange::default()
        };
        assert!(
            too_much
                .applied_to(&d)
                .is_err_and(|e| e.contains("pacing.max_abandon_percent"))
        );
        assert!(PaceChange::default().applied_to(&d).is_err());
        assert_eq!(Mode::parse("turbo"), None);
    }

    #[test]
    fn the_drop_timer_and_cap_are_checked() {
        let mut d = PacingDef::default();
        assert!(d.validate().is_ok());
        assert_eq!(safe_harbour_after(2).as_millis(), 1_700);
        assert_eq!(Regime::Uk.redial_hold_s(), Some(72 * 3600));
        assert_eq!(Regime::Us.redial_hold_s(), None);
        d.drop_timer = false;
        assert!(d.validate().is_err_and(|e| e.contains("pacing.drop_timer")));
        d.regime = Regime::Custom;
        assert!(d.validate().is_ok());
        d.regime = Regime::Us;
        d.drop_timer = true;
        d.drop_message = Some("custom/safe-harbour".into());
        assert!(d.validate().is_ok());
        for bad in ["x,System(rm)", "../etc/passwd", "a b", ""] {
            d.drop_message = Some(bad.into());
            assert!(
                d.validate()
                    .is_err_and(|e| e.contains("pacing.drop_message")),
                "{bad}"
            );
        }
        d.drop_message = None;
        d.drop_s = 3;
        assert!(d.validate().is_err_and(|e| e.contains("pacing.drop_s 3")));
        d.regime = Regime::Custom;
        assert!(d.validate().is_ok());
        d.max_abandon_percent = 5.0;
        assert!(
            d.validate()
                .is_err_and(|e| e.contains("max_abandon_percent"))
        );
    }
}
