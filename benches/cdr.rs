//! CDR figures on the 10,000,000-row FreePBX-shaped table `cdr_bench` that
//! `scripts/bench-cdr` fills in the lab's MariaDB, measured in-process after
//! connecting (what the History and KPI screens wait for):
//! - first History page of one extension's day, and a page deep in the day
//!   (keyset: page N costs what page 1 costs); target 50 ms;
//! - a KPI day for 500 extensions; target 500 ms; and its rows read alone
//!   (the floor under it);
//! - a month of 500 extensions, first computed into a fresh app database,
//!   then with its days kept; target 1 s once kept;
//! - export to CSV (discarded); target 200,000 rows/s.
//!
//! Run: scripts/bench-cdr (it sets SWITCHBOARD_CDR_URL and fills the table).

use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::time::Instant;
use switchboard::access::Visibility;
use switchboard::cdr::export::{Format, Writer};
use switchboard::cdr::filter::{CdrFilter, Order, SortKey};
use switchboard::cdr::kpi::extension_kpis;
use switchboard::cdr::kpi_cache::{KpiSources, extension_kpis_by_day};
use switchboard::cdr::queue_log::QueueKpiSettings;
use switchboard::cdr::store::CdrStore;
use switchboard::dialer::store::AppDb;

/// The History figures: a first page and a deep page of one extension's day.
async fn history(store: &CdrStore) {
    let newest = Order {
        key: SortKey::Start,
        descending: true,
    };
    let mut one_ext = CdrFilter::window(day(15), day(16), Visibility::All);
    one_ext.dst = Some("1301".into());
    let first = median_ms(11, || async {
        let legs = store
            .page(&one_ext, newest, None, 50)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(legs.len(), 50);
    })
    .await;
    println!("history first page (one day, one extension, 50 legs): {first:.1} ms");
    // Walk to page 10 and time the next one.
    let mut list = switchboard::cdr::history::CallList::default();
    for _ in 0..10 {
        let legs = store
            .page(&one_ext, newest, list.next.as_ref(), 50)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        list.append(legs, newest, 50);
    }
    let deep = median_ms(11, || async {
        store
            .page(&one_ext, newest, list.next.as_ref(), 50)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    })
    .await;
    println!("history page 11 of the same view: {deep:.1} ms");
}

fn day(d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 10, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// Median of `runs` timings of `f`, ms.
async fn median_ms<F, Fut>(runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        t.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("SWITCHBOARD_CDR_URL") else {
        eprintln!("cdr bench: run it through scripts/bench-cdr (needs the lab's MariaDB)");
        return;
    };
    let store = CdrStore::connect(&url, "cdr_bench", &BTreeMap::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // `cargo bench --bench cdr -- kpi-day`: the KPI day alone.
    let kpi_day_only = std::env::args().any(|a| a == "kpi-day");
    if !kpi_day_only {
        history(&store).await;
    }
    let whole_day = CdrFilter::window(day(15), day(16), Visibility::All);
    let kpi = median_ms(5, || async {
        let names = switchboard::cdr::queue_log::AgentNames::default();
        let k = extension_kpis(&store, &whole_day, None, &names)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.len(), 500);
    })
    .await;
    println!("KPI day, 500 extensions: {kpi:.0} ms");
    // The floor under it: the same two halves read, nothing counted.
    let fields = switchboard::cdr::kpi::FIELDS;
    let rows_only = median_ms(5, || async {
        let mid = day(15) + chrono::Duration::hours(12);
        let (a, b) = (
            CdrFilter::window(day(15), mid, Visibility::All),
            CdrFilter::window(mid, day(16), Visibility::All),
        );
        let (x, y) = futures_util::try_join!(
            store.for_each(&a, &fields, |_| Ok(())),
            store.for_each(&b, &fields, |_| Ok(()))
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(x + y > 300_000);
    })
    .await;
    println!("KPI day's rows alone (read, not counted): {rows_only:.0} ms");
    if kpi_day_only {
        return;
    }
    // A month of closed days: computed once into a fresh (SQLite) app
    // database, then read back.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kept = AppDb::open(&format!(
        "sqlite://{}/kpi.db?mode=rwc",
        dir.path().display()
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let settings = QueueKpiSettings::default();
    let sources = KpiSources {
        store: &store,
        queue_log: None,
        read: None,
        settings: &settings,
        tz: chrono_tz::UTC,
        cache: Some(&kept),
        recompute: false,
    };
    let month = CdrFilter::window(day(1), day(31), Visibility::All);
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
    let start = Instant::now();
    let first = extension_kpis_by_day(&sources, &month, today)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "KPI month (30 days, 500 extensions), first: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let again = median_ms(5, || async {
        let k = extension_kpis_by_day(&sources, &month, today)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k, first);
    })
    .await;
    println!("KPI month, days kept: {again:.0} ms");
    let three_days = CdrFilter::window(day(10), day(13), Visibility::All);
    let fields: Vec<_> = store.columns().fields().collect();
    let start = Instant::now();
    let mut w = Writer::new(
        std::io::sink(),
        Format::Csv { bom: false },
        store.columns(),
        chrono_tz::UTC,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rows = store
        .for_each(&three_days, &fields, |r| w.write(r))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = start.elapsed().as_secs_f64();
    println!(
        "export: {rows} rows in {secs:.2} s = {:.0} rows/s",
        rows as f64 / secs
    );
}
