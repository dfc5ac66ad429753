//! The supervisor-actions service: an actor that runs a user's [`Act`]s on
//! a PBX. In order: the act's texts are checked, the user's rights (their
//! roles' action × queue scope, their ACL, their PBXs), what the PBX's
//! manager user may send, the call or agent it names ([`lookup`]: may the
//! user reach it, which channel carries the agent's audio); then a `sent` row goes to the audit trail,
//! Asterisk is asked on the holder's own AMI link, and its answer is
//! recorded on that row. A refusal is audited too, and nothing of it
//! reaches Asterisk. Without the audit trail (no app database) nothing is
//! done: every action is recorded or none is made.
//!
//! In the daemon the rights are the kernel-verified user's; a direct
//! console holds the AMI secret itself, so there they are a courtesy.

use crate::access::{Rights, Visibility};
use crate::ami::connection::{Handle, RequestError};
use crate::dialer::store::{ActEntry, AppDb};
use crate::secret::Secret;
use crate::service::campaigns::AppDbSlot;
use crate::supervise::config::ActionsConfig;
use crate::supervise::privileges::{self, Unavailable};
use crate::supervise::{Act, plan};
use lookup::{Found, LiveQuery, Lookup};

pub mod lookup;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Longest wait for Asterisk's answer to one AMI action, and for the hub.
pub const ACT_DEADLINE: Duration = Duration::from_secs(10);

/// Longest wait for the audit trail (the app database) per write.
pub const AUDIT_DEADLINE: Duration = Duration::from_secs(5);

/// How long a PBX's `ListCommands` answer is trusted before it is asked
/// again.
pub const PRIVILEGES_FRESH: Duration = Duration::from_secs(60);

/// A request; `id` comes back in the reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActRequest {
    /// Run `act` on PBX `pbx` (`[[pbx]] name`).
    Run {
        /// Request id.
        id: u64,
        /// The PBX.
        pbx: String,
        /// What to do.
        act: Act,
    },
    /// What each PBX's manager user may not send (asked at attach and
    /// when a link logs in again).
    Privileges {
        /// Request id.
        id: u64,
    },
}

impl ActRequest {
    /// The request's id.
    pub fn id(&self) -> u64 {
        match self {
            ActRequest::Run { id, .. } | ActRequest::Privileges { id } => *id,
        }
    }
}

/// The worker's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActReply {
    /// Asterisk did it; `message` says what and Asterisk's words.
    Done {
        /// Request id.
        id: u64,
        /// For the notice.
        message: String,
    },
    /// Not sent to Asterisk: the user's rights, a bad value, a missing
    /// manager privilege (the words say what to change).
    Refused {
        /// Request id.
        id: u64,
        /// Why.
        message: String,
    },
    /// Asked and failed (Asterisk refused, no answer in time, the link
    /// down, the audit trail unwritable).
    Failed {
        /// Request id.
        id: u64,
        /// Why.
        message: String,
    },
    /// The kinds of act each PBX's manager user may not send.
    Privileges {
        /// Request id.
        id: u64,
        /// One entry per PBX and kind missing.
        unavailable: Vec<Unavailable>,
    },
}

impl ActReply {
    /// The id of the request this answers.
    pub fn id(&self) -> u64 {
        match self {
            ActReply::Done { id, .. }
            | ActReply::Refused { id, .. }
            | ActReply::Failed { id, .. }
            | ActReply::Privileges { id, .. } => *id,
        }
    }
}

/// The channels to a worker.
pub struct ActLink {
    /// Requests to the worker.
    pub requests: mpsc::Sender<ActRequest>,
    /// Its replies.
    pub replies: mpsc::Receiver<ActReply>,
}

/// What each PBX's manager user may not send, as last asked, by PBX name.
pub type PrivilegeCache = Arc<Mutex<HashMap<String, (Instant, Vec<Unavailable>)>>>;

/// What the worker acts with, shared by every user's worker in a daemon.
pub struct Floor {
    /// Each PBX's name and AMI link, in config order.
    pub links: Vec<(String, Handle)>,
    /// The hub, to find calls and channels in its live state (`None`: a
    /// direct console, whose worker reads a fresh snapshot instead).
    pub live: Option<mpsc::Sender<LiveQuery>>,
    /// What counts as an extension (the calls a user sees).
    pub rule: crate::endpoints::ExtensionRule,
    /// `[actions]`.
    pub actions: ActionsConfig,
    /// The app database's URL (the audit trail), or why there is none.
    pub audit_db: Result<Secret, String>,
    /// Its pool.
    pub slot: AppDbSlot,
    /// Known manager privileges.
    pub privileges: PrivilegeCache,
}

/// Who the worker acts for.
#[derive(Clone, Debug)]
pub struct Supervisor {
    /// The login (kernel-verified in the daemon).
    pub login: String,
    /// What they may do.
    pub rights: Rights,
    /// What they may see (`[acl]`).
    pub visibility: Visibility,
    /// The PBXs they may see (`None`: all).
    pub pbx_scope: Option<Vec<String>>,
    /// Their own phone, rung to listen, whisper or barge (`PJSIP/303`).
    pub phone: Option<String>,
}

/// Starts a worker acting for `who` with `floor`.
pub fn spawn(floor: Arc<Floor>, who: Supervisor) -> ActLink {
    let (req_tx, mut req_rx) = mpsc::channel::<ActRequest>(16);
    let (reply_tx, reply_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Some(req) = req_rx.recv().await {
            // Boxed: an idle worker (one per attached console) holds no
            // room for an act's state.
            let reply = match req {
                ActRequest::Privileges { id } => ActReply::Privileges {
                    id,
                    unavailable: Box::pin(all_unavailable(&floor)).await,
                },
                ActRequest::Run { id, pbx, act } => {
                    Box::pin(run(&floor, &who, id, &pbx, act)).await
                }
            };
            if reply_tx.send(reply).await.is_err() {
                return;
            }
        }
    });
    ActLink {
        requests: req_tx,
        replies: reply_rx,
    }
}

/// Every PBX's missing kinds, asking those not asked lately.
async fn all_unavailable(floor: &Floor) -> Vec<Unavailable> {
    let mut all = Vec::new();
    for (name, link) in &floor.links {
        all.extend(unavailable(floor, name, link).await);
    }
    all
}

/// `pbx`'s missing kinds: from the cache when fresh, else `ListCommands`
/// (nothing known when it gets no answer: the act is tried and Asterisk
/// says).
async fn unavailable(floor: &Floor, pbx: &str, link: &Handle) -> Vec<Unavailable> {
    let cached = floor
        .privileges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(pbx)
        .filter(|(at, _)| at.elapsed() < PRIVILEGES_FRESH)
        .map(|(_, u)| u.clone());
    if let Some(u) = cached {
        return u;
    }
    let Ok(ask) = crate::ami::Action::new("ListCommands") else {
        return Vec::new();
    };
    let Ok(Ok(reply)) = tokio::time::timeout(ACT_DEADLINE, link.request(ask)).await else {
        return Vec::new();
    };
    let found = privileges::unavailable(pbx, &reply.response);
    floor
        .privileges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pbx.to_string(), (Instant::now(), found.clone()));
    found
}

/// Why an act stopped before Asterisk, or how Asterisk answered.
enum Outcome {
    Refused(String),
    Failed(String),
    Done(String),
}

async fn run(floor: &Floor, who: &Supervisor, id: u64, pbx: &str, act: Act) -> ActReply {
    let entry = ActEntry {
        login: &who.login,
        pbx,
        action: act.verb(),
        target: &act.target(),
        detail: &act.detail(),
    };
    let db = match tokio::time::timeout(AUDIT_DEADLINE, floor.slot.get(&floor.audit_db)).await {
        Ok(db) => db,
        Err(_) => Err(format!(
            "the app database did not answer within {AUDIT_DEADLINE:?}"
        )),
    };
    let outcome = match &db {
        Err(why) => Outcome::Failed(format!(
            "not done: every action is audited and there is no audit trail ({why}); an admin sets [dialer] db_url_file"
        )),
        Ok(db) => match admit(floor, who, pbx, &act).await {
            Err(why) => {
                if let Err(e) = audited(db.audit_act(&entry, "refused", &why)).await {
                    tracing::warn!("audit trail: {}", crate::sanitize::escape(&e));
                }
                Outcome::Refused(why)
            }
            Ok((link, actions)) => send(db, &entry, link, actions).await,
        },
    };
    let what = format!("{} {}", act.verb(), entry.target);
    match outcome {
        Outcome::Done(answer) => ActReply::Done {
            id,
            message: format!("{what}: {answer}"),
        },
        Outcome::Refused(message) => ActReply::Refused { id, message },
        Outcome::Failed(why) => ActReply::Failed {
            id,
            message: format!("{what}: {why}"),
        },
    }
}

/// Checks `act` for `who`: its texts, the PBX, the manager user's
/// privileges, the user's rights, the call or agent it names. Returns the
/// link and the AMI actions to send.
async fn admit<'f>(
    floor: &'f Floor,
    who: &Supervisor,
    pbx: &str,
    act: &Act,
) -> Result<(&'f Handle, Vec<crate::ami::Action>), String> {
    act.check()?;
    let login = &who.login;
    let kind = act.kind();
    let Some(index) = floor.links.iter().position(|(n, _)| n == pbx) else {
        let names: Vec<&str> = floor.links.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!(
            "no PBX `{pbx}`; the PBXs are: {}",
            names.join(", ")
        ));
    };
    if who
        .pbx_scope
        .as_ref()
        .is_some_and(|s| !s.iter().any(|p| p == pbx))
    {
        return Err(format!("`{login}` has no rights on PBX {pbx}"));
    }
    let link = &floor.links[index].1;
    if let Some(u) = unavailable(floor, pbx, link)
        .await
        .into_iter()
        .find(|u| u.kind == kind)
    {
        return Err(u.why);
    }
    let planned =
        |r: Result<Vec<crate::ami::Action>, crate::ami::ActionError>| r.map_err(|e| e.to_string());
    let single = |r: Result<crate::ami::Action, crate::ami::ActionError>| {
        r.map(|a| vec![a]).map_err(|e| e.to_string())
    };
    let actions = match act {
        Act::Spy { interface, mode } => {
            let phone = who.phone.as_deref().ok_or_else(|| {
                format!("`{login}` has no phone to listen on; an admin sets phone = \"PJSIP/…\" in [acl.users.{login}]")
            })?;
            let checks = vec![who.visibility.clone(), who.rights.call_scope(login, kind)?];
            let found = ask(floor, index, Lookup::AgentAudio(interface.clone()), checks).await?;
            let spyee = reachable(found, login, &format!("{interface} is on no call"))?;
            // The name comes from Asterisk and becomes ChanSpy's argument.
            crate::supervise::act::check_channel(&spyee)?;
            single(plan::spy(phone, &spyee, *mode, interface))?
        }
        Act::SpyMode { mode } => {
            who.rights.call_scope(login, kind)?;
            let phone = who.phone.as_deref().unwrap_or("");
            let found = ask(floor, index, Lookup::SpyOf(phone.to_string()), Vec::new()).await?;
            let spyer = reachable(found, login, &format!("your phone {phone} is not spying"))?;
            single(plan::spy_mode(&spyer, *mode))?
        }
        _ => {
            let queues = match (act.queue(), act.channel()) {
                (Some(q), _) => {
                    who.rights.allows_in(login, kind, q, &who.visibility)?;
                    vec![q.to_string()]
                }
                (None, Some(channel)) => {
                    let checks = vec![who.visibility.clone(), who.rights.call_scope(login, kind)?];
                    let found = ask(floor, index, Lookup::Call(channel.into()), checks).await?;
                    reachable(
                        found,
                        login,
                        &format!("no live channel {channel}: the call has ended"),
                    )?;
                    Vec::new()
                }
                (None, None) => member_queues(link, act, who).await?,
            };
            planned(plan::actions(act, &queues, &floor.actions))?
        }
    };
    Ok((link, actions))
}

/// The channel found, or the refusal's words (`missing` when there is
/// none).
fn reachable(found: Found, login: &str, missing: &str) -> Result<String, String> {
    match found {
        Found::Reachable(channel) => Ok(channel),
        Found::Missing => Err(missing.to_string()),
        Found::Hidden => Err(format!(
            "`{login}` may not act on that call: it is outside their rights"
        )),
    }
}

/// Answers `lookup` on PBX `pbx`: from the hub's live state in the
/// daemon, else from a fresh snapshot of the PBX.
async fn ask(
    floor: &Floor,
    pbx: usize,
    lookup: Lookup,
    checks: Vec<Visibility>,
) -> Result<Found, String> {
    let Some(hub) = &floor.live else {
        let state = lookup::snapshot(&floor.links[pbx].1, ACT_DEADLINE).await?;
        return Ok(lookup::find(&state, &floor.rule, &lookup, &checks));
    };
    let (reply, answer) = oneshot::channel();
    let query = LiveQuery {
        pbx,
        lookup,
        checks,
        reply,
    };
    let lost = || "the daemon's live state did not answer; try again".to_string();
    hub.send(query).await.map_err(|_| lost())?;
    match tokio::time::timeout(ACT_DEADLINE, answer).await {
        Ok(Ok(found)) => Ok(found),
        _ => Err(lost()),
    }
}

/// The queues `act`'s member is in that the user may act in
/// (`QueueStatus` with `Member`).
async fn member_queues(link: &Handle, act: &Act, who: &Supervisor) -> Result<Vec<String>, String> {
    let interface = match act {
        Act::Pause { interface, .. }
        | Act::Unpause { interface, .. }
        | Act::Logoff { interface } => interface,
        _ => return Ok(Vec::new()),
    };
    let ask = plan::member_queues(interface).map_err(|e| e.to_string())?;
    let reply = tokio::time::timeout(ACT_DEADLINE, link.request(ask))
        .await
        .map_err(|_| format!("Asterisk did not list {interface}'s queues within {ACT_DEADLINE:?}"))?
        .map_err(|e| e.to_string())?;
    let kind = act.kind();
    let all: Vec<String> = reply
        .events
        .iter()
        .filter(|m| m.event_name() == Some("QueueMember"))
        .map(|m| m.str("Queue").to_string())
        .collect();
    if all.is_empty() {
        return Err(format!("{interface} is in no queue"));
    }
    let mine: Vec<String> = all
        .iter()
        .filter(|q| {
            who.rights
                .allows_in(&who.login, kind, q, &who.visibility)
                .is_ok()
        })
        .cloned()
        .collect();
    if mine.is_empty() {
        return Err(format!(
            "`{}` may not {kind} {interface} in any of its queues ({})",
            who.login,
            all.join(", ")
        ));
    }
    Ok(mine)
}

/// An audit-trail write within [`AUDIT_DEADLINE`].
async fn audited<T>(
    write: impl std::future::Future<Output = Result<T, crate::dialer::DialerError>>,
) -> Result<T, String> {
    match tokio::time::timeout(AUDIT_DEADLINE, write).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the app database did not answer within {AUDIT_DEADLINE:?}"
        )),
    }
}

/// Audits `sent`, asks Asterisk, records its answer.
async fn send(
    db: &AppDb,
    entry: &ActEntry<'_>,
    link: &Handle,
    actions: Vec<crate::ami::Action>,
) -> Outcome {
    let row = match audited(db.audit_act(entry, "sent", "")).await {
        Ok(row) => row,
        Err(e) => {
            return Outcome::Failed(format!("not done: the audit trail cannot be written ({e})"));
        }
    };
    let mut answers = Vec::new();
    let mut failed = false;
    for action in actions {
        let answer = match tokio::time::timeout(ACT_DEADLINE, link.request(action)).await {
            Ok(Ok(reply)) => reply.response.str("Message").to_string(),
            Ok(Err(RequestError::Refused(m))) => {
                failed = true;
                format!("Asterisk refused: {m}")
            }
            Ok(Err(e)) => {
                failed = true;
                e.to_string()
            }
            Err(_) => {
                failed = true;
                format!(
                    "no answer from Asterisk within {ACT_DEADLINE:?}; it may or may not have run"
                )
            }
        };
        answers.push(crate::sanitize::clean(&answer).into_owned());
    }
    let answer = answers.join("; ");
    let result = if failed { "failed" } else { "ok" };
    if let Err(e) = audited(db.audit_result(row, result, &answer)).await {
        tracing::warn!(
            "audit trail: row {row} keeps `sent`: {}",
            crate::sanitize::escape(&e)
        );
    }
    if failed {
        Outcome::Failed(answer)
    } else {
        Outcome::Done(format!("Asterisk: {answer}"))
    }
}
