//! The campaigns service: an actor that reads campaigns, their progress and
//! the engines' heartbeats for the Campaigns screen, and writes what the
//! supervisor asks for (a status and an audit row). The engine acts on it;
//! the console never talks to ARI.

use crate::dialer::store::{AppDb, CampaignRow, EngineRow, Progress};
use crate::secret::Secret;
use tokio::sync::mpsc;

/// A campaign with its progress.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignStatus {
    /// As stored.
    pub row: CampaignRow,
    /// Lead counts and live calls.
    pub progress: Progress,
}

/// A request; `id` comes back in the reply.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AppRequest {
    /// Read campaigns, progress and engines.
    Refresh {
        /// Request id.
        id: u64,
    },
    /// Ask for `status` on campaign `name`.
    SetStatus {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// `running`, `paused` or `stopped`.
        status: String,
    },
    /// Import leads from a CSV file, all or nothing.
    Import {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// CSV file.
        file: String,
    },
}

impl AppRequest {
    /// The request's id, which its reply carries.
    pub fn id(&self) -> u64 {
        match self {
            AppRequest::Refresh { id }
            | AppRequest::SetStatus { id, .. }
            | AppRequest::Import { id, .. } => *id,
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
    /// Leads were imported.
    Imported {
        /// Request id.
        id: u64,
        /// Campaign.
        name: String,
        /// What was imported and skipped.
        message: String,
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

/// Starts the worker for the app database at `url` (or why there is none),
/// writing audit rows as `login`.
pub fn spawn(url: Result<Secret, String>, login: String) -> AppLink {
    let (req_tx, mut req_rx) = mpsc::channel::<AppRequest>(16);
    let (reply_tx, reply_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut db: Option<AppDb> = None;
        while let Some(req) = req_rx.recv().await {
            let id = match &req {
                AppRequest::Refresh { id }
                | AppRequest::SetStatus { id, .. }
                | AppRequest::Import { id, .. } => *id,
            };
            if db.is_none() {
                db = match &url {
                    Ok(u) => match AppDb::open(u.expose()).await {
                        Ok(d) => Some(d),
                        Err(e) => {
                            let _ = reply_tx
                                .send(AppReply::Failed {
                                    id,
                                    message: e.to_string(),
                                })
                                .await;
                            continue;
                        }
                    },
                    Err(e) => {
                        let _ = reply_tx
                            .send(AppReply::Failed {
                                id,
                                message: e.clone(),
                            })
                            .await;
                        continue;
                    }
                };
            }
            let Some(d) = db.as_ref() else { continue };
            let reply = match serve(d, req, &login).await {
                Ok(r) => r,
                Err(e) => {
                    db = None;
                    AppReply::Failed {
                        id,
                        message: e.to_string(),
                    }
                }
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

async fn serve(
    db: &AppDb,
    req: AppRequest,
    login: &str,
) -> Result<AppReply, crate::dialer::DialerError> {
    Ok(match req {
        AppRequest::Refresh { id } => {
            let mut campaigns = Vec::new();
            for row in db.campaigns().await? {
                let progress = db.progress(row.id).await?;
                campaigns.push(CampaignStatus { row, progress });
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
        AppRequest::Import { id, name, file } => import(db, id, name, &file, login).await?,
    })
}

/// Bad lines shown on the status line; the rest are counted.
const SHOWN_ERRORS: usize = 3;

async fn import(
    db: &AppDb,
    id: u64,
    name: String,
    file: &str,
    login: &str,
) -> Result<AppReply, crate::dialer::DialerError> {
    db.campaign(&name).await?;
    let text = match tokio::fs::read(file).await {
        Ok(t) => t,
        Err(e) => {
            return Ok(AppReply::Failed {
                id,
                message: format!("cannot read {file}: {e}"),
            });
        }
    };
    match crate::dialer::import::parse(text.as_slice()) {
        Ok(parsed) => {
            let r = db.import(&name, parsed, login).await?;
            Ok(AppReply::Imported {
                id,
                name,
                message: format!(
                    "imported {} leads; skipped {} duplicates and {} on the do-not-call list",
                    r.imported, r.duplicates, r.dnc
                ),
            })
        }
        Err(errors) => {
            let shown: Vec<String> = errors
                .iter()
                .take(SHOWN_ERRORS)
                .map(|e| e.to_string())
                .collect();
            let more = errors.len().saturating_sub(SHOWN_ERRORS);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            Ok(AppReply::Failed {
                id,
                message: format!(
                    "{file}: nothing imported; {}{more} (`switchboard campaign import` lists every line)",
                    shown.join("; ")
                ),
            })
        }
    }
}
