//! The engine under the shipped unit's settings (contrib/switchboard-engine.service):
//! the unit file verifies, and the engine started the way the unit starts it
//! (its ExecStart, secrets as systemd credentials, a notify socket) says
//! READY only once ARI is up, pets the watchdog well inside WatchdogSec,
//! reports STATUS, and on SIGTERM says STOPPING and exits cleanly.

mod common;

use common::Lab;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const UNIT: &str = include_str!("../contrib/switchboard-engine.service");

fn unit_value(key: &str) -> String {
    UNIT.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
        .to_string()
}

fn private_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_unit_file_verifies() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let unit = dir.path().join("switchboard-engine.service");
    std::fs::write(
        &unit,
        UNIT.replace(
            "/usr/local/bin/switchboard",
            env!("CARGO_BIN_EXE_switchboard"),
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze: {e}"));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.trim().is_empty(), "{text}");
    for key in [
        "Type=notify",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=switchboard",
        "LoadCredential=ari-secret:",
        "LoadCredential=ami-secret:",
        "User=switchboard",
        "StartLimitIntervalSec=0",
        "Restart=always",
    ] {
        assert!(UNIT.contains(key), "the unit lacks {key}");
    }
    // The hardening systemd measures: exposure at most 2.0 ("OK" or better).
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&unit)
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze security: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for ").nth(1))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in {text}"));
    assert!(exposure <= 2.0, "exposure {exposure} > 2.0:\n{text}");
}

/// Starts the engine as the unit does, with ARI at `ari_port`; returns the
/// process and the notify socket it talks to.
fn start_as_the_unit(lab: &Lab, dir: &Path, ari_port: &str) -> (std::process::Child, UnixDatagram) {
    let db = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    start_with_db(lab, dir, ari_port, &db)
}

/// As [`start_as_the_unit`], with the app database at `db`.
fn start_with_db(
    lab: &Lab,
    dir: &Path,
    ari_port: &str,
    db: &str,
) -> (std::process::Child, UnixDatagram) {
    // Secrets only as credentials: the config names no secret file.
    let creds = dir.join("creds");
    std::fs::create_dir(&creds).unwrap_or_else(|e| panic!("{e}"));
    let ari =
        std::fs::read_to_string(lab.var("LAB_ARI_SECRET_FILE")).unwrap_or_else(|e| panic!("{e}"));
    private_file(&creds.join("ari-secret"), &ari);
    private_file(&creds.join("db-url"), db);
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[ari]\nport = {ari_port}\n[dialer]\nengine_id = \"unit-test\"\ndrain_s = 5\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let socket_path = dir.join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap_or_else(|e| panic!("{e}"));
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap_or_else(|e| panic!("{e}"));
    // The unit's ExecStart, with this build and this config.
    let exec = unit_value("ExecStart");
    let mut args: Vec<String> = exec.split_whitespace().skip(1).map(String::from).collect();
    if let Some(i) = args.iter().position(|a| a == "--config") {
        args[i + 1] = config.display().to_string();
    }
    let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(&args)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .env_remove("SWITCHBOARD_DB_URL")
        .env_remove("SWITCHBOARD_ARI_SECRET")
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    (child, socket)
}

/// Notification lines received on `socket` for `d`, appended to `seen`.
fn read_for(socket: &UnixDatagram, d: Duration, seen: &mut Vec<String>) {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < d {
        if let Ok(n) = socket.recv(&mut buf) {
            seen.extend(String::from_utf8_lossy(&buf[..n]).lines().map(String::from));
        }
    }
}

#[test]
fn ready_waits_for_ari() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Nothing listens on port 9: ARI is down.
    let (mut child, socket) = start_as_the_unit(&lab, dir.path(), "9");
    let mut seen = Vec::new();
    read_for(&socket, Duration::from_secs(3), &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !seen.iter().any(|l| l == "READY=1"),
        "READY without ARI: {seen:?}"
    );
    assert!(
        seen.iter().any(|l| l == "WATCHDOG=1"),
        "the loop runs: {seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("STATUS=")
            && l.contains("ARI down (")
            && l.contains("connection refused")),
        "the status says why ARI is down: {seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("EXTEND_TIMEOUT_USEC=")),
        "waiting for ARI extends the start timeout: {seen:?}"
    );
}

/// At boot the database may come up after the engine: the engine waits
/// for it (saying so, with the start timeout extended) instead of exiting,
/// and is READY soon after it appears.
#[test]
fn a_database_that_comes_up_late_is_waited_for() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let [(_, url), ..] = rt.block_on(lab.app_dbs("late_db", dir.path()));
    // A port where nothing listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let real = format!("127.0.0.1:{}", lab.var("LAB_DB_PORT"));
    let late = url.replace(&real, &format!("127.0.0.1:{port}"));
    let (mut child, socket) = start_with_db(&lab, dir.path(), lab.var("LAB_ARI_PORT"), &late);
    let mut seen = Vec::new();
    read_for(&socket, Duration::from_secs(4), &mut seen);
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "the engine exited while its database was away: {seen:?}"
    );
    assert!(!seen.iter().any(|l| l == "READY=1"), "{seen:?}");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("STATUS=waiting for the app database")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("EXTEND_TIMEOUT_USEC=")),
        "{seen:?}"
    );
    common::forward_on(port, real);
    let start = Instant::now();
    while !seen.iter().any(|l| l == "READY=1") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not READY within 30 s of the database coming up: {seen:?}"
        );
        read_for(&socket, Duration::from_millis(500), &mut seen);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_engine_notifies_systemd_as_the_unit_expects() {
    let Some(lab) = Lab::get() else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (mut child, socket) = start_as_the_unit(&lab, dir.path(), lab.var("LAB_ARI_PORT"));
    let mut seen: Vec<String> = Vec::new();
    read_for(&socket, Duration::from_secs(4), &mut seen);
    let ready = seen.iter().position(|l| l == "READY=1");
    assert!(ready.is_some(), "no READY=1 within 4 s: {seen:?}");
    let watchdogs = seen.iter().filter(|l| *l == "WATCHDOG=1").count();
    assert!(
        watchdogs >= 2,
        "the watchdog is petted at least every 2 s: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("STATUS=") && l.contains("ARI up")),
        "{seen:?}"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    read_for(&socket, Duration::from_secs(2), &mut seen);
    assert!(seen.iter().any(|l| l == "STOPPING=1"), "{seen:?}");
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the engine did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}
