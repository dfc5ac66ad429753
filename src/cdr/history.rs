//! History as a supervisor reads it: CDR legs grouped into calls by
//! `linkedid`, loaded a page at a time with keyset pagination, and a call's
//! every leg on demand.
//!
//! How a call is summed up from its legs is written once, in docs/kpi.md
//! ("History calls"), and implemented only here.

use super::CdrError;
use super::columns::Field;
use super::filter::{CdrFilter, Cursor, Order, SortKey};
use super::record::CdrRecord;
use super::store::CdrStore;
use crate::endpoints::ExtensionRule;
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// One call: the CDR legs that share a `linkedid` (or one leg, on tables
/// without that column), oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The `linkedid` (else the leg's `uniqueid`).
    pub id: String,
    /// Legs, by start then uniqueid.
    pub legs: Vec<CdrRecord>,
    /// Every leg of the call is loaded (after [`legs_of`]); before that only
    /// the legs that matched the filter are.
    pub complete: bool,
}

impl Call {
    fn new(id: String) -> Self {
        Call {
            id,
            legs: Vec::new(),
            complete: false,
        }
    }

    fn add(&mut self, leg: CdrRecord) {
        if self.legs.iter().any(|l| l.uniqueid == leg.uniqueid) {
            return;
        }
        let at = self
            .legs
            .partition_point(|l| (l.start, &l.uniqueid) <= (leg.start, &leg.uniqueid));
        self.legs.insert(at, leg);
    }

    /// Start of the earliest leg, PBX local time.
    pub fn start(&self) -> Option<NaiveDateTime> {
        self.legs.iter().filter_map(|l| l.start).min()
    }

    /// Latest leg end (start + `duration`), PBX local time.
    pub fn end(&self) -> Option<NaiveDateTime> {
        self.legs.iter().filter_map(CdrRecord::end).max()
    }

    /// Seconds from the first leg's start to the last leg's end.
    pub fn duration_s(&self) -> i64 {
        match (self.start(), self.end()) {
            (Some(s), Some(e)) => (e - s).num_seconds(),
            _ => self.legs.iter().map(|l| l.duration_s).max().unwrap_or(0),
        }
    }

    fn answered_leg(&self) -> Option<&CdrRecord> {
        self.legs
            .iter()
            .filter(|l| l.disposition.eq_ignore_ascii_case("ANSWERED"))
            .max_by_key(|l| l.billsec_s)
    }

    /// Talk time: the largest `billsec` among answered legs, seconds.
    pub fn talk_s(&self) -> i64 {
        self.answered_leg().map_or(0, |l| l.billsec_s)
    }

    /// `ANSWERED` when any leg was answered, else the first leg's
    /// disposition.
    pub fn disposition(&self) -> &str {
        if self.answered_leg().is_some() {
            return "ANSWERED";
        }
        self.legs.first().map_or("", |l| l.disposition.as_str())
    }

    /// The first non-empty `src`, and the caller name from that leg's
    /// `clid` (see [`clid_name`]).
    pub fn caller(&self) -> (&str, String) {
        self.legs
            .iter()
            .find(|l| !l.src.is_empty())
            .or(self.legs.first())
            .map_or(("", String::new()), |l| {
                (l.src.as_str(), clid_name(&l.clid))
            })
    }

    /// The first leg's `dst`.
    pub fn dialed(&self) -> &str {
        self.legs.first().map_or("", |l| l.dst.as_str())
    }

    /// The extension that answered: the one on the destination channel of
    /// the longest answered leg that has one (a queue agent's `Local/201@…`
    /// or a phone's `PJSIP/201-…`). A leg answered by an application (a
    /// queue, voicemail) has no destination channel and names nobody.
    pub fn answered_by(&self, rule: &ExtensionRule) -> Option<&str> {
        self.legs
            .iter()
            .filter(|l| l.disposition.eq_ignore_ascii_case("ANSWERED"))
            .filter_map(|l| rule.extension_of(&l.dstchannel).map(|e| (l.billsec_s, e)))
            .max_by_key(|(billsec, _)| *billsec)
            .map(|(_, e)| e)
    }

    /// A recording file named on any leg (`recordingfile`).
    pub fn recording(&self) -> Option<&str> {
        self.legs
            .iter()
            .map(|l| l.recordingfile.as_str())
            .find(|r| !r.is_empty())
    }
}

/// The name in a `clid` (`"Ana \"Nena\" Pérez" <5551234>` → `Ana "Nena"
/// Pérez`): Asterisk quotes the name and escapes quotes inside it.
pub fn clid_name(clid: &str) -> String {
    let name = clid.rsplit_once(" <").map_or(clid, |(n, _)| n).trim();
    let inner = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The calls loaded so far, in the order their first leg arrived, and where
/// the next page starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallList {
    /// Calls, in page order.
    pub calls: Vec<Call>,
    by_id: HashMap<String, usize>,
    /// Where the next page starts; `None` before the first page.
    pub next: Option<Cursor>,
    /// No more pages.
    pub done: bool,
    /// Legs loaded.
    pub legs: usize,
}

impl CallList {
    /// Adds a page fetched with `requested` rows in `order`. Legs of a call
    /// already listed join it (a call may straddle two pages).
    pub fn append(&mut self, page: Vec<CdrRecord>, order: Order, requested: u32) {
        self.done = page.len() < requested as usize;
        self.next = next_cursor(self.next.take(), &page, order);
        if self.next.is_none() {
            self.done = true;
        }
        self.legs += page.len();
        for leg in page {
            let id = call_id(&leg).to_string();
            let i = *self.by_id.entry(id.clone()).or_insert_with(|| {
                self.calls.push(Call::new(id));
                self.calls.len() - 1
            });
            if let Some(call) = self.calls.get_mut(i) {
                call.add(leg);
            }
        }
    }

    /// Replaces the legs of call `id` with its complete set.
    pub fn complete(&mut self, id: &str, legs: Vec<CdrRecord>) {
        if let Some(call) = self.by_id.get(id).and_then(|i| self.calls.get_mut(*i)) {
            for leg in legs {
                call.add(leg);
            }
            call.complete = true;
        }
    }

    /// Call `id`, if loaded.
    pub fn get(&self, id: &str) -> Option<&Call> {
        self.by_id.get(id).and_then(|i| self.calls.get(*i))
    }
}

/// The call a leg belongs to: its `linkedid`, or its own `uniqueid` on tables
/// without that column.
pub fn call_id(leg: &CdrRecord) -> &str {
    if leg.linkedid.is_empty() {
        &leg.uniqueid
    } else {
        &leg.linkedid
    }
}

/// The cursor after `page`; `None` when the page gives no place to go on
/// from (empty, or its last leg has a zero start date).
fn next_cursor(prev: Option<Cursor>, page: &[CdrRecord], order: Order) -> Option<Cursor> {
    let last = page.last()?;
    match order.key {
        SortKey::Start => {
            let at = last.start?;
            let mut seen: Vec<String> = match prev {
                Some(Cursor::Start { at: p, seen }) if p == at => seen,
                _ => Vec::new(),
            };
            seen.extend(
                page.iter()
                    .filter(|l| l.start == Some(at))
                    .map(|l| l.uniqueid.clone()),
            );
            Some(Cursor::Start { at, seen })
        }
        SortKey::Duration => Some(Cursor::Duration {
            secs: last.duration_s,
            uniqueid: last.uniqueid.clone(),
        }),
    }
}

/// How far before and after a call's first loaded leg its other legs are
/// looked for: legs start after the call does, and a call longer than a day
/// is not a call-centre call.
const LEG_WINDOW_BEFORE: Duration = Duration::hours(1);
const LEG_WINDOW_AFTER: Duration = Duration::hours(24);

/// Every leg of call `call` that `scope`'s visibility allows (with its
/// extension rule), searched in a window around `around` (the call's first
/// loaded leg, PBX local time) so the start index serves the query.
///
/// Errors: the query fails.
pub async fn legs_of(
    store: &CdrStore,
    call: &str,
    around: NaiveDateTime,
    scope: &CdrFilter,
) -> Result<Vec<CdrRecord>, CdrError> {
    let mut filter = CdrFilter::window(
        around - LEG_WINDOW_BEFORE,
        around + LEG_WINDOW_AFTER,
        scope.visibility.clone(),
    )
    .with_extension_rule(scope.extension_rule.clone());
    if store.columns().get(Field::Linkedid).is_some() {
        filter.linkedid = Some(call.to_string());
    } else {
        filter.search = Some(call.to_string());
    }
    let fields: Vec<Field> = store.columns().fields().collect();
    let mut legs = Vec::new();
    store
        .for_each(&filter, &fields, |r| {
            if call_id(r) == call {
                legs.push(r.clone());
            }
            Ok(())
        })
        .await?;
    Ok(legs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(
        uid: &str,
        link: &str,
        start: &str,
        dur: i64,
        disp: &str,
        dstchannel: &str,
    ) -> CdrRecord {
        CdrRecord {
            start: NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M:%S").ok(),
            uniqueid: uid.into(),
            linkedid: link.into(),
            duration_s: dur,
            billsec_s: if disp == "ANSWERED" { dur - 2 } else { 0 },
            disposition: disp.into(),
            dstchannel: dstchannel.into(),
            src: "5551234".into(),
            ..CdrRecord::default()
        }
    }

    const DESC: Order = Order {
        key: SortKey::Start,
        descending: true,
    };

    #[test]
    fn legs_group_by_linkedid_across_pages() {
        let mut list = CallList::default();
        list.append(
            vec![
                leg(
                    "2",
                    "1",
                    "2026-11-21 10:00:05",
                    30,
                    "ANSWERED",
                    "PJSIP/301-1",
                ),
                leg("3", "3", "2026-11-21 10:00:05", 10, "NO ANSWER", ""),
            ],
            DESC,
            2,
        );
        assert!(!list.done);
        assert_eq!(
            list.next,
            Some(Cursor::Start {
                at: NaiveDateTime::parse_from_str("2026-11-21 10:00:05", "%Y-%m-%d %H:%M:%S")
                    .unwrap_or_default(),
                seen: vec!["2".into(), "3".into()],
            })
        );
        list.append(
            vec![leg("1", "1", "2026-11-21 10:00:00", 40, "NO ANSWER", "")],
            DESC,
            2,
        );
        assert!(list.done, "a short page is the last");
        assert_eq!(list.calls.len(), 2);
        let call = list.get("1").unwrap_or_else(|| panic!("call 1"));
        assert_eq!(call.legs.len(), 2);
        assert_eq!(call.legs[0].uniqueid, "1", "legs oldest first");
        assert_eq!(call.disposition(), "ANSWERED");
        assert_eq!(call.duration_s(), 40, "10:00:00 to 10:00:40");
        assert_eq!(call.talk_s(), 28);
        assert_eq!(call.answered_by(&ExtensionRule::default()), Some("301"));
    }

    #[test]
    fn a_cursor_keeps_the_legs_seen_at_the_same_second() {
        let t = "2026-11-21 10:00:05";
        let mut list = CallList::default();
        list.append(vec![leg("a", "a", t, 1, "BUSY", "")], DESC, 1);
        list.append(vec![leg("b", "b", t, 1, "BUSY", "")], DESC, 1);
        match &list.next {
            Some(Cursor::Start { seen, .. }) => assert_eq!(seen, &["a", "b"]),
            other => panic!("{other:?}"),
        }
        let by_duration = Order {
            key: SortKey::Duration,
            descending: true,
        };
        list.append(vec![leg("c", "c", t, 7, "BUSY", "")], by_duration, 1);
        assert_eq!(
            list.next,
            Some(Cursor::Duration {
                secs: 7,
                uniqueid: "c".into()
            })
        );
    }

    #[test]
    fn caller_names_lose_their_quotes_and_escapes() {
        assert_eq!(
            clid_name(r#""Ana \"Nena\" Pérez" <5554227>"#),
            r#"Ana "Nena" Pérez"#
        );
        assert_eq!(clid_name(r#""Smith, John" <5550100>"#), "Smith, John");
        assert_eq!(clid_name(r#""" <>"#), "");
        assert_eq!(clid_name("5551234"), "5551234");
    }

    #[test]
    fn completing_a_call_adds_its_other_legs_once() {
        let mut list = CallList::default();
        list.append(
            vec![leg("2", "1", "2026-11-21 10:00:05", 30, "ANSWERED", "")],
            DESC,
            50,
        );
        list.complete(
            "1",
            vec![
                leg("1", "1", "2026-11-21 10:00:00", 40, "ANSWERED", ""),
                leg("2", "1", "2026-11-21 10:00:05", 30, "ANSWERED", ""),
            ],
        );
        let call = list.get("1").unwrap_or_else(|| panic!("call 1"));
        assert!(call.complete);
        assert_eq!(call.legs.len(), 2);
    }
}
