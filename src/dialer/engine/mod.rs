//! The engine (`switchboard --engine`): claims due leads of running
//! campaigns, originates them through ARI, sends answered calls to the
//! campaign's destination, records every outcome, and acknowledges what
//! the console asks for.
//!
//! Layout:
//! - this module: the loop, the one owner of the engine's state. It handles
//!   ARI events at once and never waits on the database or on Asterisk's
//!   HTTP server;
//! - [`jobs`]: the slow work (claims, originates, reconciliation, the
//!   heartbeat), each a task with a deadline whose result the loop applies;
//! - [`writer`]: every fact for the database, queued in order, retried
//!   until written and spooled to disk until then;
//! - [`settings`], [`vars`]: configuration, and lead data as channel
//!   variables.
//!
//! Crash safety: an attempt row is committed before its originate, with the
//! attempt id as the channel id, and stamped `sending` (fenced by the
//! engine's lease) before the first byte goes to Asterisk. After a start or
//! an ARI reconnect the engine reconciles: an attempt whose channel
//! Asterisk still has is followed again (and sent on if it waits answered
//! in the app); one whose channel is gone ends by the rules of
//! [`super::verdict`], and is never redialed unless it was never sent.

pub mod agents;
mod amd;
pub mod jobs;
pub mod pace;
pub mod settings;
pub mod vars;
pub mod writer;

pub use settings::EngineSettings;
pub use vars::{lead_variables, percent_encode};

use super::DialerError;
use super::outcome::Outcome;
use super::store::{AppDb, CampaignRow, Claimed, Lease};
use super::verdict;
use crate::ari::events::{self, AriEvent, AriMsg};
use crate::ari::rest::Rest;
use crate::ari::{AriError, AriSettings};
use crate::clock::now_ms;
use jobs::{Call, Done, Sent, Snapshot, Stepped};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use writer::{Write, Writer};

/// A call this engine follows.
#[derive(Clone, Debug)]
struct Live {
    campaign_id: i64,
    answered: bool,
    /// The originate's final dial status, when one came.
    dial_status: Option<String>,
    /// Asterisk stopped answering the engine while this call was in flight
    /// (see [`verdict::Ended::in_doubt`]).
    in_doubt: bool,
    /// When the engine last asked Asterisk to send the answered call on.
    sent_on: Option<Instant>,
    /// The channel's name (from `StasisStart`), for AMI actions.
    name: Option<String>,
    /// An agent took the call (`MEMBERINTERFACE` or `BRIDGEPEER` set on
    /// the channel).
    connected: bool,
    /// Moved to the safe-harbour message (or the move was asked for).
    dropped: bool,
    /// When the safe-harbour timer runs out (set at the answer, and again
    /// at AMD's verdict): an earlier timer's end is ignored.
    drop_at: Option<Instant>,
    /// Sent to the AMD context, its verdict not yet back.
    listening: bool,
    /// AMD's verdict, once back.
    amd: Option<crate::dialer::amd::AmdStatus>,
}

impl Live {
    /// A call of campaign `campaign_id` being followed, `answered` or not.
    fn new(campaign_id: i64, answered: bool, in_doubt: bool) -> Self {
        Live {
            campaign_id,
            answered,
            dial_status: None,
            in_doubt,
            sent_on: None,
            name: None,
            connected: false,
            dropped: false,
            drop_at: None,
            listening: false,
            amd: None,
        }
    }
}

/// Tells systemd (when it started us with `Type=notify`) what we do.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(state);
}

/// How long a lease lasts without renewal, ms. It is renewed every second
/// with the heartbeat; an engine frozen (or cut from its database) longer
/// than this loses it, and a restarted engine with the same id waits at
/// most this long for it.
const LEASE_MS: i64 = 5_000;

/// Why queue campaigns wait when the engine has no AMI link.
const NO_AMI: &str = "no AMI link ([ami] settings): queue campaigns wait, the agents are not seen";

/// How often the running campaigns' statistics and abandon rates are read
/// again (the pacing's feedback: a campaign nearing its cap falls back to
/// progressive within this).
const STEER_EVERY: Duration = Duration::from_secs(5);

/// A lead whose originate Asterisk could not take (5xx) is due again
/// after this, ms.
const REQUEUE_MS: i64 = 5_000;

/// How often attempts in flight are reconciled with Asterisk besides after
/// every connect and every lost originate.
const RECONCILE_EVERY: Duration = Duration::from_secs(15);

/// An answered call still waiting in the app this long after it was sent
/// on is sent on again by reconciliation.
const SEND_ON_AGAIN: Duration = Duration::from_secs(5);

/// An error as the log shows it: ARI bodies and database messages are peer
/// text, and the journal gets the engine's lines without the sanitizing
/// writer the file and stderr loggers use.
fn said(e: &impl std::fmt::Display) -> String {
    crate::sanitize::escape(&e.to_string()).into_owned()
}

/// A reason for the status line: escaped, at most 160 characters.
fn reason(e: &impl std::fmt::Display) -> String {
    said(e).chars().take(160).collect()
}

/// Which jobs run (see [`jobs`]).
#[derive(Debug, Default)]
struct Slots {
    /// A step, a send or a reconciliation runs.
    work: bool,
    /// A heartbeat runs.
    beat: bool,
    /// A probe of Asterisk runs.
    probe: bool,
    /// The campaigns' statistics are being read.
    steer: bool,
}

/// A reconciliation under way (its snapshot is being read).
#[derive(Debug, Default)]
struct Reconciling {
    /// It follows a gap (see `Engine::after_gap`).
    gap: bool,
    /// Calls that ended meanwhile: the snapshot may still list them, but
    /// they must not be followed again (their end came, and comes once).
    ended: HashSet<String>,
}

/// The engine's state.
pub struct Engine {
    db: AppDb,
    rest: Rest,
    s: EngineSettings,
    /// This engine's lease on its id (fencing: see [`AppDb::sending`]).
    lease: Lease,
    live: HashMap<String, Live>,
    /// Calls hung up because a supervisor stopped their campaign.
    stopping: HashSet<String>,
    /// Hangups asked for and not answered yet.
    hanging_up: HashSet<String>,
    campaigns: HashMap<i64, CampaignRow>,
    ari_up: bool,
    /// Why ARI is down, for the heartbeat (`campaign status`, the
    /// Campaigns screen) and systemd's status.
    ari_down_reason: Option<String>,
    ari_warnings: crate::logging::RateLimit,
    /// Why the app database fails, while it does.
    db_down_reason: Option<String>,
    db_warnings: crate::logging::RateLimit,
    /// Attempts in flight must be reconciled before dialing again (after a
    /// connect, or an originate Asterisk did not answer).
    reconcile_due: bool,
    /// Events may have been lost since the last reconciliation (a
    /// reconnect, Asterisk silent): a followed call whose channel is gone
    /// ends by reconciliation, not by an event that will never come.
    after_gap: bool,
    ready: bool,
    draining: bool,
    /// Another engine with this id took the lease: stop at once.
    lease_lost: bool,
    /// When attempts in flight were last reconciled with Asterisk.
    reconciled_at: Option<Instant>,
    started_at: i64,
    slots: Slots,
    /// The reconciliation whose snapshot is being read.
    reconciling: Option<Reconciling>,
    done: mpsc::UnboundedSender<Done>,
    /// The queues' agents, from the engine's own AMI link (`None`: no
    /// `[ami]` settings, so queue campaigns do not dial).
    agents: Option<agents::Agents>,
    /// The running campaigns' statistics and abandon rates, and when they
    /// were last read.
    steering: HashMap<i64, pace::Steering>,
    steered_at: Option<Instant>,
}

impl Engine {
    /// An engine on `db`, dialing through `ari`.
    ///
    /// Errors: the HTTP client cannot be built.
    pub fn new(db: AppDb, ari: AriSettings, s: EngineSettings) -> Result<Self, AriError> {
        Ok(Engine {
            db,
            rest: Rest::new(ari)?,
            lease: Lease::new(&s.id),
            s,
            live: HashMap::new(),
            stopping: HashSet::new(),
            hanging_up: HashSet::new(),
            campaigns: HashMap::new(),
            ari_up: false,
            ari_down_reason: None,
            ari_warnings: crate::logging::RateLimit::new(Duration::from_secs(30)),
            db_down_reason: None,
            db_warnings: crate::logging::RateLimit::new(Duration::from_secs(30)),
            reconcile_due: true,
            after_gap: true,
            ready: false,
            draining: false,
            lease_lost: false,
            reconciled_at: None,
            started_at: now_ms(),
            slots: Slots::default(),
            reconciling: None,
            done: mpsc::unbounded_channel().0,
            agents: None,
            steering: HashMap::new(),
            steered_at: None,
        })
    }

    /// Runs until `shutdown` resolves, then drains: no new dials, live
    /// calls and queued writes are waited for (at most the drain time).
    ///
    /// Errors: the lease cannot be taken at start (another engine with this
    /// id runs), or was lost to one ([`DialerError::LeaseLost`]).
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), DialerError> {
        self.exclusive().await?;
        let queues = self.s.queues.clone();
        self.agents = self.s.ami.clone().map(|a| agents::follow(a, queues));
        let writer = Writer::start(self.db.clone(), self.s.spool.as_deref());
        let (done_tx, mut done) = mpsc::unbounded_channel();
        self.done = done_tx;
        let (tx, mut rx) = mpsc::channel(4096);
        let ws = events::spawn(self.rest.settings().clone(), tx);
        // Each tick ±20 %: engines sharing a campaign drift apart instead of
        // one always claiming just before the other when calls end together.
        let mut next_tick = Instant::now();
        let mut beat = tokio::time::interval(Duration::from_secs(1));
        tokio::pin!(shutdown);
        let mut drain_until: Option<Instant> = None;
        loop {
            tokio::select! {
                () = &mut shutdown, if drain_until.is_none() => {
                    self.draining = true;
                    notify(&[sd_notify::NotifyState::Stopping]);
                    tracing::info!(live = self.live.len(), queued = writer.pending(), "stopping: no new dials, draining live calls and queued writes");
                    drain_until = Some(Instant::now() + self.s.drain);
                }
                msg = rx.recv() => match msg {
                    Some(m) => self.on_ari(m, &writer),
                    None => break,
                },
                Some(d) = done.recv() => self.on_done(d, &writer),
                _ = tokio::time::sleep_until(next_tick) => {
                    next_tick = Instant::now()
                        + self.s.tick.mul_f64(0.8 + rand::random::<f64>() * 0.4);
                    self.tick();
                }
                _ = beat.tick() => self.beat(&writer),
            }
            if self.lease_lost {
                // Fenced: another engine with this id runs now and follows
                // the calls in flight; this one dials nothing more and exits
                // with an error (systemd restarts it, and it waits for the
                // lease). Its queued writes stay in the spool.
                ws.abort();
                let e = DialerError::LeaseLost(self.s.id.clone());
                tracing::error!("{}", said(&e));
                return Err(e);
            }
            if let Some(until) = drain_until {
                let idle = self.live.is_empty() && writer.pending() == 0 && !self.slots.work;
                if idle || Instant::now() >= until {
                    break;
                }
            }
        }
        ws.abort();
        let left = self.live.len();
        let queued = writer.pending();
        let state = format!("stopped, {left} calls left in flight");
        let _ = jobs::beat(self.db.clone(), self.lease.clone(), LEASE_MS, state).await;
        tracing::info!(
            left,
            queued,
            "engine stopped (writes still queued stay in the spool for the next start)"
        );
        Ok(())
    }

    /// Takes the lease of this engine id: refuses to run beside a live
    /// engine with the same id (they would share a Stasis app and lose each
    /// other's calls). A crashed one stops renewing: its lease expires
    /// within [`LEASE_MS`], so a restart waits at most that long.
    async fn exclusive(&self) -> Result<(), DialerError> {
        let deadline = now_ms() + LEASE_MS + 2_000;
        let mut warn = crate::logging::RateLimit::new(Duration::from_secs(30));
        loop {
            // Waiting for the lease (or the database) is part of starting.
            notify(&[
                sd_notify::NotifyState::Watchdog,
                sd_notify::NotifyState::ExtendTimeoutUsec(5_000_000),
            ]);
            let take = self
                .db
                .take_lease(&self.lease, self.started_at, now_ms(), LEASE_MS);
            let failed = match tokio::time::timeout(jobs::BEAT_DEADLINE, take).await {
                Ok(Ok(true)) => return Ok(()),
                Ok(Ok(false)) if now_ms() > deadline => {
                    return Err(DialerError::Config(format!(
                        "engine id `{}` is in use by a running engine; give each engine its own [dialer] engine_id",
                        self.s.id
                    )));
                }
                Ok(Ok(false)) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some(jobs::db_silent(jobs::BEAT_DEADLINE)),
            };
            if let Some(e) = failed
                && let Some(held) = warn.allow(std::time::Instant::now())
            {
                tracing::warn!(held_back = held, "taking the lease, retrying: {}", said(&e));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn status(&self, writer: &Writer) -> String {
        let running = self
            .campaigns
            .values()
            .filter(|c| c.status == "running")
            .count();
        let ari = match (&self.ari_up, &self.ari_down_reason) {
            (true, _) => "ARI up".to_string(),
            (false, Some(why)) => format!("ARI down ({why})"),
            (false, None) => "ARI connecting".to_string(),
        };
        let mode = if self.draining { "draining, " } else { "" };
        let queued = match (writer.pending(), writer.failing()) {
            (0, _) => String::new(),
            (n, Some(why)) => format!(
                ", {n} writes queued (app database failing: {})",
                why.chars().take(120).collect::<String>()
            ),
            (n, None) => format!(", {n} writes queued"),
        };
        let db = match &self.db_down_reason {
            Some(why) if queued.is_empty() => format!(", app database failing ({why})"),
            _ => String::new(),
        };
        // Queue campaigns dial only while the agents are seen; the floor
        // they dial by, per queue.
        let agents = match self.pace().agents {
            Ok(floors) => floors
                .iter()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .map(|(q, f)| {
                    format!(
                        ", {}: {} free, {} busy, {} paused, {} waiting",
                        crate::sanitize::escape(q),
                        f.available,
                        f.busy,
                        f.paused,
                        f.waiting
                    )
                })
                .collect(),
            Err(why) => format!(", agents unknown ({why}): queue campaigns wait"),
        };
        let agents = match self.agents.as_ref().and_then(agents::Agents::may_redirect) {
            Some(false) => format!("{agents}; {}", agents::NO_REDIRECT),
            _ => agents,
        };
        format!(
            "{mode}{ari}, {running} campaigns running, {} live calls{agents}{queued}{db}",
            self.live.len()
        )
    }

    /// Pets systemd's watchdog with the status, and renews the lease (a
    /// job) unless a renewal is still on its way.
    fn beat(&mut self, writer: &Writer) {
        let state = self.status(writer);
        notify(&[
            sd_notify::NotifyState::Watchdog,
            sd_notify::NotifyState::Status(&state),
        ]);
        if !self.ready {
            // Waiting for ARI is part of starting: systemd's start timeout
            // must not end it (ignored once READY).
            notify(&[sd_notify::NotifyState::ExtendTimeoutUsec(5_000_000)]);
        }
        if self.ari_up && !self.slots.probe {
            self.slots.probe = true;
            let job = jobs::probe(self.rest.clone());
            self.spawn(async move { Done::Probed(job.await) });
        }
        if self.slots.beat {
            return;
        }
        self.slots.beat = true;
        let job = jobs::beat(self.db.clone(), self.lease.clone(), LEASE_MS, state);
        self.spawn(async move { Done::Beat(job.await) });
    }

    /// Runs `job` as a task that reports back to the loop.
    fn spawn(&self, job: impl std::future::Future<Output = Done> + Send + 'static) {
        let tx = self.done.clone();
        tokio::spawn(async move {
            let _ = tx.send(job.await);
        });
    }

    /// Reads the running queue campaigns' statistics and abandon rates
    /// again when [`STEER_EVERY`] has passed (one read at a time).
    fn steer(&mut self) {
        if self.slots.steer || self.steered_at.is_some_and(|t| t.elapsed() < STEER_EVERY) {
            return;
        }
        let campaigns: Vec<(CampaignRow, f64)> = self
            .campaigns
            .values()
            .filter(|c| c.status == "running")
            .filter_map(|c| {
                let q = c.def.destination.queue.as_deref()?;
                Some((c.clone(), f64::from(self.s.queues.wrapup_s(q))))
            })
            .collect();
        self.slots.steer = true;
        self.steered_at = Some(Instant::now());
        let job = jobs::steering(self.db.clone(), campaigns);
        self.spawn(async move { Done::Steered(job.await) });
    }

    /// One tick: reconcile when due, else read campaigns and claim; one
    /// piece of work at a time.
    fn tick(&mut self) {
        self.steer();
        if self
            .reconciled_at
            .is_some_and(|t| t.elapsed() >= RECONCILE_EVERY)
        {
            // Also now and then: an attempt left claimed but unsent (a
            // claim whose answer was lost, an engine fenced off its lease)
            // is requeued without waiting for a restart.
            self.reconcile_due = true;
        }
        if self.slots.work {
            return;
        }
        self.slots.work = true;
        if self.reconcile_due && self.ari_up {
            let stale = now_ms() - self.s.stale_after.as_millis() as i64;
            // A reconnect or a lost originate while the snapshot is read
            // calls for another reconciliation after this one.
            self.reconcile_due = false;
            self.reconciling = Some(Reconciling {
                gap: std::mem::take(&mut self.after_gap),
                ended: HashSet::new(),
            });
            let job = jobs::snapshot(self.db.clone(), self.rest.clone(), self.s.id.clone(), stale);
            self.spawn(async move { Done::Snapshot(job.await) });
        } else {
            let job = jobs::step(
                self.db.clone(),
                self.lease.clone(),
                self.may_dial(),
                self.pace(),
            );
            self.spawn(async move { Done::Stepped(job.await) });
        }
    }

    /// The floors of the running campaigns' queues and the calls in flight
    /// per campaign, for a step.
    fn pace(&self) -> pace::Pace {
        let queues = self
            .campaigns
            .values()
            .filter(|c| c.status == "running")
            .filter_map(|c| c.def.destination.queue.as_deref());
        let agents = match &self.agents {
            Some(a) => a.floors(queues, now_ms()),
            None => Err(NO_AMI.into()),
        };
        let mut in_flight: HashMap<i64, pace::InFlight> = HashMap::new();
        for call in self.live.values() {
            let f = in_flight.entry(call.campaign_id).or_default();
            f.total += 1;
            if !call.answered {
                f.ringing += 1;
            }
        }
        pace::Pace {
            agents,
            in_flight,
            steering: self.steering.clone(),
        }
    }

    fn may_dial(&self) -> bool {
        self.ready
            && self.ari_up
            && !self.reconcile_due
            && self.reconciling.is_none()
            && !self.draining
            && !self.lease_lost
    }

    fn on_done(&mut self, d: Done, writer: &Writer) {
        match d {
            Done::Beat(r) => {
                self.slots.beat = false;
                match r {
                    Err(DialerError::LeaseLost(_)) => self.lease_lost = true,
                    Err(e) => self.db_failed("heartbeat", &e),
                    Ok(()) => self.db_down_reason = None,
                }
            }
            Done::Stepped(s) => self.stepped(s, writer),
            Done::Sent(s) => self.sent(s, writer),
            Done::Snapshot(r) => {
                self.slots.work = false;
                let r0 = self.reconciling.take().unwrap_or_default();
                match r {
                    Ok(snap) => self.reconciled(snap, r0, writer),
                    Err(e) => {
                        self.reconcile_due = true;
                        self.after_gap |= r0.gap;
                        tracing::warn!("reconciliation failed (retried next tick): {}", said(&e))
                    }
                }
            }
            Done::SentOn { channel, result } => match result {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {
                    tracing::info!(
                        channel,
                        "the customer hung up before reaching the destination"
                    )
                }
                Err(e) => {
                    tracing::warn!(
                        channel,
                        "sending the call on (retried at reconciliation): {}",
                        said(&e)
                    );
                    if let Some(live) = self.live.get_mut(&channel) {
                        live.sent_on = None;
                    }
                    self.reconcile_due = true;
                }
            },
            Done::HungUp { channel } => {
                self.hanging_up.remove(&channel);
            }
            Done::Steered(r) => {
                self.slots.steer = false;
                match r {
                    Ok(s) => self.steering = s,
                    Err(e) => self.db_failed("reading the campaigns' statistics", &e),
                }
            }
            Done::DropDue { channel } => self.drop_due(&channel),
            Done::Dropped { channel, result } => match result {
                Ok(()) => tracing::info!(
                    channel,
                    "no agent took the call within drop_s: it hears the safe-harbour message"
                ),
                Err(why) => tracing::warn!(
                    channel,
                    "moving a dropped call to the safe-harbour message: {}",
                    crate::sanitize::escape(&why)
                ),
            },
            Done::Probed(r) => {
                self.slots.probe = false;
                if let Err(why) = r
                    && self.ari_up
                {
                    self.asterisk_silent(&why);
                }
            }
        }
    }

    /// Says a database failure (at most every 30 s) and shows it in the
    /// status.
    fn db_failed(&mut self, what: &str, e: &DialerError) {
        if let Some(held) = self.db_warnings.allow(std::time::Instant::now()) {
            tracing::warn!(held_back = held, "{what}: {}", said(e));
        }
        self.db_down_reason = Some(reason(e));
    }

    fn on_ari(&mut self, msg: AriMsg, writer: &Writer) {
        match msg {
            AriMsg::Connected => {
                self.ari_up = true;
                self.ari_down_reason = None;
                self.reconcile_due = true;
                self.after_gap = true;
            }
            AriMsg::Down {
                reason: why,
                retry_in,
            } => {
                // Every failure is worth saying (a wrong password or port at
                // start included), but a PBX down for an hour must not fill
                // the journal: once, then at most every 30 s with a count.
                if let Some(held) = self.ari_warnings.allow(std::time::Instant::now()) {
                    tracing::warn!(
                        held_back = held,
                        "ARI down: {}; retrying in {retry_in:?}",
                        crate::sanitize::escape(&why)
                    );
                }
                self.ari_up = false;
                self.ari_down_reason = Some(reason(&why));
            }
            AriMsg::Event(AriEvent::StasisStart {
                channel,
                name,
                args,
            }) => {
                if let Some(live) = self.live.get_mut(&channel) {
                    live.name = Some(name);
                }
                match args.as_slice() {
                    [kind, status, ..] if kind == "amd" => self.heard(&channel, status, writer),
                    _ => self.answered(&channel, writer),
                }
            }
            AriMsg::Event(AriEvent::ChannelDestroyed { channel, cause }) => {
                self.destroyed(&channel, cause, writer)
            }
            AriMsg::Event(AriEvent::Dial { channel, status }) => {
                if status == "ANSWER" {
                    self.seen_answered(&channel, writer);
                }
                if let Some(live) = self.live.get_mut(&channel) {
                    live.dial_status = Some(status);
                }
            }
            AriMsg::Event(AriEvent::StateChange { channel, state }) => {
                if state == "Up" {
                    self.seen_answered(&channel, writer);
                }
            }
            AriMsg::Event(AriEvent::VarSet {
                channel,
                variable,
                value,
            }) => {
                // A queue sets MEMBERINTERFACE when an agent answers, and any
                // bridge sets BRIDGEPEER: the call reached its agent.
                let Some(live) = self.live.get_mut(&channel) else {
                    return;
                };
                let first = !live.connected;
                if (variable == "MEMBERINTERFACE" || (variable == "BRIDGEPEER" && first))
                    && !value.is_empty()
                {
                    live.connected = true;
                    writer.send(Write::Agent {
                        attempt: channel,
                        agent: value,
                        at: now_ms(),
                    });
                }
            }
            AriMsg::Event(AriEvent::Other(_)) => {}
        }
    }

    /// The customer answered `channel` (it went Up, or its dial status was
    /// ANSWER): recorded at once, so the answer is final even if the
    /// channel's `StasisStart` is lost (Asterisk frozen, the socket cut).
    fn seen_answered(&mut self, channel: &str, writer: &Writer) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        if live.answered {
            return;
        }
        live.answered = true;
        writer.send(Write::Answered {
            attempt: channel.to_string(),
            at: now_ms(),
        });
        // The safe-harbour timer runs from the answer the engine saw; with
        // AMD, from its verdict (the end of the greeting), and this one is
        // only a backstop for a verdict that never comes.
        let amd = self
            .campaigns
            .get(&live.campaign_id)
            .is_some_and(|c| c.def.amd.is_some());
        let backstop = if amd { amd::LONGEST } else { Duration::ZERO };
        self.start_drop_timer(channel, backstop);
    }

    /// Starts `channel`'s safe-harbour timer: it runs out `extra` plus its
    /// campaign's `drop_s` (less the margin) from now, replacing any timer
    /// started before. Nothing for a campaign with `drop_timer = false`.
    fn start_drop_timer(&mut self, channel: &str, extra: Duration) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        let Some(c) = self
            .campaigns
            .get(&live.campaign_id)
            .filter(|c| c.def.pacing.drop_timer)
        else {
            return;
        };
        let after = extra + crate::dialer::pacing::safe_harbour_after(c.def.pacing.drop_s);
        let due = Instant::now() + after;
        live.drop_at = Some(due);
        let channel = channel.to_string();
        self.spawn(async move {
            tokio::time::sleep_until(due).await;
            Done::DropDue { channel }
        });
    }

    /// The drop timer of `channel` ran out: if no agent took the call, it
    /// is moved to the safe-harbour message (AMI `Redirect` to
    /// `[dialer] drop_context`), which then hangs up. The ledger counts it
    /// as a drop (answered, no agent within `drop_s`).
    fn drop_due(&mut self, channel: &str) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        let machine = live.amd == Some(crate::dialer::amd::AmdStatus::Machine);
        if live.connected || live.dropped || machine {
            return;
        }
        // A later timer replaced this one (AMD's verdict came).
        if live.drop_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let Some(name) = live.name.clone().filter(|n| !n.is_empty()) else {
            tracing::warn!(
                channel,
                "a call to drop has no channel name yet (its StasisStart is late): it keeps waiting for an agent"
            );
            return;
        };
        let Some(ami) = self.agents.as_ref().map(agents::Agents::link) else {
            tracing::warn!(
                channel,
                "{NO_AMI}: a call no agent took cannot be given the safe-harbour message"
            );
            return;
        };
        live.dropped = true;
        let context = self.s.drop_context.clone();
        let channel = channel.to_string();
        self.spawn(async move {
            let result = jobs::redirect(&ami, &name, &context).await;
            Done::Dropped { channel, result }
        });
    }

    /// The channel entered the Stasis app: answered. It is sent on to its
    /// destination at once (a job: a customer reaches an agent whatever
    /// the database does), or first to AMD if its campaign has `[amd]`;
    /// the answer is queued for the database.
    fn answered(&mut self, channel: &str, writer: &Writer) {
        self.seen_answered(channel, writer);
        if !self.listen(channel) {
            self.send_on(channel);
        }
    }

    /// Asks Asterisk to continue `channel` in its campaign's destination.
    fn send_on(&mut self, channel: &str) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        live.sent_on = Some(Instant::now());
        let campaign = live.campaign_id;
        let Some(def) = self.campaigns.get(&campaign).map(|c| &c.def) else {
            tracing::warn!(channel, campaign, "answered call of an unknown campaign");
            return;
        };
        match def.target(&self.s.extension_context, &self.s.queue_context) {
            Ok(target) => self.continue_in(channel, target.context, target.exten),
            Err(e) => {
                tracing::warn!(channel, "destination: {}", said(&e));
                self.hang_up(channel);
            }
        }
    }

    /// Continues `channel` (in the Stasis app) at `exten`, priority 1, of
    /// `context` (a job answered by [`Done::SentOn`]).
    fn continue_in(&self, channel: &str, context: String, exten: String) {
        let rest = self.rest.clone();
        let id = channel.to_string();
        self.spawn(async move {
            let result = rest.continue_to(&id, &context, &exten).await;
            Done::SentOn {
                channel: id,
                result,
            }
        });
    }

    /// Hangs `channel` up (a job answered by [`Done::HungUp`]).
    fn hang_up(&self, channel: &str) {
        let rest = self.rest.clone();
        let id = channel.to_string();
        self.spawn(async move {
            let _ = rest.hangup(&id).await;
            Done::HungUp { channel: id }
        });
    }

    /// Asterisk did not answer the probe: no unanswered end of a call now
    /// in flight can be trusted, events may be lost, and nothing is dialed
    /// until a reconciliation succeeds.
    fn asterisk_silent(&mut self, why: &str) {
        if let Some(held) = self.ari_warnings.allow(std::time::Instant::now()) {
            tracing::warn!(
                held_back = held,
                live = self.live.len(),
                "Asterisk does not answer ({}): the calls in flight are in doubt, dialing waits for a reconciliation",
                crate::sanitize::escape(why)
            );
        }
        self.doubt_calls_in_flight();
        self.after_gap = true;
        self.reconcile_due = true;
    }

    /// Asterisk stopped answering (a request timed out, the socket
    /// dropped): no unanswered end of a call now in flight can be trusted.
    fn doubt_calls_in_flight(&mut self) {
        for live in self.live.values_mut() {
            live.in_doubt = true;
        }
    }

    fn destroyed(&mut self, channel: &str, cause: i64, writer: &Writer) {
        let Some(live) = self.live.remove(channel) else {
            return;
        };
        if let Some(r) = self.reconciling.as_mut() {
            r.ended.insert(channel.to_string());
        }
        let outcome = verdict::ended(verdict::Ended {
            // The store adds what the database recorded (verdict::settle).
            recorded_answer: false,
            entered_stasis: live.answered,
            dial_status: live.dial_status.as_deref(),
            cause,
            stopped_by_supervisor: self.stopping.remove(channel),
            in_doubt: live.in_doubt,
        });
        self.finish(channel, live.campaign_id, outcome, Some(cause), writer);
    }

    /// Queues the end of `attempt`.
    fn finish(
        &self,
        attempt: &str,
        campaign_id: i64,
        outcome: Outcome,
        cause: Option<i64>,
        writer: &Writer,
    ) {
        let Some(c) = self.campaigns.get(&campaign_id) else {
            tracing::warn!(attempt, campaign_id, "attempt of an unknown campaign");
            return;
        };
        writer.send(Write::Finish {
            attempt: attempt.to_string(),
            outcome,
            cause,
            def: Box::new(c.def.clone()),
            at: now_ms(),
        });
    }

    fn set_campaigns(&mut self, campaigns: Vec<CampaignRow>) {
        self.campaigns = campaigns.into_iter().map(|c| (c.id, c)).collect();
    }

    /// A step's result: campaigns refreshed, stopped campaigns' calls hung
    /// up, claimed leads dialed (or given back if dialing stopped meanwhile).
    fn stepped(&mut self, s: Stepped, writer: &Writer) {
        match &s.error {
            Some(DialerError::LeaseLost(_)) => self.lease_lost = true,
            Some(e) => self.db_failed("engine step", e),
            None => self.db_down_reason = None,
        }
        if !s.campaigns.is_empty() {
            self.set_campaigns(s.campaigns);
        }
        let stopped: Vec<i64> = self
            .campaigns
            .values()
            .filter(|c| c.status == "stopped")
            .map(|c| c.id)
            .collect();
        for id in stopped {
            self.hang_up_campaign(id);
        }
        for (attempt, retry_at) in s.held {
            // A number abandoned within the redial hold: given back, due
            // when the hold ends (not counted as a dial).
            writer.send(Write::Requeue {
                attempt,
                at: now_ms(),
                retry_at,
            });
        }
        let mut calls = Vec::new();
        for (campaign_id, batch) in s.claimed {
            let Some(c) = self.campaigns.get(&campaign_id).cloned() else {
                continue;
            };
            for lead in batch {
                let now = chrono::Utc::now();
                if let Some(opens) = c.def.lead_closed(now, &lead.data) {
                    // Outside the hours where the lead lives: given back,
                    // due when they begin there (not counted as a dial).
                    writer.send(Write::Requeue {
                        attempt: lead.attempt_id,
                        at: now.timestamp_millis(),
                        retry_at: opens.timestamp_millis(),
                    });
                } else if self.may_dial() {
                    calls.push(self.call(&c, lead));
                } else {
                    // Dialing stopped while the claim ran: nothing was sent.
                    let now = now_ms();
                    writer.send(Write::Requeue {
                        attempt: lead.attempt_id,
                        at: now,
                        retry_at: now,
                    });
                }
            }
        }
        if calls.is_empty() {
            self.slots.work = false;
            return;
        }
        let job = jobs::send(
            self.db.clone(),
            self.rest.clone(),
            self.lease.clone(),
            calls,
        );
        self.spawn(async move { Done::Sent(job.await) });
    }

    /// `lead` of `c` as a call, followed from now on (its events may come
    /// before its originate's answer).
    fn call(&mut self, c: &CampaignRow, lead: Claimed) -> Call {
        self.live
            .insert(lead.attempt_id.clone(), Live::new(c.id, false, false));
        let mut variables = lead_variables(&lead, &c.name);
        if let Some(m) = &c.def.pacing.drop_message {
            variables.insert("SB_DROP_MESSAGE".into(), m.clone());
        }
        amd::variables(&c.def, self.rest.app(), &mut variables);
        Call {
            variables,
            endpoint: c.def.dial_string(&lead.number),
            caller_id: c.def.caller_id.clone(),
            ring_timeout_s: c.def.ring_timeout_s,
            campaign_id: c.id,
            attempt_id: lead.attempt_id,
        }
    }

    fn hang_up_campaign(&mut self, id: i64) {
        let ids: Vec<String> = self
            .live
            .iter()
            .filter(|(k, l)| l.campaign_id == id && !self.hanging_up.contains(*k))
            .map(|(k, _)| k.clone())
            .collect();
        for ch in ids {
            self.stopping.insert(ch.clone());
            self.hanging_up.insert(ch.clone());
            let rest = self.rest.clone();
            self.spawn(async move {
                if let Err(e) = rest.hangup(&ch).await
                    && !e.is_not_found()
                {
                    tracing::warn!(channel = %ch, "hanging up: {}", said(&e));
                }
                Done::HungUp { channel: ch }
            });
        }
    }

    /// What became of a batch of originates.
    fn sent(&mut self, s: Sent, writer: &Writer) {
        self.slots.work = false;
        let mut calls = s.calls.into_iter();
        let sent: Vec<Call> = calls.by_ref().take(s.results.len()).collect();
        if let Some(e) = s.unsent {
            // Not stamped, so not sent: the leads are due again at once.
            let unsent: Vec<Call> = calls.collect();
            tracing::warn!("not dialing {} claimed leads: {}", unsent.len(), said(&e));
            if matches!(e, DialerError::LeaseLost(_)) {
                self.lease_lost = true;
            }
            let now = now_ms();
            for c in unsent {
                self.live.remove(&c.attempt_id);
                writer.send(Write::Requeue {
                    attempt: c.attempt_id,
                    at: now,
                    retry_at: now,
                });
            }
        }
        for (call, result) in sent.into_iter().zip(s.results) {
            match result {
                Ok(()) => writer.send(Write::Originated {
                    attempt: call.attempt_id,
                    at: now_ms(),
                }),
                Err(e @ AriError::Status { status, .. }) if status >= 500 => {
                    // Asterisk could not take it (starting, stopping):
                    // nothing was dialed; the lead is tried again soon.
                    tracing::warn!(attempt = %call.attempt_id, "originate not taken, lead requeued: {}", said(&e));
                    self.live.remove(&call.attempt_id);
                    let now = now_ms();
                    writer.send(Write::Requeue {
                        attempt: call.attempt_id,
                        at: now,
                        retry_at: now + REQUEUE_MS,
                    });
                }
                Err(e @ AriError::Status { .. }) => {
                    // Asterisk refused it (a bad endpoint): nothing was
                    // dialed, and dialing it again would be refused again.
                    tracing::warn!(attempt = %call.attempt_id, "originate refused: {}", said(&e));
                    self.live.remove(&call.attempt_id);
                    self.finish(
                        &call.attempt_id,
                        call.campaign_id,
                        Outcome::Failed,
                        None,
                        writer,
                    );
                }
                Err(e) => {
                    // No answer from Asterisk: it may or may not be dialing.
                    // Reconciliation decides, before any new dial.
                    tracing::warn!(attempt = %call.attempt_id, "originate unanswered: {}", said(&e));
                    self.reconcile_due = true;
                    self.after_gap = true;
                    self.doubt_calls_in_flight();
                }
            }
        }
    }

    /// Applies a reconciliation: follows again the attempts Asterisk still
    /// has a channel for (sending on those waiting answered in the app);
    /// ends the others by [`verdict::vanished`]. After a gap (events may
    /// be lost) that includes calls the engine followed; otherwise their
    /// own `ChannelDestroyed` ends them.
    fn reconciled(&mut self, snap: Snapshot, r: Reconciling, writer: &Writer) {
        if !snap.campaigns.is_empty() {
            self.set_campaigns(snap.campaigns);
        }
        let gap = r.gap;
        if gap {
            // A call the database no longer has in flight was ended
            // meanwhile (by another engine's reconciliation while this one
            // was cut off): its end event will never come.
            let open: HashSet<&str> = snap
                .in_flight
                .iter()
                .map(|a| a.attempt_id.as_str())
                .collect();
            self.live.retain(|id, _| open.contains(id.as_str()));
        }
        for a in snap.in_flight {
            let id = a.attempt_id;
            if r.ended.contains(&id) {
                // Ended while the snapshot was read: its end is queued.
                continue;
            }
            if snap.followed.contains(&id) {
                // Followed again after a gap: events may be lost.
                let live = self
                    .live
                    .entry(id.clone())
                    .or_insert_with(|| Live::new(a.campaign_id, a.answered, true));
                if gap {
                    live.in_doubt = true;
                }
                let stale = live.sent_on.is_none_or(|t| t.elapsed() >= SEND_ON_AGAIN);
                if snap.up.contains(&id) {
                    // A channel Up was answered, whatever the database
                    // could record.
                    self.seen_answered(&id, writer);
                }
                if snap.waiting.contains(&id) && stale {
                    tracing::info!(attempt = %crate::sanitize::escape(&id), "an answered call waits in the app: sending it on");
                    self.send_on(&id);
                }
                continue;
            }
            let recorded_answer = match self.live.get(&id) {
                // Its events flow: its ChannelDestroyed ends it.
                Some(_) if !gap => continue,
                Some(live) => a.answered || live.answered,
                None => a.answered,
            };
            let was_followed = self.live.remove(&id).is_some();
            let outcome = verdict::vanished(verdict::Vanished {
                recorded_answer,
                maybe_sent: a.maybe_sent || was_followed,
            });
            // Ids from database rows: escaped like any peer text.
            tracing::info!(
                attempt = %crate::sanitize::escape(&id),
                engine = %crate::sanitize::escape(&a.engine_id),
                outcome = outcome.as_str(),
                "reconciled: no channel"
            );
            self.finish(&id, a.campaign_id, outcome, None, writer);
        }
        self.reconciled_at = Some(Instant::now());
        if !self.ready {
            self.ready = true;
            tracing::info!(engine = %self.s.id, "ARI connected, reconciled: ready");
            notify(&[sd_notify::NotifyState::Ready]);
        } else {
            tracing::debug!("reconciled with Asterisk's channels");
        }
    }
}
