//! `scripts/demo`, the README's first command: the queue traffic and the
//! dialer engine it starts stop with the console, however the console ends
//! (`q`, Ctrl-C, the terminal closing). An engine left behind keeps dialing.

mod common;

use common::Lab;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// PIDs whose command line contains `needle`.
fn pids(needle: &str) -> Vec<u32> {
    let out = Command::new("pgrep")
        .args(["-f", "--", needle])
        .output()
        .unwrap_or_else(|e| panic!("pgrep: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_demo_stops_traffic_and_engine_however_the_console_ends() {
    let Some(_lab) = Lab::get() else { return };
    let bin = env!("CARGO_BIN_EXE_switchboard");
    let config = Command::new("scripts/lab")
        .arg("config")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| panic!("scripts/lab config: {e}"));
    let engine = format!("{bin} --config {config} --engine");
    let traffic = "lab traffic --seconds 86400";
    for ending in ["q", "ctrl-c", "terminal closed"] {
        // `script` gives the demo a terminal, as a supervisor's SSH session
        // (120x40: a pty made by `script` from a pipe has no size).
        let mut demo = Command::new("script")
            .args([
                "-qfec",
                "stty rows 40 cols 120; exec scripts/demo",
                "/dev/null",
            ])
            .env("SWITCHBOARD_DEMO_BIN", bin)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("script: {e}"));
        let guard = Hangup(demo.id());
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut out = demo.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let seen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = seen.lock() {
                    s.extend_from_slice(&buf[..n]);
                }
            }
        });
        wait_until(
            &format!("{ending}: the console on screen with its engine running"),
            Duration::from_secs(120),
            || {
                let drawn = screen
                    .lock()
                    .map(|s| String::from_utf8_lossy(&s).contains("Queues"))
                    .unwrap_or(false);
                drawn && !pids(&engine).is_empty() && !pids(traffic).is_empty()
            },
        );
        let mut stdin = demo.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        match ending {
            "q" => stdin.write_all(b"q").unwrap_or_else(|e| panic!("{e}")),
            "ctrl-c" => stdin.write_all(b"\x03").unwrap_or_else(|e| panic!("{e}")),
            // The terminal goes away (an SSH session dropped): the pty
            // closes under the demo.
            _ => {
                let _ = demo.kill();
            }
        }
        let _ = stdin.flush();
        wait_until(
            &format!("{ending}: the demo ending"),
            Duration::from_secs(30),
            || matches!(demo.try_wait(), Ok(Some(_))),
        );
        wait_until(
            &format!("{ending}: engine and traffic gone"),
            Duration::from_secs(15),
            || pids(&engine).is_empty() && pids(traffic).is_empty(),
        );
        drop(stdin);
        drop(guard);
    }
}

/// Closes the demo's terminal when dropped (a failed assertion included),
/// so a failing run leaves nothing dialing behind it.
struct Hangup(u32);

impl Drop for Hangup {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}
