//! A campaign's definition, as written in a TOML file (`switchboard campaign
//! apply FILE.toml`) and stored with the campaign: what to dial, where an
//! answered call goes, how fast, when, and how to retry. Everything that
//! will reach Asterisk is checked here, once.

use super::outcome::Outcome;
use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// When a lead is tried again after an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRule {
    /// Wait before the next attempt, seconds.
    pub delay_s: u32,
    /// Attempts in all (the first one included) after which the lead is
    /// exhausted.
    pub max_attempts: u32,
}

/// Retry rules per outcome; an outcome without a rule is final. An
/// answered call is never retried.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRules {
    /// After BUSY (hangup cause 17).
    pub busy: Option<RetryRule>,
    /// After the ring timeout or NO ANSWER (causes 18, 19, 21 unanswered).
    pub no_answer: Option<RetryRule>,
    /// After CONGESTION (causes 34, 38, 41, 42, 44).
    pub congestion: Option<RetryRule>,
    /// After any other failure (an invalid number, a refused originate).
    pub failed: Option<RetryRule>,
}

/// Where an answered call goes; exactly one of the three forms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// `{ queue = "sales" }`: the queue, through the dialplan context
    /// `[dialer] queue_context` (extension = queue name).
    pub queue: Option<String>,
    /// `{ extension = "201" }`: through `[dialer] extension_context`.
    pub extension: Option<String>,
    /// `{ context = "c", exten = "s" }`: any dialplan place.
    pub context: Option<String>,
    /// With `context`.
    pub exten: Option<String>,
}

/// The hours a campaign may dial, in a time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `HH:MM`, first minute dialing is allowed.
    pub start: String,
    /// `HH:MM`, dialing stops (before `start`: the window crosses midnight).
    pub end: String,
    /// IANA zone of `start` and `end` (the customers', not the PBX's).
    pub time_zone: String,
}

fn default_max_concurrent() -> u32 {
    10
}

/// The shortest ring of an unanswered call the US (TSR) and UK (Ofcom)
/// rules allow, seconds.
pub const MIN_RING_S: u32 = 15;

fn default_ring_timeout() -> u32 {
    25
}

/// A campaign definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignDef {
    /// Unique name: letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Dial string with one `{number}`: `PJSIP/{number}@trunk`,
    /// `Local/{number}@customers`.
    pub dial: String,
    /// Caller ID shown to the customer: `"Renewals" <5551000>`.
    pub caller_id: String,
    /// Where an answered call goes.
    pub destination: Destination,
    /// Calls in flight at most, across engines.
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: u32,
    /// Ring time before giving up, seconds.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_s: u32,
    /// Retry rules.
    #[serde(default)]
    pub retry: RetryRules,
    /// Calling hours; none means any time.
    pub window: Option<Window>,
    /// How fast to dial, within the abandon cap (`[pacing]`; default
    /// progressive, 3 %, 2 s).
    #[serde(default)]
    pub pacing: super::pacing::PacingDef,
    /// Answering-machine detection (`[amd]`); none: every answer is
    /// taken for a person.
    #[serde(default)]
    pub amd: Option<super::amd::AmdDef>,
}

/// Where [`Destination`] sends the call in the dialplan: context and
/// extension, priority 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialplanTarget {
    /// Context.
    pub context: String,
    /// Extension.
    pub exten: String,
}

/// A dialplan name: letters, digits and `_ . - +`, 1 to 80 characters.
fn dialplan_name(key: &str, v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 80
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{key} `{v}`: use letters, digits and _ . - + (1 to 80 characters)"
        ))
    }
}

fn hhmm(key: &str, v: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| format!("{key} `{v}`: use HH:MM, like 09:00"))
}

impl CampaignDef {
    /// Parses and checks a campaign file.
    ///
    /// Errors: bad TOML or an unknown key (the parser's message, with the
    /// line), or a value that fails [`CampaignDef::validate`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let def: CampaignDef = toml::from_str(text).map_err(|e| e.to_string())?;
        def.validate()?;
        Ok(def)
    }

    /// Checks every value that will reach Asterisk or the scheduler.
    ///
    /// Errors: the first wrong key, named, with what to write instead.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !name_ok {
            return Err(format!(
                "name `{}`: use letters, digits and _ . - (1 to 100 characters)",
                self.name
            ));
        }
        let parts: Vec<&str> = self.dial.split("{number}").collect();
        let tech_ok = self
            .dial
            .split_once('/')
            .is_some_and(|(t, _)| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()));
        let chars_ok = self.dial.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '@' | '_' | '.' | '-' | '+' | '{' | '}')
        });
        if parts.len() != 2 || !tech_ok || !chars_ok || parts.iter().any(|p| p.contains(['{', '}']))
        {
            return Err(format!(
                "dial `{}`: use TECH/…{{number}}… with one {{number}} and letters, digits, / @ _ . - + (like PJSIP/{{number}}@trunk)",
                self.dial
            ));
        }
        if self.caller_id.contains(['\r', '\n', '\0']) || self.caller_id.len() > 120 {
            return Err("caller_id: one line of at most 120 characters".into());
        }
        self.target("from-internal", "switchboard-queue")?;
        if !(1..=1000).contains(&self.max_concurrent) {
            return Err(format!(
                "max_concurrent {}: use 1 to 1000",
                self.max_concurrent
            ));
        }
        if !(5..=300).contains(&self.ring_timeout_s) {
            return Err(format!(
                "ring_timeout_s {}: use 5 to 300",
                self.ring_timeout_s
            ));
        }
        for (key, rule) in [
            ("retry.busy", self.retry.busy),
            ("retry.no_answer", self.retry.no_answer),
            ("retry.congestion", self.retry.congestion),
            ("retry.failed", self.retry.failed),
        ] {
            if let Some(r) = rule
                && !(1..=50).contains(&r.max_attempts)
            {
                return Err(format!(
                    "{key}.max_attempts {}: use 1 to 50",
                    r.max_attempts
                ));
            }
        }
        self.pacing.validate()?;
        if let Some(amd) = &self.amd {
            amd.validate()?;
        }
        // The US and UK rules: an unanswered call rings at least 15 s.
        if self.pacing.regime != super::pacing::Regime::Custom && self.ring_timeout_s < MIN_RING_S {
            return Err(format!(
                "ring_timeout_s {}: the {} rules ring an unanswered call at least {MIN_RING_S} s; use {MIN_RING_S} or more (or [pacing] regime = \"custom\" where no such rule applies)",
                self.ring_timeout_s,
                self.pacing.regime.name()
            ));
        }
        if let Some(w) = &self.window {
            let (s, e) = (hhmm("window.start", &w.start)?, hhmm("window.end", &w.end)?);
            if s == e {
                return Err("window: start and end are the same minute".into());
            }
            w.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
                format!(
                    "window.time_zone `{}`: use an IANA zone like America/New_York",
                    w.time_zone
                )
            })?;
            if let Some((open, close)) = self.pacing.regime.legal_hours()
                && !(open <= s && s < e && e <= close)
            {
                return Err(format!(
                    "window {}-{}: the US rule (TSR) allows calls from 08:00 to 21:00 in the called party's time; keep the window within it (or [pacing] regime = \"custom\" where no such rule applies)",
                    w.start, w.end
                ));
            }
        }
        Ok(())
    }

    /// What a supervisor applying this campaign should know of its calling
    /// hours: under `us` without a `[window]`, 8 am to 9 pm is kept only for
    /// the leads with a `time_zone` column.
    pub fn hours_note(&self) -> Option<String> {
        (self.window.is_none() && self.pacing.regime.legal_hours().is_some()).then(|| {
            "no [window]: the engine keeps the US rule's 08:00-21:00 for leads with a time_zone column; the others are called at any hour: add a [window] with the customers' time_zone".to_string()
        })
    }

    /// The dialplan place an answered call continues to, given the contexts
    /// configured for extensions and queues.
    ///
    /// Errors: not exactly one destination form, or a bad name.
    pub fn target(
        &self,
        extension_context: &str,
        queue_context: &str,
    ) -> Result<DialplanTarget, String> {
        let d = &self.destination;
        let t = match (&d.queue, &d.extension, &d.context, &d.exten) {
            (Some(q), None, None, None) => DialplanTarget {
                context: queue_context.into(),
                exten: q.clone(),
            },
            (None, Some(x), None, None) => DialplanTarget {
                context: extension_context.into(),
                exten: x.clone(),
            },
            (None, None, Some(c), Some(x)) => DialplanTarget {
                context: c.clone(),
                exten: x.clone(),
            },
            _ => {
                return Err(
                    "destination: use { queue = \"sales\" }, { extension = \"201\" } or { context = \"c\", exten = \"s\" }"
                        .into(),
                );
            }
        };
        dialplan_name("destination context", &t.context)?;
        dialplan_name("destination", &t.exten)?;
        Ok(t)
    }

    /// The dial string for a number already normalised by
    /// [`super::number::normalize`].
    pub fn dial_string(&self, number: &str) -> String {
        self.dial.replace("{number}", number)
    }

    /// The rule for `outcome`, if it may be retried.
    pub fn retry_rule(&self, outcome: Outcome) -> Option<RetryRule> {
        match outcome {
            Outcome::Busy => self.retry.busy,
            Outcome::NoAnswer => self.retry.no_answer,
            Outcome::Congestion => self.retry.congestion,
            Outcome::Failed => self.retry.failed,
            Outcome::Answered | Outcome::Unknown | Outcome::Stopped | Outcome::NotDialed => None,
        }
    }

    /// The window's start, end and zone; `None` without a window. (A bad
    /// one cannot be stored: [`CampaignDef::validate`].)
    fn window_parts(&self) -> Option<Result<(NaiveTime, NaiveTime, Tz), ()>> {
        let w = self.window.as_ref()?;
        Some(
            match (
                hhmm("start", &w.start),
                hhmm("end", &w.end),
                w.time_zone.parse::<Tz>(),
            ) {
                (Ok(s), Ok(e), Ok(tz)) => Ok((s, e, tz)),
                _ => Err(()),
            },
        )
    }

    /// Dialing is allowed at `now` in the campaign's zone.
    pub fn in_window(&self, now: DateTime<Utc>) -> bool {
        match self.window_parts() {
            None => true,
            Some(Ok((start, end, tz))) => open_at(start, end, now.with_timezone(&tz).time()),
            Some(Err(())) => false,
        }
    }

    /// Whether a lead may be dialed at `now` in its own time zone: `None`
    /// when it may (no window, no zone of its own, or the window's hours
    /// hold there too), else when they next begin there (UTC). The lead's
    /// zone is its `time_zone` column (checked at import); the campaign's
    /// window, in the campaign's zone, still decides when the campaign
    /// dials at all.
    pub fn lead_closed(
        &self,
        now: DateTime<Utc>,
        data: &std::collections::BTreeMap<String, String>,
    ) -> Option<DateTime<Utc>> {
        let lead_tz = data.get(LEAD_TIME_ZONE)?.trim().parse::<Tz>().ok()?;
        // The campaign's window, or without one the rule's hours (US).
        let (start, end) = match self.window_parts() {
            Some(Ok((start, end, _))) => (start, end),
            Some(Err(())) => return None,
            None => self.pacing.regime.legal_hours()?,
        };
        let local = now.with_timezone(&lead_tz).naive_local();
        if open_at(start, end, local.time()) {
            return None;
        }
        // Outside the hours: they begin today at `start`, or tomorrow.
        let day = if local.time() < start {
            local.date()
        } else {
            local.date().succ_opt()?
        };
        Some(crate::clock::local_to_utc(lead_tz, day.and_time(start)))
    }
}

/// The lead column naming the lead's own time zone (IANA).
pub const LEAD_TIME_ZONE: &str = "time_zone";

/// `t` is within `[start, end)`, a window that may cross midnight.
fn open_at(start: NaiveTime, end: NaiveTime, t: NaiveTime) -> bool {
    if start < end {
        start <= t && t < end
    } else {
        t >= start || t < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPRING: &str = r#"
name = "spring-renewals"
dial = "Local/{number}@customers"
caller_id = "\"Renewals\" <5551000>"
destination = { queue = "sales" }
max_concurrent = 10
ring_timeout_s = 25
[retry]
busy = { delay_s = 300, max_attempts = 3 }
no_answer = { delay_s = 1800, max_attempts = 3 }
congestion = { delay_s = 600, max_attempts = 2 }
[window]
start = "09:00"
end = "20:00"
time_zone = "America/New_York"
"#;

    #[test]
    fn the_issue_example_parses() {
        let c = CampaignDef::parse(SPRING).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.dial_string("5551234"), "Local/5551234@customers");
        assert_eq!(
            c.target("from-internal", "switchboard-queue"),
            Ok(DialplanTarget {
                context: "switchboard-queue".into(),
                exten: "sales".into()
            })
        );
        assert_eq!(c.retry_rule(Outcome::Answered), None);
        assert_eq!(c.retry_rule(Outcome::Failed), None);
        assert!(c.retry_rule(Outcome::Busy).is_some());
        // 14:00 UTC is 09:00 in New York in November (EST).
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap_or_default();
        assert!(c.in_window(t("2026-11-21T14:00:00Z")));
        assert!(!c.in_window(t("2026-11-21T13:59:00Z")));
        assert!(!c.in_window(t("2026-11-22T01:00:00Z")));
        // A lead in Los Angeles: 11:00 there is open, 06:00 is not, and
        // its hours begin at 09:00 Pacific (17:00Z in November).
        let la = |zone: &str| {
            std::collections::BTreeMap::from([(LEAD_TIME_ZONE.to_string(), zone.to_string())])
        };
        assert_eq!(
            c.lead_closed(t("2026-11-21T19:00:00Z"), &la("America/Los_Angeles")),
            None
        );
        assert_eq!(
            c.lead_closed(t("2026-11-21T14:00:00Z"), &la("America/Los_Angeles")),
            Some(t("2026-11-21T17:00:00Z"))
        );
        // After its hours: the next day's start.
        assert_eq!(
            c.lead_closed(t("2026-11-22T06:00:00Z"), &la("America/Los_Angeles")),
            Some(t("2026-11-22T17:00:00Z"))
        );
        // No zone of its own, or an empty one: the campaign's decides.
        assert_eq!(c.lead_closed(t("2026-11-21T14:00:00Z"), &la("")), None);
        assert_eq!(
            c.lead_closed(t("2026-11-21T14:00:00Z"), &Default::default()),
            None
        );
    }

    #[test]
    fn the_us_rule_keeps_calls_between_8_am_and_9_pm_where_the_customer_lives() {
        let with = |from: &str, to: &str| CampaignDef::parse(&SPRING.replace(from, to));
        // A window past the rule's hours is refused, unless custom.
        for (start, end) in [("07:30", "20:00"), ("09:00", "21:30"), ("20:30", "08:30")] {
            let text = SPRING
                .replace("\"09:00\"", &format!("\"{start}\""))
                .replace("\"20:00\"", &format!("\"{end}\""));
            let e = CampaignDef::parse(&text).err().unwrap_or_default();
            assert!(e.contains("08:00 to 21:00"), "{start}-{end}: {e}");
            let custom = format!("{text}[pacing]\nregime = \"custom\"\n");
            assert!(CampaignDef::parse(&custom).is_ok(), "{start}-{end} custom");
        }
        assert!(with("\"20:00\"", "\"21:00\"").is_ok());
        // No window: a lead with its own zone is still kept to 08:00-21:00
        // there; the supervisor is told about the leads without one.
        let no_window = SPRING
            .split("[window]")
            .next()
            .unwrap_or_default()
            .to_string();
        let c = CampaignDef::parse(&no_window).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.hours_note().is_some_and(|n| n.contains("time_zone")));
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap_or_default();
        let la = std::collections::BTreeMap::from([(
            LEAD_TIME_ZONE.to_string(),
            "America/Los_Angeles".to_string(),
        )]);
        // 05:30Z is 21:30 Pacific the day before: closed until 08:00 (16:00Z).
        assert_eq!(
            c.lead_closed(t("2026-11-21T05:30:00Z"), &la),
            Some(t("2026-11-21T16:00:00Z"))
        );
        assert_eq!(c.lead_closed(t("2026-11-21T17:00:00Z"), &la), None);
        let custom = CampaignDef::parse(&format!("{no_window}[pacing]\nregime = \"custom\"\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(custom.lead_closed(t("2026-11-21T05:30:00Z"), &la), None);
        assert_eq!(custom.hours_note(), None);
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad = |from: &str, to: &str| {
            CampaignDef::parse(&SPRING.replace(from, to))
                .err()
                .unwrap_or_default()
        };
        assert!(bad("Local/{number}@customers", "Local/{number}@c,EXEC").starts_with("dial"));
        assert!(bad("Local/{number}@customers", "Local/5551234@customers").starts_with("dial"));
        assert!(bad("{ queue = \"sales\" }", "{ queue = \"sa les\" }").contains("destination"));
        assert!(
            bad(
                "{ queue = \"sales\" }",
                "{ queue = \"sales\", extension = \"201\" }"
            )
            .contains("destination")
        );
        assert!(bad("max_concurrent = 10", "max_concurrent = 0").starts_with("max_concurrent"));
        assert!(bad("\"09:00\"", "\"9h\"").starts_with("window.start"));
        assert!(bad("America/New_York", "Mars/Olympus").starts_with("window.time_zone"));
        assert!(bad("ring_timeout_s", "ring_timeout").contains("unknown field"));
    }

    #[test]
    fn us_and_uk_campaigns_ring_at_least_15_s() {
        let with = |ring: u32, regime: &str| {
            let text = SPRING
                .replace("ring_timeout_s = 25", &format!("ring_timeout_s = {ring}"))
                .replace(
                    "[window]",
                    &format!("[pacing]\nregime = \"{regime}\"\n[window]"),
                );
            CampaignDef::parse(&text)
        };
        assert!(with(15, "us").is_ok());
        for regime in ["us", "uk"] {
            let e = with(14, regime).err().unwrap_or_default();
            assert!(
                e.starts_with("ring_timeout_s 14") && e.contains(regime) && e.contains("custom"),
                "{e}"
            );
        }
        assert!(with(5, "custom").is_ok(), "no such rule applies");
        // Without [pacing] the regime is the US one.
        let e = CampaignDef::parse(&SPRING.replace("ring_timeout_s = 25", "ring_timeout_s = 10"));
        assert!(e.is_err_and(|e| e.contains("us rules")));
    }
}
