//! History pages against the lab's three CDR databases, with calls Asterisk
//! itself recorded: keyset pages in every order return each leg exactly
//! once, legs group into calls by linkedid, a call expands to all its legs,
//! the same calls come out of every backend, and a queue-restricted user
//! sees exactly the calls that waited in their queue.

mod common;

use chrono::{Duration, NaiveDateTime, Utc};
use common::Lab;
use std::collections::{BTreeMap, BTreeSet};
use switchboard::access::Visibility;
use switchboard::cdr::columns::Field;
use switchboard::cdr::filter::{CdrFilter, Order, SortKey};
use switchboard::cdr::history::{CallList, legs_of};
use switchboard::cdr::record::CdrRecord;
use switchboard::cdr::store::CdrStore;

/// Lab tests share one Asterisk: one at a time within this binary.
static LAB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Lab traffic plus one call through the support queue, then quiet;
/// returns when it started.
fn calls(lab: &Lab) -> NaiveDateTime {
    let since = Utc::now().naive_utc() - Duration::seconds(2);
    lab.cli("channel originate Local/5550100@callers-support application Wait 2")
        .unwrap_or_else(|e| panic!("{e}"));
    lab.traffic(6, 2.0).finish();
    lab.quiesce();
    since
}

async fn store(url: &str) -> CdrStore {
    CdrStore::connect(url, "cdr", &BTreeMap::new())
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// From `since` to a minute from now: the lab writes PBX local time, and
/// the lab's zone is UTC. Older rows differ between the backends (each keeps
/// its own history across lab runs), so tests look at their own calls.
fn window(since: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    (since, Utc::now().naive_utc() + Duration::minutes(1))
}

async fn all_rows(store: &CdrStore, filter: &CdrFilter) -> Vec<CdrRecord> {
    let fields: Vec<Field> = store.columns().fields().collect();
    let mut rows = Vec::new();
    store
        .for_each(filter, &fields, |r| {
            rows.push(r.clone());
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rows
}

/// Walks every page of `rows_per_page` legs; returns the legs in page order.
async fn walk(
    store: &CdrStore,
    filter: &CdrFilter,
    order: Order,
    rows_per_page: u32,
) -> (CallList, Vec<CdrRecord>) {
    let mut list = CallList::default();
    let mut legs = Vec::new();
    let mut pages = 0;
    while !list.done {
        let page = store
            .page(filter, order, list.next.as_ref(), rows_per_page)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        legs.extend(page.iter().cloned());
        list.append(page, order, rows_per_page);
        pages += 1;
        assert!(pages < 10_000, "pagination does not end");
    }
    (list, legs)
}

fn key(order: Order, r: &CdrRecord) -> (Option<NaiveDateTime>, i64) {
    match order.key {
        SortKey::Start => (r.start, 0),
        SortKey::Duration => (None, r.duration_s),
    }
}

#[tokio::test]
async fn pages_return_every_leg_once_grouped_into_calls() {
    let _g = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (from, to) = window(calls(&lab));
    let filter = CdrFilter::window(from, to, Visibility::All);
    let mut calls_by_backend = Vec::new();
    for (name, url) in lab.cdr_urls() {
        let store = store(&url).await;
        let rows = all_rows(&store, &filter).await;
        assert!(rows.len() > 20, "{name}: only {} legs", rows.len());
        let expected: BTreeSet<&str> = rows.iter().map(|r| r.uniqueid.as_str()).collect();
        for order in [
            Order {
                key: SortKey::Start,
                descending: true,
            },
            Order {
                key: SortKey::Start,
                descending: false,
            },
            Order {
                key: SortKey::Duration,
                descending: true,
            },
        ] {
            let (list, legs) = walk(&store, &filter, order, 7).await;
            let got: Vec<&str> = legs.iter().map(|r| r.uniqueid.as_str()).collect();
            let unique: BTreeSet<&str> = got.iter().copied().collect();
            assert_eq!(
                unique.len(),
                got.len(),
                "{name} {order:?}: a leg came twice"
            );
            assert_eq!(unique, expected, "{name} {order:?}: legs lost or added");
            for pair in legs.windows(2) {
                let (a, b) = (key(order, &pair[0]), key(order, &pair[1]));
                assert!(
                    if order.descending { a >= b } else { a <= b },
                    "{name} {order:?}: out of order: {a:?} then {b:?}"
                );
            }
            for call in &list.calls {
                assert!(
                    call.legs.iter().all(|l| l.linkedid == call.id),
                    "{name}: call {} mixes linkedids",
                    call.id
                );
            }
            assert_eq!(list.legs, rows.len());
        }
        // Expanding a call loads every leg with its linkedid.
        let (list, _) = walk(
            &store,
            &filter,
            Order {
                key: SortKey::Start,
                descending: true,
            },
            50,
        )
        .await;
        let multi = list
            .calls
            .iter()
            .find(|c| rows.iter().filter(|r| r.linkedid == c.id).count() > 2)
            .unwrap_or_else(|| panic!("{name}: no call with more than two legs"));
        let around = multi.start().unwrap_or(from);
        let scope = CdrFilter::window(around, around, Visibility::All);
        let legs = legs_of(&store, &multi.id, around, &scope)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let want: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.linkedid == multi.id)
            .map(|r| r.uniqueid.as_str())
            .collect();
        let got: BTreeSet<&str> = legs.iter().map(|r| r.uniqueid.as_str()).collect();
        assert_eq!(got, want, "{name}: legs of {}", multi.id);
        let ids: BTreeSet<String> = list.calls.iter().map(|c| c.id.clone()).collect();
        calls_by_backend.push((name, ids));
    }
    assert_eq!(
        calls_by_backend[0].1, calls_by_backend[1].1,
        "mariadb vs postgres"
    );
    assert_eq!(
        calls_by_backend[0].1, calls_by_backend[2].1,
        "mariadb vs sqlite"
    );
}

#[tokio::test]
async fn a_queue_supervisor_sees_exactly_the_calls_of_their_queue() {
    let _g = LAB.lock().await;
    let Some(lab) = Lab::get() else { return };
    let (from, to) = window(calls(&lab));
    let waited_in = |r: &CdrRecord, q: &str| {
        r.lastapp == "Queue" && (r.lastdata == q || r.lastdata.starts_with(&format!("{q},")))
    };
    for (name, url) in lab.cdr_urls() {
        let store = store(&url).await;
        let all = all_rows(&store, &CdrFilter::window(from, to, Visibility::All)).await;
        let want: BTreeSet<&str> = all
            .iter()
            .filter(|r| waited_in(r, "support"))
            .map(|r| r.linkedid.as_str())
            .collect();
        assert!(
            !want.is_empty(),
            "{name}: no support call in the lab traffic"
        );
        let restricted = Visibility::Restricted {
            extensions: vec![],
            queues: vec!["support".into()],
        };
        let seen = all_rows(&store, &CdrFilter::window(from, to, restricted)).await;
        let got: BTreeSet<&str> = seen.iter().map(|r| r.linkedid.as_str()).collect();
        assert_eq!(got, want, "{name}: calls visible to a support supervisor");
        let every_leg = all
            .iter()
            .filter(|r| want.contains(r.linkedid.as_str()))
            .count();
        assert_eq!(seen.len(), every_leg, "{name}: every leg of a visible call");
    }
}
