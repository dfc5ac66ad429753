//! The console's side of the daemon: connect, handshake, then keep the
//! console's channels (link state, live deltas, CDR and campaign requests)
//! flowing over the socket, reattaching by itself with backoff when the
//! daemon goes away. Meanwhile the header shows the link down (STALE) and
//! requests fail at once with a message instead of hanging.

use super::live::LiveDelta;
use super::protocol::{self, Answer, Hello, Purpose, Site, ToConsole, ToDaemon, decode, encode};
use crate::ami::connection::LinkHealth;
use crate::ami::{AmiMsg, ConnectionState};
use crate::backoff::Backoff;
use crate::service::campaigns::{AppLink, AppReply, AppRequest};
use crate::service::cdr::{DbLink, DbReply, DbRequest};
use crate::service::supervise::{ActLink, ActReply, ActRequest};
use futures_util::{SinkExt, StreamExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// Deadline for connecting and for the daemon's answer, each.
pub const ATTACH_DEADLINE: Duration = Duration::from_secs(10);

type Link = Framed<UnixStream, LengthDelimitedCodec>;

/// A console attached to the daemon.
pub struct Attachment {
    /// The login the daemon serves (from the kernel).
    pub login: String,
    /// The PBX the daemon serves.
    pub pbx: String,
    /// The site's settings.
    pub site: Site,
    /// Each of the daemon's AMI links' state (one receiver per PBX of
    /// [`Site::pbxs`]), and this socket's when it is lost.
    pub ami: Vec<mpsc::Receiver<AmiMsg>>,
    /// Live data changes.
    pub live: mpsc::Receiver<LiveDelta>,
    /// The daemon's AMI links' freshness, by PBX index.
    pub health: mpsc::Receiver<(usize, LinkHealth)>,
    /// CDR requests through the daemon.
    pub db: DbLink,
    /// Campaign requests through the daemon.
    pub app: AppLink,
    /// Supervisor actions through the daemon.
    pub act: ActLink,
    /// The task keeping it all attached.
    pub task: JoinHandle<()>,
}

/// Connects to `socket` and says hello.
///
/// Errors: the socket cannot be reached within [`ATTACH_DEADLINE`], the
/// daemon does not answer, or refuses (its words: a version mismatch, a
/// login the ACL does not know).
pub async fn handshake(socket: &Path, purpose: Purpose) -> anyhow::Result<(Link, Answer)> {
    let stream = tokio::time::timeout(ATTACH_DEADLINE, connect(socket))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "daemon socket {}: no daemon answered within {ATTACH_DEADLINE:?}; is `switchboard serve` running (systemctl status switchboard-serve)? --direct runs without it",
                socket.display()
            )
        })?
        .map_err(|e| anyhow::anyhow!("daemon socket {}: {e}", socket.display()))?;
    let mut link = Framed::new(stream, protocol::codec());
    if let Err(Unsent::TooLarge(e) | Unsent::Lost(e)) = send(&mut link, &Hello::new(purpose)).await
    {
        anyhow::bail!("daemon socket {}: {e}", socket.display());
    }
    let answer: Answer = read(&mut link, socket).await?;
    if let Some(why) = &answer.refused {
        anyhow::bail!(
            "the switchboard daemon at {} refused this console: {why}",
            socket.display()
        );
    }
    if answer.protocol != protocol::PROTOCOL {
        anyhow::bail!(protocol::mismatch(
            (answer.protocol, &answer.version),
            (protocol::PROTOCOL, env!("CARGO_PKG_VERSION"))
        ));
    }
    Ok((link, answer))
}

/// Connects, trying again while the daemon's accept queue is full (many
/// consoles attaching at once) or its socket is there but nobody listens
/// yet (the daemon restarting); the caller bounds the wait.
async fn connect(socket: &Path) -> std::io::Result<UnixStream> {
    loop {
        match UnixStream::connect(socket).await {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::WouldBlock
                ) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

/// Reads the next frame as a `T`, within [`ATTACH_DEADLINE`].
pub async fn read<T: for<'a> serde::Deserialize<'a>>(
    link: &mut Link,
    socket: &Path,
) -> anyhow::Result<T> {
    let frame = tokio::time::timeout(ATTACH_DEADLINE, link.next())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "daemon {}: no answer within {ATTACH_DEADLINE:?}",
                socket.display()
            )
        })?
        .ok_or_else(|| anyhow::anyhow!("daemon {}: closed the connection", socket.display()))??;
    decode(&frame).map_err(|e| {
        anyhow::anyhow!(
            "daemon {}: unreadable answer ({e}); run the same switchboard version as the daemon",
            socket.display()
        )
    })
}

/// Connects as a console: the handshake, then the site's settings.
///
/// Errors: as [`handshake`], or no settings after the answer.
async fn attach_once(socket: &Path, purpose: Purpose) -> anyhow::Result<(Link, Answer, Site)> {
    let (mut link, answer) = handshake(socket, purpose).await?;
    match read::<ToConsole>(&mut link, socket).await? {
        ToConsole::Welcome(site) => Ok((link, answer, site)),
        _ => anyhow::bail!(
            "daemon {}: no site settings after its answer; run the same switchboard version as the daemon",
            socket.display()
        ),
    }
}

/// A command's CDR and campaign services through the daemon: no live
/// data, no reattach (a lost daemon ends the replies and the command says
/// so).
pub struct Services {
    /// The login the daemon serves (from the kernel).
    pub login: String,
    /// The site's settings.
    pub site: Site,
    /// CDR requests through the daemon.
    pub db: DbLink,
    /// Campaign requests through the daemon.
    pub app: AppLink,
    /// Supervisor actions through the daemon.
    pub act: ActLink,
    /// Why the link ended, once it has (the replies then end too).
    pub ended: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// Attaches a command (`cdr export`, `kpi`, `campaign …`) to the daemon at
/// `socket`.
///
/// Errors: as [`handshake`], or no settings after the answer.
pub async fn services(socket: &Path) -> anyhow::Result<Services> {
    let (mut link, answer, site) = attach_once(socket, Purpose::Command).await?;
    // No live data comes for a command.
    let (live_tx, _) = mpsc::channel(1);
    let (health, _) = mpsc::channel(1);
    let (mut ends, db, app, act) = request_ends(Vec::new(), live_tx, health);
    let ended = std::sync::Arc::new(std::sync::Mutex::new(None));
    let why = ended.clone();
    tokio::spawn(async move {
        if let Ok(reason) = pump(&mut link, &mut ends).await {
            *why.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        }
    });
    Ok(Services {
        login: answer.login.unwrap_or_default(),
        site,
        db,
        app,
        act,
        ended,
    })
}

/// The attach task's ends (live senders given) and the requester's ends
/// of the request channels.
fn request_ends(
    ami: Vec<mpsc::Sender<AmiMsg>>,
    live: mpsc::Sender<LiveDelta>,
    health: mpsc::Sender<(usize, LinkHealth)>,
) -> (Ends, DbLink, AppLink, ActLink) {
    let (db_req_tx, db_req) = mpsc::channel(16);
    let (act_req_tx, act_req) = mpsc::channel(16);
    let (act_reply_tx, act_reply) = mpsc::channel(16);
    let (db_reply_tx, db_reply) = mpsc::channel(64);
    let (app_req_tx, app_req) = mpsc::channel(16);
    let (app_reply_tx, app_reply) = mpsc::channel(64);
    let ends = Ends {
        ami,
        live,
        health,
        db_requests: db_req,
        db_replies: db_reply_tx,
        app_requests: app_req,
        app_replies: app_reply_tx,
        act_requests: act_req,
        act_replies: act_reply_tx,
        exports: Default::default(),
    };
    (
        ends,
        DbLink {
            requests: db_req_tx,
            replies: db_reply,
        },
        AppLink {
            requests: app_req_tx,
            replies: app_reply,
        },
        ActLink {
            requests: act_req_tx,
            replies: act_reply,
        },
    )
}

/// Attaches a console to the daemon at `socket`.
///
/// Errors: as [`handshake`]; the first attach must succeed (later losses
/// are retried).
pub async fn attach(socket: PathBuf) -> anyhow::Result<Attachment> {
    let (link, answer, site) = attach_once(&socket, Purpose::Console).await?;
    let (ami_tx, ami): (Vec<_>, Vec<_>) = site.pbxs.iter().map(|_| mpsc::channel(64)).unzip();
    let (live_tx, live) = mpsc::channel(1024);
    let (health_tx, health) = mpsc::channel(64);
    let (ends, db, app, act) = request_ends(ami_tx, live_tx, health_tx);
    let task = tokio::spawn(keep_attached(socket, link, ends));
    Ok(Attachment {
        login: answer.login.unwrap_or_default(),
        pbx: answer.pbx,
        site,
        ami,
        live,
        health,
        db,
        app,
        act,
        task,
    })
}

/// A History export written here, as the user, from the rows the daemon
/// streams.
struct LocalExport {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

/// The attach task's ends of the console's channels.
struct Ends {
    /// Per PBX of the site, in order.
    ami: Vec<mpsc::Sender<AmiMsg>>,
    live: mpsc::Sender<LiveDelta>,
    health: mpsc::Sender<(usize, LinkHealth)>,
    db_requests: mpsc::Receiver<DbRequest>,
    db_replies: mpsc::Sender<DbReply>,
    app_requests: mpsc::Receiver<AppRequest>,
    app_replies: mpsc::Sender<AppReply>,
    act_requests: mpsc::Receiver<ActRequest>,
    act_replies: mpsc::Sender<ActReply>,
    /// Exports under way, by request id.
    exports: std::collections::HashMap<u64, LocalExport>,
}

impl Ends {
    /// Ends every export under way: their partial files are removed, and
    /// each is answered with `why`.
    async fn fail_exports(&mut self, why: &str) -> Result<(), ConsoleGone> {
        for (id, e) in std::mem::take(&mut self.exports) {
            drop(e.out);
            let _ = std::fs::remove_file(&e.path);
            let reply = DbReply::Failed {
                id,
                message: format!("export stopped: {why}"),
            };
            self.db_replies.send(reply).await.map_err(|_| ConsoleGone)?;
        }
        Ok(())
    }

    /// A History export: a file made here, the rows streamed by the daemon.
    fn start_export(
        &mut self,
        id: u64,
        filter: crate::cdr::filter::CdrFilter,
    ) -> Result<DbRequest, DbReply> {
        let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let (path, file) =
            crate::service::cdr::export_file(&dir, filter.from).map_err(|e| DbReply::Failed {
                id,
                message: e.to_string(),
            })?;
        let out = std::io::BufWriter::new(file);
        self.exports.insert(id, LocalExport { path, out });
        Ok(DbRequest::Stream {
            id,
            filter,
            format: crate::cdr::export::Format::Csv { bom: false },
        })
    }

    /// A reply for an export under way, written to its file; `Some` is the
    /// reply for the console (the export done or failed).
    fn export_reply(&mut self, reply: DbReply) -> Option<DbReply> {
        use std::io::Write;
        let id = reply.id();
        let Some(export) = self.exports.get_mut(&id) else {
            return Some(reply);
        };
        let written = match &reply {
            DbReply::Chunk { bytes, .. } => match export.out.write_all(bytes) {
                Ok(()) => return None,
                Err(e) => Err(e.to_string()),
            },
            DbReply::Streamed { .. } => export.out.flush().map_err(|e| e.to_string()),
            _ => Ok(()),
        };
        let export = self.exports.remove(&id)?;
        match (reply, written) {
            (DbReply::Streamed { rows, .. }, Ok(())) => Some(DbReply::Exported {
                id,
                rows,
                path: export.path,
            }),
            (other, written) => {
                let _ = std::fs::remove_file(&export.path);
                Some(match written {
                    Err(e) => DbReply::Failed {
                        id,
                        message: format!("{}: {e}", export.path.display()),
                    },
                    Ok(()) => other,
                })
            }
        }
    }
}

/// Why the console stopped: it went away, so the task ends.
struct ConsoleGone;

async fn keep_attached(socket: PathBuf, mut link: Link, mut ends: Ends) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        let why = match pump(&mut link, &mut ends).await {
            Ok(why) => why,
            Err(ConsoleGone) => return,
        };
        let mut why = format!("daemon {}: {why}", socket.display());
        if ends.fail_exports(&why).await.is_err() {
            return;
        }
        loop {
            let wait = backoff.next_delay();
            let down = ConnectionState::Down {
                retry_in: wait,
                reason: why.clone(),
            };
            // Every PBX's data is now out of date.
            for ami in &ends.ami {
                if ami.send(AmiMsg::State(down.clone())).await.is_err() {
                    return;
                }
            }
            if wait_refusing(&mut ends, wait, &why).await.is_err() {
                return;
            }
            match attach_once(&socket, Purpose::Console).await {
                Ok((l, _, _)) => {
                    link = l;
                    backoff.reset();
                    break;
                }
                Err(e) => why = format!("{e:#}"),
            }
        }
    }
}

/// Waits `wait`, answering every request meanwhile with `why`.
async fn wait_refusing(ends: &mut Ends, wait: Duration, why: &str) -> Result<(), ConsoleGone> {
    let until = tokio::time::Instant::now() + wait;
    let message = format!("not attached to the daemon ({why}); retrying");
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return Ok(()),
            r = ends.db_requests.recv() => {
                let r = r.ok_or(ConsoleGone)?;
                let reply = DbReply::Failed { id: r.id(), message: message.clone() };
                ends.db_replies.send(reply).await.map_err(|_| ConsoleGone)?;
            }
            r = ends.app_requests.recv() => {
                let r = r.ok_or(ConsoleGone)?;
                let reply = AppReply::Failed { id: r.id(), message: message.clone() };
                ends.app_replies.send(reply).await.map_err(|_| ConsoleGone)?;
            }
            Some(r) = ends.act_requests.recv() => {
                let reply = ActReply::Failed { id: r.id(), message: message.clone() };
                ends.act_replies.send(reply).await.map_err(|_| ConsoleGone)?;
            }
        }
    }
}

/// Moves frames both ways until the socket ends (returns why) or the
/// console goes away.
async fn pump(link: &mut Link, ends: &mut Ends) -> Result<String, ConsoleGone> {
    // The daemon sends at least a heartbeat every few seconds: silence is
    // a frozen or overloaded daemon, and the link is dropped and retried.
    let mut silent_at = tokio::time::Instant::now() + protocol::DAEMON_SILENCE;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(silent_at) => {
                return Ok(format!(
                    "the daemon sent nothing for {} s (frozen or overloaded?)",
                    protocol::DAEMON_SILENCE.as_secs()
                ));
            }
            frame = link.next() => {
                silent_at = tokio::time::Instant::now() + protocol::DAEMON_SILENCE;
                let frame = match frame {
                    Some(Ok(f)) => f,
                    Some(Err(e)) => return Ok(e.to_string()),
                    None => return Ok("the daemon closed the connection".into()),
                };
                match decode::<ToConsole>(&frame) {
                    Ok(msg) => deliver(msg, ends).await?,
                    Err(e) => return Ok(format!("unreadable frame: {e}")),
                }
            }
            r = ends.db_requests.recv() => {
                let r = r.ok_or(ConsoleGone)?;
                if let DbRequest::ExportKpi { id, day, extensions, queues, agents } = r {
                    // The figures are the console's own: written here, as the user.
                    let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
                    let reply = crate::service::cdr::export_kpi(&dir, id, day, (&extensions, &queues, &agents));
                    ends.db_replies.send(reply).await.map_err(|_| ConsoleGone)?;
                    continue;
                }
                // The service runs one query at a time: a new request
                // ends an export under way.
                ends.fail_exports("another query replaced it").await?;
                let r = match r {
                    DbRequest::Export { id, filter } => match ends.start_export(id, filter) {
                        Ok(stream) => stream,
                        Err(reply) => {
                            ends.db_replies.send(reply).await.map_err(|_| ConsoleGone)?;
                            continue;
                        }
                    },
                    other => other,
                };
                let id = r.id();
                match send(link, &ToDaemon::Cdr(Box::new(r))).await {
                    Ok(()) => {}
                    Err(Unsent::TooLarge(message)) => {
                        let reply = DbReply::Failed { id, message };
                        ends.db_replies.send(reply).await.map_err(|_| ConsoleGone)?;
                    }
                    Err(Unsent::Lost(e)) => return Ok(e),
                }
            }
            r = ends.app_requests.recv() => {
                let r = r.ok_or(ConsoleGone)?;
                let id = r.id();
                match send(link, &ToDaemon::App(r)).await {
                    Ok(()) => {}
                    Err(Unsent::TooLarge(message)) => {
                        let reply = AppReply::Failed { id, message };
                        ends.app_replies.send(reply).await.map_err(|_| ConsoleGone)?;
                    }
                    Err(Unsent::Lost(e)) => return Ok(e),
                }
            }
            // A command that does not act drops its act link: that ends
            // nothing (the branch is skipped once it is closed).
            Some(r) = ends.act_requests.recv() => {
                let id = r.id();
                match send(link, &ToDaemon::Act(r)).await {
                    Ok(()) => {}
                    Err(Unsent::TooLarge(message)) => {
                        let reply = ActReply::Failed { id, message };
                        ends.act_replies.send(reply).await.map_err(|_| ConsoleGone)?;
                    }
                    // Not retried on the next link: it may or may not have
                    // reached the daemon.
                    Err(Unsent::Lost(e)) => return Ok(e),
                }
            }
        }
    }
}

/// Sends one frame within [`ATTACH_DEADLINE`] (a daemon that stops
/// reading must not freeze the console: the link is dropped and retried).
async fn send<T: serde::Serialize>(link: &mut Link, msg: &T) -> Result<(), Unsent> {
    let frame = encode(msg).map_err(|e| Unsent::TooLarge(e.to_string()))?;
    if frame.len() > protocol::MAX_FRAME {
        return Err(Unsent::TooLarge(format!(
            "the request is {} MiB and the daemon takes at most {} MiB at once; split the file",
            frame.len() >> 20,
            protocol::MAX_FRAME >> 20
        )));
    }
    match tokio::time::timeout(ATTACH_DEADLINE, link.send(frame)).await {
        Ok(r) => r.map_err(|e| Unsent::Lost(e.to_string())),
        Err(_) => Err(Unsent::Lost(format!(
            "the daemon did not read for {ATTACH_DEADLINE:?}"
        ))),
    }
}

/// Why a frame was not sent.
enum Unsent {
    /// This request cannot go (too large, or not encodable); the link is
    /// fine.
    TooLarge(String),
    /// The link is lost: why.
    Lost(String),
}

async fn deliver(msg: ToConsole, ends: &mut Ends) -> Result<(), ConsoleGone> {
    match msg {
        ToConsole::Link { pbx, conn, health } => {
            let Some(ami) = ends.ami.get(pbx) else {
                return Ok(());
            };
            ends.health
                .send((pbx, health))
                .await
                .map_err(|_| ConsoleGone)?;
            ami.send(AmiMsg::State(conn)).await.map_err(|_| ConsoleGone)
        }
        ToConsole::Live(deltas) => {
            for d in deltas {
                ends.live.send(d).await.map_err(|_| ConsoleGone)?;
            }
            Ok(())
        }
        ToConsole::Cdr(r) => match ends.export_reply(r) {
            Some(r) => ends.db_replies.send(r).await.map_err(|_| ConsoleGone),
            None => Ok(()),
        },
        ToConsole::App(r) => ends.app_replies.send(r).await.map_err(|_| ConsoleGone),
        ToConsole::Act(r) => ends.act_replies.send(r).await.map_err(|_| ConsoleGone),
        ToConsole::Welcome(_) | ToConsole::Status(_) | ToConsole::Heartbeat => Ok(()),
    }
}
