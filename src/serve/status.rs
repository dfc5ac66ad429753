//! `switchboard serve status`: the consoles attached to the daemon.

use super::attach::{handshake, read};
use super::protocol::{ConsoleInfo, Purpose, ToConsole};
use std::path::Path;

/// The consoles attached to the daemon at `socket` (admins only).
///
/// Errors: the daemon cannot be reached or refuses (not an admin).
pub async fn consoles(socket: &Path) -> anyhow::Result<Vec<ConsoleInfo>> {
    let (mut link, _) = handshake(socket, Purpose::Status).await?;
    match read::<ToConsole>(&mut link, socket).await? {
        ToConsole::Status(list) => Ok(list),
        _ => anyhow::bail!("daemon {}: no status in its answer", socket.display()),
    }
}

/// The list as a table: user, pid, attached since (UTC), frames, dropped.
pub fn table(list: &[ConsoleInfo]) -> String {
    let mut out = format!(
        "{:<16} {:>8} {:<20} {:>10} {:>8}\n",
        "USER", "PID", "SINCE (UTC)", "FRAMES", "DROPPED"
    );
    for c in list {
        let since = chrono::DateTime::from_timestamp_millis(c.since_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let pid = c.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "{:<16} {:>8} {:<20} {:>10} {:>8}\n",
            crate::sanitize::escape(&c.login),
            pid,
            since,
            c.frames,
            c.dropped
        ));
    }
    out
}

/// How long [`view`] waits for the live data to settle after the daemon's
/// link is Ready: no delta for this long.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// What the daemon at `socket` shows this user of one PBX (`pbx`, or the
/// only one): its live state once that PBX's link is Ready and the deltas
/// have settled (`switchboard serve snapshot`, for scripts and for checking
/// a user's rights).
///
/// Errors: the daemon cannot be reached or refuses; `pbx` is not one of
/// its PBXs, or is missing while it follows several; the link is not Ready
/// within `deadline`.
pub async fn view(
    socket: &Path,
    deadline: std::time::Duration,
    pbx: Option<&str>,
) -> anyhow::Result<crate::pbx::State> {
    use crate::ami::{AmiMsg, ConnectionState};
    let mut a = super::attach::attach(socket.to_path_buf()).await?;
    let names = a.site.pbxs.join(", ");
    let chosen = match pbx {
        Some(name) => a.site.pbxs.iter().position(|n| n == name).ok_or_else(|| {
            anyhow::anyhow!(
                "daemon {}: no PBX named `{}`; it follows {names}",
                socket.display(),
                crate::sanitize::escape(name)
            )
        }),
        None if a.site.pbxs.len() > 1 => Err(anyhow::anyhow!(
            "daemon {}: it follows {names}; name one with --pbx",
            socket.display()
        )),
        None => Ok(0),
    };
    let chosen = chosen.and_then(|i| {
        let name = a.site.pbxs.get(i).map(String::as_str).unwrap_or_default();
        if a.site.seen_pbxs.iter().any(|n| n == name) {
            Ok(i)
        } else {
            Err(anyhow::anyhow!(
                "daemon {}: `{}` has no rights on PBX {} ([acl.users.{}] pbxs)",
                socket.display(),
                crate::sanitize::escape(&a.login),
                crate::sanitize::escape(name),
                crate::sanitize::escape(&a.login)
            ))
        }
    });
    let chosen = match chosen {
        Ok(i) => i,
        Err(e) => {
            a.task.abort();
            return Err(e);
        }
    };
    let mut ami = crate::ami::fan_in::FanIn::new(std::mem::take(&mut a.ami));
    let mut state = crate::pbx::State::new();
    let (mut ready, mut snapshot) = (false, false);
    let give_up = tokio::time::Instant::now() + deadline;
    let result = loop {
        let quiet = tokio::time::Instant::now() + SETTLE;
        tokio::select! {
            _ = tokio::time::sleep_until(give_up) => {
                break Err(anyhow::anyhow!(
                    "daemon {}: its AMI link to {} was not Ready with data within {deadline:?}",
                    socket.display(),
                    a.site.pbxs.get(chosen).map(String::as_str).unwrap_or("the PBX")
                ));
            }
            _ = tokio::time::sleep_until(quiet), if ready && snapshot => break Ok(()),
            msg = ami.recv() => match msg {
                Some((i, AmiMsg::State(s))) if i == chosen => ready = s == ConnectionState::Ready,
                Some(_) => {}
                None => break Err(anyhow::anyhow!("daemon {}: attachment ended", socket.display())),
            },
            d = a.live.recv() => match d {
                Some(d) if d.pbx == chosen => {
                    snapshot |= d.reset;
                    d.apply(&mut state);
                }
                Some(_) => {}
                None => break Err(anyhow::anyhow!("daemon {}: attachment ended", socket.display())),
            },
        }
    };
    a.task.abort();
    result.map(|()| state)
}
