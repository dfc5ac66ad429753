//! A hostile or mistaken AMI peer, played by an in-process fake server (a
//! real Asterisk cannot be made to send these): the secret never goes to a
//! peer that is not an AMI, and nothing the peer says reaches the operator's
//! terminal raw, on stderr or in the log file.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// Serves every connection: sends `greeting`, then answers a `Login` with
/// `answer(action_id)`; returns the port and everything clients sent.
fn fake_server(greeting: &'static [u8], answer: fn(&str) -> Vec<u8>) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut conn = conn;
                let _ = conn.write_all(greeting);
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if let Ok(mut l) = log.lock() {
                        l.extend_from_slice(&buf[..n]);
                    }
                    let text = String::from_utf8_lossy(&got).to_string();
                    if text.contains("\r\n\r\n") {
                        let id = text
                            .lines()
                            .find_map(|l| l.strip_prefix("ActionID: "))
                            .unwrap_or("")
                            .to_string();
                        let _ = conn.write_all(&answer(&id));
                        got.clear();
                    }
                }
            });
        }
    });
    (port, seen)
}

fn record(port: u16, home: &std::path::Path) -> Output {
    let secret = home.join("secret");
    std::fs::write(&secret, "TOPSECRET-42\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let cfg = home.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[ami]\nport = {port}\nconnect_timeout_s = 2\nbackoff_min_ms = 200\nsecret_file = \"{}\"\n",
            secret.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&cfg)
        .args(["record", "--seconds", "2"])
        .arg(home.join("out.cap"))
        .env("XDG_STATE_HOME", home.join("state"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_secret_never_goes_to_a_peer_that_is_not_an_ami() {
    let (port, seen) = fake_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", |_| Vec::new());
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = record(port, home.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "record exited 0 without a login: {err}"
    );
    assert!(
        err.contains("is not an Asterisk manager interface") && err.contains("SSH-2.0-OpenSSH"),
        "{err}"
    );
    let sent = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&sent).contains("TOPSECRET"),
        "the secret went out"
    );
    // The capture holds caller data: private to its owner.
    let mode = std::fs::metadata(home.path().join("out.cap"))
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o600, "capture file mode {mode:o}");
}

#[test]
fn a_hostile_refusal_reaches_stderr_escaped() {
    let (port, _) = fake_server(b"Asterisk Call Manager/9.0.0\r\n", |id| {
        format!(
            "Response: Error\r\nActionID: {id}\r\nMessage: \x1b]52;c;cHduZWQ=\x07\x1b]0;owned\x07\u{9b}31mred\rINFO forged line\u{202E}\r\n\r\n"
        )
        .into_bytes()
    });
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = record(port, home.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("refused"), "{err}");
    for bad in ['\x1b', '\x07', '\u{9b}', '\u{202E}'] {
        assert!(
            !err.contains(bad),
            "U+{:04X} reached stderr: {err:?}",
            bad as u32
        );
    }
    // Every line is one log line: the forged one stays inside the message.
    assert!(err.lines().all(|l| !l.starts_with("INFO forged")), "{err}");
    assert!(err.contains("\\u{1b}]52;c;cHduZWQ="), "{err}");
}
