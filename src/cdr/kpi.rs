//! Per-extension KPIs from CDR rows. The formulas are written once, in
//! docs/kpi.md ("History KPIs"), and implemented only here.

use super::CdrError;
use super::columns::Field;
use super::filter::CdrFilter;
use super::filter::Disposition;
use super::record::CdrRecord;
use super::store::CdrStore;
use chrono::{Duration, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// The extension on a channel name: `PJSIP/301-0000002a` → `301`,
/// `SIP/301-…`, `IAX2/301-…`, `DAHDI/1-1` → `1`, and a queue agent's
/// `Local/201@agents-00000001;1` → `201`. `None` for anything else.
pub fn extension_of(channel: &str) -> Option<&str> {
    let (tech, rest) = channel.split_once('/')?;
    let ext = match tech {
        "PJSIP" | "SIP" | "IAX2" | "DAHDI" => rest.rsplit_once('-').map(|(e, _)| e)?,
        "Local" => rest.split_once('@').map(|(e, _)| e)?,
        _ => return None,
    };
    (!ext.is_empty()).then_some(ext)
}

/// The extension a leg's KPIs count for: the channel's extension when it is
/// a number (FreePBX and Issabel extensions are numbers; a trunk's
/// `PJSIP/provider-…` is not an extension and gets no KPIs).
fn kpi_extension(channel: &str) -> Option<&str> {
    extension_of(channel).filter(|e| e.bytes().all(|b| b.is_ascii_digit()))
}

/// KPIs of one extension over a window. Times are PBX local time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExtensionKpi {
    /// The extension.
    pub extension: String,
    /// Legs the extension was on: rung (destination channel) or placed
    /// (source channel).
    pub total: u64,
    /// Of `total`, legs with disposition ANSWERED.
    pub answered: u64,
    /// Legs that rang the extension and were not answered (NO ANSWER, BUSY,
    /// FAILED, CONGESTION).
    pub missed: u64,
    /// THT, total handle time: Σ `billsec` of answered legs, seconds.
    pub tht_s: i64,
    /// AHT, average handle time: THT / answered, seconds (`None` with no
    /// answered leg).
    pub aht_s: Option<f64>,
    /// Start of the first leg.
    pub first_start: Option<NaiveDateTime>,
    /// End (start + `duration`) of the last leg.
    pub last_end: Option<NaiveDateTime>,
}

/// The CDR fields the extension KPIs read.
pub const FIELDS: [Field; 6] = [
    Field::Start,
    Field::Channel,
    Field::Dstchannel,
    Field::Disposition,
    Field::Duration,
    Field::Billsec,
];

/// Accumulates [`ExtensionKpi`]s from a stream of rows.
#[derive(Debug, Default)]
pub struct ExtensionKpis {
    by_ext: BTreeMap<String, ExtensionKpi>,
}

impl ExtensionKpis {
    /// Counts one CDR leg for the extension on its destination channel and,
    /// when different, the one on its source channel.
    pub fn add(&mut self, r: &CdrRecord) {
        let callee = kpi_extension(&r.dstchannel);
        let caller = kpi_extension(&r.channel).filter(|c| Some(*c) != callee);
        let answered = Disposition::parse(&r.disposition) == Some(Disposition::Answered);
        for (ext, rung) in [(callee, true), (caller, false)] {
            let Some(ext) = ext else { continue };
            let k = self
                .by_ext
                .entry(ext.to_string())
                .or_insert_with(|| ExtensionKpi {
                    extension: ext.to_string(),
                    ..ExtensionKpi::default()
                });
            k.total += 1;
            if answered {
                k.answered += 1;
                k.tht_s += r.billsec_s;
            } else if rung {
                k.missed += 1;
            }
            if let Some(start) = r.start {
                let end = start + Duration::seconds(r.duration_s.max(0));
                k.first_start = Some(k.first_start.map_or(start, |f| f.min(start)));
                k.last_end = Some(k.last_end.map_or(end, |l| l.max(end)));
            }
        }
    }

    /// Adds the legs counted by `other`.
    pub fn merge(&mut self, other: ExtensionKpis) {
        for (ext, o) in other.by_ext {
            let k = self.by_ext.entry(ext).or_insert_with(|| ExtensionKpi {
                extension: o.extension.clone(),
                ..ExtensionKpi::default()
            });
            k.total += o.total;
            k.answered += o.answered;
            k.missed += o.missed;
            k.tht_s += o.tht_s;
            k.first_start = k.first_start.into_iter().chain(o.first_start).min();
            k.last_end = k.last_end.into_iter().chain(o.last_end).max();
        }
    }

    /// The KPIs, by extension; `only` keeps the listed extensions.
    pub fn finish(self, only: Option<&[String]>) -> Vec<ExtensionKpi> {
        self.by_ext
            .into_values()
            .filter(|k| only.is_none_or(|o| o.contains(&k.extension)))
            .map(|mut k| {
                k.aht_s = (k.answered > 0).then(|| k.tht_s as f64 / k.answered as f64);
                k
            })
            .collect()
    }
}

/// The KPIs of every extension `filter` lets its user see, from the CDR
/// rows in its window: the one implementation the pane, `switchboard kpi`
/// and its JSON share.
///
/// Errors: the query fails.
pub async fn extension_kpis(
    store: &CdrStore,
    filter: &CdrFilter,
) -> Result<Vec<ExtensionKpi>, CdrError> {
    // Two halves of the window read on two connections at once: the
    // database's row reads, not the counting, bound this query.
    let mid = filter.from + (filter.to - filter.from) / 2;
    let (mut first, mut second) = (filter.clone(), filter.clone());
    first.to = mid;
    second.from = mid;
    let (a, b) = futures_util::try_join!(half(store, &first), half(store, &second))?;
    let mut acc = a;
    acc.merge(b);
    Ok(acc.finish(filter.visibility.extensions()))
}

async fn half(store: &CdrStore, filter: &CdrFilter) -> Result<ExtensionKpis, CdrError> {
    let mut acc = ExtensionKpis::default();
    store
        .for_each(filter, &FIELDS, |rec| {
            acc.add(&rec);
            Ok(())
        })
        .await?;
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(
        channel: &str,
        dstchannel: &str,
        disposition: &str,
        billsec: i64,
        start: &str,
        duration: i64,
    ) -> CdrRecord {
        CdrRecord {
            channel: channel.into(),
            dstchannel: dstchannel.into(),
            disposition: disposition.into(),
            billsec_s: billsec,
            duration_s: duration,
            start: NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M:%S").ok(),
            ..CdrRecord::default()
        }
    }

    #[test]
    fn extensions_from_channels() {
        assert_eq!(extension_of("PJSIP/301-0000002a"), Some("301"));
        assert_eq!(extension_of("SIP/trunk-a-0001"), Some("trunk-a"));
        assert_eq!(extension_of("Local/201@agents-00000001;1"), Some("201"));
        assert_eq!(extension_of("Message/ast_msg_queue"), None);
        assert_eq!(extension_of(""), None);
    }

    #[test]
    fn handle_times_and_misses_by_hand() {
        let mut k = ExtensionKpis::default();
        k.add(&leg(
            "PJSIP/trunk-1",
            "PJSIP/301-1",
            "ANSWERED",
            60,
            "2026-11-21 09:00:00",
            70,
        ));
        k.add(&leg(
            "PJSIP/trunk-2",
            "PJSIP/301-2",
            "NO ANSWER",
            0,
            "2026-11-21 10:00:00",
            20,
        ));
        k.add(&leg(
            "PJSIP/301-3",
            "PJSIP/trunk-3",
            "ANSWERED",
            30,
            "2026-11-21 11:00:00",
            35,
        ));
        k.add(&leg(
            "PJSIP/301-4",
            "PJSIP/trunk-4",
            "BUSY",
            0,
            "2026-11-21 12:00:00",
            5,
        ));
        assert_eq!(
            k.by_ext.keys().collect::<Vec<_>>(),
            ["301"],
            "a trunk is not an extension"
        );
        let all = k.finish(Some(&["301".to_string()]));
        assert_eq!(all.len(), 1);
        let e = &all[0];
        // 4 legs; answered: 09:00 in, 11:00 out; missed: only the inbound
        // NO ANSWER (an outbound BUSY is not a miss of 301).
        assert_eq!((e.total, e.answered, e.missed, e.tht_s), (4, 2, 1, 90));
        assert_eq!(e.aht_s, Some(45.0));
        assert_eq!(
            e.first_start.map(|t| t.to_string()).as_deref(),
            Some("2026-11-21 09:00:00")
        );
        assert_eq!(
            e.last_end.map(|t| t.to_string()).as_deref(),
            Some("2026-11-21 12:00:05")
        );
    }
}
