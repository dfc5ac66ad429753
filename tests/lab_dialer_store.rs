//! The dialer's app database on the lab's MariaDB and PostgreSQL and on
//! SQLite: migrations apply, two engines claiming at once never get the same
//! lead, retries wait for their delay and an answered lead is never dialed
//! again.

mod common;

use common::Lab;
use std::collections::{HashMap, HashSet};
use switchboard::dialer::campaign::CampaignDef;
use switchboard::dialer::import::parse;
use switchboard::dialer::outcome::Outcome;
use switchboard::dialer::store::{AppDb, Claim, Lease};

const CAMPAIGN: &str = r#"
name = "t"
dial = "Local/{number}@customers"
caller_id = "\"T\" <5551000>"
destination = { queue = "sales" }
[retry]
busy = { delay_s = 60, max_attempts = 2 }
"#;

/// Two leads of campaign `id` due at `now`, claimed by engine `same-id`
/// under `lease`, at most 10 in flight.
fn same_id<'a>(id: i64, now: i64, lease: &'a Lease) -> Claim<'a> {
    Claim {
        campaign: id,
        engine: "same-id",
        n: 2,
        now,
        max_concurrent: Some(10),
        lease: Some(lease),
    }
}

async fn campaign_with_leads(url: &str, leads: usize) -> (AppDb, i64) {
    named_campaign_with_leads(url, "t", leads).await
}

async fn named_campaign_with_leads(url: &str, name: &str, leads: usize) -> (AppDb, i64) {
    let db = AppDb::open(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let def = CampaignDef::parse(&CAMPAIGN.replace("name = \"t\"", &format!("name = \"{name}\"")))
        .unwrap_or_else(|e| panic!("{e}"));
    db.apply(&def, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut csv = String::from("number,name\n");
    for i in 0..leads {
        csv.push_str(&format!("555{i:07},Lead {i}\n"));
    }
    let parsed = parse(csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    let r = db
        .import(name, parsed, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.imported as usize, leads);
    let id = db.campaign(name).await.unwrap_or_else(|e| panic!("{e}")).id;
    (db, id)
}

/// Two engines claim every lead of a fresh 600-lead campaign at once: no
/// lead twice, none lost, and (on servers) both got some.
async fn race(name: &str, url: &str, campaign: &str) {
    let (_, id) = named_campaign_with_leads(url, campaign, 600).await;
    let now = chrono::Utc::now().timestamp_millis();
    let engine = |who: &'static str| {
        let url = url.to_string();
        tokio::spawn(async move {
            let db = AppDb::open(&url).await.unwrap_or_else(|e| panic!("{e}"));
            let mut mine = Vec::new();
            loop {
                let got = db
                    .claim(id, who, 7, now)
                    .await
                    .unwrap_or_else(|e| panic!("{who}: {e}"));
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.lead_id));
            }
        })
    };
    let (a, b) = (engine("engine-a"), engine("engine-b"));
    let (a, b) = (a.await.unwrap_or_default(), b.await.unwrap_or_default());
    let (sa, sb): (HashSet<i64>, HashSet<i64>) =
        (a.iter().copied().collect(), b.iter().copied().collect());
    assert_eq!(sa.len(), a.len(), "{name}: engine a claimed a lead twice");
    assert!(
        sa.is_disjoint(&sb),
        "{name}: both engines claimed {:?}",
        sa.intersection(&sb).next()
    );
    assert_eq!(sa.len() + sb.len(), 600, "{name}: leads lost");
    if name != "sqlite" {
        assert!(
            !a.is_empty() && !b.is_empty(),
            "{name}: one engine got nothing: no real contention"
        );
    }
}

#[tokio::test]
async fn two_engines_never_claim_the_same_lead() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, url) in lab.app_dbs("claims", dir.path()).await {
        race(name, &url, "t").await;
    }
}

/// Kills the CPU hogs when dropped, even when an assertion fails.
struct Hogs(Vec<std::process::Child>);

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Deadlocks between claiming engines (MariaDB meets them under load) never
/// reach an engine as an error: 20 races in a row beside two niced CPU hogs.
#[tokio::test]
async fn claims_survive_twenty_contended_races_under_cpu_load() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dbs = lab.app_dbs("claims_load", dir.path()).await;
    let _hogs = Hogs(
        (0..2)
            .map(|_| {
                std::process::Command::new("nice")
                    .args(["-n", "19", "sh", "-c", "while :; do :; done"])
                    .spawn()
                    .unwrap_or_else(|e| panic!("cpu hog: {e}"))
            })
            .collect(),
    );
    for (name, url) in dbs.iter().filter(|(n, _)| *n == "mariadb") {
        for round in 0..20 {
            race(name, url, &format!("race-{round}")).await;
        }
    }
}

/// `n` of an attempt id `sb-<lead>-<n>-<random>`.
fn attempt_number(id: &str) -> Option<&str> {
    id.split('-').nth(2)
}

/// Attempt ids never repeat, even for the same lead and attempt number in
/// two app databases: Asterisk's CDRs key calls by them.
#[test]
fn attempt_ids_are_unique_across_databases() {
    let ids: HashSet<String> = (0..10_000)
        .map(|_| switchboard::dialer::store::attempt_id(1, 1))
        .collect();
    assert_eq!(ids.len(), 10_000);
    assert!(
        ids.iter()
            .all(|i| i.starts_with("sb-1-1-") && i.len() == 23)
    );
}

#[tokio::test]
async fn retries_wait_their_delay_and_answered_leads_are_done() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, url) in lab.app_dbs("retries", dir.path()).await {
        let (db, id) = campaign_with_leads(&url, 2).await;
        let def = db.campaign("t").await.unwrap_or_else(|e| panic!("{e}")).def;
        let t0 = chrono::Utc::now().timestamp_millis();
        let first = db
            .claim(id, "e", 10, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), 2, "{name}");
        assert!(
            attempt_number(&first[0].attempt_id) == Some("1"),
            "{name}: {}",
            first[0].attempt_id
        );
        assert_eq!(
            first[1].data.get("name").map(String::as_str),
            Some("Lead 1")
        );
        db.finish(&first[0].attempt_id, Outcome::Busy, Some(17), &def, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.finish(&first[1].attempt_id, Outcome::Answered, Some(16), &def, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Finishing twice changes nothing.
        db.finish(&first[1].attempt_id, Outcome::Busy, Some(17), &def, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let early = db
            .claim(id, "e", 10, t0 + 59_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(early.is_empty(), "{name}: retried before its delay");
        let retry = db
            .claim(id, "e", 10, t0 + 60_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retry.len(), 1, "{name}: only the busy lead comes back");
        assert_eq!(retry[0].lead_id, first[0].lead_id);
        assert_eq!(attempt_number(&retry[0].attempt_id), Some("2"), "{name}");
        db.finish(
            &retry[0].attempt_id,
            Outcome::Busy,
            Some(17),
            &def,
            t0 + 61_000,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let p = db.progress(id).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (p.answered, p.exhausted, p.pending, p.live, p.attempts),
            (1, 1, 0, 0, 3),
            "{name}: {p:?}"
        );
        // A number put on the do-not-call list is never claimed.
        let (db2, id2) = {
            let more = parse("number\n5559990001\n".as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
            db.import("t", more, "test")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            db.add_dnc(&["5559990001".to_string()], "test")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (&db, id)
        };
        assert!(
            db2.claim(id2, "e", 10, t0 + 999_000)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .is_empty()
        );
        assert_eq!(
            db2.progress(id2)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .dnc,
            1,
            "{name}"
        );
    }
}

/// The engine's promise in the store, on every backend: an answer recorded
/// for an attempt wins over any later outcome and its lead is never due
/// again; a supervisor's stop and a refused originate give their attempt
/// back and leave the lead due.
#[tokio::test]
async fn answers_are_final_and_stops_and_refusals_give_the_attempt_back() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, url) in lab.app_dbs("verdicts", dir.path()).await {
        let (db, id) = campaign_with_leads(&url, 3).await;
        let def = db.campaign("t").await.unwrap_or_else(|e| panic!("{e}")).def;
        let t0 = chrono::Utc::now().timestamp_millis();
        let c = db
            .claim(id, "e", 3, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 3, "{name}");
        let ids: Vec<&str> = c.iter().map(|a| a.attempt_id.as_str()).collect();
        let lease = switchboard::dialer::store::Lease::new("e");
        assert!(
            db.take_lease(&lease, t0, t0, 60_000)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        db.sending(&ids, &lease, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Answered, then Asterisk froze and the engine's half said busy.
        db.answered(&c[0].attempt_id, t0 + 1_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.finish(&c[0].attempt_id, Outcome::Busy, Some(17), &def, t0 + 9_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.finish(
            &c[1].attempt_id,
            Outcome::Stopped,
            Some(16),
            &def,
            t0 + 2_000,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        db.requeue(&c[2].attempt_id, t0 + 2_000, t0 + 7_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let outcomes: HashMap<String, Option<String>> = db
            .attempts(id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|a| (a.id, a.outcome))
            .collect();
        assert_eq!(
            outcomes[&c[0].attempt_id].as_deref(),
            Some("answered"),
            "{name}"
        );
        assert_eq!(
            outcomes[&c[1].attempt_id].as_deref(),
            Some("stopped"),
            "{name}"
        );
        assert_eq!(
            outcomes[&c[2].attempt_id].as_deref(),
            Some("not_dialed"),
            "{name}"
        );
        // The stopped lead is due now, the refused one 5 s later, and both
        // are on their first counted attempt again; the answered one never.
        let again = db
            .claim(id, "e", 10, t0 + 7_000)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut leads: Vec<i64> = again.iter().map(|a| a.lead_id).collect();
        leads.sort();
        let mut want = vec![c[1].lead_id, c[2].lead_id];
        want.sort();
        assert_eq!(leads, want, "{name}");
        assert!(
            again
                .iter()
                .all(|a| attempt_number(&a.attempt_id) == Some("1")),
            "{name}: {again:?}"
        );
        // A late report on the answered attempt changes nothing.
        db.finish(
            &c[0].attempt_id,
            Outcome::NoAnswer,
            Some(19),
            &def,
            t0 + 99_000,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let p = db.progress(id).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.answered, 1, "{name}: {p:?}");
    }
}

/// One engine per id, on every backend: a lease taken is refused to a
/// second taker until it expires; once taken over, the first holder can
/// neither renew it, nor claim, nor stamp an originate as sent.
#[tokio::test]
async fn a_lease_fences_an_engine_that_lost_it() {
    use switchboard::dialer::DialerError;
    use switchboard::dialer::store::Lease;
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, url) in lab.app_dbs("lease", dir.path()).await {
        let (db, id) = campaign_with_leads(&url, 4).await;
        let t0 = chrono::Utc::now().timestamp_millis();
        let (a, b) = (Lease::new("same-id"), Lease::new("same-id"));
        assert!(
            db.take_lease(&a, t0, t0, 5_000)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "{name}"
        );
        assert!(
            !db.take_lease(&b, t0, t0 + 1_000, 5_000)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "{name}: two holders"
        );
        assert!(
            db.renew_lease(&a, t0 + 2_000, 5_000, "ok")
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "{name}"
        );
        let mine = db
            .claim_within(&same_id(id, t0 + 2_000, &a))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mine.len(), 2, "{name}");
        // A froze past its lease (renewed until t0 + 7 s); B takes over.
        assert!(
            db.take_lease(&b, t0, t0 + 8_000, 5_000)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "{name}"
        );
        assert!(
            !db.renew_lease(&a, t0 + 9_000, 5_000, "resumed")
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "{name}: a lost lease renewed"
        );
        let ids: Vec<&str> = mine.iter().map(|c| c.attempt_id.as_str()).collect();
        assert!(
            matches!(
                db.sending(&ids, &a, t0 + 9_000).await,
                Err(DialerError::LeaseLost(_))
            ),
            "{name}: a fenced engine stamped an originate"
        );
        assert!(
            matches!(
                db.claim_within(&same_id(id, t0 + 9_000, &a)).await,
                Err(DialerError::LeaseLost(_))
            ),
            "{name}: a fenced engine claimed"
        );
        db.sending(&ids, &b, t0 + 9_000)
            .await
            .unwrap_or_else(|e| panic!("{name}: the holder is fenced: {e}"));
    }
}

/// The abandon ledger on every backend: of four live answers since the
/// window's start, one taken by an agent after 1 s (in time), one after
/// 3 s (a drop), one ended after 5 s with no agent (a drop), one ended
/// after 1 s with no agent (the customer hung up: not a drop); an answer
/// before the window does not count. With AMD: a machine is left out (and
/// counted apart), and a person whose greeting ended 2.5 s after the
/// answer, taken 1 s later, is in time.
#[tokio::test]
async fn the_abandon_ledger_counts_late_and_missing_agents_on_every_backend() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, url) in lab.app_dbs("ledger", dir.path()).await {
        let (db, id) = campaign_with_leads(&url, 7).await;
        let def = db.campaign("t").await.unwrap_or_else(|e| panic!("{e}")).def;
        let t0 = chrono::Utc::now().timestamp_millis();
        let calls = db
            .claim(id, "e", 10, t0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(calls.len(), 7, "{name}");
        // (answered at, AMD's verdict after ms, agent after ms, ended after ms)
        let plan = [
            (t0, None, Some(1_000), 20_000),
            (t0, None, Some(3_000), 20_000),
            (t0, None, None, 5_000),
            (t0, None, None, 1_000),
            (t0 - 100_000, None, Some(9_000), 20_000),
            (t0, Some(("MACHINE", 1_500)), None, 12_000),
            (t0, Some(("HUMAN", 2_500)), Some(3_500), 20_000),
        ];
        for (call, (answered, amd, agent, ended)) in calls.iter().zip(plan) {
            let a = &call.attempt_id;
            let ok = |r: Result<(), switchboard::dialer::DialerError>| {
                r.unwrap_or_else(|e| panic!("{name}: {e}"))
            };
            ok(db.answered(a, answered).await);
            if let Some((status, after)) = amd {
                ok(db.amd(a, status, answered + after).await);
            }
            if let Some(after) = agent {
                ok(db.agent(a, "Local/201@agents/n", answered + after).await);
            }
            ok(db
                .finish(a, Outcome::Answered, Some(16), &def, answered + ended)
                .await);
        }
        let ledger = db
            .abandons(id, t0 - 50_000, 2_000, 100.0)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (ledger.answers, ledger.drops, ledger.machines),
            (5, 2, 1),
            "{name}: {ledger:?}"
        );
        // Every machine assumed a person: (2 + 1) / (5 + 1).
        assert_eq!(ledger.percent(), Some(50.0), "{name}");
        // A number's last drop (UK's 72 hours): the late agent's and the
        // missing agent's numbers were; the others not, or too long ago.
        let last = |i: usize, since: i64| {
            let db = db.clone();
            let number = calls[i].number.clone();
            async move { db.last_drop(&number, since, 2_000).await }
        };
        // A machine is no drop for the 72 hours, nor a person taken in time
        // after the greeting.
        for (i, want) in [
            (0, None),
            (1, Some(t0)),
            (2, Some(t0)),
            (3, None),
            (5, None),
            (6, None),
        ] {
            let got = last(i, t0 - 50_000)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name}: call {i}");
        }
        let old = last(4, t0 - 50_000)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(old, None, "{name}: an answer before `since`");
        // The times predictive pacing estimates from: every ended attempt.
        let times = db
            .attempt_times(id, t0 - 200_000, 500)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(times.len(), 7, "{name}: {times:?}");
        // A machine is unanswered for pacing; a person with AMD needed an
        // agent from the end of the greeting.
        let answered: Vec<i64> = times.iter().filter_map(|t| t.answered_at).collect();
        assert_eq!(answered.len(), 6, "{name}: {times:?}");
        assert!(answered.contains(&(t0 + 2_500)), "{name}: {times:?}");
    }
}
