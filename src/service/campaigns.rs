//! The campaigns service: an actor that reads campaigns, their progress and
//! the engines' heartbeats for the Campaigns screen, and writes what the
//! supervisor asks for (a status and an audit row). The engine acts on it;
//! the console never talks to ARI.

use crate::dialer::store::{Abandons, AppDb, CampaignRow, EngineRow, Progress};
use crate::secret::Secret;
use tokio::sync::mpsc;

/// A campaign with its progress.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignStatus {
    /// As stored.
    pub row: CampaignRow,
    /// Lead counts and live calls.
    pub progress: Progress,
    /// The abandon ledger over its regime's window (30 days, or 24 hours
    /// under `uk`); `None` where the agent's answer is not seen (an
    /// `{ extension = … }` destination).
    #[serde(default)]
    pub abandons: Option<Abandons>,
}

/// A request; `id` comes back in the reply.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AppRequest {
    /// Read campaigns, progress and engines.
    Refresh {
        /// Request id.
        id: u64,
    },
    /// Ask for `status` on campaign `name` (needs the campaign right).
    SetStatus {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// `running`, `paused` or `stopped`.
        status: String,
    },
    /// Create or update a campaign from its TOML definition (needs the
    /// campaign right).
    Apply {
        /// Request id.
        id: u64,
        /// Where the text came from (a file name), for messages.
        source: String,
        /// The definition, TOML.
        text: String,
    },
    /// Import leads from CSV, all or nothing (needs the campaign right).
    /// The requester reads the file, as its user: the worker (the daemon's,
    /// when attached) never opens a file a user names.
    Import {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// Where the text came from (a file name), for messages.
        source: String,
        /// The CSV, a header row first.
        csv: bytes::Bytes,
    },
    /// Add numbers to the do-not-call list of every campaign (needs the
    /// campaign right); each is checked and normalised first.
    Dnc {
        /// Request id.
        id: u64,
        /// Numbers as typed.
        numbers: Vec<String>,
    },
    /// Change campaign `name`'s pacing while it runs (needs the campaign
    /// right); the engine reads it within a tick. Answered as
    /// [`AppReply::Applied`].
    Pace {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// What changes.
        change: crate::dialer::pacing::PaceChange,
    },
    /// Campaign `name`'s statistics fitted from its attempts of the last
    /// 30 days, for the simulator (read-only).
    Fit {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
    },
    /// The audit trail's rows (read-only): every user's for an admin, the
    /// user's own otherwise.
    Audit {
        /// Request id.
        id: u64,
        /// Which rows.
        query: crate::dialer::store::AuditQuery,
    },
}

impl AppRequest {
    /// The request's id, which its reply carries.
    pub fn id(&self) -> u64 {
        match self {
            AppRequest::Refresh { id }
            | AppRequest::SetStatus { id, .. }
            | AppRequest::Apply { id, .. }
            | AppRequest::Import { id, .. }
            | AppRequest::Dnc { id, .. }
            | AppRequest::Pace { id, .. }
            | AppRequest::Fit { id, .. }
            | AppRequest::Audit { id, .. } => *id,
        }
    }
}

/// The worker's answer.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AppReply {
    /// Everything the screen shows.
    Snapshot {
        /// Request id.
        id: u64,
        /// Campaigns by name.
        campaigns: Vec<CampaignStatus>,
        /// Engines, newest heartbeat first.
        engines: Vec<EngineRow>,
    },
    /// The status was written (the engine acknowledges later).
    Asked {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// Status asked for.
        status: String,
    },
    /// A campaign was created (stopped) or updated.
    Applied {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// It is new.
        created: bool,
        /// What the supervisor must know of how it will be dialed.
        #[serde(default)]
        note: Option<String>,
    },
    /// Leads were imported.
    Imported {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// What was imported and skipped.
        message: String,
    },
    /// An import found bad lines; nothing was imported.
    ImportRejected {
        /// Request id.
        id: u64,
        /// Where the CSV came from.
        source: String,
        /// The bad lines, line number first, at most [`LISTED_ERRORS`].
        errors: Vec<String>,
        /// How many lines were bad in all.
        count: usize,
    },
    /// Numbers were added to the do-not-call list.
    DncAdded {
        /// Request id.
        id: u64,
        /// How many.
        count: usize,
    },
    /// A campaign's statistics, fitted from its past attempts.
    Fitted {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// Ended dials the fit read.
        dials: usize,
        /// The fit; `None` with too few dials or no call an agent took
        /// ([`crate::dialer::pacing::stats::MIN_DIALS`]).
        stats: Option<crate::dialer::pacing::Stats>,
    },
    /// The audit trail's rows, oldest first.
    Audit {
        /// Request id.
        id: u64,
        /// The rows.
        rows: Vec<crate::dialer::store::AuditRow>,
    },
    /// The request failed; the message says what to do.
    Failed {
        /// Request id.
        id: u64,
        /// What went wrong.
        message: String,
    },
}

/// The console's end of the worker.
pub struct AppLink {
    /// Requests to the worker.
    pub requests: mpsc::Sender<AppRequest>,
    /// Its replies.
    pub replies: mpsc::Receiver<AppReply>,
}

impl AppReply {
    /// The id of the request this answers.
    pub fn id(&self) -> u64 {
        match self {
            AppReply::Snapshot { id, .. }
            | AppReply::Asked { id, .. }
            | AppReply::Applied { id, .. }
            | AppReply::Imported { id, .. }
            | AppReply::ImportRejected { id, .. }
            | AppReply::DncAdded { id, .. }
            | AppReply::Fitted { id, .. }
            | AppReply::Audit { id, .. }
            | AppReply::Failed { id, .. } => *id,
        }
    }
}

/// How far back [`AppRequest::Fit`] reads a campaign's attempts, ms (30
/// days).
const FIT_WINDOW_MS: i64 = 30 * 86_400_000;

/// Most attempts [`AppRequest::Fit`] reads (the newest).
const FIT_SAMPLE: u32 = 20_000;

/// Most bad lines an [`AppReply::ImportRejected`] lists (the rest are
/// counted): a file of garbage must not make a reply of megabytes.
pub const LISTED_ERRORS: usize = 1000;

/// Who the worker acts for: the audit rows' login and the campaign right.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Written to every audit row (from the kernel when attached).
    pub login: String,
    /// May start, pause, stop, apply, import and add to the do-not-call
    /// list ([`crate::access::acl::may_control_campaigns`]).
    pub may_control: bool,
    /// Reads every user's audit rows (admins); others read their own.
    pub reads_every_audit: bool,
}

/// The app database's connection pool, opened at the first request;
/// workers given clones of one slot (the daemon's, one per attached
/// console) share one pool.
#[derive(Clone, Default)]
pub struct AppDbSlot(std::sync::Arc<tokio::sync::Mutex<Option<AppDb>>>);

impl AppDbSlot {
    /// The pool, opened from `url` when there is none yet.
    pub(crate) async fn get(&self, url: &Result<Secret, String>) -> Result<AppDb, String> {
        let mut slot = self.0.lock().await;
        if let Some(db) = slot.as_ref() {
            return Ok(db.clone());
        }
        let url = url.as_ref().map_err(Clone::clone)?;
        let db = AppDb::open(url.expose()).await.map_err(|e| e.to_string())?;
        *slot = Some(db.clone());
        Ok(db)
    }

    /// Forgets the pool (it failed): the next request opens a new one.
    pub(crate) async fn reset(&self) {
        *self.0.lock().await = None;
    }
}

/// Starts the worker for the app database at `url` (or why there is none),
/// acting as `actor`, with the pool in `slot`.
pub fn spawn(url: Result<Secret, String>, actor: Actor, slot: AppDbSlot) -> AppLink {
    let (req_tx, mut req_rx) = mpsc::channel::<AppRequest>(16);
    let (reply_tx, reply_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Some(req) = req_rx.recv().await {
            let id = req.id();
            if let Some(refusal) = refuse(&req, &actor) {
                if reply_tx.send(refusal).await.is_err() {
                    return;
                }
                continue;
            }
            // Boxed: an idle worker (one per attached console) holds no
            // room for a database query's state.
            let reply = match Box::pin(slot.get(&url)).await {
                Ok(db) => match Box::pin(serve(&db, req, &actor)).await {
                    Ok(r) => r,
                    Err(e) => {
                        // A lost database, not a refused request: reopen.
                        if matches!(
                            e,
                            crate::dialer::DialerError::Db(_)
                                | crate::dialer::DialerError::Connect { .. }
                        ) {
                            slot.reset().await;
                        }
                        AppReply::Failed {
                            id,
                            message: e.to_string(),
                        }
                    }
                },
                Err(message) => AppReply::Failed { id, message },
            };
            if reply_tx.send(reply).await.is_err() {
                return;
            }
        }
    });
    AppLink {
        requests: req_tx,
        replies: reply_rx,
    }
}

/// A change the actor may not make, answered without the database.
fn refuse(req: &AppRequest, actor: &Actor) -> Option<AppReply> {
    if let AppRequest::Audit { id, query } = req
        && !actor.reads_every_audit
        && query.login.as_ref().is_some_and(|l| *l != actor.login)
    {
        return Some(AppReply::Failed {
            id: *id,
            message: format!(
                "`{}` may read only their own audit rows; admins read everyone's",
                actor.login
            ),
        });
    }
    let reads = matches!(
        req,
        AppRequest::Refresh { .. } | AppRequest::Fit { .. } | AppRequest::Audit { .. }
    );
    if reads || actor.may_control {
        return None;
    }
    let login = &actor.login;
    Some(AppReply::Failed {
        id: req.id(),
        message: format!(
            "`{login}` may not change campaigns (start, pause, stop, pace, apply, import, do-not-call); an admin sets campaigns = true in [acl.users.{login}]"
        ),
    })
}

async fn serve(
    db: &AppDb,
    req: AppRequest,
    actor: &Actor,
) -> Result<AppReply, crate::dialer::DialerError> {
    let login = actor.login.as_str();
    Ok(match req {
        AppRequest::Audit { id, mut query } => {
            if !actor.reads_every_audit {
                query.login = Some(actor.login.clone());
            }
            AppReply::Audit {
                id,
                rows: db.audit_trail(&query).await?,
            }
        }
        AppRequest::Refresh { id } => {
            let mut campaigns = Vec::new();
            for row in db.campaigns().await? {
                let progress = db.progress(row.id).await?;
                let abandons = db.ledger(&row).await?;
                campaigns.push(CampaignStatus {
                    row,
                    progress,
                    abandons,
                });
            }
            AppReply::Snapshot {
                id,
                campaigns,
                engines: db.engines().await?,
            }
        }
        AppRequest::SetStatus { id, name, status } => {
            db.set_status(&name, &status, login).await?;
            AppReply::Asked { id, name, status }
        }
        AppRequest::Apply { id, source, text } => {
            match crate::dialer::campaign::CampaignDef::parse(&text) {
                Ok(def) => AppReply::Applied {
                    id,
                    created: db.apply(&def, login).await?,
                    note: {
                        let notes: Vec<String> = [
                            crate::dialer::engine::pace::note(&def),
                            def.hours_note(),
                            def.amd
                                .as_ref()
                                .map(|a| crate::dialer::amd::note(a, def.pacing.regime)),
                        ]
                        .into_iter()
                        .flatten()
                        .collect();
                        (!notes.is_empty()).then(|| notes.join("\n"))
                    },
                    name: def.name,
                },
                Err(e) => AppReply::Failed {
                    id,
                    message: format!("{source}: {e}"),
                },
            }
        }
        AppRequest::Import {
            id,
            name,
            source,
            csv,
        } => import(db, (id, name, source), &csv, login).await?,
        AppRequest::Pace { id, name, change } => {
            let mut def = db.campaign(&name).await?.def;
            match change.applied_to(&def.pacing) {
                Ok(pacing) => {
                    def.pacing = pacing;
                    db.apply(&def, login).await?;
                    AppReply::Applied {
                        id,
                        name,
                        created: false,
                        note: crate::dialer::engine::pace::note(&def),
                    }
                }
                Err(e) => AppReply::Failed {
                    id,
                    message: format!("campaign `{name}`: {e}"),
                },
            }
        }
        AppRequest::Fit { id, name } => {
            let row = db.campaign(&name).await?;
            let since = crate::clock::now_ms() - FIT_WINDOW_MS;
            let times = db.attempt_times(row.id, since, FIT_SAMPLE).await?;
            AppReply::Fitted {
                id,
                name,
                dials: times.iter().filter(|t| t.originated_at.is_some()).count(),
                // Talk only: the simulator's caller adds the wrap-up.
                stats: crate::dialer::pacing::stats::estimate(&times, 0.0),
            }
        }
        AppRequest::Dnc { id, numbers } => {
            let mut clean = Vec::with_capacity(numbers.len());
            for n in &numbers {
                match crate::dialer::number::normalize(n) {
                    Ok(c) => clean.push(c),
                    Err(e) => {
                        return Ok(AppReply::Failed {
                            id,
                            message: format!("number `{n}`: {e}; nothing was added"),
                        });
                    }
                }
            }
            db.add_dnc(&clean, login).await?;
            AppReply::DncAdded {
                id,
                count: clean.len(),
            }
        }
    })
}

async fn import(
    db: &AppDb,
    (id, name, source): (u64, String, String),
    csv: &[u8],
    login: &str,
) -> Result<AppReply, crate::dialer::DialerError> {
    db.campaign(&name).await?;
    Ok(match crate::dialer::import::parse(csv) {
        Ok(parsed) => {
            let r = db.import(&name, parsed, login).await?;
            AppReply::Imported {
                id,
                message: format!(
                    "imported {} leads into `{name}`; skipped {} duplicates and {} on the do-not-call list",
                    r.imported, r.duplicates, r.dnc
                ),
                name,
            }
        }
        Err(errors) => AppReply::ImportRejected {
            id,
            source,
            count: errors.len(),
            errors: errors
                .iter()
                .take(LISTED_ERRORS)
                .map(|e| e.to_string())
                .collect(),
        },
    })
}
