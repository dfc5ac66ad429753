//! `switchboard kpi` against the lab's real data (the CDRs Asterisk wrote to
//! each of the three databases; the queue_log file it writes), with the
//! lab's config (`scripts/lab up`: members `Local/2XX@agents`, 2 s wrap-up).
//! Expected figures are computed here from the raw rows and lines, by rules
//! simpler than the code's (docs/kpi.md), never by the code under test.

mod common;

use common::Lab;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn run(lab: &Lab, args: &[&str]) -> Vec<Value> {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(lab.var("LAB_CONFIG"))
        .args(args)
        .args(["--tz", "UTC", "--format", "json"])
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("SWITCHBOARD_CDR_URL")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    common::json_lines(&o, &format!("{args:?}"))
}

/// The lab's phones and queue members (tests/lab/asterisk): nothing else is
/// an extension.
fn lab_extensions() -> BTreeSet<String> {
    (201..=207)
        .chain(301..=305)
        .map(|e| e.to_string())
        .collect()
}

/// The lab's member names (queues.conf) by extension.
const AGENTS: [(&str, &str); 9] = [
    ("201", "Alice Martin"),
    ("202", "Bruno Díaz"),
    ("203", "Chloé Dubois"),
    ("204", "Dmitri Volkov"),
    ("205", "Eve Lindqvist"),
    ("206", "Farid Haddad"),
    ("207", "Greta Müller"),
    ("301", "Desk 301"),
    ("302", "Desk 302"),
];

/// Today's queue_log lines (UTC day), from a copy: Asterisk keeps appending
/// to the live file while tests run.
fn todays_queue_log(lab: &Lab) -> (tempfile::TempDir, String, Vec<Vec<String>>) {
    let live = std::path::Path::new(lab.var("LAB_ROOT")).join("var/log/asterisk/queue_log");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("queue_log");
    std::fs::copy(&live, &path).unwrap_or_else(|e| panic!("{}: {e}", live.display()));
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let from = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0);
    let lines = log
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect::<Vec<_>>())
        .filter(|p| {
            p.len() >= 5
                && p[0]
                    .parse::<i64>()
                    .is_ok_and(|t| t >= from && t < from + 86_400)
        })
        .collect();
    (dir, path.to_string_lossy().into_owned(), lines)
}

fn n(p: &[String], i: usize) -> u64 {
    p.get(i).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[test]
fn extension_kpis_count_calls_and_the_agents_own_talk_alike_on_every_backend() {
    let Some(lab) = Lab::get() else { return };
    let traffic = lab.traffic(5, 2.0);
    traffic.finish();
    // No call may end (and write a CDR or a queue_log line) from here on.
    lab.quiesce();
    let (_dir, _file, log) = todays_queue_log(&lab);
    // Calls each member answered today, from queue_log's CONNECT lines.
    let mut connects: BTreeMap<&str, u64> = BTreeMap::new();
    for p in log.iter().filter(|p| p[4] == "CONNECT") {
        if let Some((ext, _)) = AGENTS.iter().find(|(_, name)| *name == p[3]) {
            *connects.entry(ext).or_default() += 1;
        }
    }
    // The backends hold the same calls unless one was down while Asterisk
    // wrote (the dialer's tests stop PostgreSQL): the cross-checks with the
    // queue_log and between backends are for those holding every call.
    let exports: Vec<(&str, String, Vec<Value>)> = lab
        .cdr_urls()
        .into_iter()
        .map(|(name, url)| {
            let rows = run(&lab, &["cdr", "export", "--cdr-url", &url]);
            (name, url, rows)
        })
        .collect();
    let fingerprint = |rows: &[Value]| {
        let mut legs: Vec<String> = rows
            .iter()
            .map(|r| {
                [
                    "uniqueid",
                    "channel",
                    "dstchannel",
                    "disposition",
                    "billsec",
                ]
                .map(|f| r[f].to_string())
                .join("|")
            })
            .collect();
        legs.sort();
        legs
    };
    let fullest = exports
        .iter()
        .map(|(_, _, rows)| fingerprint(rows))
        .max_by_key(Vec::len)
        .unwrap_or_default();
    let complete: Vec<bool> = exports
        .iter()
        .map(|(_, _, rows)| fingerprint(rows) == fullest)
        .collect();
    assert!(
        complete.iter().filter(|c| **c).count() >= 2,
        "no two CDR backends hold the same calls: {:?}",
        exports
            .iter()
            .map(|(n, _, r)| (n, r.len()))
            .collect::<Vec<_>>()
    );
    let mut per_backend: Vec<(String, Vec<Value>)> = Vec::new();
    for ((name, url, rows), complete) in exports.iter().zip(complete) {
        let kpis = run(&lab, &["kpi", "--by", "extension", "--cdr-url", url]);
        let seen: BTreeSet<String> = kpis
            .iter()
            .map(|k| k["extension"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(
            seen.is_subset(&lab_extensions()) && seen.contains("201"),
            "{name}: customers or trunks among extensions: {seen:?}"
        );
        for k in &kpis {
            let ext = k["extension"].as_str().unwrap_or("");
            let get = |f: &str| k[f].as_u64().unwrap_or(u64::MAX);
            // A queue member's answered calls: each is one answered leg
            // from the Queue app to the member's `Local/2XX@agents-…;1`,
            // however many other legs the call has; and a call no leg rang
            // it on (an originate straight into `Local/2XX@agents`, as the
            // supervisor-action tests make) that its `;2` half answered.
            if ext.starts_with('2') {
                let local = format!("Local/{ext}@agents-");
                let linkedid = |r: &&Value| r["linkedid"].as_str().unwrap_or("").to_string();
                let rang: BTreeSet<String> = rows
                    .iter()
                    .filter(|r| r["dstchannel"].as_str().unwrap_or("").starts_with(&local))
                    .map(|r| linkedid(&r))
                    .collect();
                let queued: BTreeSet<String> = rows
                    .iter()
                    .filter(|r| {
                        r["dstchannel"].as_str().unwrap_or("").starts_with(&local)
                            && r["lastapp"] == "Queue"
                            && r["disposition"] == "ANSWERED"
                    })
                    .map(|r| linkedid(&r))
                    .collect();
                let direct: BTreeSet<String> = rows
                    .iter()
                    .filter(|r| {
                        let own = r["channel"].as_str().unwrap_or("");
                        own.starts_with(&local)
                            && own.ends_with(";2")
                            && r["disposition"] == "ANSWERED"
                            && !rang.contains(&linkedid(r))
                    })
                    .map(|r| linkedid(&r))
                    .collect();
                assert_eq!(
                    get("answered"),
                    (queued.len() + direct.len()) as u64,
                    "{name}: {ext} answered per call: {k}"
                );
                // The queue_log's CONNECTs are the queue calls.
                if complete {
                    assert_eq!(
                        queued.len() as u64,
                        connects.get(ext).copied().unwrap_or(0),
                        "{name}: {ext}: the CDRs and queue_log disagree: {k}"
                    );
                }
            }
            // Talk from the agent's own leg: the lab's agents talk 2 to 9 s
            // (and callers may hang up sooner); wrap-up is the queue's 2 s.
            let handled = get("handled");
            if handled > 0 && ext.starts_with('2') {
                let talk = get("talk_s") as f64 / handled as f64;
                assert!(talk <= 10.0, "{name}: {ext} talks {talk:.1} s a call: {k}");
                assert!(get("acw_s") <= 2 * handled, "{name}: {ext}: {k}");
                assert!(
                    k["aht_s"].as_f64().is_some_and(|a| a <= 12.0),
                    "{name}: {ext}: AHT beyond talk + wrap-up: {k}"
                );
            }
        }
        if complete {
            per_backend.push((name.to_string(), kpis));
        } else {
            println!("{name} lost calls while it was down: not compared");
        }
    }
    let (first, rest) = per_backend
        .split_first()
        .unwrap_or_else(|| panic!("no backend"));
    for (name, kpis) in rest {
        assert_eq!(
            kpis, &first.1,
            "{name} and {} give different extension KPIs",
            first.0
        );
    }
}

#[test]
fn queue_and_agent_kpis_equal_hand_computation_on_the_queue_log() {
    let Some(lab) = Lab::get() else { return };
    let (_dir, file, log) = todays_queue_log(&lab);
    // T per queue is its queues.conf servicelevel only when configured; the
    // lab config leaves it at the default 20 s. Short abandons: under 5 s.
    let (t, short) = (20u64, 5u64);
    // (offered, answered, abandoned, short, answered within T, abandoned
    // within T, exited) by hand.
    let mut hand: BTreeMap<&str, [u64; 7]> = BTreeMap::new();
    // (answered, missed, talk) per agent.
    let mut agents: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for p in &log {
        if p[2] != "NONE" {
            let h = hand.entry(p[2].as_str()).or_default();
            match p[4].as_str() {
                "ENTERQUEUE" => h[0] += 1,
                "CONNECT" => {
                    h[1] += 1;
                    h[4] += u64::from(n(p, 5) <= t);
                }
                "ABANDON" => {
                    h[2] += 1;
                    h[3] += u64::from(n(p, 7) < short);
                    h[5] += u64::from(n(p, 7) <= t);
                }
                "EXITWITHTIMEOUT" | "EXITEMPTY" | "EXITWITHKEY" => h[6] += 1,
                _ => {}
            }
        }
        let a = agents.entry(p[3].as_str()).or_default();
        match p[4].as_str() {
            "CONNECT" => a[0] += 1,
            "RINGNOANSWER" => a[1] += 1,
            "COMPLETEAGENT" | "COMPLETECALLER" => a[2] += n(p, 6),
            _ => {}
        }
    }
    let kpis = run(&lab, &["kpi", "--by", "queue", "--queue-log", &file]);
    assert!(!kpis.is_empty());
    let pct = |num: u64, den: u64| (den > 0).then(|| num as f64 * 100.0 / den as f64);
    for k in &kpis {
        let q = k["queue"].as_str().unwrap_or("");
        let [
            offered,
            answered,
            abandoned,
            short_n,
            answered_in,
            abandoned_in,
            exited,
        ] = hand[q];
        let got = |f: &str| k[f].as_u64();
        assert_eq!(
            [
                got("offered"),
                got("answered"),
                got("abandoned"),
                got("short_abandoned"),
                got("exited")
            ],
            [offered, answered, abandoned, short_n, exited].map(Some),
            "queue {q}"
        );
        for (field, expected) in [
            ("sl", pct(answered_in, answered)),
            ("sl2", pct(answered_in + abandoned_in, answered + abandoned)),
            ("sl_offered", pct(answered_in, offered)),
        ] {
            let v = k[field].as_f64();
            assert!(
                match (v, expected) {
                    (Some(v), Some(e)) => (v - e).abs() < 1e-9,
                    (None, None) => true,
                    _ => false,
                },
                "queue {q}: {field} {v:?}, by hand {expected:?}"
            );
        }
        // The figure shown is the configured variant (the default: over
        // offered calls), named beside it.
        assert_eq!(k["sl_variant"], "offered", "queue {q}");
        assert_eq!(k["service_level"], k["sl_offered"], "queue {q}");
    }
    let rows = run(&lab, &["kpi", "--by", "agent", "--queue-log", &file]);
    for r in &rows {
        let name = r["agent"].as_str().unwrap_or("");
        let [answered, missed, talk] = agents.get(name).copied().unwrap_or_default();
        assert_eq!(
            (
                r["answered"].as_u64(),
                r["missed"].as_u64(),
                r["talk_s"].as_u64()
            ),
            (Some(answered), Some(missed), Some(talk)),
            "agent {name}: {r}"
        );
        // A member added without a name (`switchboard act add PJSIP/303 …`
        // in the supervisor-action tests) is named by its interface.
        let ext = AGENTS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(e, _)| *e)
            .or_else(|| name.strip_prefix("PJSIP/"));
        assert_eq!(r["extension"].as_str(), ext, "agent {name}");
    }
    assert!(
        rows.iter().any(|r| r["answered"].as_u64() > Some(0)),
        "no agent answered today: {rows:?}"
    );
}

/// Runs SQL as MariaDB's root on the lab's server.
fn root_sql(lab: &Lab, sql: &str) -> String {
    let o = Command::new("mariadb")
        .args([
            &format!("--socket={}", lab.var("LAB_DB_SOCKET")),
            "-uroot",
            "-N",
            "-e",
            sql,
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        o.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn closed_days_are_kept_reused_and_recomputed_when_their_rows_change() {
    let Some(lab) = Lab::get() else { return };
    // Three settled days and yesterday (which can still change) of calls
    // between desk phones, in a table of their own.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let mut values = Vec::new();
    for (day, n) in [
        ("2026-03-02", 3),
        ("2026-03-03", 5),
        ("2026-03-04", 2),
        (yesterday.as_str(), 4),
    ] {
        for i in 0..n {
            values.push(format!(
                "('{day} 10:0{i}:00', '301', '302', 'PJSIP/301-0000000{i}', 'PJSIP/302-0000000{i}', 'Dial', 'ANSWERED', 40, 30, 'd.{day}.{i}', 'd.{day}.{i}')"
            ));
        }
    }
    root_sql(
        &lab,
        &format!(
            "DROP TABLE IF EXISTS asteriskcdrdb.cdr_days;
            CREATE TABLE asteriskcdrdb.cdr_days LIKE asteriskcdrdb.cdr;
            INSERT INTO asteriskcdrdb.cdr_days (calldate, src, dst, channel, dstchannel, lastapp, disposition, duration, billsec, uniqueid, linkedid) VALUES {};
            GRANT SELECT ON asteriskcdrdb.cdr_days TO 'asterisk'@'127.0.0.1';",
            values.join(", ")
        ),
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = dir.path().join("config.toml");
    let lab_cfg = std::fs::read_to_string(lab.var("LAB_CONFIG")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        &cfg,
        lab_cfg.replace("[cdr]\n", "[cdr]\ntable = \"cdr_days\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let kpi = |from: &str, to: &str, more: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&cfg)
            .args(["kpi", "--by", "extension", "--from", from, "--to", to])
            .args([
                "--tz",
                "UTC",
                "--format",
                "json",
                "--queue-log",
                "/dev/null",
            ])
            .args(more)
            .env("XDG_CONFIG_HOME", dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: Vec<Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        rows
    };
    let calls = |rows: &[Value], ext: &str| {
        rows.iter()
            .find(|r| r["extension"] == ext)
            .and_then(|r| r["calls"].as_u64())
    };
    // The first run brings the app database's schema up to date; start
    // from no kept day.
    kpi("2026-03-01", "2026-03-01", &[]);
    root_sql(&lab, "DELETE FROM switchboard.kpi_days");
    let first = kpi("2026-03-01", "2026-03-05", &[]);
    assert_eq!(
        (calls(&first, "301"), calls(&first, "302")),
        (Some(10), Some(10))
    );
    let kept = root_sql(&lab, "SELECT day FROM switchboard.kpi_days ORDER BY day");
    assert_eq!(
        kept.lines().collect::<Vec<_>>(),
        ["2026-03-02", "2026-03-03", "2026-03-04"],
        "only the days with data are kept"
    );
    // Kept figures are the computed ones.
    assert_eq!(kpi("2026-03-01", "2026-03-05", &[]), first);
    // Doctor a settled kept day: its figures are final, read as kept ...
    root_sql(
        &lab,
        "UPDATE switchboard.kpi_days SET figures = REPLACE(figures, '\"calls\":5', '\"calls\":55') WHERE day = '2026-03-03'",
    );
    assert_eq!(
        calls(&kpi("2026-03-03", "2026-03-03", &[]), "301"),
        Some(55)
    );
    // ... until asked to compute again.
    assert_eq!(kpi("2026-03-01", "2026-03-05", &["--recompute"]), first);
    // Yesterday can still change: a late CDR (a call that ended after
    // midnight) makes its rows differ, so it is computed again.
    assert_eq!(calls(&kpi(&yesterday, &yesterday, &[]), "301"), Some(4));
    root_sql(
        &lab,
        &format!(
            "INSERT INTO asteriskcdrdb.cdr_days (calldate, src, dst, channel, dstchannel, lastapp, disposition, duration, billsec, uniqueid, linkedid) VALUES ('{yesterday} 23:59:00', '301', '303', 'PJSIP/301-000000ff', 'PJSIP/303-000000ff', 'Dial', 'ANSWERED', 120, 100, 'd.late', 'd.late')"
        ),
    );
    let late = kpi(&yesterday, &yesterday, &[]);
    assert_eq!(
        (calls(&late, "301"), calls(&late, "303")),
        (Some(5), Some(1))
    );
    // A range without bounds worth walking is bounded by the data.
    let all = kpi("1970-01-01", "2099-12-31", &[]);
    assert_eq!(
        (calls(&all, "301"), calls(&all, "302")),
        (Some(15), Some(14))
    );
}
