//! The daemon: the listener, the [`Hub`] that owns the PBX state, and one
//! task per attached console (handshake, then its frames out and its
//! requests in, each console with its own CDR and app-database workers).

use super::hub::{self, Hub, Join, Registry};
use super::peer::{Peer, peer};
use super::protocol::{
    self, Answer, ConsoleInfo, Hello, PROTOCOL, Purpose, ToConsole, ToDaemon, decode, encode,
};
use crate::access::Visibility;
use crate::access::acl;
use crate::ami::Settings;
use crate::ami::fan_in;
use crate::capture::Speed;
use crate::clock::now_ms;
use crate::sanitize::escape;
use crate::service::campaigns::{self as appdb, AppReply};
use crate::service::cdr::{self as db, DbReply, DbRequest};
use crate::service::supervise::{self, ActReply};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

/// Frames queued per console before it counts as not reading.
pub const CONSOLE_QUEUE: usize = 64;

/// How long a console has to send its [`Hello`].
pub const HELLO_DEADLINE: Duration = Duration::from_secs(5);

/// How long one frame may take to leave for a console before the console
/// is dropped (its socket buffer full for that long: it is not reading).
pub const WRITE_DEADLINE: Duration = Duration::from_secs(30);

/// Where the daemon's live data comes from.
pub enum Feed {
    /// One AMI link per PBX: each PBX's name and settings, in config order.
    Live(Vec<(String, Settings)>),
    /// A capture replayed at `speed` (demos and benchmarks).
    Replay {
        /// The capture file.
        file: PathBuf,
        /// How fast.
        speed: Speed,
    },
}

/// What the daemon serves consoles with (built by
/// [`crate::setup::Config::daemon`]).
#[derive(Clone)]
pub struct DaemonSettings {
    /// The PBXs' time zone.
    pub tz: chrono_tz::Tz,
    /// The group whose members may attach (`[serve] group`).
    pub group: Option<String>,
    /// Who sees and may do what.
    pub acl: acl::AclConfig,
    /// The KPI settings, sent to each console.
    pub kpi: crate::cdr::kpi_config::KpiConfig,
    /// Each PBX's CDR service settings, in config order, that every
    /// console's worker starts from (the visibility replaced by the
    /// user's; the pools shared).
    pub cdr: Vec<(String, db::DbSettings)>,
    /// How long a command's query may wait per row.
    pub command_deadline: Duration,
    /// The app database's URL (`Err`: why there is none).
    pub app_db: Result<crate::secret::Secret, String>,
    /// `[roles]`: what users may do to the floor.
    pub roles: crate::access::roles::RolesConfig,
    /// `[actions]`: pause reasons, transfer contexts.
    pub actions: crate::supervise::config::ActionsConfig,
}

/// What the daemon serves with.
pub struct Daemon {
    /// ACL, CDR, KPI and app database settings.
    pub settings: DaemonSettings,
    /// The live data's source.
    pub feed: Feed,
    /// Where to listen.
    pub socket: PathBuf,
}

/// State shared by the listener, the hub and the consoles' tasks.
struct Shared {
    config: DaemonSettings,
    /// What every console's supervisor-actions worker acts with.
    floor: Arc<supervise::Floor>,
    /// The app-database pool every console's campaigns service shares.
    app: appdb::AppDbSlot,
    tz: chrono_tz::Tz,
    /// What the handshake's answer names (the PBXs' addresses, or the
    /// replayed file).
    pbx: String,
    /// The PBXs' names, in order (the indexes frames use).
    pbxs: Vec<String>,
    consoles: Registry,
    join: mpsc::Sender<Join>,
}

impl Daemon {
    /// Listens on the socket and serves until `shutdown` resolves.
    ///
    /// Errors: the socket cannot be made (its folder is missing or not
    /// writable, or another daemon answers on it), or its group is unknown.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let tz = self.settings.tz;
        let listener = listen(&self.socket, self.settings.group.as_deref()).await?;
        let (pbx, pbxs, links) = match self.feed {
            Feed::Live(links) => {
                let addrs: Vec<&str> = links.iter().map(|(_, s)| s.addr.as_str()).collect();
                let pbx = addrs.join(", ");
                let names = links.iter().map(|(n, _)| n.clone()).collect();
                let links = fan_in::spawn_links(links.into_iter().map(|(_, s)| s).collect());
                (pbx, names, links)
            }
            Feed::Replay { file, speed } => {
                let reader = crate::capture::open(&file)?;
                let (ami_tx, ami_rx) = mpsc::channel(crate::ami::connection::AMI_QUEUE);
                let (_, health) = mpsc::channel(1);
                let task = tokio::spawn(async move {
                    let replay = crate::capture::Replay::from_reader(reader);
                    crate::capture::feed(replay, speed, ami_tx, |_| {}).await;
                });
                let links = fan_in::Links {
                    ami: fan_in::FanIn::new(vec![ami_rx]),
                    health,
                    tasks: vec![task],
                    handles: Vec::new(),
                };
                let names = vec![crate::pbx::site::DEFAULT_PBX.to_string()];
                (format!("replay {}", file.display()), names, links)
            }
        };
        let (join_tx, join_rx) = mpsc::channel(16);
        let (calls_tx, calls_rx) = mpsc::channel(16);
        let app = appdb::AppDbSlot::default();
        let floor = Arc::new(supervise::Floor {
            links: pbxs
                .iter()
                .cloned()
                .zip(links.handles.iter().cloned())
                .collect(),
            live: Some(calls_tx),
            rule: self.settings.kpi.extensions.clone(),
            actions: self.settings.actions.clone(),
            audit_db: self.settings.app_db.clone(),
            slot: app.clone(),
            privileges: supervise::PrivilegeCache::default(),
        });
        let shared = Arc::new(Shared {
            config: self.settings,
            floor,
            app,
            tz,
            pbx,
            pbxs,
            consoles: Registry::default(),
            join: join_tx,
        });
        let rule = shared.config.kpi.extensions.clone();
        let fan_in::Links {
            ami,
            health,
            tasks: link_tasks,
            handles: _,
        } = links;
        let hub = {
            let shared = shared.clone();
            tokio::spawn(async move {
                Hub::new(rule, &shared.pbxs)
                    .run((ami, health), join_rx, calls_rx, &shared.consoles)
                    .await;
            })
        };
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        tracing::info!(socket = %self.socket.display(), "serving consoles");
        let watchdog = tokio::spawn(watchdog());
        tokio::pin!(shutdown);
        let mut next_id = 0u64;
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        next_id += 1;
                        tokio::spawn(console(stream, next_id, shared.clone()));
                    }
                    Err(e) => {
                        tracing::warn!("accept on the console socket: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        hub.abort();
        for t in link_tasks {
            t.abort();
        }
        watchdog.abort();
        let _ = std::fs::remove_file(&self.socket);
        Ok(())
    }
}

/// Pets systemd's watchdog while the runtime runs (a wedged runtime stops
/// petting and systemd restarts the daemon).
async fn watchdog() {
    let Some(period) = sd_notify::watchdog_enabled().filter(|p| !p.is_zero()) else {
        return;
    };
    let every = period / 2;
    loop {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        tokio::time::sleep(every).await;
    }
}

/// Binds the socket: a stale file left by a killed daemon is replaced, a
/// live daemon's is not; the socket gets mode 0660 and `group`.
async fn listen(path: &Path, group: Option<&str>) -> anyhow::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            anyhow::bail!(
                "{}: another switchboard daemon answers on this socket; stop it first or set [serve] socket",
                path.display()
            );
        }
        std::fs::remove_file(path).map_err(|e| {
            anyhow::anyhow!("{}: cannot remove the stale socket: {e}", path.display())
        })?;
    }
    let listener = UnixListener::bind(path).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot listen: {e}; create its folder (systemd: RuntimeDirectory=switchboard) or set [serve] socket",
            path.display()
        )
    })?;
    if let Some(name) = group {
        let gid = uzers::get_group_by_name(name)
            .ok_or_else(|| {
                anyhow::anyhow!("[serve] group `{name}`: no such group; create it (groupadd {name}) or remove the setting")
            })?
            .gid();
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|e| anyhow::anyhow!("{}: chown to group {name}: {e}", path.display()))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| anyhow::anyhow!("{}: chmod 0660: {e}", path.display()))?;
    Ok(listener)
}

/// A console's request buffer to start with, bytes.
const REQUEST_BUFFER: usize = 1024;

/// Most frames written to a console in one system call.
const WRITE_BATCH: usize = 16;

/// Writes `frames`, each with its length prefix, from the shared bytes with
/// vectored writes (no copy, one system call for the batch when the socket
/// takes it all).
async fn write_frames(
    out: &mut tokio::net::unix::OwnedWriteHalf,
    frames: &[Bytes],
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut prefixes = Vec::with_capacity(frames.len());
    for f in frames {
        let len = u32::try_from(f.len()).map_err(|_| std::io::ErrorKind::InvalidData)?;
        prefixes.push(len.to_be_bytes());
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(frames.len() * 2);
    for (p, f) in prefixes.iter().zip(frames) {
        parts.push(p);
        parts.push(f);
    }
    // Skip what is written, slice by slice, until nothing is left.
    let (mut part, mut offset) = (0, 0);
    while part < parts.len() {
        let slices: Vec<std::io::IoSlice<'_>> = std::iter::once(&parts[part][offset..])
            .chain(parts[part + 1..].iter().copied())
            .map(std::io::IoSlice::new)
            .collect();
        let mut n = out.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while part < parts.len() && n >= parts[part].len() - offset {
            n -= parts[part].len() - offset;
            part += 1;
            offset = 0;
        }
        offset += n;
    }
    Ok(())
}

/// Sends one frame, within [`WRITE_DEADLINE`].
async fn send<T: serde::Serialize>(
    framed: &mut Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>,
    msg: &T,
) -> anyhow::Result<()> {
    let frame = encode(msg)?;
    tokio::time::timeout(WRITE_DEADLINE, framed.send(frame))
        .await
        .map_err(|_| anyhow::anyhow!("the console did not read for {WRITE_DEADLINE:?}"))??;
    Ok(())
}

/// Serves one connection: handshake, then requests both ways until either
/// side closes.
async fn console(stream: UnixStream, id: u64, shared: Arc<Shared>) {
    let who = peer(&stream);
    let mut framed = Framed::new(stream, protocol::codec());
    let hello = match tokio::time::timeout(HELLO_DEADLINE, framed.next()).await {
        Ok(Some(Ok(frame))) => decode::<Hello>(&frame).map_err(|e| e.to_string()),
        Ok(Some(Err(e))) => Err(e.to_string()),
        Ok(None) => return,
        Err(_) => Err(format!("no hello within {HELLO_DEADLINE:?}")),
    };
    let mut answer = Answer {
        protocol: PROTOCOL,
        version: env!("CARGO_PKG_VERSION").into(),
        login: None,
        refused: None,
        pbx: shared.pbx.clone(),
    };
    let admitted = match (hello, who) {
        (Err(e), _) => Err(format!("not a switchboard console: {e}")),
        (Ok(h), _) if h.protocol != PROTOCOL => Err(protocol::mismatch(
            (PROTOCOL, env!("CARGO_PKG_VERSION")),
            (h.protocol, &h.version),
        )),
        (Ok(_), Err(e)) => Err(e),
        (Ok(h), Ok(p)) => admit(&shared.config, &p, h.purpose).map(|v| (h.purpose, p, v)),
    };
    let (purpose, peer, visibility) = match admitted {
        Ok(a) => a,
        Err(reason) => {
            tracing::info!(console = id, "refused: {}", escape(&reason));
            answer.refused = Some(reason);
            let _ = send(&mut framed, &answer).await;
            return;
        }
    };
    answer.login = Some(peer.login.clone());
    if send(&mut framed, &answer).await.is_err() {
        return;
    }
    if purpose == Purpose::Status {
        let list = shared
            .consoles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let _ = send(&mut framed, &ToConsole::Status(list)).await;
        return;
    }
    let site = protocol::Site {
        tz: shared.tz.name().to_string(),
        pbxs: shared.pbxs.clone(),
        seen_pbxs: match acl::pbx_scope(&shared.config.acl, &peer.login) {
            Some(scope) => scope,
            None => shared.pbxs.clone(),
        },
        kpi: shared.config.kpi.clone(),
        may_control_campaigns: acl::may_control_campaigns(&shared.config.acl, &peer.login),
        rights: crate::access::Rights::of(&shared.config.acl, &shared.config.roles, &peer.login),
        pause_reasons: shared.config.actions.pause_reasons.clone(),
        phone: shared
            .config
            .actions
            .phone_of(&shared.config.acl, &peer.login),
    };
    if send(&mut framed, &ToConsole::Welcome(site.clone()))
        .await
        .is_err()
    {
        return;
    }
    tracing::info!(console = id, login = %escape(&peer.login), pid = ?peer.pid, "console attached");
    hub::lock(&shared.consoles).insert(
        id,
        ConsoleInfo {
            login: peer.login.clone(),
            pid: peer.pid,
            since_ms: now_ms(),
            frames: 0,
            dropped: 0,
        },
    );
    attached(framed, (id, purpose), (&peer, &site), visibility, &shared).await;
    hub::lock(&shared.consoles).remove(&id);
    tracing::info!(console = id, login = %escape(&peer.login), "console detached");
}

/// Whether `peer` may attach for `purpose`, and with which rights.
fn admit(config: &DaemonSettings, peer: &Peer, purpose: Purpose) -> Result<Visibility, String> {
    let login = &peer.login;
    let visibility = acl::visibility(&config.acl, login).map_err(|_| {
        format!(
            "user `{login}` (uid {}) has no access to this switchboard; an admin adds to the daemon's config:\n[acl.users.{login}]\nrole = \"supervisor\"\nextensions = [\"…\"]",
            peer.uid
        )
    })?;
    if purpose == Purpose::Status && !acl::is_admin(&config.acl, login) {
        return Err(format!(
            "`serve status` lists every attached user; `{}` is not an admin",
            peer.login
        ));
    }
    Ok(visibility)
}

/// An attached console: its frames out, its requests in, its own CDR,
/// app-database and supervisor-actions workers running with the daemon's
/// credentials and the user's rights (as `site`, sent to it, says them).
async fn attached(
    framed: Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>,
    (id, purpose): (u64, Purpose),
    (peer, site): (&Peer, &protocol::Site),
    visibility: Visibility,
    shared: &Shared,
) {
    let config = &shared.config;
    let (frames_tx, mut frames_rx) = mpsc::channel::<Bytes>(CONSOLE_QUEUE);
    // A command gets replies only; a console gets the live data too.
    let join = Join {
        id,
        visibility: visibility.clone(),
        pbxs: acl::pbx_scope(&config.acl, &peer.login),
        frames: frames_tx.clone(),
    };
    if purpose == Purpose::Console && shared.join.send(join).await.is_err() {
        return;
    }
    let sites = config
        .cdr
        .iter()
        .map(|(name, template)| {
            let settings = db::DbSettings {
                visibility: visibility.clone(),
                // The console's user cannot set the daemon's URL: say who can.
                url: template.url.clone().map_err(|e| {
                    format!("the daemon has no CDR database ({e}); an admin sets [cdr] url_file in the daemon's config")
                }),
                ..template.clone()
            };
            let settings = match purpose {
                Purpose::Command => settings.for_commands(config.command_deadline),
                _ => settings,
            };
            (name.clone(), settings)
        })
        .collect();
    let mut cdr = db::spawn_sites(db::Sites::new(
        sites,
        acl::pbx_scope(&config.acl, &peer.login),
    ));
    let mut app = appdb::spawn(
        config.app_db.clone().map_err(|e| {
            format!("the daemon has no app database ({e}); an admin sets [dialer] db_url_file in the daemon's config")
        }),
        appdb::Actor {
            login: peer.login.clone(),
            may_control: acl::may_control_campaigns(&config.acl, &peer.login),
            reads_every_audit: acl::is_admin(&config.acl, &peer.login),
        },
        shared.app.clone(),
    );
    let mut act = supervise::spawn(
        shared.floor.clone(),
        supervise::Supervisor {
            login: peer.login.clone(),
            rights: site.rights.clone(),
            visibility: visibility.clone(),
            pbx_scope: acl::pbx_scope(&config.acl, &peer.login),
            phone: site.phone.clone(),
        },
    );
    // Frames are shared between consoles (one encoding per group): they are
    // written straight from the shared bytes, not copied into a per-console
    // codec buffer.
    // Requests are small: a small read buffer (it grows for a large one),
    // and the handshake's buffers freed (they are per console).
    let tokio_util::codec::FramedParts { io, read_buf, .. } = framed.into_parts();
    let (read_half, mut write_half) = io.into_split();
    let mut stream =
        tokio_util::codec::FramedRead::with_capacity(read_half, protocol::codec(), REQUEST_BUFFER);
    stream.read_buffer_mut().extend_from_slice(&read_buf);
    drop(read_buf);
    let writer = async {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while frames_rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            let write = write_frames(&mut write_half, &batch);
            match tokio::time::timeout(WRITE_DEADLINE, write).await {
                Ok(Ok(())) => batch.clear(),
                _ => return,
            }
        }
    };
    let replies = {
        let frames = frames_tx.clone();
        async move {
            loop {
                let msg = tokio::select! {
                    Some(r) = cdr.replies.recv() => ToConsole::Cdr(r),
                    Some(r) = app.replies.recv() => ToConsole::App(r),
                    Some(r) = act.replies.recv() => ToConsole::Act(r),
                    else => return,
                };
                let Ok(frame) = encode(&msg) else { continue };
                if frames.send(frame).await.is_err() {
                    return;
                }
            }
        }
    };
    // Alive, even with nothing to say (a console tells a frozen daemon
    // from a quiet one by these). A console whose queue is full is
    // receiving frames anyway.
    let heartbeat = {
        let frames = frames_tx.clone();
        async move {
            let Ok(beat) = encode(&ToConsole::Heartbeat) else {
                return std::future::pending().await;
            };
            let mut every = tokio::time::interval(protocol::HEARTBEAT);
            loop {
                every.tick().await;
                if let Err(mpsc::error::TrySendError::Closed(_)) = frames.try_send(beat.clone()) {
                    return;
                }
            }
        }
    };
    let (cdr_requests, app_requests, act_requests) = (
        cdr.requests.clone(),
        app.requests.clone(),
        act.requests.clone(),
    );
    let reader = async {
        while let Some(Ok(frame)) = stream.next().await {
            let request = match decode::<ToDaemon>(&frame) {
                Ok(r) => r,
                Err(e) => {
                    tracing::info!(
                        console = id,
                        "unreadable request, closing: {}",
                        escape(&e.to_string())
                    );
                    return;
                }
            };
            let refused = match request {
                ToDaemon::Cdr(req) => match refuse_cdr(&req) {
                    Some(reply) => Some(ToConsole::Cdr(reply)),
                    None => {
                        let id = req.id();
                        cdr_requests.send(*req).await.err().map(|_| {
                            ToConsole::Cdr(failed(
                                id,
                                "the daemon's CDR service stopped; restart the daemon",
                            ))
                        })
                    }
                },
                ToDaemon::App(req) => {
                    let id = req.id();
                    app_requests.send(req).await.err().map(|_| {
                        ToConsole::App(AppReply::Failed {
                            id,
                            message: "the daemon's campaigns service stopped; restart the daemon"
                                .into(),
                        })
                    })
                }
                ToDaemon::Act(req) => {
                    let id = req.id();
                    act_requests.send(req).await.err().map(|_| {
                        ToConsole::Act(ActReply::Failed {
                            id,
                            message: "the daemon's actions service stopped; restart the daemon"
                                .into(),
                        })
                    })
                }
            };
            if let Some(msg) = refused
                && let Ok(frame) = encode(&msg)
                && frames_tx.send(frame).await.is_err()
            {
                return;
            }
        }
    };
    tokio::select! {
        _ = writer => {}
        _ = replies => {}
        _ = reader => {}
        _ = heartbeat => {}
    }
}

fn failed(id: u64, message: &str) -> DbReply {
    DbReply::Failed {
        id,
        message: message.into(),
    }
}

/// CDR requests the daemon does not run for an attached console.
fn refuse_cdr(req: &DbRequest) -> Option<DbReply> {
    match req {
        DbRequest::ExportKpi { id, .. } => Some(failed(
            *id,
            "KPI files are written by the console, not the daemon",
        )),
        DbRequest::Export { id, .. } => Some(failed(
            *id,
            "the daemon writes no file for a console (the console streams the export and writes it itself); run the same switchboard version as the daemon",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_written_in_pieces_arrive_whole_and_in_order() {
        use tokio::io::AsyncReadExt;
        let (a, mut b) = UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
        let (_r, mut w) = a.into_split();
        // Larger than a socket buffer: the kernel takes each write in parts.
        let frames: Vec<Bytes> = (0..3u8)
            .map(|i| Bytes::from(vec![i; 300_000 + usize::from(i)]))
            .collect();
        let expected: Vec<u8> = frames
            .iter()
            .flat_map(|f| {
                let len = u32::try_from(f.len()).unwrap_or_default().to_be_bytes();
                len.into_iter().chain(f.iter().copied())
            })
            .collect();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got)
        });
        write_frames(&mut w, &frames)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(w);
        drop(_r);
        let got = reader
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            got == expected,
            "{} bytes, expected {}",
            got.len(),
            expected.len()
        );
    }
}
