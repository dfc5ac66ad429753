//! The AMI connection actor: one tokio task that owns the socket.
//!
//! It logs in, subscribes to events, runs the resync actions it was given,
//! forwards every event to the app as an [`AmiMsg`], answers [`Handle::request`]
//! calls, pings with a deadline, and reconnects forever with capped exponential
//! backoff and jitter. Its state reaches the app only as messages.
//!
//! The reader never waits on the app: events go out with `try_send`. When the
//! app's queue is full the event is dropped, the connection remembers that it
//! lost events, and as soon as the queue has room again it reports `Resyncing`
//! and runs the resync actions again, so the app's state converges instead of
//! silently drifting. Asterisk would otherwise drop a client that does not read
//! within its write timeout.

use super::action::Action;
use super::codec::{Decoder, Frame};
use super::message::{Message, MessageKind};
use crate::secret::Secret;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};

/// Longest wait for `FullyBooted` after login before the snapshot runs anyway.
pub const BOOT_WAIT: Duration = Duration::from_secs(3);

/// A `Ping` unanswered this long is overdue: the data on screen may be stale
/// (the link is declared dead only after `ping_timeout`).
pub const PING_OVERDUE: Duration = Duration::from_secs(1);

/// Capacity of the channel from the AMI actor to its consumer (a console,
/// the daemon's hub). A full channel makes the actor drop events and
/// resync instead of blocking its reader.
pub const AMI_QUEUE: usize = 65_536;

/// How fresh the link's data is, published on a watch channel beside the
/// event queue, so the app learns of a loss even while that queue is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkHealth {
    /// Events dropped since the actor started because the app's queue was
    /// full (each loss is followed by a resync). Never decreases.
    pub dropped: u64,
    /// A `Ping` has gone unanswered for longer than [`PING_OVERDUE`].
    pub ping_overdue: bool,
    /// When bytes last arrived from Asterisk, ms since epoch (UTC), to the
    /// nearest second; 0 before the first.
    pub last_read_ms: i64,
}

/// How to reach and log in to one Asterisk.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `host:port` of the AMI listener (manager.conf `bindaddr`/`port`).
    pub addr: String,
    /// manager.conf user (`[user]` section name).
    pub username: String,
    /// That user's `secret`.
    pub secret: Secret,
    /// Deadline for TCP connect, banner and login, together.
    pub connect_timeout: Duration,
    /// Time between keep-alive `Ping` actions.
    pub ping_interval: Duration,
    /// A `Ping` not answered within this is a dead connection.
    pub ping_timeout: Duration,
    /// First reconnect delay; doubled per failure up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Actions run after every login (snapshot of what the app tracks). Their
    /// responses and list items are forwarded as events.
    pub resync: Vec<Action>,
}

/// The connection's state, as the app sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConnectionState {
    /// Opening TCP and logging in; `attempt` counts from 1 since the last Ready.
    Connecting {
        /// Attempt number.
        attempt: u32,
    },
    /// Logged in; the snapshot actions are running. Data on screen may be stale.
    Resyncing,
    /// Snapshot complete; live events flowing.
    Ready,
    /// Not connected; next attempt after `retry_in`.
    Down {
        /// Delay before the next attempt.
        retry_in: Duration,
        /// Why the last attempt failed or the connection ended (no secrets).
        reason: String,
    },
}

/// An event with the wall-clock time it was read, in milliseconds since the
/// Unix epoch (UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedEvent {
    /// When the bytes carrying it were read (ms since epoch, UTC).
    pub at_ms: i64,
    /// The event.
    pub message: Message,
}

/// What the connection sends to the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiMsg {
    /// A state change.
    State(ConnectionState),
    /// A live event, or an item of a resync list.
    Event(ReceivedEvent),
}

/// Raw bytes as read from the socket, for `switchboard record`.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// Read time, ms since the Unix epoch (UTC).
    pub at_ms: i64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The answer to a [`Handle::request`].
#[derive(Clone, Debug)]
pub struct Reply {
    /// The `Response:` message.
    pub response: Message,
    /// For list actions, the items up to and including the `...Complete` event.
    pub events: Vec<Message>,
}

/// Why a request got no reply.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Not logged in right now; try again when the state is Ready.
    #[error("not connected to Asterisk")]
    NotConnected,
    /// The connection dropped before the response arrived. The action is not
    /// sent again: Asterisk may or may not have run it.
    #[error("connection to Asterisk lost before the response; the action may or may not have run")]
    ConnectionLost,
    /// Asterisk answered `Response: Error`.
    #[error("Asterisk refused the action: {0}")]
    Refused(String),
    /// The connection actor has stopped.
    #[error("the AMI connection has stopped")]
    Closed,
}

enum Command {
    Request {
        action: Action,
        reply: oneshot::Sender<Result<Reply, RequestError>>,
    },
}

/// Sends requests to the connection actor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
    health: watch::Receiver<LinkHealth>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Request { action, .. } => f.debug_tuple("Request").field(action).finish(),
        }
    }
}

impl Handle {
    /// The link's freshness, updated as it changes.
    pub fn health(&self) -> watch::Receiver<LinkHealth> {
        self.health.clone()
    }

    /// Sends `action` and waits for its response (and list items). Never
    /// retried: a lost response is [`RequestError::ConnectionLost`].
    pub async fn request(&self, action: Action) -> Result<Reply, RequestError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Request { action, reply })
            .await
            .map_err(|_| RequestError::Closed)?;
        rx.await.map_err(|_| RequestError::Closed)?
    }
}

/// Starts the actor. Events and states go to `events`; raw bytes to `tap`
/// when given. The actor ends when every [`Handle`] and the `events` receiver
/// are dropped.
pub fn spawn(
    settings: Settings,
    events: mpsc::Sender<AmiMsg>,
    tap: Option<mpsc::UnboundedSender<Chunk>>,
) -> (Handle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(64);
    let (health_tx, health) = watch::channel(LinkHealth::default());
    let actor = Actor {
        ids: ActionIds::new(),
        settings,
        events,
        tap,
        commands: rx,
        lost_events: false,
        health: health_tx,
        framing_warnings: crate::logging::RateLimit::new(Duration::from_secs(10)),
    };
    (Handle { tx, health }, tokio::spawn(actor.run()))
}

/// Generates ActionIDs unique to this process: `OriginateResponse` and other
/// events go to every AMI client, so ids must not collide with another tool's.
struct ActionIds {
    prefix: String,
    next: u64,
}

impl ActionIds {
    fn new() -> Self {
        ActionIds {
            prefix: format!("sb-{:x}-{:x}-", std::process::id(), rand::random::<u32>()),
            next: 0,
        }
    }

    fn next(&mut self) -> String {
        self.next += 1;
        format!("{}{}", self.prefix, self.next)
    }
}

use crate::clock::now_ms;

struct Actor {
    ids: ActionIds,
    settings: Settings,
    events: mpsc::Sender<AmiMsg>,
    tap: Option<mpsc::UnboundedSender<Chunk>>,
    commands: mpsc::Receiver<Command>,
    lost_events: bool,
    health: watch::Sender<LinkHealth>,
    framing_warnings: crate::logging::RateLimit,
}

/// Why a session ended.
enum End {
    /// Network or protocol failure; reconnect.
    Lost { reason: String, was_ready: bool },
    /// Nobody listens any more; stop.
    Closed,
}

struct Pending {
    reply: Option<oneshot::Sender<Result<Reply, RequestError>>>,
    response: Option<Message>,
    events: Vec<Message>,
}

/// Per-session bookkeeping.
struct Session {
    writer: OwnedWriteHalf,
    decoder: Decoder,
    requests: HashMap<String, Pending>,
    resync_pending: HashSet<String>,
    resyncing: bool,
    /// Asterisk said `FullyBooted` (sent right after login when it is up).
    booted: bool,
    ready_once: bool,
    /// The outstanding Ping's ActionID, when it is overdue, and its answer
    /// deadline.
    ping: Option<(String, Instant, Instant)>,
    /// When to send the next Ping (set when the previous one is answered).
    next_ping: Instant,
}

impl Actor {
    async fn run(mut self) {
        let mut attempt = 0u32;
        let mut backoff =
            crate::backoff::Backoff::new(self.settings.backoff_min, self.settings.backoff_max);
        loop {
            attempt += 1;
            if !self.state(ConnectionState::Connecting { attempt }).await {
                return;
            }
            match self.session().await {
                End::Closed => return,
                End::Lost { reason, was_ready } => {
                    if was_ready {
                        attempt = 0;
                        backoff.reset();
                    }
                    let retry_in = backoff.next_delay();
                    tracing::warn!(%reason, ?retry_in, "AMI connection down");
                    if !self
                        .state(ConnectionState::Down {
                            retry_in,
                            reason: reason.clone(),
                        })
                        .await
                    {
                        return;
                    }
                    if !self.wait_refusing(retry_in).await {
                        return;
                    }
                }
            }
        }
    }

    /// Sends a state outside a session (may wait for room). False when the app
    /// is gone.
    async fn state(&mut self, s: ConnectionState) -> bool {
        self.events.send(AmiMsg::State(s)).await.is_ok()
    }

    /// Sleeps `d`, answering requests with NotConnected meanwhile.
    async fn wait_refusing(&mut self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            tokio::select! {
                _ = sleep_until(until) => return true,
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Request { reply, .. }) => {
                        let _ = reply.send(Err(RequestError::NotConnected));
                    }
                    None if self.events.is_closed() => return false,
                    None => { sleep_until(until).await; return true; }
                },
            }
        }
    }

    async fn session(&mut self) -> End {
        let (reader, mut s) = match self.login().await {
            Ok(v) => v,
            Err(reason) => {
                return End::Lost {
                    reason,
                    was_ready: false,
                };
            }
        };
        let end = self.serve(reader, &mut s).await;
        for (_, p) in s.requests.drain() {
            if let Some(r) = p.reply {
                let _ = r.send(Err(RequestError::ConnectionLost));
            }
        }
        match end {
            Ok(()) => End::Closed,
            Err(reason) => End::Lost {
                reason,
                was_ready: s.ready_once,
            },
        }
    }

    /// TCP connect, banner, Login. Returns the read half and a session.
    async fn login(&mut self) -> Result<(tokio::net::tcp::OwnedReadHalf, Session), String> {
        let deadline = self.settings.connect_timeout;
        let addr = self.settings.addr.clone();
        let stream = timeout(deadline, TcpStream::connect(&addr))
            .await
            .map_err(|_| format!("connect to {addr} timed out after {deadline:?}"))?
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (mut reader, writer) = stream.into_split();
        let mut s = Session {
            writer,
            decoder: Decoder::new(),
            requests: HashMap::new(),
            resync_pending: HashSet::new(),
            resyncing: false,
            booted: false,
            ready_once: false,
            ping: None,
            next_ping: Instant::now() + self.settings.ping_interval,
        };
        let mut buf = vec![0u8; 16 * 1024];
        let until = Instant::now() + deadline;
        // The secret goes out only to a peer that introduced itself as an
        // Asterisk manager interface: never to an SSH or HTTP server on a
        // mistyped port.
        self.banner(&mut reader, &mut s, &mut buf, until).await?;
        let login = Action::login(&self.settings.username, self.settings.secret.expose())
            .map_err(|e| format!("AMI login: {e}"))?;
        let id = self.ids.next();
        s.writer
            .write_all(&login.encode(&id))
            .await
            .map_err(|e| format!("write to {addr}: {e}"))?;
        loop {
            let n = tokio::select! {
                r = reader.read(&mut buf) => r.map_err(|e| format!("read from {addr}: {e}"))?,
                _ = sleep_until(until) => return Err(format!("no login answer from {addr} within {deadline:?}")),
            };
            if n == 0 {
                return Err(format!("{addr} closed the connection during login"));
            }
            self.tap_chunk(&buf[..n]);
            s.decoder.feed(&buf[..n]);
            while let Some(frame) = s.decoder.next_frame() {
                let Ok(Frame::Message(m)) = frame else {
                    continue;
                };
                if m.action_id() != Some(id.as_str()) {
                    continue;
                }
                return match m.kind() {
                    MessageKind::Response(r) if r.eq_ignore_ascii_case("Success") => {
                        Ok((reader, s))
                    }
                    _ => Err(format!(
                        "AMI login as `{}` refused: {} (check manager.conf user and secret)",
                        self.settings.username,
                        crate::sanitize::escape(m.str("Message"))
                    )),
                };
            }
        }
    }

    /// Reads up to the banner line (`Asterisk Call Manager/x.y.z`). Errors
    /// name what answered instead (its first line, escaped) and the address.
    async fn banner(
        &mut self,
        reader: &mut tokio::net::tcp::OwnedReadHalf,
        s: &mut Session,
        buf: &mut [u8],
        until: Instant,
    ) -> Result<(), String> {
        let addr = self.settings.addr.clone();
        let mut seen = Vec::new();
        loop {
            let n = tokio::select! {
                r = reader.read(buf) => r.map_err(|e| format!("read from {addr}: {e}"))?,
                _ = sleep_until(until) => return Err(format!(
                    "{addr} sent no AMI banner within {:?}: is this Asterisk's manager port (manager.conf `port`)?",
                    self.settings.connect_timeout
                )),
            };
            if n == 0 {
                return Err(format!(
                    "{addr} closed the connection before its banner: is this Asterisk's manager port, and is this host allowed (manager.conf `permit`)?"
                ));
            }
            self.tap_chunk(&buf[..n]);
            if seen.len() < 256 {
                seen.extend_from_slice(&buf[..n.min(256)]);
            }
            s.decoder.feed(&buf[..n]);
            match s.decoder.next_frame() {
                Some(Ok(Frame::Banner(_))) => return Ok(()),
                None if !seen.contains(&b'\n') => continue,
                _ => {
                    let first = String::from_utf8_lossy(&seen);
                    let first = first.lines().next().unwrap_or("").trim();
                    return Err(format!(
                        "{addr} is not an Asterisk manager interface (it said `{}`); check ami.host and ami.port",
                        crate::sanitize::escape(first)
                    ));
                }
            }
        }
    }

    fn tap_chunk(&self, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            let _ = tap.send(Chunk {
                at_ms: now_ms(),
                bytes: bytes.to_vec(),
            });
        }
    }

    /// Forwards without waiting; remembers a loss for a later resync and
    /// publishes it at once on the health channel.
    fn forward(&mut self, msg: AmiMsg) {
        if self.events.try_send(msg).is_err() {
            self.lost_events = true;
            self.health
                .send_modify(|h| h.dropped = h.dropped.saturating_add(1));
        }
    }

    /// Notes that bytes arrived (published at most once a second).
    fn note_read(&self) {
        let now = now_ms();
        self.health.send_if_modified(|h| {
            if now - h.last_read_ms >= 1000 {
                h.last_read_ms = now;
                true
            } else {
                false
            }
        });
    }

    fn set_ping_overdue(&self, overdue: bool) {
        self.health.send_if_modified(|h| {
            let changed = h.ping_overdue != overdue;
            h.ping_overdue = overdue;
            changed
        });
    }

    async fn start_resync(&mut self, s: &mut Session) -> Result<(), String> {
        s.resyncing = true;
        self.lost_events = false;
        self.forward(AmiMsg::State(ConnectionState::Resyncing));
        for action in self.settings.resync.clone() {
            let id = self.ids.next();
            s.resync_pending.insert(id.clone());
            s.writer
                .write_all(&action.encode(&id))
                .await
                .map_err(|e| format!("write: {e}"))?;
        }
        self.check_ready(s);
        Ok(())
    }

    fn check_ready(&mut self, s: &mut Session) {
        if s.resyncing && s.resync_pending.is_empty() {
            s.resyncing = false;
            s.ready_once = true;
            self.forward(AmiMsg::State(ConnectionState::Ready));
        }
    }

    /// The session's main loop. `Ok` when the app is gone, `Err(reason)` when
    /// the connection is lost.
    ///
    /// The snapshot waits for `FullyBooted`: AMI accepts logins while Asterisk
    /// is still loading modules, and a `QueueStatus` sent then is refused,
    /// which would leave the previous Asterisk's queues on screen. Until then
    /// the app sees `Resyncing`.
    async fn serve(
        &mut self,
        mut reader: tokio::net::tcp::OwnedReadHalf,
        s: &mut Session,
    ) -> Result<(), String> {
        self.forward(AmiMsg::State(ConnectionState::Resyncing));
        // What came in the login's read after its response (FullyBooted).
        self.drain(s);
        let mut buf = vec![0u8; 64 * 1024];
        let mut snapshot_due = true;
        // Once every Handle is gone, requests stop; events go on while the
        // app listens. A closed channel must not be polled (it is always ready).
        let mut commands_open = true;
        // A user without the `system` read class never gets FullyBooted.
        let boot_deadline = Instant::now() + BOOT_WAIT;
        loop {
            if s.booted && snapshot_due {
                snapshot_due = false;
                self.start_resync(s).await?;
            }
            if self.lost_events
                && !s.resyncing
                && self.events.capacity() * 2 > self.events.max_capacity()
            {
                tracing::warn!("app queue overflowed; resyncing");
                self.start_resync(s).await?;
            }
            let ping_deadline = s.ping.as_ref().map(|(_, _, d)| *d);
            let ping_overdue = s
                .ping
                .as_ref()
                .map(|(_, o, _)| *o)
                .filter(|_| !self.health.borrow().ping_overdue);
            tokio::select! {
                r = reader.read(&mut buf) => {
                    let n = r.map_err(|e| format!("read: {e}"))?;
                    if n == 0 {
                        return Err("Asterisk closed the AMI connection".into());
                    }
                    self.note_read();
                    self.tap_chunk(&buf[..n]);
                    s.decoder.feed(&buf[..n]);
                    self.drain(s);
                    if self.events.is_closed() {
                        return Ok(());
                    }
                }
                cmd = self.commands.recv(), if commands_open => match cmd {
                    Some(Command::Request { action, reply }) => {
                        let id = self.ids.next();
                        s.writer.write_all(&action.encode(&id)).await.map_err(|e| format!("write: {e}"))?;
                        s.requests.insert(id, Pending { reply: Some(reply), response: None, events: Vec::new() });
                    }
                    None if self.events.is_closed() => return Ok(()),
                    None => commands_open = false,
                },
                _ = sleep_until(s.next_ping), if s.ping.is_none() => {
                    let id = self.ids.next();
                    let ping = Action::new("Ping").map_err(|e| e.to_string())?;
                    s.writer.write_all(&ping.encode(&id)).await.map_err(|e| format!("write: {e}"))?;
                    let now = Instant::now();
                    s.ping = Some((id, now + PING_OVERDUE, now + self.settings.ping_timeout));
                }
                _ = sleep_until(ping_overdue.unwrap_or_else(Instant::now)), if ping_overdue.is_some() => {
                    self.set_ping_overdue(true);
                }
                _ = sleep_until(boot_deadline), if snapshot_due && !s.booted => {
                    tracing::info!("no FullyBooted within {BOOT_WAIT:?} (manager user without read=system?); snapshot now");
                    s.booted = true;
                }
                _ = sleep_until(ping_deadline.unwrap_or_else(Instant::now)), if ping_deadline.is_some() => {
                    return Err(format!("no answer to Ping within {:?}", self.settings.ping_timeout));
                }
            }
        }
    }

    /// Dispatches every complete frame in the decoder.
    fn drain(&mut self, s: &mut Session) {
        let at_ms = now_ms();
        while let Some(frame) = s.decoder.next_frame() {
            match frame {
                Ok(Frame::Message(m)) => self.dispatch(s, m, at_ms),
                Ok(Frame::Banner(_)) => {}
                Err(e) => {
                    if let Some(held) = self.framing_warnings.allow(std::time::Instant::now()) {
                        tracing::warn!(error = %e, held_back = held, "AMI framing error");
                    }
                }
            }
        }
    }

    fn dispatch(&mut self, s: &mut Session, m: Message, at_ms: i64) {
        if m.event_name() == Some("FullyBooted") {
            s.booted = true;
        }
        let id = m.action_id().map(str::to_string);
        let list_complete = m
            .get("EventList")
            .is_some_and(|v| v.eq_ignore_ascii_case("Complete"));
        match (m.kind(), id) {
            (MessageKind::Response(status), Some(id)) => {
                let error = status.eq_ignore_ascii_case("Error");
                let list = m
                    .get("EventList")
                    .is_some_and(|v| v.eq_ignore_ascii_case("start"));
                if s.ping.as_ref().is_some_and(|(p, _, _)| *p == id) {
                    s.ping = None;
                    self.set_ping_overdue(false);
                    s.next_ping = Instant::now() + self.settings.ping_interval;
                } else if s.resync_pending.contains(&id) {
                    if error || !list {
                        if error {
                            tracing::info!(message = %crate::sanitize::escape(m.str("Message")), "resync action refused");
                        }
                        s.resync_pending.remove(&id);
                        self.check_ready(s);
                    }
                } else if let Some(p) = s.requests.get_mut(&id) {
                    if error {
                        let msg = m.str("Message").to_string();
                        if let Some(r) = s.requests.remove(&id).and_then(|p| p.reply) {
                            let _ = r.send(Err(RequestError::Refused(msg)));
                        }
                    } else if list {
                        p.response = Some(m);
                    } else if let Some(r) = s.requests.remove(&id).and_then(|p| p.reply) {
                        let _ = r.send(Ok(Reply {
                            response: m,
                            events: Vec::new(),
                        }));
                    }
                }
            }
            (MessageKind::Event(_), Some(id)) if s.requests.contains_key(&id) => {
                if let Some(p) = s.requests.get_mut(&id) {
                    p.events.push(m);
                }
                if list_complete && let Some(mut p) = s.requests.remove(&id) {
                    let reply = Reply {
                        response: p.response.take().unwrap_or_default(),
                        events: std::mem::take(&mut p.events),
                    };
                    if let Some(r) = p.reply {
                        let _ = r.send(Ok(reply));
                    }
                }
            }
            (MessageKind::Event(_), id) => {
                let done = list_complete && id.as_ref().is_some_and(|i| s.resync_pending.remove(i));
                self.forward(AmiMsg::Event(ReceivedEvent { at_ms, message: m }));
                if done {
                    self.check_ready(s);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_unique_and_prefixed() {
        let mut ids = ActionIds::new();
        let a = ids.next();
        let b = ids.next();
        assert_ne!(a, b);
        assert!(a.starts_with("sb-") && b.starts_with(&ids.prefix));
    }
}
