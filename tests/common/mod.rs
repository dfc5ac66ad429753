//! Access to the lab (scripts/lab) for integration tests.
//!
//! The lab's ports, folders and secrets come from the env file `scripts/lab up`
//! writes. Without a lab, a test fails under `CI=true` and is skipped with a
//! printed reason otherwise.

#![allow(dead_code)]

pub mod daemon;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;
use switchboard::ami::{Action, Settings};
use switchboard::secret::Secret;

/// Lab traffic in the background.
pub struct Traffic<'a> {
    lab: &'a Lab,
    child: Option<Child>,
}

impl Traffic<'_> {
    /// Waits for the traffic script to end by itself.
    pub fn finish(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }
}

impl Drop for Traffic<'_> {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM: the script unpauses the members it paused on its
            // way out (SIGKILL would leave them paused).
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
            let _ = self.lab.cli("channel request hangup all");
        }
    }
}

/// `scripts/lab <how> <cmd>`'s output (`how`: `cli` or `cli-b`).
fn lab_cli(how: &str, cmd: &str) -> Result<String, String> {
    let out = Command::new(repo().join("scripts/lab"))
        .args([how, cmd])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Sends `signal` to the process whose PID `pid_file` holds.
fn signal_pid_file(pid_file: &Path, signal: &str) {
    let pid =
        std::fs::read_to_string(pid_file).unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
    let st = Command::new("kill")
        .args([&format!("-{signal}"), pid.trim()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(st.success(), "kill -{signal} {pid}");
}

/// The Unix login running the tests (what switchboard's ACL sees).
pub fn login() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .unwrap_or_else(|e| panic!("id -un: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A running lab.
pub struct Lab {
    pub env: HashMap<String, String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_file() -> PathBuf {
    std::env::var_os("SWITCHBOARD_LAB_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = std::env::var("SWITCHBOARD_LAB_DIR")
                .unwrap_or_else(|_| "/var/tmp/switchboard-lab".into());
            Path::new(&dir).join("lab.env")
        })
}

impl Lab {
    /// The lab, or `None` (with the reason printed) outside CI. Under
    /// `CI=true` a missing lab is a test failure.
    pub fn get() -> Option<Lab> {
        let path = env_file();
        let reason = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let env: HashMap<String, String> = text
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                    .collect();
                let lab = Lab { env };
                if lab.asterisk_running() {
                    return Some(lab);
                }
                format!(
                    "the lab in {} is not running (sudo scripts/lab up)",
                    path.display()
                )
            }
            Err(e) => format!(
                "no lab env file {} ({e}); run sudo scripts/lab up",
                path.display()
            ),
        };
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("lab required under CI=true: {reason}");
        }
        eprintln!("lab test not run: {reason}");
        None
    }

    pub fn var(&self, k: &str) -> &str {
        self.env
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("lab env lacks {k}"))
    }

    fn asterisk_running(&self) -> bool {
        self.cli("core show uptime")
            .is_ok_and(|o| o.contains("uptime"))
    }

    /// An Asterisk CLI command's output.
    pub fn cli(&self, cmd: &str) -> Result<String, String> {
        lab_cli("cli", cmd)
    }

    /// A CLI command's output on the lab's second Asterisk (PBX b).
    pub fn cli_b(&self, cmd: &str) -> Result<String, String> {
        lab_cli("cli-b", cmd)
    }

    /// Sends `signal` (`STOP`, `CONT`) to the lab's second Asterisk.
    pub fn signal_asterisk_b(&self, signal: &str) {
        signal_pid_file(Path::new(self.var("LAB_B_PID_FILE")), signal);
    }

    /// Starts `scripts/lab traffic` in the background; stopped (and every
    /// call hung up) when the returned guard drops, even on a failed assert.
    pub fn traffic(&self, seconds: u32, rate: f64) -> Traffic<'_> {
        let child = Command::new(repo().join("scripts/lab"))
            .args([
                "traffic",
                "--seconds",
                &seconds.to_string(),
                "--rate",
                &rate.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("scripts/lab traffic: {e}"));
        Traffic {
            lab: self,
            child: Some(child),
        }
    }

    /// Stops and starts Asterisk (blocking until it is FullyBooted).
    pub fn restart_asterisk(&self) {
        let st = Command::new(repo().join("scripts/lab"))
            .arg("restart-asterisk")
            .status()
            .unwrap_or_else(|e| panic!("restart-asterisk: {e}"));
        assert!(st.success(), "scripts/lab restart-asterisk failed");
    }

    /// Stops the lab's PostgreSQL (fast shutdown: every client cut at once)
    /// or starts it again (blocking until it takes connections).
    pub fn postgres(&self, up: bool) {
        let cmd = if up {
            "start-postgres"
        } else {
            "stop-postgres"
        };
        let st = Command::new(repo().join("scripts/lab"))
            .arg(cmd)
            .status()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(st.success(), "scripts/lab {cmd} failed");
    }

    /// Sends `signal` (`STOP`, `CONT`) to the lab's Asterisk, by its PID.
    pub fn signal_asterisk(&self, signal: &str) {
        signal_pid_file(
            &Path::new(self.var("LAB_DIR")).join("pids/asterisk"),
            signal,
        );
    }

    /// Sends `signal` (`STOP`, `CONT`) to the lab's PostgreSQL: the
    /// postmaster (by its `postmaster.pid`) and every backend it forked, so
    /// `STOP` freezes the whole server with its connections open.
    pub fn signal_postgres(&self, signal: &str) {
        let pid_file = Path::new(self.var("LAB_DIR")).join("pg/postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
        let pid = text.lines().next().unwrap_or_default().trim().to_string();
        let _ = Command::new("pkill")
            .args([&format!("-{signal}"), "-P", &pid])
            .status();
        // Its parent too on CONT: `runuser`, which stopped itself when its
        // child stopped (job control) and would never reap it otherwise.
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|st| {
                let after = st.rsplit_once(')')?.1.to_string();
                after.split_whitespace().nth(1).map(str::to_string)
            });
        let mut pids = vec![pid];
        if signal == "CONT" {
            pids.extend(parent);
        }
        for pid in pids {
            let st = Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap_or_else(|e| panic!("kill: {e}"));
            assert!(st.success(), "kill -{signal} {pid}");
        }
    }

    /// Kills the AMI sessions from the server side (the socket Asterisk holds).
    pub fn kill_ami_sessions(&self) {
        let filter = format!("sport = :{}", self.var("LAB_AMI_PORT"));
        let _ = Command::new("ss").args(["-K", &filter]).output();
    }

    /// The CDR database URLs of the three backends Asterisk writes to, as
    /// `(name, url)`: MariaDB, PostgreSQL, SQLite.
    pub fn cdr_urls(&self) -> [(&'static str, String); 3] {
        let pw = std::fs::read_to_string(self.var("LAB_DB_PASSWORD_FILE"))
            .unwrap_or_else(|e| panic!("{e}"));
        let pw = pw.trim();
        [
            (
                "mariadb",
                format!(
                    "mysql://asterisk:{pw}@127.0.0.1:{}/asteriskcdrdb",
                    self.var("LAB_DB_PORT")
                ),
            ),
            (
                "postgres",
                format!(
                    "postgres://asterisk:{pw}@127.0.0.1:{}/asteriskcdrdb",
                    self.var("LAB_PG_PORT")
                ),
            ),
            ("sqlite", format!("sqlite://{}", self.var("LAB_SQLITE_CDR"))),
        ]
    }

    /// A fresh, empty app database named `name` on each backend, as
    /// `(backend, url)`: MariaDB, PostgreSQL, SQLite (a file in `dir`).
    pub async fn app_dbs(&self, name: &str, dir: &Path) -> [(&'static str, String); 3] {
        use sqlx::Executor;
        let pw = std::fs::read_to_string(self.var("LAB_DB_PASSWORD_FILE"))
            .unwrap_or_else(|e| panic!("{e}"));
        let pw = pw.trim();
        let user = self.var("LAB_APP_USER");
        let db = format!("switchboard_{name}");
        let my = format!("mysql://{user}:{pw}@127.0.0.1:{}", self.var("LAB_DB_PORT"));
        let pg = format!(
            "postgres://{user}:{pw}@127.0.0.1:{}",
            self.var("LAB_PG_PORT")
        );
        let c = sqlx::MySqlPool::connect(&format!("{my}/switchboard"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for q in [
            format!("DROP DATABASE IF EXISTS {db}"),
            format!("CREATE DATABASE {db} CHARACTER SET utf8mb4"),
        ] {
            c.execute(sqlx::AssertSqlSafe(q))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        c.close().await;
        let p = sqlx::PgPool::connect(&format!("{pg}/switchboard"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for q in [
            format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            format!("CREATE DATABASE {db}"),
        ] {
            p.execute(sqlx::AssertSqlSafe(q))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        p.close().await;
        [
            ("mariadb", format!("{my}/{db}")),
            ("postgres", format!("{pg}/{db}")),
            (
                "sqlite",
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.join(format!("{db}.db")).display()
                ),
            ),
        ]
    }

    /// Ends every call and waits until Asterisk has no channel left, so every
    /// CDR of the calls so far is written (at most 10 s).
    pub fn quiesce(&self) {
        let _ = self.cli("channel request hangup all");
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self
                .cli("core show channels count")
                .is_ok_and(|o| o.contains("0 active channels"))
            {
                std::thread::sleep(Duration::from_millis(500));
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("Asterisk still has channels 10 s after hanging up all");
    }

    /// The lab's extension rule (tests/lab/asterisk/queues.conf): queue
    /// members are `Local/2XX@agents`; the callers' `Local/…@callers-*` and
    /// the dialer's `Local/…@customers` are not extensions.
    pub fn extension_rule(&self) -> switchboard::endpoints::ExtensionRule {
        switchboard::endpoints::ExtensionRule {
            member_contexts: vec!["agents".into()],
            ..Default::default()
        }
    }

    /// The `[kpi]` lines of a config for the lab (the same rule).
    pub const KPI_CONFIG: &'static str = "[kpi.extensions]\nmember_contexts = [\"agents\"]\n";

    /// Connection settings for the lab's AMI user, with fast reconnects.
    pub fn settings(&self, resync: Vec<Action>) -> Settings {
        self.settings_as(self.var("LAB_AMI_USER"), resync)
    }

    /// The same for the lab's `lab-observer` user, which reads every event
    /// class (dialplan steps included) and may send nothing.
    pub fn observer(&self) -> Settings {
        self.settings_as("lab-observer", Vec::new())
    }

    fn settings_as(&self, user: &str, resync: Vec<Action>) -> Settings {
        let secret = std::fs::read_to_string(self.var("LAB_AMI_SECRET_FILE"))
            .unwrap_or_else(|e| panic!("secret: {e}"));
        Settings {
            addr: format!("{}:{}", self.var("LAB_AMI_HOST"), self.var("LAB_AMI_PORT")),
            username: user.to_string(),
            secret: Secret::new(secret.trim()),
            connect_timeout: Duration::from_secs(3),
            ping_interval: Duration::from_secs(2),
            ping_timeout: Duration::from_secs(2),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            resync,
        }
    }
}

/// A TCP proxy to `upstream` that forwards both ways until the client sends
/// bytes containing `trigger`; from then on it forwards nothing more from the
/// server (a server frozen mid-query, as SIGSTOP would leave it, without
/// freezing the database other tests share). Returns the local port.
/// Its threads end with the test process.
pub fn freezing_proxy(upstream: String, trigger: &'static [u8]) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    proxy(listener, upstream, Some(trigger));
    port
}

/// A plain TCP forwarder from 127.0.0.1:`port` to `upstream` (a server
/// that "comes up" on a port where nothing listened). Its threads end with
/// the test process.
pub fn forward_on(port: u16, upstream: String) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("port {port}: {e}"));
    proxy(listener, upstream, None);
}

fn proxy(listener: std::net::TcpListener, upstream: String, trigger: Option<&'static [u8]>) {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let frozen = Arc::new(AtomicBool::new(false));
            let (mut c_in, mut s_out) = match (client.try_clone(), server.try_clone()) {
                (Ok(c), Ok(s)) => (c, s),
                _ => continue,
            };
            let (mut s_in, mut c_out) = (server, client);
            let f = frozen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Some(t) = trigger
                        && buf[..n].windows(t.len()).any(|w| w == t)
                    {
                        f.store(true, Ordering::SeqCst);
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if frozen.load(Ordering::SeqCst) {
                        // Hold the connection open and answer nothing.
                        std::thread::park();
                    }
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// The JSON lines a `switchboard` command printed (`--format json`); the
/// command must have succeeded (`what` names it in the failure).
pub fn json_lines(o: &std::process::Output, what: &str) -> Vec<serde_json::Value> {
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}")))
        .collect()
}
