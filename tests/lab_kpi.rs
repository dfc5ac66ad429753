//! `switchboard kpi` against the lab: the figures must equal hand
//! computations over the same data (CDR rows from each of the three
//! databases; the queue_log file Asterisk writes), using the definitions in
//! docs/kpi.md.

mod common;

use common::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn run(args: &[&str]) -> Vec<Value> {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .args(["--tz", "UTC", "--format", "json"])
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("SWITCHBOARD_CDR_URL")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// `PJSIP/301-x` → 301, `Local/201@agents-x;1` → 201 (docs/kpi.md).
/// The numeric extension on a channel (docs/kpi.md: trunks get no KPIs).
fn ext(channel: &str) -> Option<String> {
    let (tech, rest) = channel.split_once('/')?;
    let e = match tech {
        "PJSIP" | "SIP" | "IAX2" | "DAHDI" => rest.rsplit_once('-').map(|(e, _)| e.to_string()),
        "Local" => rest.split_once('@').map(|(e, _)| e.to_string()),
        _ => None,
    }?;
    e.bytes().all(|b| b.is_ascii_digit()).then_some(e)
}

#[test]
fn extension_kpis_equal_hand_computation_on_every_backend() {
    let Some(lab) = Lab::get() else { return };
    let traffic = lab.traffic(5, 2.0);
    traffic.finish();
    // No call may end (and write a CDR) between the export and the kpi run.
    lab.quiesce();
    for (_, url) in &lab.cdr_urls() {
        let rows = run(&["cdr", "export", "--cdr-url", url]);
        // (total, answered, missed, tht) by hand.
        let mut hand: BTreeMap<String, (u64, u64, u64, i64)> = BTreeMap::new();
        for r in &rows {
            let callee = ext(r["dstchannel"].as_str().unwrap_or(""));
            let caller =
                ext(r["channel"].as_str().unwrap_or("")).filter(|c| Some(c) != callee.as_ref());
            let answered = r["disposition"] == "ANSWERED";
            for (e, rung) in [(callee, true), (caller, false)] {
                let Some(e) = e else { continue };
                let h = hand.entry(e).or_default();
                h.0 += 1;
                if answered {
                    h.1 += 1;
                    h.3 += r["billsec"].as_i64().unwrap_or(0);
                } else if rung {
                    h.2 += 1;
                }
            }
        }
        let kpis = run(&["kpi", "--by", "extension", "--cdr-url", url]);
        assert!(
            !kpis.is_empty() && kpis.len() == hand.len(),
            "{url}: {} vs {}",
            kpis.len(),
            hand.len()
        );
        for k in &kpis {
            let e = k["extension"].as_str().unwrap_or("");
            let (total, answered, missed, tht) = hand[e];
            assert_eq!(
                (
                    k["total"].as_u64(),
                    k["answered"].as_u64(),
                    k["missed"].as_u64(),
                    k["tht_s"].as_i64()
                ),
                (Some(total), Some(answered), Some(missed), Some(tht)),
                "{url}: extension {e}"
            );
            if answered > 0 {
                // JSON floats are parsed to within an ULP, not exactly.
                let aht = tht as f64 / answered as f64;
                assert!(
                    k["aht_s"].as_f64().is_some_and(|v| (v - aht).abs() < 1e-9),
                    "{url}: extension {e}: {k}"
                );
            }
        }
    }
}

#[test]
fn queue_kpis_equal_hand_computation_on_the_queue_log() {
    let Some(lab) = Lab::get() else { return };
    // A copy: Asterisk keeps appending to the live file while tests run.
    let live = std::path::Path::new(lab.var("LAB_ROOT")).join("var/log/asterisk/queue_log");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("queue_log");
    std::fs::copy(&live, &path).unwrap_or_else(|e| panic!("{}: {e}", live.display()));
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let today = chrono::Utc::now().date_naive();
    let from = today
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0);
    let (sl, short) = (20u64, 5u64);
    // (offered, answered, abandoned, short, in_sl) by hand.
    let mut hand: BTreeMap<String, (u64, u64, u64, u64, u64)> = BTreeMap::new();
    for line in log.lines() {
        let p: Vec<&str> = line.split('|').collect();
        if p.len() < 5
            || p[0]
                .parse::<i64>()
                .map_or(true, |t| t < from || t >= from + 86_400)
            || p[2] == "NONE"
        {
            continue;
        }
        let h = hand.entry(p[2].to_string()).or_default();
        let n = |i: usize| p.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        match p[4] {
            "ENTERQUEUE" => h.0 += 1,
            "CONNECT" => {
                h.1 += 1;
                h.4 += u64::from(n(5) <= sl);
            }
            "ABANDON" => {
                h.2 += 1;
                h.3 += u64::from(n(7) < short);
            }
            _ => {}
        }
    }
    let file = path.to_string_lossy().into_owned();
    let kpis = run(&["kpi", "--by", "queue", "--queue-log", &file]);
    assert!(!kpis.is_empty());
    for k in &kpis {
        let q = k["queue"].as_str().unwrap_or("");
        let (offered, answered, abandoned, short_n, in_sl) = hand[q];
        assert_eq!(
            (
                k["offered"].as_u64(),
                k["answered"].as_u64(),
                k["abandoned"].as_u64(),
                k["short_abandoned"].as_u64()
            ),
            (
                Some(offered),
                Some(answered),
                Some(abandoned),
                Some(short_n)
            ),
            "queue {q}"
        );
        let base = answered + abandoned - short_n;
        if base > 0 {
            let expected = in_sl as f64 * 100.0 / base as f64;
            assert!(
                k["service_level"]
                    .as_f64()
                    .is_some_and(|v| (v - expected).abs() < 1e-9),
                "queue {q}"
            );
        }
    }
}
