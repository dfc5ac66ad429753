//! The lab's CDR plumbing: Asterisk itself writes the same calls into
//! MariaDB (`asteriskcdrdb.cdr`, FreePBX schema, cdr_adaptive_odbc),
//! PostgreSQL (cdr_pgsql) and SQLite (cdr_sqlite3_custom), caller names
//! intact in all three.

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

#[derive(Clone, Copy, Debug)]
enum Backend {
    MariaDb,
    Postgres,
    Sqlite,
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("CDR text is not UTF-8: {e}"))
}

/// `clid` of every CDR row whose `src` is `number`, one per line.
fn clids(lab: &Lab, backend: Backend, number: &str) -> String {
    let password =
        std::fs::read_to_string(lab.var("LAB_DB_PASSWORD_FILE")).unwrap_or_else(|e| panic!("{e}"));
    let sql = format!("SELECT clid FROM cdr WHERE src = '{number}'");
    match backend {
        Backend::MariaDb => output(
            Command::new("mariadb")
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
                ])
                .args(["asteriskcdrdb", "-e", &sql]),
        ),
        Backend::Postgres => output(
            Command::new("psql")
                .env("PGPASSWORD", password.trim())
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    lab.var("LAB_PG_PORT"),
                    "-U",
                    lab.var("LAB_PG_USER"),
                ])
                .args(["-d", "asteriskcdrdb", "-tA", "-c", &sql]),
        ),
        Backend::Sqlite => output(Command::new("sqlite3").args([lab.var("LAB_SQLITE_CDR"), &sql])),
    }
}

#[test]
fn asterisk_writes_the_same_cdrs_to_all_three_databases() {
    let Some(lab) = Lab::get() else { return };
    let number = format!("555{}", 7000 + std::process::id() % 1000);
    lab.cli(&format!(
        "channel originate Local/{number}@callers-sales application Wait 1"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let start = Instant::now();
        let rows = loop {
            let rows = clids(&lab, backend, &number);
            if !rows.trim().is_empty() {
                break rows;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{backend:?}: no CDR for {number} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(250));
        };
        for clid in rows.lines() {
            // Asterisk may escape a quote inside the name (`\"`) when it
            // builds clid; anything else must be byte for byte.
            let unescaped = clid.replace("\\\"", "\"");
            assert!(
                NAMES
                    .iter()
                    .any(|n| unescaped == format!("\"{n}\" <{number}>")),
                "{backend:?}: clid {clid:?} is not one of the lab's names, byte for byte"
            );
        }
    }
}
