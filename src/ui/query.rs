//! The query line of the History and KPI screens: a few words a supervisor
//! types instead of a form.
//!
//! ```text
//! today                      the PBX's today (the default)
//! yesterday | 2026-11-20     one day
//! 2026-11-01..2026-11-20     a range of days, both included
//! src:301  dst:5551234       source / destination number or extension
//! disp:no-answer             ANSWERED, NO-ANSWER, BUSY, FAILED, CONGESTION
//! pbx:lyon                   that PBX's CDRs (with several; default: the first you see)
//! anything else              free text over src, dst, clid, uniqueid, channels
//! ```
//!
//! Days are the PBX's (config `[cdr] time_zone`): a window is from midnight
//! of the first day to midnight after the last, PBX local time, which is how
//! Asterisk writes `calldate`.

use crate::access::Visibility;
use crate::cdr::filter::{CdrFilter, Disposition};
use chrono::{Duration, NaiveDate, NaiveDateTime};

/// A parsed query line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// First day included (PBX local).
    pub from: NaiveDate,
    /// Last day included (PBX local).
    pub to: NaiveDate,
    /// `src:`.
    pub src: Option<String>,
    /// `dst:`.
    pub dst: Option<String>,
    /// `disp:`.
    pub disposition: Option<Disposition>,
    /// The other words, joined by one space.
    pub search: Option<String>,
    /// `pbx:`: whose CDRs (`None`: the first PBX the user sees).
    pub pbx: Option<String>,
}

fn date(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    match word {
        "today" => Some(today),
        "yesterday" => today.pred_opt(),
        _ => NaiveDate::parse_from_str(word, "%Y-%m-%d").ok(),
    }
}

impl Query {
    /// Today, everything.
    pub fn today(today: NaiveDate) -> Self {
        Query {
            from: today,
            to: today,
            src: None,
            dst: None,
            disposition: None,
            search: None,
            pbx: None,
        }
    }

    /// Parses `text`; `today` is the PBX's date now.
    ///
    /// Errors: a message naming the word that is wrong and what to type.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, String> {
        let mut q = Query::today(today);
        let mut words = Vec::new();
        for word in text.split_whitespace() {
            if let Some((a, b)) = word.split_once("..") {
                let (Some(a), Some(b)) = (date(a, today), date(b, today)) else {
                    return Err(format!("`{word}`: use a range like 2026-11-01..2026-11-20"));
                };
                if b < a {
                    return Err(format!("`{word}`: the range ends before it starts"));
                }
                (q.from, q.to) = (a, b);
            } else if let Some(d) = date(word, today) {
                (q.from, q.to) = (d, d);
            } else if let Some(v) = word.strip_prefix("src:") {
                q.src = Some(v.to_string()).filter(|v| !v.is_empty());
            } else if let Some(v) = word.strip_prefix("dst:") {
                q.dst = Some(v.to_string()).filter(|v| !v.is_empty());
            } else if let Some(v) = word.strip_prefix("pbx:") {
                q.pbx = Some(v.to_string()).filter(|v| !v.is_empty());
            } else if let Some(v) = word
                .strip_prefix("disp:")
                .or_else(|| word.strip_prefix("disposition:"))
            {
                q.disposition = Some(Disposition::parse(v).ok_or_else(|| {
                    format!("`{word}`: use disp:answered, no-answer, busy, failed or congestion")
                })?);
            } else if word.len() >= 10
                && word.as_bytes()[4] == b'-'
                && word[..4].parse::<u16>().is_ok()
            {
                return Err(format!("`{word}`: not a date; use YYYY-MM-DD"));
            } else {
                words.push(word);
            }
        }
        q.search = (!words.is_empty()).then(|| words.join(" "));
        Ok(q)
    }

    /// The query's days as a `[from, to)` window, PBX local time.
    pub fn window(&self) -> (NaiveDateTime, NaiveDateTime) {
        let start = self.from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let end = self.to.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::days(1);
        (start, end)
    }

    /// Only days (and a PBX): what the KPI screen accepts.
    pub fn is_days_only(&self) -> bool {
        self.src.is_none()
            && self.dst.is_none()
            && self.disposition.is_none()
            && self.search.is_none()
    }

    /// The CDR filter of this query for a user who sees `visibility`.
    pub fn filter(&self, visibility: Visibility) -> CdrFilter {
        let (from, to) = self.window();
        let mut f = CdrFilter::window(from, to, visibility);
        f.src = self.src.clone();
        f.dst = self.dst.clone();
        f.disposition = self.disposition;
        f.search = self.search.clone();
        f.pbx = self.pbx.clone();
        f
    }

    /// A one-line description for titles: `2026-11-21 dst:301`.
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}..{}", self.from, self.to)
        }];
        if let Some(v) = &self.src {
            parts.push(format!("src:{v}"));
        }
        if let Some(v) = &self.dst {
            parts.push(format!("dst:{v}"));
        }
        if let Some(v) = &self.pbx {
            parts.push(format!("pbx:{v}"));
        }
        if let Some(d) = self.disposition {
            parts.push(format!(
                "disp:{}",
                d.db_values()[0].replace(' ', "-").to_lowercase()
            ));
        }
        if let Some(s) = &self.search {
            parts.push(s.clone());
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
    }

    #[test]
    fn words_become_a_filter() {
        let q = Query::parse("yesterday dst:301 disp:noanswer Zoë Š", today())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.from.to_string(), "2026-11-20");
        assert_eq!(q.dst.as_deref(), Some("301"));
        assert_eq!(q.disposition, Some(Disposition::NoAnswer));
        assert_eq!(q.search.as_deref(), Some("Zoë Š"));
        assert_eq!(q.describe(), "2026-11-20 dst:301 disp:no-answer Zoë Š");
        let (from, to) = q.window();
        assert_eq!(from.to_string(), "2026-11-20 00:00:00");
        assert_eq!(to.to_string(), "2026-11-21 00:00:00");
        assert!(!q.is_days_only());
    }

    #[test]
    fn ranges_and_errors_name_the_word() {
        let q = Query::parse("2026-11-01..today", today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (q.from.to_string(), q.to.to_string()),
            ("2026-11-01".into(), "2026-11-21".into())
        );
        assert!(q.is_days_only());
        // A PBX is not a filter of rows: the KPI screen takes it.
        let lyon = Query::parse("today pbx:lyon", today()).unwrap_or_else(|e| panic!("{e}"));
        assert!(lyon.is_days_only());
        assert_eq!(lyon.filter(Visibility::All).pbx.as_deref(), Some("lyon"));
        assert_eq!(lyon.describe(), "2026-11-21 pbx:lyon");
        assert_eq!(
            Query::parse("2026-11-21..2026-11-01", today())
                .err()
                .as_deref(),
            Some("`2026-11-21..2026-11-01`: the range ends before it starts")
        );
        assert!(Query::parse("disp:maybe", today()).is_err_and(|e| e.contains("`disp:maybe`")));
        assert!(Query::parse("2026-13-45", today()).is_err_and(|e| e.contains("YYYY-MM-DD")));
        assert_eq!(Query::parse("", today()), Ok(Query::today(today())));
    }
}
