//! A `switchboard serve` daemon on the lab for integration tests: its
//! config, its process, and the CLI run as another user.

use super::Lab;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The uid and gid of `nobody`/`nogroup` and `daemon` on Debian.
pub const NOBODY: u32 = 65_534;
/// `nogroup`, which owns the test daemons' sockets.
pub const NOGROUP: u32 = 65_534;
/// `daemon`.
pub const DAEMON_UID: u32 = 1;
/// `daemon`'s group.
pub const DAEMON_GID: u32 = 1;

/// A daemon process, killed when dropped.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon's config, folder and socket.
pub struct Site {
    /// The folder (the config, the socket, the daemon's log).
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config: PathBuf,
    /// The console socket.
    pub socket: PathBuf,
}

/// A config for the lab with a socket in a folder every user may enter,
/// group `nogroup`, the test's login an admin, and `more` (TOML: more
/// users, roles) after it.
pub fn site_with(lab: &Lab, more: &str) -> Site {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    let socket = dir.path().join("console.sock");
    let lab_cfg = std::fs::read_to_string(lab.var("LAB_CONFIG")).unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{lab_cfg}\n[serve]\nsocket = \"{}\"\ngroup = \"nogroup\"\n\n[acl.users.{}]\nrole = \"admin\"\n\n{more}",
        socket.display(),
        super::login()
    );
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    Site {
        dir,
        config,
        socket,
    }
}

/// Starts `switchboard serve` on `site`; returns once its socket exists.
pub fn start(site: &Site) -> Daemon {
    let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&site.config)
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::File::create(site.dir.path().join("serve.log"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .spawn()
        .unwrap_or_else(|e| panic!("switchboard serve: {e}"));
    let start = Instant::now();
    while !site.socket.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the daemon made no socket in 60 s; its log:\n{}",
            log(site)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Daemon(child)
}

/// The daemon's log so far.
pub fn log(site: &Site) -> String {
    std::fs::read_to_string(site.dir.path().join("serve.log")).unwrap_or_default()
}

/// Runs the switchboard CLI against the site as `uid` (with `nogroup`
/// as its only group, which owns the socket).
pub fn cli_as(site: &Site, uid: u32, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&site.config)
        .args(args)
        .uid(uid)
        .gid(NOGROUP)
        .current_dir(site.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("switchboard {args:?}: {e}"))
}

/// Waits up to 30 s for a channel whose name starts with `prefix`
/// (Asterisk's own list); returns its name.
pub fn wait_channel(lab: &Lab, prefix: &str) -> String {
    poll(&format!("a {prefix} channel"), || {
        let list = lab.cli("core show channels concise").unwrap_or_default();
        list.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split('!').next())
            .map(str::to_string)
    })
}

/// Polls `f` every 200 ms until it gives a value, for at most 30 s;
/// panics naming `what` after that.
pub fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {what} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
