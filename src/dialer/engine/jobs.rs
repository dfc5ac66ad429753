//! The engine's slow work, each piece a job off the loop: it runs in a task
//! of its own within a deadline, touches no engine state, and reports back
//! as a [`Done`] that the loop applies. Only the loop changes the engine's
//! state, and it never waits on the database or on Asterisk's HTTP server:
//! ARI events (answers above all) are handled while either is slow or away.
//!
//! The loop runs one of [`step`], [`send`] and [`snapshot`] at a time (the
//! work slot), so a reconciliation never sees a claim half done or an
//! originate on its way; [`beat`] has a slot of its own.

use super::pace::Pace;
use crate::ari::AriError;
use crate::ari::rest::{Originate, Rest};
use crate::clock::now_ms;
use crate::dialer::DialerError;
use crate::dialer::store::{AppDb, CampaignRow, Claim, Claimed, InFlight, Lease};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// How long a step (read campaigns, acknowledge, claim) or a
/// reconciliation may take before it counts as failed.
pub const JOB_DEADLINE: Duration = Duration::from_secs(10);

/// How long a heartbeat may take: well within the lease.
pub const BEAT_DEADLINE: Duration = Duration::from_secs(3);

/// How long Asterisk may take to answer the engine's probe before the
/// calls in flight are in doubt (see [`probe`]).
pub const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// Originates in flight at once: Asterisk's HTTP server limits its sessions
/// (http.conf `sessionlimit`, 100 by default).
const ORIGINATES_AT_ONCE: usize = 8;

/// A finished job, for the loop.
#[derive(Debug)]
pub enum Done {
    /// The lease was renewed (or not).
    Beat(Result<(), DialerError>),
    /// Campaigns read and leads claimed.
    Stepped(Stepped),
    /// Originates sent.
    Sent(Sent),
    /// What reconciliation needs, read from the database and Asterisk.
    Snapshot(Result<Snapshot, DialerError>),
    /// An answered call was sent on to its destination (or not).
    SentOn {
        /// The channel.
        channel: String,
        /// What Asterisk said.
        result: Result<(), AriError>,
    },
    /// Asterisk answered the probe (or not, with why).
    Probed(Result<(), String>),
    /// A hangup asked for by a supervisor's stop was done (or not).
    HungUp {
        /// The channel.
        channel: String,
    },
    /// The running campaigns' statistics and abandon rates were read (or
    /// not).
    Steered(Result<HashMap<i64, super::pace::Steering>, DialerError>),
    /// An answered call's drop timer ran out (see
    /// [`crate::dialer::pacing::safe_harbour_after`]).
    DropDue {
        /// The channel.
        channel: String,
    },
    /// A dropped call was moved to the safe-harbour message (or not, with
    /// why).
    Dropped {
        /// The channel.
        channel: String,
        /// What Asterisk said.
        result: Result<(), String>,
    },
}

/// How far back a campaign's statistics look, ms (two hours of calls).
const STATS_WINDOW_MS: i64 = 2 * 3_600_000;

/// Most attempts a campaign's statistics are estimated from.
const STATS_SAMPLE: u32 = 500;

/// Reads each of `campaigns` (with its queue's wrap-up, seconds) its
/// abandon rate over the regime's window and its statistics over the last
/// two hours ([`crate::dialer::pacing::stats::estimate`]).
///
/// Errors: the database fails (the engine keeps the previous figures).
pub async fn steering(
    db: AppDb,
    campaigns: Vec<(CampaignRow, f64)>,
) -> Result<HashMap<i64, super::pace::Steering>, DialerError> {
    use crate::dialer::pacing::{ledger::MIN_ANSWERS, stats};
    let since = now_ms() - STATS_WINDOW_MS;
    let mut out = HashMap::new();
    for (row, wrapup_s) in campaigns {
        let abandon_rate = db
            .ledger(&row)
            .await?
            .filter(|a| a.answers >= MIN_ANSWERS as i64)
            .and_then(|a| a.percent())
            .map(|pct| pct / 100.0);
        let times = db.attempt_times(row.id, since, STATS_SAMPLE).await?;
        out.insert(
            row.id,
            super::pace::Steering {
                stats: stats::estimate(&times, wrapup_s),
                abandon_rate,
            },
        );
    }
    Ok(out)
}

/// Longest wait for Asterisk's answer to the safe-harbour `Redirect`.
const REDIRECT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Moves channel `name` to extension `s` of `context` (AMI `Redirect`).
///
/// Errors: a name or context that is not a valid header, Asterisk's
/// refusal (e.g. "Permission denied": the manager user needs `write =
/// call`), or no answer within [`REDIRECT_DEADLINE`].
pub async fn redirect(
    ami: &crate::ami::connection::Handle,
    name: &str,
    context: &str,
) -> Result<(), String> {
    let action = crate::ami::Action::new("Redirect")
        .and_then(|a| a.header("Channel", name))
        .and_then(|a| a.header("Context", context))
        .and_then(|a| a.header("Exten", "s"))
        .and_then(|a| a.header("Priority", "1"))
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(REDIRECT_DEADLINE, ami.request(action)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "Asterisk did not answer the Redirect within {REDIRECT_DEADLINE:?}"
        )),
    }
}

/// A step's result.
#[derive(Debug, Default)]
pub struct Stepped {
    /// Every campaign, as read (empty when the read failed).
    pub campaigns: Vec<CampaignRow>,
    /// Leads claimed, per campaign id: claimed before any error below,
    /// so the loop dials or gives back each of them.
    pub claimed: Vec<(i64, Vec<Claimed>)>,
    /// Claimed leads not to dial now, with when they are due again (ms
    /// since the epoch, UTC): under `uk`, a number that was a drop in the
    /// last 72 hours, due 72 hours after that drop.
    pub held: Vec<(String, i64)>,
    /// What went wrong, if anything.
    pub error: Option<DialerError>,
}

/// Reads campaigns, acknowledges status changes, and (when `may_dial`)
/// claims due leads of running campaigns within their windows and caps.
pub async fn step(db: AppDb, lease: Lease, may_dial: bool, pace: Pace) -> Stepped {
    let mut out = Stepped::default();
    let run = async {
        out.campaigns = db.campaigns().await?;
        for c in &out.campaigns {
            if c.acked_status != c.status {
                db.ack(c.id, &c.status, &lease.engine).await?;
                tracing::info!(campaign = %crate::sanitize::escape(&c.name), status = %c.status, "acknowledged");
            }
            if c.status != "running" || !may_dial || !c.def.in_window(chrono::Utc::now()) {
                continue;
            }
            // A queue campaign by its free agents, any other within its
            // cap; the cap holds across engines: the claim counts what is
            // in flight and claims in one transaction.
            let allow = pace.allowance(c);
            if allow.n == 0 {
                continue;
            }
            let batch = db
                .claim_within(&Claim {
                    campaign: c.id,
                    engine: &lease.engine,
                    n: allow.n,
                    now: now_ms(),
                    max_concurrent: Some(allow.cap),
                    lease: Some(&lease),
                })
                .await?;
            let batch = hold_recent_drops(&db, c, batch, &mut out.held).await?;
            if !batch.is_empty() {
                out.claimed.push((c.id, batch));
            }
        }
        Ok::<_, DialerError>(())
    };
    match tokio::time::timeout(JOB_DEADLINE, run).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => out.error = Some(e),
        Err(_) => out.error = Some(db_silent(JOB_DEADLINE)),
    }
    out
}

/// `batch` without the leads whose number was a drop within the campaign's
/// redial hold (`uk`: 72 hours), which go to `held` with when they are due.
///
/// Errors: the database fails.
async fn hold_recent_drops(
    db: &AppDb,
    c: &CampaignRow,
    batch: Vec<Claimed>,
    held: &mut Vec<(String, i64)>,
) -> Result<Vec<Claimed>, DialerError> {
    let Some(hold_s) = c.def.pacing.regime.redial_hold_s() else {
        return Ok(batch);
    };
    let hold_ms = hold_s * 1000;
    let drop_ms = i64::from(c.def.pacing.drop_s) * 1000;
    let mut keep = Vec::with_capacity(batch.len());
    for lead in batch {
        match db
            .last_drop(&lead.number, now_ms() - hold_ms, drop_ms)
            .await?
        {
            Some(at) => held.push((lead.attempt_id, at + hold_ms)),
            None => keep.push(lead),
        }
    }
    Ok(keep)
}

/// The database did not answer within `d`.
pub fn db_silent(d: Duration) -> DialerError {
    DialerError::Db(format!("no answer within {} s", d.as_secs()))
}

/// Renews the lease and records the heartbeat with `state`.
pub async fn beat(db: AppDb, lease: Lease, ttl_ms: i64, state: String) -> Result<(), DialerError> {
    let renew = db.renew_lease(&lease, now_ms(), ttl_ms, &state);
    match tokio::time::timeout(BEAT_DEADLINE, renew).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(DialerError::LeaseLost(lease.engine)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(db_silent(BEAT_DEADLINE)),
    }
}

/// Asks Asterisk whether it answers, within [`PROBE_DEADLINE`]. A frozen
/// or overloaded Asterisk sends no events and answers no request: without
/// this probe the engine could not tell a quiet moment from a freeze whose
/// thaw reports a "no answer" for a customer who picked up meanwhile.
pub async fn probe(rest: Rest) -> Result<(), String> {
    match tokio::time::timeout(PROBE_DEADLINE, rest.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", PROBE_DEADLINE.as_secs())),
    }
}

/// One originate to send, owned by the job.
#[derive(Clone, Debug)]
pub struct Call {
    /// Attempt id (= channel id).
    pub attempt_id: String,
    /// Its campaign.
    pub campaign_id: i64,
    /// Dial string.
    pub endpoint: String,
    /// Caller ID.
    pub caller_id: String,
    /// Ring time, seconds.
    pub ring_timeout_s: u32,
    /// Channel variables ([`super::vars::lead_variables`]).
    pub variables: BTreeMap<String, String>,
}

/// What became of a batch of originates.
#[derive(Debug)]
pub struct Sent {
    /// The calls, as handed to the job.
    pub calls: Vec<Call>,
    /// One result per call sent, in order: the first `results.len()` calls
    /// were sent, the others were not.
    pub results: Vec<Result<(), AriError>>,
    /// Why the calls after `results` were not sent: their `sending` stamp
    /// failed (the database, or the lease lost).
    pub unsent: Option<DialerError>,
}

/// Originates the calls a few at a time, each group stamped `sending`
/// just before it goes (fenced by the lease: an engine that lost it sends
/// nothing). A kill can only leave the group on its way stamped and
/// unanswered: every call not yet stamped is known never sent.
pub async fn send(db: AppDb, rest: Rest, lease: Lease, calls: Vec<Call>) -> Sent {
    let mut results = Vec::with_capacity(calls.len());
    let mut unsent = None;
    for group in calls.chunks(ORIGINATES_AT_ONCE) {
        let ids: Vec<&str> = group.iter().map(|c| c.attempt_id.as_str()).collect();
        let stamped = tokio::time::timeout(
            super::writer::WRITE_DEADLINE,
            db.sending(&ids, &lease, now_ms()),
        )
        .await
        .unwrap_or_else(|_| Err(db_silent(super::writer::WRITE_DEADLINE)));
        if let Err(e) = stamped {
            unsent = Some(e);
            break;
        }
        let originates = group.iter().map(|c| {
            rest.originate(Originate {
                channel_id: &c.attempt_id,
                endpoint: &c.endpoint,
                caller_id: &c.caller_id,
                timeout_s: c.ring_timeout_s,
                variables: &c.variables,
            })
        });
        results.extend(futures_util::future::join_all(originates).await);
    }
    Sent {
        calls,
        results,
        unsent,
    }
}

/// What reconciliation decides on: the database's attempts in flight and
/// Asterisk's channels, read in that order (an attempt claimed after the
/// read is not in it; a channel created after the listing belongs to an
/// attempt the engine already follows).
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every campaign (definitions for the attempts adopted).
    pub campaigns: Vec<CampaignRow>,
    /// Attempts not ended, of this engine and of dead ones.
    pub in_flight: Vec<InFlight>,
    /// Attempts whose channel Asterisk has and the app now follows.
    pub followed: HashSet<String>,
    /// Channels Up (answered, whatever the database could record).
    pub up: HashSet<String>,
    /// Channels Up and still in the Stasis app: answered calls not yet sent
    /// on.
    pub waiting: HashSet<String>,
}

/// Reads a [`Snapshot`]: attempts not ended of `engine` and of engines
/// whose heartbeat is older than `stale_before` (ms since epoch), then
/// Asterisk's channels, subscribing the app to each attempt's channel.
pub async fn snapshot(
    db: AppDb,
    rest: Rest,
    engine: String,
    stale_before: i64,
) -> Result<Snapshot, DialerError> {
    let read = async {
        let campaigns = db.campaigns().await?;
        let in_flight = db.in_flight(&engine, stale_before).await?;
        Ok::<_, DialerError>((campaigns, in_flight))
    };
    let (campaigns, in_flight) = tokio::time::timeout(JOB_DEADLINE, read)
        .await
        .unwrap_or_else(|_| Err(db_silent(JOB_DEADLINE)))?;
    let ask = async {
        let listed = rest
            .channels()
            .await
            .map_err(|e| DialerError::Pbx(e.to_string()))?;
        let mut snap = Snapshot {
            campaigns,
            ..Snapshot::default()
        };
        let channels: HashSet<&str> = listed.iter().map(|c| c.id.as_str()).collect();
        for a in &in_flight {
            if !channels.contains(a.attempt_id.as_str()) {
                continue;
            }
            // A channel listed but gone before its subscription ended
            // meanwhile: it counts as gone (kept, it would wait for a
            // ChannelDestroyed that never comes).
            let followed = match rest.subscribe(&a.attempt_id).await {
                Ok(()) => true,
                Err(e) if e.is_not_found() || e.status() == Some(422) => false,
                Err(e) => {
                    tracing::warn!(
                        attempt = %crate::sanitize::escape(&a.attempt_id),
                        "subscribing: {}",
                        crate::sanitize::escape(&e.to_string())
                    );
                    true
                }
            };
            if followed {
                snap.followed.insert(a.attempt_id.clone());
            }
        }
        for c in listed {
            if c.state == "Up" {
                if c.dialplan.app_name == "Stasis" {
                    snap.waiting.insert(c.id.clone());
                }
                snap.up.insert(c.id);
            }
        }
        snap.in_flight = in_flight;
        Ok(snap)
    };
    tokio::time::timeout(JOB_DEADLINE, ask)
        .await
        .unwrap_or_else(|_| {
            Err(DialerError::Pbx(format!(
                "no answer to the channel list and subscriptions within {} s",
                JOB_DEADLINE.as_secs()
            )))
        })
}
