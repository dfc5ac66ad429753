//! The console's CDR worker (what the History and KPI screens run) against
//! the lab's three CDR databases: pages, a call's legs, KPIs and export all
//! answer, and a restricted user's ACL holds whatever the screen asks for.

mod common;

use chrono::{Duration, NaiveDateTime, Utc};
use common::Lab;
use std::collections::{BTreeMap, BTreeSet};
use switchboard::access::Visibility;
use switchboard::cdr::filter::{CdrFilter, Order, SortKey};
use switchboard::cdr::queue_log::QueueKpiSettings;
use switchboard::cdr::record::CdrRecord;
use switchboard::cdr::store::CdrStore;
use switchboard::secret::Secret;
use switchboard::service::cdr::{self as db, DbLink, DbReply, DbRequest, DbSettings};

fn worker(lab: &Lab, url: &str, visibility: Visibility, dir: &std::path::Path) -> DbLink {
    db::spawn(DbSettings {
        url: Ok(Secret::new(url)),
        table: "cdr".into(),
        columns: BTreeMap::new(),
        visibility,
        extension_rule: lab.extension_rule(),
        tz: chrono_tz::UTC,
        queue_log: Ok(format!("{}/var/log/asterisk/queue_log", lab.var("LAB_ROOT")).into()),
        queue_kpi: QueueKpiSettings::default(),
        export_dir: dir.to_path_buf(),
        deadline: std::time::Duration::from_secs(30),
        kpi_days: Err("no app database in this test".into()),
        connections: Default::default(),
    })
}

async fn ask(link: &mut DbLink, req: DbRequest) -> DbReply {
    link.requests
        .send(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    loop {
        let reply = tokio::time::timeout(std::time::Duration::from_secs(30), link.replies.recv())
            .await
            .unwrap_or_else(|_| panic!("no reply within 30 s"))
            .unwrap_or_else(|| panic!("worker stopped"));
        if !matches!(reply, DbReply::Progress { .. }) {
            return reply;
        }
    }
}

fn on_301(r: &CdrRecord) -> bool {
    [&r.channel, &r.dstchannel]
        .iter()
        .any(|c| c.starts_with("PJSIP/301-") || c.starts_with("Local/301@"))
        || r.src == "301"
        || r.dst == "301"
}

#[tokio::test]
async fn the_screens_queries_answer_and_keep_the_acl_on_every_backend() {
    let Some(lab) = Lab::get() else { return };
    let since: NaiveDateTime = Utc::now().naive_utc() - Duration::seconds(2);
    for desk in ["301", "302"] {
        lab.cli(&format!(
            "channel originate Local/{desk}@phones application Wait 2"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    }
    lab.traffic(4, 2.0).finish();
    lab.quiesce();
    let to = Utc::now().naive_utc() + Duration::minutes(1);
    let alice = Visibility::Restricted {
        extensions: vec!["301".into()],
        queues: vec![],
    };
    for (name, url) in lab.cdr_urls() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut link = worker(&lab, &url, alice.clone(), dir.path());
        // The screen asks for everything; the worker applies alice's ACL.
        let order = Order {
            key: SortKey::Start,
            descending: true,
        };
        let DbReply::Page { legs, .. } = ask(
            &mut link,
            DbRequest::Page {
                id: 1,
                filter: CdrFilter::window(since, to, Visibility::All),
                order,
                cursor: None,
                rows: 500,
            },
        )
        .await
        else {
            panic!("{name}: no page");
        };
        assert!(!legs.is_empty(), "{name}: alice sees no call");
        let calls: BTreeSet<&str> = legs.iter().map(|l| l.linkedid.as_str()).collect();
        for call in &calls {
            assert!(
                legs.iter().any(|l| l.linkedid == *call && on_301(l)),
                "{name}: alice sees call {call} that 301 was not on"
            );
        }
        // Every call with 301 on it is there.
        let store = CdrStore::connect(&url, "cdr", &BTreeMap::new())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut all = Vec::new();
        store
            .for_each(
                &CdrFilter::window(since, to, Visibility::All),
                &store.columns().fields().collect::<Vec<_>>(),
                |r| {
                    all.push(r.clone());
                    Ok(())
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let want: BTreeSet<&str> = all
            .iter()
            .filter(|r| on_301(r))
            .map(|r| r.linkedid.as_str())
            .collect();
        assert_eq!(calls, want, "{name}: the calls 301 was on");
        // Expanding a call brings its other legs.
        let call = *calls.iter().next().unwrap_or_else(|| panic!("no call"));
        let around = legs
            .iter()
            .filter(|l| l.linkedid == call)
            .filter_map(|l| l.start)
            .min()
            .unwrap_or(since);
        let DbReply::Legs { legs: all_legs, .. } = ask(
            &mut link,
            DbRequest::Legs {
                id: 2,
                pbx: None,
                call: call.to_string(),
                around,
            },
        )
        .await
        else {
            panic!("{name}: no legs");
        };
        assert_eq!(
            all_legs.len(),
            all.iter().filter(|r| r.linkedid == call).count(),
            "{name}: legs of {call}"
        );
        // KPIs: only alice's extension.
        let DbReply::Kpi {
            extensions, queues, ..
        } = ask(
            &mut link,
            DbRequest::Kpi {
                id: 3,
                from: since,
                to,
                options: Default::default(),
            },
        )
        .await
        else {
            panic!("{name}: no KPIs");
        };
        assert_eq!(
            extensions
                .iter()
                .map(|k| k.extension.as_str())
                .collect::<Vec<_>>(),
            ["301"],
            "{name}"
        );
        assert!(
            queues.as_ref().is_ok_and(|q| q.is_empty()),
            "{name}: alice has no queue: {queues:?}"
        );
        // Export: a new file with alice's legs only.
        let DbReply::Exported { rows, path, .. } = ask(
            &mut link,
            DbRequest::Export {
                id: 4,
                filter: CdrFilter::window(since, to, Visibility::All),
            },
        )
        .await
        else {
            panic!("{name}: no export");
        };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text.lines().count() as u64,
            rows + 1,
            "{name}: header + rows"
        );
        assert_eq!(
            rows as usize,
            legs.len(),
            "{name}: the same legs as the page"
        );
        assert!(!text.contains("PJSIP/302-") || text.contains("PJSIP/301-"));
    }
}

#[tokio::test]
async fn a_wrong_url_is_a_message_on_screen_not_a_crash() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut link = worker(
        &lab,
        "mysql://nobody:wrong@127.0.0.1:1/none",
        Visibility::All,
        dir.path(),
    );
    let now = Utc::now().naive_utc();
    let reply = ask(
        &mut link,
        DbRequest::Kpi {
            id: 9,
            from: now,
            to: now,
            options: Default::default(),
        },
    )
    .await;
    let DbReply::Failed { id, message } = reply else {
        panic!("{reply:?}");
    };
    assert_eq!(id, 9);
    assert!(
        message.contains("mysql://nobody:***@127.0.0.1:1/none"),
        "{message}"
    );
    assert!(!message.contains("wrong"), "the password shows: {message}");
}
