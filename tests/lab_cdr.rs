//! The lab's CDR plumbing: Asterisk itself writes FreePBX-shaped rows into
//! MariaDB `asteriskcdrdb.cdr` through cdr_adaptive_odbc, caller names intact.

mod common;

use common::Lab;
use std::process::Command;
use std::time::{Duration, Instant};

/// The caller names the lab dialplan picks from (tests/lab/asterisk/extensions.conf).
const NAMES: [&str; 8] = [
    "José Núñez",
    "Zoë Šťastná",
    "Renée O'Brien",
    "Björn Ångström",
    "Дмитрий Иванов",
    "李小龙",
    "Ana \"Nena\" Pérez",
    "Smith, John",
];

fn query(lab: &Lab, sql: &str) -> String {
    let password =
        std::fs::read_to_string(lab.var("LAB_DB_PASSWORD_FILE")).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            lab.var("LAB_DB_PORT"),
            "-u",
            lab.var("LAB_DB_USER"),
        ])
        .arg(format!("-p{}", password.trim()))
        .args([
            "--batch",
            "--skip-column-names",
            "--raw",
            "--default-character-set=utf8mb4",
            "-e",
            sql,
        ])
        .output()
        .unwrap_or_else(|e| panic!("mariadb client: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("CDR text is not UTF-8: {e}"))
}

#[test]
fn asterisk_writes_cdrs_with_intact_caller_names() {
    let Some(lab) = Lab::get() else { return };
    let number = format!("555{}", 7000 + std::process::id() % 1000);
    lab.cli(&format!(
        "channel originate Local/{number}@callers-sales application Wait 1"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let sql = format!(
        "SELECT clid, disposition, linkedid FROM asteriskcdrdb.cdr WHERE src = '{number}' AND calldate > NOW() - INTERVAL 1 HOUR"
    );
    let start = Instant::now();
    let rows = loop {
        let rows = query(&lab, &sql);
        if !rows.trim().is_empty() {
            break rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no CDR for {number} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    for row in rows.lines() {
        let cols: Vec<&str> = row.split('\t').collect();
        assert_eq!(cols.len(), 3, "row {row:?}");
        let name = NAMES
            .iter()
            .find(|n| cols[0] == format!("\"{n}\" <{number}>"))
            .unwrap_or_else(|| {
                panic!(
                    "clid {:?} is not one of the lab's names, byte for byte",
                    cols[0]
                )
            });
        assert!(!name.is_empty());
        assert!(!cols[2].is_empty(), "linkedid empty");
    }
}
