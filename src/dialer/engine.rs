//! The engine (`switchboard --engine`): one loop that claims due leads of
//! running campaigns, originates them through ARI, sends answered calls to
//! the campaign's destination, records every outcome, and acknowledges what
//! the console asks for.
//!
//! Crash safety: an attempt row is committed before its originate, with the
//! attempt id as the channel id. After a start or an ARI reconnect the
//! engine reconciles: an attempt whose channel Asterisk still has is
//! followed again; one whose channel is gone ends as `answered` if it had
//! been answered, else `unknown`, and is never redialed.

use super::DialerError;
use super::campaign::CampaignDef;
use super::outcome::Outcome;
use super::store::{AppDb, CampaignRow, Claimed, Lease};
use super::verdict;
use crate::ari::events::{self, AriEvent, AriMsg};
use crate::ari::rest::{Originate, Rest};
use crate::ari::{AriError, AriSettings};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;

/// What the engine needs besides the databases.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// This engine's id (in attempt rows and heartbeats).
    pub id: String,
    /// Dialplan context for `{ queue = … }` destinations.
    pub queue_context: String,
    /// Dialplan context for `{ extension = … }` destinations.
    pub extension_context: String,
    /// On shutdown, wait at most this long for live calls.
    pub drain: Duration,
    /// How often campaigns are read and leads claimed.
    pub tick: Duration,
    /// An engine whose heartbeat is older than this is dead: another engine
    /// reconciles its attempts.
    pub stale_after: Duration,
}

impl EngineSettings {
    /// Settings from the `[dialer]` config; the id defaults to the host
    /// name.
    pub fn from_config(c: &crate::config::Config) -> Self {
        let id = c.dialer.engine_id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "engine".into())
        });
        EngineSettings {
            id,
            queue_context: c.dialer.queue_context.clone(),
            extension_context: c.dialer.extension_context.clone(),
            drain: Duration::from_secs(u64::from(c.dialer.drain_s)),
            tick: Duration::from_millis(250),
            stale_after: Duration::from_secs(15),
        }
    }
}

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
}

/// Tells systemd (when it started us with `Type=notify`) what we do.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(state);
}

/// Lead data as channel variables: `SB_<COLUMN>` (letters, digits and `_`
/// only, as checked at import), values percent-encoded so no character of
/// a lead's data (a comma, a newline, `EXEC`) can act in the dialplan.
pub fn lead_variables(c: &Claimed, campaign: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for (k, v) in &c.data {
        let name: String = k
            .chars()
            .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
            .collect::<String>()
            .to_ascii_uppercase();
        if !name.is_empty() {
            vars.insert(format!("SB_{name}"), percent_encode(v));
        }
    }
    vars.insert("SB_LEAD_ID".into(), c.lead_id.to_string());
    vars.insert("SB_ATTEMPT_ID".into(), c.attempt_id.clone());
    vars.insert("SB_CAMPAIGN".into(), campaign.to_string());
    vars
}

/// `v` with every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX` (what
/// Asterisk's `URIDECODE()` reverses).
pub fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
    campaigns: HashMap<i64, CampaignRow>,
    ari_up: bool,
    /// Why ARI is down, for the heartbeat (`campaign status`, the
    /// Campaigns screen) and systemd's status.
    ari_down_reason: Option<String>,
    ari_warnings: crate::logging::RateLimit,
    /// Attempts in flight must be reconciled before dialing again (after a
    /// connect, or an originate Asterisk did not answer).
    reconcile_due: bool,
    ready: bool,
    draining: bool,
    /// Another engine with this id took the lease: stop at once.
    lease_lost: bool,
    /// When attempts in flight were last reconciled with Asterisk.
    reconciled_at: Option<tokio::time::Instant>,
    started_at: i64,
}

/// How long a lease lasts without renewal, ms. It is renewed every second
/// with the heartbeat; an engine frozen (or cut from its database) longer
/// than this loses it, and a restarted engine with the same id waits at
/// most this long for it.
const LEASE_MS: i64 = 5_000;

/// A lead whose originate Asterisk could not take (5xx) is due again
/// after this, ms.
const REQUEUE_MS: i64 = 5_000;

/// An error as the log shows it: ARI bodies and database messages are peer
/// text, and the journal gets the engine's lines without the sanitizing
/// writer the file and stderr loggers use.
fn said(e: &impl std::fmt::Display) -> String {
    crate::sanitize::escape(&e.to_string()).into_owned()
}

/// How often attempts in flight are reconciled with Asterisk besides after
/// every connect and every lost originate.
const RECONCILE_EVERY: Duration = Duration::from_secs(15);

/// Originates in flight at once.
const ORIGINATES_AT_ONCE: usize = 8;

use crate::clock::now_ms;

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
            campaigns: HashMap::new(),
            ari_up: false,
            ari_down_reason: None,
            ari_warnings: crate::logging::RateLimit::new(Duration::from_secs(30)),
            reconcile_due: true,
            ready: false,
            draining: false,
            lease_lost: false,
            reconciled_at: None,
            started_at: now_ms(),
        })
    }

    /// Runs until `shutdown` resolves, then drains: no new dials, live
    /// calls are waited for (at most the drain time).
    ///
    /// Errors: the app database fails at start.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), DialerError> {
        self.exclusive().await?;
        let (tx, mut rx) = mpsc::channel(4096);
        let ws = events::spawn(self.rest.settings().clone(), tx);
        self.heartbeat("starting").await?;
        // Each tick ±20 %: engines sharing a campaign drift apart instead of
        // one always claiming just before the other when calls end together.
        let mut next_tick = tokio::time::Instant::now();
        let mut beat = tokio::time::interval(Duration::from_secs(1));
        tokio::pin!(shutdown);
        let mut drain_until: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                () = &mut shutdown, if drain_until.is_none() => {
                    self.draining = true;
                    notify(&[sd_notify::NotifyState::Stopping]);
                    tracing::info!(live = self.live.len(), "stopping: no new dials, draining live calls");
                    drain_until = Some(tokio::time::Instant::now() + self.s.drain);
                }
                msg = rx.recv() => match msg {
                    Some(m) => self.on_ari(m).await,
                    None => break,
                },
                _ = tokio::time::sleep_until(next_tick) => {
                    next_tick = tokio::time::Instant::now()
                        + self.s.tick.mul_f64(0.8 + rand::random::<f64>() * 0.4);
                    if let Err(e) = self.step().await {
                        tracing::warn!("engine step: {}", said(&e));
                    }
                }
                _ = beat.tick() => {
                    let state = self.status();
                    match self.heartbeat(&state).await {
                        Err(DialerError::LeaseLost(_)) => self.lease_lost = true,
                        Err(e) => tracing::warn!("heartbeat: {}", said(&e)),
                        Ok(()) => {}
                    }
                    notify(&[sd_notify::NotifyState::Watchdog, sd_notify::NotifyState::Status(&state)]);
                    if !self.ready {
                        // Waiting for ARI is part of starting: systemd's start
                        // timeout must not end it (ignored once READY).
                        notify(&[sd_notify::NotifyState::ExtendTimeoutUsec(5_000_000)]);
                    }
                }
            }
            if self.lease_lost {
                // Fenced: another engine with this id runs now and follows
                // the calls in flight; this one dials nothing more, touches
                // nothing, and exits with an error (systemd restarts it, and
                // it waits for the lease).
                ws.abort();
                let e = DialerError::LeaseLost(self.s.id.clone());
                tracing::error!("{}", said(&e));
                return Err(e);
            }
            if let Some(until) = drain_until
                && (self.live.is_empty() || tokio::time::Instant::now() >= until)
            {
                break;
            }
        }
        ws.abort();
        let left = self.live.len();
        let _ = self
            .heartbeat(&format!("stopped, {left} calls left in flight"))
            .await;
        tracing::info!(left, "engine stopped");
        Ok(())
    }

    /// Takes the lease of this engine id: refuses to run beside a live
    /// engine with the same id (they would share a Stasis app and lose each
    /// other's calls). A crashed one stops renewing: its lease expires
    /// within [`LEASE_MS`], so a restart waits at most that long.
    async fn exclusive(&self) -> Result<(), DialerError> {
        let deadline = now_ms() + LEASE_MS + 2_000;
        loop {
            if self
                .db
                .take_lease(&self.lease, self.started_at, now_ms(), LEASE_MS)
                .await?
            {
                return Ok(());
            }
            if now_ms() > deadline {
                return Err(DialerError::Config(format!(
                    "engine id `{}` is in use by a running engine; give each engine its own [dialer] engine_id",
                    self.s.id
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn status(&self) -> String {
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
        format!(
            "{mode}{ari}, {running} campaigns running, {} live calls",
            self.live.len()
        )
    }

    /// Renews the lease with the heartbeat. Errors with
    /// [`DialerError::LeaseLost`] when another engine holds it now.
    async fn heartbeat(&self, state: &str) -> Result<(), DialerError> {
        if self
            .db
            .renew_lease(&self.lease, now_ms(), LEASE_MS, state)
            .await?
        {
            Ok(())
        } else {
            Err(DialerError::LeaseLost(self.s.id.clone()))
        }
    }

    async fn on_ari(&mut self, msg: AriMsg) {
        match msg {
            AriMsg::Connected => {
                self.ari_up = true;
                self.ari_down_reason = None;
                self.reconcile_due = true;
                self.try_reconcile().await;
            }
            AriMsg::Down { reason, retry_in } => {
                // Every failure is worth saying (a wrong password or port at
                // start included), but a PBX down for an hour must not fill
                // the journal: once, then at most every 30 s with a count.
                if let Some(held) = self.ari_warnings.allow(std::time::Instant::now()) {
                    tracing::warn!(
                        held_back = held,
                        "ARI down: {}; retrying in {retry_in:?}",
                        crate::sanitize::escape(&reason)
                    );
                }
                self.ari_up = false;
                self.ari_down_reason =
                    Some(crate::sanitize::escape(&reason).chars().take(160).collect());
            }
            AriMsg::Event(AriEvent::StasisStart { channel }) => self.answered(&channel).await,
            AriMsg::Event(AriEvent::ChannelDestroyed { channel, cause }) => {
                self.destroyed(&channel, cause).await
            }
            AriMsg::Event(AriEvent::Dial { channel, status }) => {
                if status == "ANSWER" {
                    self.seen_answered(&channel).await;
                }
                if let Some(live) = self.live.get_mut(&channel) {
                    live.dial_status = Some(status);
                }
            }
            AriMsg::Event(AriEvent::StateChange { channel, state }) => {
                if state == "Up" {
                    self.seen_answered(&channel).await;
                }
            }
            AriMsg::Event(AriEvent::VarSet {
                channel,
                variable,
                value,
            }) => {
                if variable == "MEMBERINTERFACE"
                    && self.live.contains_key(&channel)
                    && let Err(e) = self.db.agent(&channel, &value).await
                {
                    tracing::warn!(channel, "recording the agent: {}", said(&e));
                }
            }
            AriMsg::Event(AriEvent::Other(_)) => {}
        }
    }

    /// The customer answered `channel` (it went Up, or its dial status was
    /// ANSWER): recorded at once, so the answer is final even if the
    /// channel's `StasisStart` is lost (Asterisk frozen, the socket cut).
    async fn seen_answered(&mut self, channel: &str) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        if live.answered {
            return;
        }
        live.answered = true;
        if let Err(e) = self.db.answered(channel, now_ms()).await {
            tracing::warn!(channel, "recording the answer: {}", said(&e));
        }
    }

    /// The channel entered the Stasis app: answered; send it on first (a
    /// customer must reach an agent even while the database is slow or
    /// away), then record the answer. Should the engine die between the two,
    /// reconciliation sees the channel Up and records the answer then.
    async fn answered(&mut self, channel: &str) {
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        let first = !live.answered;
        live.answered = true;
        let campaign = live.campaign_id;
        match self.campaigns.get(&campaign).map(|c| c.def.clone()) {
            Some(def) => match def.target(&self.s.extension_context, &self.s.queue_context) {
                Ok(target) => {
                    if let Err(e) = self
                        .rest
                        .continue_to(channel, &target.context, &target.exten)
                        .await
                    {
                        tracing::warn!(channel, "sending the call on: {}", said(&e));
                    }
                }
                Err(e) => {
                    tracing::warn!(channel, "destination: {}", said(&e));
                    let _ = self.rest.hangup(channel).await;
                }
            },
            None => tracing::warn!(channel, campaign, "answered call of an unknown campaign"),
        }
        if first && let Err(e) = self.db.answered(channel, now_ms()).await {
            tracing::warn!(channel, "recording the answer: {}", said(&e));
        }
    }

    /// Asterisk stopped answering (a request timed out, the socket
    /// dropped): no unanswered end of a call now in flight can be trusted.
    fn doubt_calls_in_flight(&mut self) {
        for live in self.live.values_mut() {
            live.in_doubt = true;
        }
    }

    async fn destroyed(&mut self, channel: &str, cause: i64) {
        let Some(live) = self.live.remove(channel) else {
            return;
        };
        let outcome = verdict::ended(verdict::Ended {
            // The store adds what the database recorded (verdict::settle).
            recorded_answer: false,
            entered_stasis: live.answered,
            dial_status: live.dial_status.as_deref(),
            cause,
            stopped_by_supervisor: self.stopping.remove(channel),
            in_doubt: live.in_doubt,
        });
        self.finish(channel, live.campaign_id, outcome, Some(cause))
            .await;
    }

    async fn finish(
        &mut self,
        attempt: &str,
        campaign_id: i64,
        outcome: Outcome,
        cause: Option<i64>,
    ) {
        let Some(def) = self.campaign_def(campaign_id).await else {
            tracing::warn!(attempt, campaign_id, "attempt of an unknown campaign");
            return;
        };
        if let Err(e) = self
            .db
            .finish(attempt, outcome, cause, &def, now_ms())
            .await
        {
            tracing::warn!(attempt, "recording the outcome: {}", said(&e));
        }
    }

    async fn campaign_def(&mut self, id: i64) -> Option<CampaignDef> {
        if !self.campaigns.contains_key(&id) {
            self.refresh().await.ok()?;
        }
        self.campaigns.get(&id).map(|c| c.def.clone())
    }

    async fn refresh(&mut self) -> Result<(), DialerError> {
        self.campaigns = self
            .db
            .campaigns()
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(())
    }

    /// Reconciles if due; says READY to systemd after the first success.
    /// Dialing waits until it worked.
    async fn try_reconcile(&mut self) {
        // Also now and then: an attempt left claimed but unsent by an engine
        // fenced off its lease is requeued without waiting for a restart.
        if self
            .reconciled_at
            .is_some_and(|t| t.elapsed() >= RECONCILE_EVERY)
        {
            self.reconcile_due = true;
        }
        if !self.ari_up || !self.reconcile_due {
            return;
        }
        match self.reconcile().await {
            Ok(()) => {
                self.reconcile_due = false;
                self.reconciled_at = Some(tokio::time::Instant::now());
                if !self.ready {
                    self.ready = true;
                    tracing::info!(engine = %self.s.id, "ARI connected, reconciled: ready");
                    notify(&[sd_notify::NotifyState::Ready]);
                } else {
                    tracing::debug!("reconciled with Asterisk's channels");
                }
            }
            Err(e) => tracing::warn!("reconciliation failed (retried every tick): {}", said(&e)),
        }
    }

    /// Follows again the attempts Asterisk still has a channel for; ends
    /// the others (answered if they were, else unknown).
    async fn reconcile(&mut self) -> Result<(), DialerError> {
        self.refresh().await?;
        let listed = self
            .rest
            .channels()
            .await
            .map_err(|e| DialerError::Config(e.to_string()))?;
        let channels: HashSet<String> = listed.iter().map(|c| c.id.clone()).collect();
        // A channel Up was answered, whatever the database could record.
        let up: HashSet<String> = listed
            .iter()
            .filter(|c| c.state == "Up")
            .map(|c| c.id.clone())
            .collect();
        // Answered calls left waiting in the app (the engine died before
        // sending them on): sent on below, if the customer is still there.
        let waiting: HashSet<String> = listed
            .into_iter()
            .filter(|c| c.state == "Up" && c.dialplan.app_name == "Stasis")
            .map(|c| c.id)
            .collect();
        let stale = now_ms() - self.s.stale_after.as_millis() as i64;
        let in_flight = self.db.in_flight(&self.s.id, stale).await?;
        let mut kept = HashMap::new();
        for a in in_flight {
            // A channel listed but gone before its subscription (it ended
            // meanwhile) is treated as gone: kept, it would wait for a
            // ChannelDestroyed that will never come.
            // A call followed again after a gap (a restart, a reconnect) may
            // have lost events meanwhile: its end is in doubt.
            let followed = channels.contains(&a.attempt_id)
                && match self.rest.subscribe(&a.attempt_id).await {
                    Ok(()) => true,
                    Err(e) if e.is_not_found() || e.status() == Some(422) => false,
                    Err(e) => {
                        tracing::warn!(attempt = %a.attempt_id, "subscribing: {}", said(&e));
                        true
                    }
                };
            if followed {
                let answered = a.answered || up.contains(&a.attempt_id);
                if answered
                    && !a.answered
                    && let Err(e) = self.db.answered(&a.attempt_id, now_ms()).await
                {
                    tracing::warn!(attempt = %a.attempt_id, "recording the answer: {}", said(&e));
                }
                kept.insert(
                    a.attempt_id,
                    Live {
                        campaign_id: a.campaign_id,
                        answered,
                        dial_status: None,
                        in_doubt: true,
                    },
                );
            } else {
                let outcome = verdict::vanished(verdict::Vanished {
                    recorded_answer: a.answered,
                    maybe_sent: a.maybe_sent,
                });
                tracing::info!(attempt = %a.attempt_id, engine = %a.engine_id, outcome = outcome.as_str(), "reconciled: no channel");
                self.finish(&a.attempt_id, a.campaign_id, outcome, None)
                    .await;
            }
        }
        self.live = kept;
        let stranded: Vec<String> = self
            .live
            .keys()
            .filter(|id| waiting.contains(*id))
            .cloned()
            .collect();
        for id in stranded {
            tracing::info!(attempt = %id, "an answered call waits in the app: sending it on");
            self.answered(&id).await;
        }
        Ok(())
    }

    /// One tick: read campaigns, acknowledge, hang up stopped campaigns'
    /// calls, dial what running campaigns may.
    async fn step(&mut self) -> Result<(), DialerError> {
        self.try_reconcile().await;
        self.refresh().await?;
        let campaigns: Vec<CampaignRow> = self.campaigns.values().cloned().collect();
        for c in campaigns {
            if c.acked_status != c.status {
                self.db.ack(c.id, &c.status, &self.s.id).await?;
                tracing::info!(campaign = %c.name, status = %c.status, "acknowledged");
            }
            if c.status == "stopped" {
                self.hang_up_campaign(c.id).await;
            }
            if c.status != "running" || !self.ari_up || self.reconcile_due || self.draining {
                continue;
            }
            if !c.def.in_window(chrono::Utc::now()) {
                continue;
            }
            // The cap holds across engines: the claim counts what is in
            // flight and claims in one transaction.
            let claimed = self
                .db
                .claim_within(
                    c.id,
                    &self.s.id,
                    c.def.max_concurrent.min(50),
                    now_ms(),
                    Some(c.def.max_concurrent),
                    Some(&self.lease),
                )
                .await;
            let claimed = match claimed {
                Err(DialerError::LeaseLost(_)) => {
                    self.lease_lost = true;
                    return Ok(());
                }
                other => other?,
            };
            self.dial(&c, claimed).await;
        }
        Ok(())
    }

    async fn hang_up_campaign(&mut self, id: i64) {
        let ids: Vec<String> = self
            .live
            .iter()
            .filter(|(_, l)| l.campaign_id == id)
            .map(|(k, _)| k.clone())
            .collect();
        for ch in ids {
            self.stopping.insert(ch.clone());
            if let Err(e) = self.rest.hangup(&ch).await
                && !e.is_not_found()
            {
                tracing::warn!(channel = %ch, "hanging up: {}", said(&e));
            }
        }
    }

    async fn dial(&mut self, c: &CampaignRow, claimed: Vec<Claimed>) {
        let mut calls = Vec::with_capacity(claimed.len());
        for lead in &claimed {
            self.live.insert(
                lead.attempt_id.clone(),
                Live {
                    campaign_id: c.id,
                    answered: false,
                    dial_status: None,
                    in_doubt: false,
                },
            );
            calls.push((
                lead,
                c.def.dial_string(&lead.number),
                lead_variables(lead, &c.name),
            ));
        }
        // Stamped before anything is sent: an attempt without the stamp was
        // never dialed, and reconciliation requeues it.
        let ids: Vec<&str> = claimed.iter().map(|l| l.attempt_id.as_str()).collect();
        if let Err(e) = self.db.sending(&ids, &self.lease, now_ms()).await {
            tracing::warn!("not dialing {} claimed leads: {}", ids.len(), said(&e));
            if matches!(e, DialerError::LeaseLost(_)) {
                self.lease_lost = true;
            }
            for id in &ids {
                self.live.remove(*id);
            }
            self.reconcile_due = true;
            return;
        }
        let rest = &self.rest;
        // A few originates at a time: Asterisk's HTTP server limits its
        // sessions (http.conf sessionlimit, 100 by default).
        let results: Vec<Result<(), AriError>> =
            futures_util::stream::iter(calls.iter().map(|(lead, endpoint, vars)| {
                rest.originate(Originate {
                    channel_id: &lead.attempt_id,
                    endpoint,
                    caller_id: &c.def.caller_id,
                    timeout_s: c.def.ring_timeout_s,
                    variables: vars,
                })
            }))
            .buffered(ORIGINATES_AT_ONCE)
            .collect()
            .await;
        for ((lead, _, _), result) in calls.iter().zip(results) {
            match result {
                Ok(()) => {
                    if let Err(e) = self.db.originated(&lead.attempt_id, now_ms()).await {
                        tracing::warn!(attempt = %lead.attempt_id, "recording the originate: {}", said(&e));
                    }
                }
                Err(e @ AriError::Status { status, .. }) if status >= 500 => {
                    // Asterisk could not take it (starting, stopping):
                    // nothing was dialed; the lead is tried again soon.
                    tracing::warn!(attempt = %lead.attempt_id, "originate not taken, lead requeued: {}", said(&e));
                    self.live.remove(&lead.attempt_id);
                    let now = now_ms();
                    if let Err(e) = self
                        .db
                        .requeue(&lead.attempt_id, now, now + REQUEUE_MS)
                        .await
                    {
                        tracing::warn!(attempt = %lead.attempt_id, "requeueing: {}", said(&e));
                    }
                }
                Err(e @ AriError::Status { .. }) => {
                    // Asterisk refused it (a bad endpoint): nothing was dialed,
                    // and dialing it again would be refused again.
                    tracing::warn!(attempt = %lead.attempt_id, "originate refused: {}", said(&e));
                    self.live.remove(&lead.attempt_id);
                    self.finish(&lead.attempt_id, c.id, Outcome::Failed, None)
                        .await;
                }
                Err(e) => {
                    // No answer from Asterisk: it may or may not be dialing.
                    // Reconciliation decides, before any new dial.
                    tracing::warn!(attempt = %lead.attempt_id, "originate unanswered: {}", said(&e));
                    self.reconcile_due = true;
                    self.doubt_calls_in_flight();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_data_is_inert() {
        let mut data = BTreeMap::new();
        data.insert(
            "name".to_string(),
            "Smith, John\r\nEXEC(System(rm -rf /))".to_string(),
        );
        data.insert("account".to_string(), "A-1".to_string());
        let c = Claimed {
            attempt_id: "sb-1-1".into(),
            lead_id: 1,
            number: "5551234".into(),
            data,
        };
        let v = lead_variables(&c, "spring");
        assert_eq!(
            v.get("SB_NAME").map(String::as_str),
            Some("Smith%2C%20John%0D%0AEXEC%28System%28rm%20-rf%20%2F%29%29")
        );
        assert_eq!(v.get("SB_ACCOUNT").map(String::as_str), Some("A-1"));
        assert_eq!(v.get("SB_ATTEMPT_ID").map(String::as_str), Some("sb-1-1"));
        for value in v.values() {
            assert!(!value.contains([',', '\r', '\n', '(', ' ']), "{value}");
        }
    }
}
