//! The CDR service: an actor that owns the CDR connection and runs the
//! History and KPI screens' queries off the UI loop (a direct console's, or
//! one per console attached to the daemon). One query runs at a
//! time; a new one, or [`DbRequest::Cancel`], drops the one running (the
//! driver closes its connection, so the server stops sending rows).
//!
//! The worker applies the user's [`Visibility`] to every query itself: the
//! ACL does not depend on what the screen asks for.

use crate::access::Visibility;
use crate::cdr::CdrError;
use crate::cdr::export::{Format, Writer};
use crate::cdr::filter::{CdrFilter, Cursor, Order};
use crate::cdr::history::legs_of;
use crate::cdr::kpi::ExtensionKpi;
use crate::cdr::kpi_cache::{KpiSources, ReadLog, extension_kpis_by_day, open_kept_days};
use crate::cdr::queue_log::{AgentKpi, QueueKpi, QueueKpiSettings, QueueLog};
use crate::cdr::record::CdrRecord;
use crate::cdr::store::CdrStore;
use crate::dialer::store::AppDb;
use crate::endpoints::ExtensionRule;
use crate::secret::Secret;
pub use crate::service::cdr_sites::Sites;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the worker needs, resolved from the config at start (by
/// [`crate::setup::Config::cdr_sites`]).
#[derive(Clone)]
pub struct DbSettings {
    /// The CDR database URL; `Err` says why there is none (shown on screen).
    pub url: Result<Secret, String>,
    /// CDR table.
    pub table: String,
    /// Column overrides (`[cdr.columns]`).
    pub columns: BTreeMap<String, String>,
    /// What the console's user may see.
    pub visibility: Visibility,
    /// What counts as an extension (`[kpi.extensions]`).
    pub extension_rule: ExtensionRule,
    /// The PBX's time zone (queue_log lines carry epoch seconds).
    pub tz: chrono_tz::Tz,
    /// queue_log file for the queue KPIs; `Err` says why there is none
    /// (a second PBX whose `cdr` table names none).
    pub queue_log: Result<PathBuf, String>,
    /// Service level, short-abandon and wrap-up settings, agents' names
    /// (`[kpi]`).
    pub queue_kpi: QueueKpiSettings,
    /// Folder export files are written to.
    pub export_dir: PathBuf,
    /// Longest wait for a query's next row (`[cdr] screen_query_timeout_s`
    /// for a console, `query_timeout_s` for a command: see
    /// [`DbSettings::for_commands`]).
    pub deadline: std::time::Duration,
    /// The app database that keeps closed days' KPIs (`Err`: none, every
    /// day is computed).
    pub kpi_days: Result<Secret, String>,
    /// The connections, opened at the first request; services given the
    /// same (the daemon's, one per attached console) share one pool.
    pub connections: Connections,
}

/// A CDR store and a kept-days database, opened once and shared by every
/// service holding a clone (one pool for all the daemon's consoles, not one
/// per console).
#[derive(Clone, Default)]
pub struct Connections {
    store: Arc<tokio::sync::Mutex<Option<Arc<CdrStore>>>>,
    kept: Arc<KeptDays>,
}

impl DbSettings {
    /// The settings for a command (`cdr export`, `kpi`): queries may wait
    /// `deadline` per row (`[cdr] query_timeout_s`) instead of a screen's
    /// shorter wait.
    pub fn for_commands(self, deadline: std::time::Duration) -> Self {
        DbSettings { deadline, ..self }
    }
}

/// The app database keeping KPI days, opened at the first KPI request.
type KeptDays = tokio::sync::OnceCell<Option<AppDb>>;

/// A query for the worker; `id` comes back in the reply.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DbRequest {
    /// A history page.
    Page {
        /// Request id.
        id: u64,
        /// What to select (its visibility is replaced by the worker's).
        filter: CdrFilter,
        /// Order.
        order: Order,
        /// After this cursor (`None`: first page).
        cursor: Option<Cursor>,
        /// Legs per page.
        rows: u32,
    },
    /// Every leg of one call.
    Legs {
        /// Request id.
        id: u64,
        /// Whose CDRs (`None`: the first PBX the user sees).
        #[serde(default)]
        pbx: Option<String>,
        /// The call (linkedid).
        call: String,
        /// Its first known leg's start, PBX local time.
        around: NaiveDateTime,
    },
    /// Extension and queue KPIs over `[from, to)`, PBX local time.
    Kpi {
        /// Request id.
        id: u64,
        /// First instant included.
        from: NaiveDateTime,
        /// First instant excluded.
        to: NaiveDateTime,
        /// The `kpi` command's choices; the console sends the default.
        #[serde(default)]
        options: KpiOptions,
    },
    /// Every row of `filter`, formatted, to the requester as
    /// [`DbReply::Chunk`]s then [`DbReply::Streamed`] (`cdr export`). The
    /// query reads a row only when the requester has taken the chunk
    /// before the last: constant memory however slow the reader.
    Stream {
        /// Request id.
        id: u64,
        /// What to export (its visibility is replaced by the worker's).
        filter: CdrFilter,
        /// CSV or JSON lines.
        format: Format,
    },
    /// Every row of `filter` to a new CSV file.
    Export {
        /// Request id.
        id: u64,
        /// What to export.
        filter: CdrFilter,
    },
    /// The KPI figures shown to two new CSV files (extensions, queues).
    ExportKpi {
        /// Request id.
        id: u64,
        /// First day of the figures, for the file names.
        day: chrono::NaiveDate,
        /// Per extension.
        extensions: Vec<ExtensionKpi>,
        /// Per queue.
        queues: Vec<QueueKpi>,
        /// Per agent.
        agents: Vec<AgentKpi>,
    },
    /// Stop the running query.
    Cancel,
}

/// The `kpi` command's choices over the site's `[kpi]` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KpiOptions {
    /// Only the queue_log's tables (per queue and per agent): no CDR query,
    /// so no CDR database is needed.
    pub queue_log_only: bool,
    /// Thresholds instead of the site's defaults.
    pub tuning: Option<KpiTuning>,
    /// Compute every day of the range again and keep the new figures
    /// (they are everyone's: only a user who sees every call may).
    pub recompute: bool,
    /// Whose CDRs and queue_log (`None`: the first PBX the user sees).
    #[serde(default)]
    pub pbx: Option<String>,
}

/// The `kpi` command's thresholds (`--sl-seconds` and the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KpiTuning {
    /// Service-level threshold T for queues without their own, seconds.
    pub service_level_s: u32,
    /// Abandons shorter than this are short, seconds.
    pub short_abandon_s: u32,
    /// Staffing advice from this many seconds before the range's end.
    pub staffing_window_s: u32,
    /// Staffing goal: percent of calls answered within T.
    pub sl_goal_percent: u8,
}

/// A worker's answer.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum DbReply {
    /// A history page: the legs, and how many were asked for.
    Page {
        /// Request id.
        id: u64,
        /// Legs, in the page's order.
        legs: Vec<CdrRecord>,
        /// Rows asked for (fewer means the last page).
        rows: u32,
        /// The order asked for.
        order: Order,
    },
    /// Every leg of a call.
    Legs {
        /// Request id.
        id: u64,
        /// The call.
        call: String,
        /// Its legs.
        legs: Vec<CdrRecord>,
    },
    /// KPI figures.
    Kpi {
        /// Request id.
        id: u64,
        /// Per extension, from CDRs.
        extensions: Vec<ExtensionKpi>,
        /// Per queue, from queue_log; `Err` says why there are none.
        queues: Result<Vec<QueueKpi>, String>,
        /// Per agent, from the same queue_log.
        agents: Vec<AgentKpi>,
        /// queue_log lines that were not queue_log lines, skipped.
        #[serde(default)]
        skipped_lines: u64,
    },
    /// Rows written so far by an export.
    Progress {
        /// Request id.
        id: u64,
        /// Rows so far.
        rows: u64,
    },
    /// An export finished.
    Exported {
        /// Request id.
        id: u64,
        /// Rows written.
        rows: u64,
        /// The file.
        path: PathBuf,
    },
    /// The next bytes of a [`DbRequest::Stream`], in order.
    Chunk {
        /// Request id.
        id: u64,
        /// Formatted rows (whole rows; the first chunk starts with the
        /// header).
        bytes: bytes::Bytes,
    },
    /// A stream ended: every chunk was sent.
    Streamed {
        /// Request id.
        id: u64,
        /// Rows sent.
        rows: u64,
    },
    /// The request failed; the message says what to do.
    Failed {
        /// Request id.
        id: u64,
        /// What went wrong.
        message: String,
    },
}

/// The console's end of the worker: requests out, replies in.
pub struct DbLink {
    /// Requests to the worker.
    pub requests: mpsc::Sender<DbRequest>,
    /// Its replies.
    pub replies: mpsc::Receiver<DbReply>,
}

/// Starts the worker; it ends when the request sender is dropped.
pub fn spawn(settings: DbSettings) -> DbLink {
    spawn_sites(Sites::one(settings))
}

/// A worker over several PBXs' CDR sources: each request runs on the
/// source its `pbx` names (the first the user sees by default); a PBX
/// outside the user's scope, or unknown, is refused with its reason.
pub fn spawn_sites(sites: Sites) -> DbLink {
    let (req_tx, req_rx) = mpsc::channel(16);
    let (reply_tx, reply_rx) = mpsc::channel(64);
    tokio::spawn(run(sites, req_rx, reply_tx));
    DbLink {
        requests: req_tx,
        replies: reply_rx,
    }
}

async fn run(
    sites: Sites,
    mut requests: mpsc::Receiver<DbRequest>,
    replies: mpsc::Sender<DbReply>,
) {
    let mut running: Option<JoinHandle<()>> = None;
    while let Some(req) = requests.recv().await {
        if let Some(task) = running.take() {
            task.abort();
        }
        if matches!(req, DbRequest::Cancel) {
            continue;
        }
        let settings = match sites.pick(req.pbx()) {
            Ok(s) => s.clone(),
            Err(message) => {
                let id = req.id();
                let _ = replies.send(DbReply::Failed { id, message }).await;
                continue;
            }
        };
        let store = settings.connections.store.clone();
        let kept = settings.connections.kept.clone();
        if let DbRequest::ExportKpi {
            id,
            day,
            extensions,
            queues,
            agents,
        } = req
        {
            let tables = (&extensions[..], &queues[..], &agents[..]);
            let reply = export_kpi(&settings.export_dir, id, day, tables);
            let _ = replies.send(reply).await;
            continue;
        }
        let (settings, store, replies) = (settings.clone(), store.clone(), replies.clone());
        let kept = kept.clone();
        running = Some(tokio::spawn(async move {
            let id = req.id();
            let reply = serve(&settings, &store, &kept, req, &replies).await;
            let reply = reply.unwrap_or_else(|e| {
                if matches!(
                    e,
                    CdrError::Query(_) | CdrError::Connect { .. } | CdrError::Timeout { .. }
                ) {
                    // Reconnect on the next request.
                    if let Ok(mut s) = store.try_lock() {
                        *s = None;
                    }
                }
                DbReply::Failed {
                    id,
                    message: e.to_string(),
                }
            });
            let _ = replies.send(reply).await;
        }));
    }
    if let Some(task) = running {
        task.abort();
    }
}

impl DbRequest {
    /// The PBX whose CDRs the request reads (`None`: the first the user
    /// sees).
    pub fn pbx(&self) -> Option<&str> {
        match self {
            DbRequest::Page { filter, .. }
            | DbRequest::Stream { filter, .. }
            | DbRequest::Export { filter, .. } => filter.pbx.as_deref(),
            DbRequest::Legs { pbx, .. } => pbx.as_deref(),
            DbRequest::Kpi { options, .. } => options.pbx.as_deref(),
            DbRequest::ExportKpi { .. } | DbRequest::Cancel => None,
        }
    }

    /// The request's id (0 for `Cancel`), which its reply carries.
    pub fn id(&self) -> u64 {
        match self {
            DbRequest::Page { id, .. }
            | DbRequest::Legs { id, .. }
            | DbRequest::Kpi { id, .. }
            | DbRequest::Stream { id, .. }
            | DbRequest::Export { id, .. }
            | DbRequest::ExportKpi { id, .. } => *id,
            DbRequest::Cancel => 0,
        }
    }
}

impl DbReply {
    /// The id of the request this answers.
    pub fn id(&self) -> u64 {
        match self {
            DbReply::Page { id, .. }
            | DbReply::Legs { id, .. }
            | DbReply::Kpi { id, .. }
            | DbReply::Progress { id, .. }
            | DbReply::Exported { id, .. }
            | DbReply::Chunk { id, .. }
            | DbReply::Streamed { id, .. }
            | DbReply::Failed { id, .. } => *id,
        }
    }
}

async fn connected(settings: &DbSettings, store: &StoreSlot) -> Result<Arc<CdrStore>, CdrError> {
    let mut slot = store.lock().await;
    if let Some(db) = slot.as_ref() {
        // The pool is shared; the deadline is this service's (a screen's
        // is short, a command's export long).
        return Ok(if db.deadline() == settings.deadline {
            db.clone()
        } else {
            Arc::new(CdrStore::clone(db).with_deadline(settings.deadline))
        });
    }
    let url = settings
        .url
        .as_ref()
        .map_err(|e| CdrError::Config(e.clone()))?;
    let db = Arc::new(
        CdrStore::connect(url.expose(), &settings.table, &settings.columns)
            .await?
            .with_deadline(settings.deadline),
    );
    *slot = Some(db.clone());
    Ok(db)
}

/// The CDR store's slot, shared by the services of one pool.
type StoreSlot = tokio::sync::Mutex<Option<Arc<CdrStore>>>;

async fn serve(
    settings: &DbSettings,
    store: &StoreSlot,
    kept: &KeptDays,
    req: DbRequest,
    replies: &mpsc::Sender<DbReply>,
) -> Result<DbReply, CdrError> {
    let visible = || settings.visibility.clone();
    // A request's filter runs with this user's rights and this site's rule.
    let scoped = |mut f: CdrFilter| {
        f.visibility = visible();
        f.extension_rule = settings.extension_rule.clone();
        f
    };
    Ok(match req {
        DbRequest::Page {
            id,
            filter,
            order,
            cursor,
            rows,
        } => {
            let filter = scoped(filter);
            let db = connected(settings, store).await?;
            let legs = db.page(&filter, order, cursor.as_ref(), rows).await?;
            DbReply::Page {
                id,
                legs,
                rows,
                order,
            }
        }
        DbRequest::Legs {
            id, call, around, ..
        } => {
            let scope = scoped(CdrFilter::window(around, around, Visibility::All));
            let legs = legs_of(&*connected(settings, store).await?, &call, around, &scope).await?;
            DbReply::Legs { id, call, legs }
        }
        DbRequest::Kpi {
            id,
            from,
            to,
            options,
        } => {
            if options.recompute && settings.visibility != Visibility::All {
                return Err(CdrError::Config(
                    "recomputing rewrites the kept figures everyone reads; only a user who sees every call (an admin) may".into(),
                ));
            }
            let queue_kpi = tuned(&settings.queue_kpi, options.tuning);
            let log = queue_log(settings, &queue_kpi, from, to).await;
            if options.queue_log_only {
                return Ok(kpi_reply(id, Vec::new(), log));
            }
            let filter = scoped(CdrFilter::window(from, to, Visibility::All));
            let db = connected(settings, store).await?;
            let sources = KpiSources {
                store: &db,
                queue_log: log
                    .is_ok()
                    .then_some(settings.queue_log.as_ref().ok())
                    .flatten()
                    .map(PathBuf::as_path),
                read: log.as_ref().ok().map(|log| ReadLog {
                    log,
                    from,
                    to,
                    visibility: &settings.visibility,
                }),
                settings: &queue_kpi,
                tz: settings.tz,
                cache: kept
                    .get_or_init(|| {
                        open_kept_days(settings.kpi_days.as_ref().map_err(Clone::clone))
                    })
                    .await
                    .as_ref(),
                recompute: options.recompute,
            };
            let today = chrono::Utc::now().with_timezone(&settings.tz).date_naive();
            let extensions = extension_kpis_by_day(&sources, &filter, today).await?;
            kpi_reply(id, extensions, log)
        }
        DbRequest::Export { id, filter } => {
            let filter = scoped(filter);
            export(
                settings,
                &*connected(settings, store).await?,
                id,
                &filter,
                replies,
            )
            .await?
        }
        DbRequest::Stream { id, filter, format } => {
            let filter = scoped(filter);
            let db = connected(settings, store).await?;
            stream(settings, &db, (id, format), &filter, replies).await?
        }
        DbRequest::Cancel | DbRequest::ExportKpi { .. } => DbReply::Failed {
            id: 0,
            message: "not a query".into(),
        },
    })
}

fn epoch(tz: chrono_tz::Tz, t: NaiveDateTime) -> i64 {
    crate::clock::local_to_utc(tz, t).timestamp()
}

fn kpi_reply(id: u64, extensions: Vec<ExtensionKpi>, log: Result<QueueLog, String>) -> DbReply {
    let (queues, agents, skipped_lines) = match log {
        Ok(l) => (Ok(l.queues), l.agents, l.skipped),
        Err(e) => (Err(e), Vec::new(), 0),
    };
    DbReply::Kpi {
        id,
        extensions,
        queues,
        agents,
        skipped_lines,
    }
}

/// The site's KPI settings with a request's thresholds.
fn tuned(site: &QueueKpiSettings, tuning: Option<KpiTuning>) -> QueueKpiSettings {
    let mut s = site.clone();
    if let Some(t) = tuning {
        s.service_level_s = t.service_level_s;
        s.short_abandon_s = t.short_abandon_s;
        s.staffing_window_s = t.staffing_window_s;
        s.sl_goal_percent = t.sl_goal_percent;
    }
    s
}

async fn queue_log(
    settings: &DbSettings,
    queue_kpi: &QueueKpiSettings,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<QueueLog, String> {
    let path = settings.queue_log.clone()?;
    let (from, to) = (epoch(settings.tz, from), epoch(settings.tz, to));
    let visibility = settings.visibility.clone();
    // Staffing advice from the window before now (or the range's end).
    let kpi = QueueKpiSettings {
        now: Some(chrono::Utc::now().timestamp()),
        ..queue_kpi.clone()
    };
    let result = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| {
            format!(
                "queue_log {}: {e}; set [cdr] queue_log for queue KPIs",
                path.display()
            )
        })?;
        crate::cdr::queue_log::read(std::io::BufReader::new(file), from, to, &visibility, &kpi)
            .map_err(|e| format!("queue_log {}: {e}", path.display()))
    })
    .await;
    result.unwrap_or_else(|e| Err(format!("queue_log reader stopped: {e}")))
}

/// How often an export reports progress, rows.
const PROGRESS_EVERY: u64 = 10_000;

async fn export(
    settings: &DbSettings,
    db: &CdrStore,
    id: u64,
    filter: &CdrFilter,
    replies: &mpsc::Sender<DbReply>,
) -> Result<DbReply, CdrError> {
    let (path, file) = export_file(&settings.export_dir, filter.from)?;
    let out = std::io::BufWriter::new(file);
    let mut writer = Writer::new(out, Format::Csv { bom: false }, db.columns(), settings.tz)?;
    let fields: Vec<_> = db.columns().fields().collect();
    let mut n = 0u64;
    let rows = db
        .for_each(filter, &fields, |rec| {
            writer.write(rec)?;
            n += 1;
            if n.is_multiple_of(PROGRESS_EVERY) {
                let _ = replies.try_send(DbReply::Progress { id, rows: n });
            }
            Ok(())
        })
        .await?;
    writer.finish()?;
    Ok(DbReply::Exported { id, rows, path })
}

/// Bytes a stream's chunk holds before it is handed on.
const CHUNK: usize = 64 * 1024;

/// A stream's formatted bytes, shared by the writer that fills it and the
/// sink that hands it on in chunks.
#[derive(Clone, Default)]
struct Pending(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Pending {
    /// What was written, when it holds more than `at_least` bytes.
    fn take(&self, at_least: usize) -> Option<bytes::Bytes> {
        let mut buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (buf.len() > at_least).then(|| std::mem::take(&mut *buf).into())
    }
}

/// Sends `bytes` as the next chunk of stream `id`; the query waits for it.
fn chunk(replies: &mpsc::Sender<DbReply>, id: u64, bytes: bytes::Bytes) -> crate::cdr::store::Wait {
    let replies = replies.clone();
    Box::pin(async move {
        let _ = replies.send(DbReply::Chunk { id, bytes }).await;
    })
}

async fn stream(
    settings: &DbSettings,
    db: &CdrStore,
    (id, format): (u64, Format),
    filter: &CdrFilter,
    replies: &mpsc::Sender<DbReply>,
) -> Result<DbReply, CdrError> {
    let pending = Pending::default();
    let mut writer = Writer::new(pending.clone(), format, db.columns(), settings.tz)?;
    let fields: Vec<_> = db.columns().fields().collect();
    let rows = db
        .for_each_paced(filter, &fields, |rec| {
            writer.write(rec)?;
            Ok(pending.take(CHUNK).map(|b| chunk(replies, id, b)))
        })
        .await?;
    writer.finish()?;
    if let Some(rest) = pending.take(0) {
        chunk(replies, id, rest).await;
    }
    Ok(DbReply::Streamed { id, rows })
}

/// A new export file in `dir` for rows from `from` on:
/// `cdr-DAY-STAMP.csv`, STAMP the UTC time now (never overwriting one).
///
/// Errors: the file cannot be created (the message names it).
pub fn export_file(
    dir: &std::path::Path,
    from: NaiveDateTime,
) -> Result<(PathBuf, std::fs::File), CdrError> {
    let name = format!(
        "cdr-{}-{}.csv",
        from.format("%Y%m%d"),
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    new_file(dir, name)
}

/// A new file `name` in `dir` (never overwriting one).
fn new_file(dir: &std::path::Path, name: String) -> Result<(PathBuf, std::fs::File), CdrError> {
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| CdrError::Output(format!("{}: {e}", path.display())))?;
    Ok((path, file))
}

fn write_csv<T: serde::Serialize>(
    dir: &std::path::Path,
    name: String,
    rows: &[T],
) -> Result<PathBuf, CdrError> {
    let (path, file) = new_file(dir, name)?;
    crate::cdr::export::kpi_csv(file, rows)
        .map_err(|e| CdrError::Output(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// Writes the KPI tables shown to three new CSV files in `dir`
/// (`kpi-{extensions,queues,agents}-DAY-STAMP.csv`); the reply names them.
pub fn export_kpi(
    dir: &std::path::Path,
    id: u64,
    day: chrono::NaiveDate,
    (extensions, queues, agents): (&[ExtensionKpi], &[QueueKpi], &[AgentKpi]),
) -> DbReply {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let day = day.format("%Y%m%d");
    let written = write_csv(dir, format!("kpi-extensions-{day}-{stamp}.csv"), extensions)
        .and_then(|_| write_csv(dir, format!("kpi-queues-{day}-{stamp}.csv"), queues))
        .and_then(|_| write_csv(dir, format!("kpi-agents-{day}-{stamp}.csv"), agents));
    match written {
        Ok(path) => DbReply::Exported {
            id,
            rows: (extensions.len() + queues.len() + agents.len()) as u64,
            path: path.with_file_name(format!("kpi-*-{day}-{stamp}.csv")),
        },
        Err(e) => DbReply::Failed {
            id,
            message: e.to_string(),
        },
    }
}
