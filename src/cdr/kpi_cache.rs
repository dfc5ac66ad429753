//! Extension KPIs over any range of days. The range is bounded by the
//! data's first and last day; each closed day (before today, PBX local
//! time) is computed once for everyone and kept in the app database
//! (`kpi_days`) with the count and largest `uniqueid` of the day's CDR
//! rows. While a day can still change (a call that ends after midnight
//! writes its CDR under the day it began), a kept day is used only when
//! both are unchanged, else computed again; figures computed once the day
//! had settled ([`SETTLE`] after its end) are final and read without
//! looking at the CDRs (counting a day's rows costs a fifth of computing
//! it on a 10-million-row table). Today is always computed fresh. A user's
//! figures are the kept figures of the extensions their ACL allows: every
//! call an allowed extension was on is one the user may see, so nothing
//! else differs.

use super::CdrError;
use super::filter::CdrFilter;
use super::kpi::{ExtensionKpi, extension_kpis};
use super::queue_log::{self, QueueKpiSettings, QueueLog};
use super::store::CdrStore;
use crate::access::Visibility;
use crate::dialer::store::{AppDb, KpiDay};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Changes whenever a KPI definition does: kept days computed under an
/// older definition are computed again.
const DEFINITIONS: u32 = 1;

/// How long after its end a day can still change: a call writes its CDR
/// when it ends, under the day it began, and no call lasts two days.
pub const SETTLE: Duration = Duration::days(2);

/// Longest wait for the app database when reading or keeping a day: past
/// it, the day is computed (or not kept) and the KPIs still answer.
const CACHE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The app database that keeps KPI days, opened from `url` within 5 s; or
/// `None` when there is none or it fails (logged, its message escaped: the
/// KPIs are then computed day by day, only slower).
pub async fn open_kept_days(url: Result<&crate::secret::Secret, String>) -> Option<AppDb> {
    let why = match url {
        Ok(url) => match tokio::time::timeout(CACHE_DEADLINE, AppDb::open(url.expose())).await {
            Ok(Ok(db)) => return Some(db),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the app database did not open within 5 s".to_string(),
        },
        Err(e) => e,
    };
    tracing::warn!(
        "KPI days not kept (every day computed): {}",
        crate::sanitize::escape(&why)
    );
    None
}

/// A queue_log already read for one window and user, reused for the day
/// that is that window instead of reading the file again.
#[derive(Clone, Copy)]
pub struct ReadLog<'a> {
    /// What was read.
    pub log: &'a QueueLog,
    /// Its window, PBX local time: `[from, to)`.
    pub from: NaiveDateTime,
    /// See `from`.
    pub to: NaiveDateTime,
    /// Whose view it was read for.
    pub visibility: &'a Visibility,
}

/// Where the figures come from.
pub struct KpiSources<'a> {
    /// The CDRs.
    pub store: &'a CdrStore,
    /// Asterisk's queue_log, when there is one.
    pub queue_log: Option<&'a Path>,
    /// The same file, already read for a window (the console reads it for
    /// the queue and agent tables): used for a day that is that window.
    pub read: Option<ReadLog<'a>>,
    /// Targets, wrap-up and agents' names (`[kpi]`).
    pub settings: &'a QueueKpiSettings,
    /// The PBX's time zone: queue_log lines carry UTC epochs.
    pub tz: chrono_tz::Tz,
    /// The app database that keeps closed days; `None`: compute every day.
    pub cache: Option<&'a AppDb>,
    /// Compute every day again and keep the new figures (after CDRs of
    /// settled days were imported or deleted).
    pub recompute: bool,
}

impl KpiSources<'_> {
    /// The key kept days are filed under: the CDR source and every setting
    /// the figures depend on, hashed.
    fn key(&self, filter: &CdrFilter) -> String {
        let text = format!(
            "{DEFINITIONS}|{}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.store.identity(),
            filter.extension_rule,
            self.queue_log,
            self.settings.targets,
            self.settings.agent_names.names,
            self.settings.wrapup_pause_reasons,
        );
        let digest = Sha256::digest(text.as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The queue_log of `[from, to)` (PBX local), read for `visibility`.
    fn queue_log(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
        visibility: &Visibility,
    ) -> Result<Option<QueueLog>, CdrError> {
        let Some(path) = self.queue_log else {
            return Ok(None);
        };
        let epoch = |t| crate::clock::local_to_utc(self.tz, t).timestamp();
        let unreadable = |e: std::io::Error| {
            CdrError::Config(format!(
                "queue_log {}: {e}; check the file, or set [cdr] queue_log (--queue-log)",
                path.display()
            ))
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        queue_log::read(
            std::io::BufReader::new(file),
            epoch(from),
            epoch(to),
            visibility,
            self.settings,
        )
        .map(Some)
        .map_err(unreadable)
    }

    /// One day's figures for `filter`'s user, from the CDRs and queue_log.
    async fn compute(&self, filter: &CdrFilter) -> Result<Vec<ExtensionKpi>, CdrError> {
        let read = self.read.filter(|r| {
            (r.from, r.to, r.visibility) == (filter.from, filter.to, &filter.visibility)
        });
        let owned;
        let log = match read {
            Some(r) => Some(r.log),
            None => {
                owned = self.queue_log(filter.from, filter.to, &filter.visibility)?;
                owned.as_ref()
            }
        };
        extension_kpis(self.store, filter, log, &self.settings.agent_names).await
    }

    /// A closed day's figures for everyone: kept ones when they were
    /// computed after the day settled, or when its rows are unchanged; else
    /// computed and kept.
    async fn closed_day(
        &self,
        key: &str,
        day: &CdrFilter,
        cache: &AppDb,
    ) -> Result<Vec<ExtensionKpi>, CdrError> {
        let name = day.from.format("%Y-%m-%d").to_string();
        let kept = match tokio::time::timeout(CACHE_DEADLINE, cache.kpi_day(key, &name)).await {
            Ok(Ok(kept)) => kept,
            Ok(Err(e)) => {
                let e = crate::sanitize::escape(&e.to_string()).into_owned();
                tracing::warn!(day = %name, "KPI cache unreadable, computing the day: {e}");
                None
            }
            Err(_) => {
                tracing::warn!(day = %name, "KPI cache silent for 5 s, computing the day");
                None
            }
        };
        let settled_ms = crate::clock::local_to_utc(self.tz, day.to + SETTLE).timestamp_millis();
        let kept = kept.filter(|_| !self.recompute);
        let parse = |k: &KpiDay| serde_json::from_str::<Vec<ExtensionKpi>>(&k.figures).ok();
        if let Some(figures) = kept
            .as_ref()
            .filter(|k| k.computed_at >= settled_ms)
            .and_then(parse)
        {
            return Ok(figures);
        }
        let settled = crate::clock::now_ms() >= settled_ms;
        // A settled day computed now is final: its rows need no counting.
        let (legs, last_uniqueid) = if settled && kept.is_none() {
            (-1, String::new())
        } else {
            self.store.stamp(day).await?
        };
        let unchanged = kept
            .as_ref()
            .filter(|k| k.legs == legs && k.last_uniqueid == last_uniqueid)
            .and_then(parse);
        if let Some(figures) = &unchanged
            && !settled
        {
            return Ok(figures.clone());
        }
        // Computed again, or found unchanged once the day settled: kept now
        // as final.
        let figures = match unchanged {
            Some(figures) => figures,
            None => self.compute(day).await?,
        };
        let stored = KpiDay {
            legs,
            last_uniqueid,
            figures: serde_json::to_string(&figures).unwrap_or_default(),
            computed_at: crate::clock::now_ms(),
        };
        match tokio::time::timeout(CACHE_DEADLINE, cache.put_kpi_day(key, &name, &stored)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let e = crate::sanitize::escape(&e.to_string()).into_owned();
                tracing::warn!(day = %name, "KPI day not kept: {e}");
            }
            Err(_) => {
                tracing::warn!(day = %name, "KPI day not kept: the app database did not answer within 5 s")
            }
        }
        Ok(figures)
    }
}

/// The extension KPIs of `filter`'s window (whole days, PBX local time)
/// for its user, summed over its days: bounded by the data's first and last
/// day, closed days kept and reused (module docs), days from `today` on
/// computed fresh.
///
/// Errors: a CDR query fails or passes its deadline; the queue_log cannot
/// be read. The app database's failures only cost speed (logged).
pub async fn extension_kpis_by_day(
    src: &KpiSources<'_>,
    filter: &CdrFilter,
    today: NaiveDate,
) -> Result<Vec<ExtensionKpi>, CdrError> {
    let all = filter.clone().with_visibility(Visibility::All);
    let Some((first, last)) = src.store.span(&all).await? else {
        return Ok(Vec::new());
    };
    let key = src.key(filter);
    let mut totals: BTreeMap<String, ExtensionKpi> = BTreeMap::new();
    let mut day = first.date().max(filter.from.date());
    while day <= last.date() && day.and_time(chrono::NaiveTime::MIN) < filter.to {
        let (from, to) = (
            day.and_time(chrono::NaiveTime::MIN).max(filter.from),
            (day + Duration::days(1))
                .and_time(chrono::NaiveTime::MIN)
                .min(filter.to),
        );
        let whole_day = from.time() == chrono::NaiveTime::MIN && to - from == Duration::days(1);
        let figures = match src.cache {
            Some(cache) if day < today && whole_day => {
                let mut everyone = all.clone();
                (everyone.from, everyone.to) = (from, to);
                src.closed_day(&key, &everyone, cache).await?
            }
            _ => {
                let mut own = filter.clone();
                (own.from, own.to) = (from, to);
                src.compute(&own).await?
            }
        };
        for k in figures {
            add(totals.entry(k.extension.clone()).or_default(), &k);
        }
        day += Duration::days(1);
    }
    let only = filter.visibility.extensions();
    Ok(totals
        .into_values()
        .filter(|k| only.is_none_or(|o| o.contains(&k.extension)))
        .map(|mut k| {
            k.aht_s = (k.handled > 0).then(|| k.tht_s as f64 / k.handled as f64);
            k
        })
        .collect())
}

/// Adds a day's figures of an extension to its running totals (AHT is
/// recomputed from the sums at the end).
fn add(total: &mut ExtensionKpi, day: &ExtensionKpi) {
    total.extension.clone_from(&day.extension);
    total.calls += day.calls;
    total.rung += day.rung;
    total.answered += day.answered;
    total.missed += day.missed;
    total.placed += day.placed;
    total.handled += day.handled;
    total.talk_s += day.talk_s;
    total.acw_s += day.acw_s;
    total.tht_s += day.tht_s;
    total.first_start = total.first_start.into_iter().chain(day.first_start).min();
    total.last_end = total.last_end.into_iter().chain(day.last_end).max();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_add_up_and_aht_comes_from_the_sums() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok();
        let day = |calls, handled, tht, first: &str, last: &str| ExtensionKpi {
            extension: "201".into(),
            calls,
            handled,
            tht_s: tht,
            aht_s: Some(tht as f64 / handled as f64),
            first_start: t(first),
            last_end: t(last),
            ..ExtensionKpi::default()
        };
        let mut total = ExtensionKpi::default();
        add(
            &mut total,
            &day(4, 4, 40, "2026-11-02 09:00:00", "2026-11-02 17:00:00"),
        );
        add(
            &mut total,
            &day(2, 1, 50, "2026-11-01 10:00:00", "2026-11-01 11:00:00"),
        );
        assert_eq!((total.calls, total.handled, total.tht_s), (6, 5, 90));
        assert_eq!(total.first_start, t("2026-11-01 10:00:00"));
        assert_eq!(total.last_end, t("2026-11-02 17:00:00"));
    }
}
