//! The dialer's app database: campaigns (definition, the status the console
//! asks for and the status the engine acknowledged), leads, one attempt row
//! per originate, the do-not-call list, an audit log and engine heartbeats.
//! SQLite (the embedded default), MariaDB/MySQL or PostgreSQL, with sqlx
//! migrations per backend (`migrations/`). Times are milliseconds since the
//! Unix epoch, UTC.
//!
//! Lead states: `pending` (due at `next_attempt_at`), `dialing` (an attempt
//! in flight), `answered`, `failed` (a final outcome without a retry rule),
//! `exhausted` (its retry rule's attempts used), `dnc` (the number joined the
//! do-not-call list), `unknown` (an attempt's fate could not be known; never
//! redialed blindly).

use super::DialerError;
use super::campaign::CampaignDef;
use super::import::Parsed;
use super::outcome::Outcome;
use super::verdict;
use crate::sqlpool::{self, Backend};
use serde::Serialize;
use sqlx::sqlite::SqliteJournalMode;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

#[derive(Clone)]
enum Pool {
    MySql(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$p` bound to the pool, whatever the backend: one
/// body, compiled once per backend.
macro_rules! on {
    ($db:expr, $p:ident => $body:expr) => {
        match &$db.pool {
            Pool::MySql($p) => $body,
            Pool::Postgres($p) => $body,
            Pool::Sqlite($p) => $body,
        }
    };
}

mod audit;
mod kpi_days;
pub use audit::{ActEntry, AuditQuery, AuditRow};
pub use kpi_days::KpiDay;

/// The app database. Cloning shares the pool (the engine's jobs and its
/// writer each hold one).
#[derive(Clone)]
pub struct AppDb {
    pool: Pool,
    url: String,
}

/// A campaign as stored.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CampaignRow {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Definition.
    pub def: CampaignDef,
    /// What the console asked for: `stopped`, `running`, `paused`.
    pub status: String,
    /// What an engine applied last.
    pub acked_status: String,
    /// Which engine acknowledged.
    pub acked_by: Option<String>,
    /// When, ms since epoch (UTC).
    pub acked_at: Option<i64>,
    /// When `status` last changed, ms since epoch (UTC).
    pub updated_at: i64,
}

/// Lead counts of a campaign, by state, and its attempts in flight.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Progress {
    /// Leads in all.
    pub total: i64,
    /// Waiting for a (next) attempt.
    pub pending: i64,
    /// With an attempt in flight.
    pub dialing: i64,
    /// Answered.
    pub answered: i64,
    /// Final failure without retry.
    pub failed: i64,
    /// On the do-not-call list.
    pub dnc: i64,
    /// Retries used up.
    pub exhausted: i64,
    /// Fate unknown after an engine stop.
    pub unknown: i64,
    /// Attempts in flight (channels), all engines.
    pub live: i64,
    /// Attempts made.
    pub attempts: i64,
}

/// A campaign's abandon ledger over the regulator's window
/// ([`AppDb::abandons`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Abandons {
    /// The window's start, ms since the epoch (UTC).
    pub since: i64,
    /// Live answers in it.
    pub answers: i64,
    /// Of those, drops (no agent within `drop_s`).
    pub drops: i64,
    /// Answers AMD took for a machine, left out of the two above.
    #[serde(default)]
    pub machines: i64,
    /// The campaign's estimate of machines that were people
    /// (`amd.false_positive_percent`), counted as drops.
    #[serde(default)]
    pub false_positive_percent: f64,
}

impl Abandons {
    /// The regulator's abandon rate, %: drops over live answers, with the
    /// estimated false-positive machines added to both (a person AMD hung
    /// up on is an abandoned call); `None` without answers.
    pub fn percent(&self) -> Option<f64> {
        let missed = self.machines as f64 * self.false_positive_percent / 100.0;
        let live = self.answers as f64 + missed;
        (live > 0.0).then(|| (self.drops as f64 + missed) * 100.0 / live)
    }

    /// Machines over all answers, %; `None` without answers.
    pub fn machine_percent(&self) -> Option<f64> {
        let all = self.answers + self.machines;
        (all > 0).then(|| self.machines as f64 * 100.0 / all as f64)
    }
}

impl Progress {
    /// Answered / attempts ended, %.
    pub fn answer_rate(&self) -> Option<f64> {
        let ended = self.attempts - self.live;
        (ended > 0).then(|| self.answered as f64 * 100.0 / ended as f64)
    }
}

/// A lead claimed for one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    /// The attempt id, also the ARI channel id (see [`attempt_id`]).
    pub attempt_id: String,
    /// The lead.
    pub lead_id: i64,
    /// Normalised number.
    pub number: String,
    /// Lead data (CSV columns).
    pub data: BTreeMap<String, String>,
}

/// What [`AppDb::claim_within`] claims.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    /// The campaign's row id.
    pub campaign: i64,
    /// The claiming engine's id (in the attempt rows).
    pub engine: &'a str,
    /// Leads to claim at most.
    pub n: u32,
    /// Now, ms since epoch (UTC): leads due by then.
    pub now: i64,
    /// The campaign's cap on attempts in flight, over every engine.
    pub max_concurrent: Option<u32>,
    /// The engine's lease, when claims must be fenced by it.
    pub lease: Option<&'a Lease>,
}

/// An attempt not ended yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// Attempt id (= channel id).
    pub attempt_id: String,
    /// Campaign.
    pub campaign_id: i64,
    /// Engine that made it.
    pub engine_id: String,
    /// Answered already.
    pub answered: bool,
    /// Its originate may have left (`sending_at` or `originated_at` set):
    /// without either, nothing was ever dialed under its id.
    pub maybe_sent: bool,
}

/// An engine id's lease: whoever holds `token` is the one engine with id
/// `engine` allowed to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Engine id.
    pub engine: String,
    /// This process's token (random).
    pub token: String,
}

impl Lease {
    /// A fresh token for `engine`.
    pub fn new(engine: &str) -> Self {
        Lease {
            engine: engine.to_string(),
            token: format!(
                "{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
        }
    }
}

/// One attempt, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttemptRow {
    /// Attempt id (= channel id).
    pub id: String,
    /// Lead.
    pub lead_id: i64,
    /// Number dialed.
    pub number: String,
    /// Engine that made it.
    pub engine_id: String,
    /// Claimed, ms since epoch (UTC).
    pub created_at: i64,
    /// Accepted by Asterisk.
    pub originated_at: Option<i64>,
    /// Answered.
    pub answered_at: Option<i64>,
    /// Ended.
    pub ended_at: Option<i64>,
    /// Outcome (see [`Outcome::as_str`]).
    pub outcome: Option<String>,
    /// Hangup cause.
    pub hangup_cause: Option<i64>,
    /// Who took the call: a queue member's interface, or the extension.
    pub agent: Option<String>,
    /// AMD's verdict (`HUMAN`, `MACHINE`, `NOTSURE`, `HANGUP`), for a
    /// campaign with `[amd]`.
    pub amd_status: Option<String>,
    /// When AMD's verdict came (the end of the greeting).
    pub greeted_at: Option<i64>,
    /// When the agent took the call (its first `MEMBERINTERFACE` or
    /// `BRIDGEPEER`).
    pub agent_at: Option<i64>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Leads added.
    pub imported: u64,
    /// Rows skipped: the number came earlier in the file or is already a
    /// lead of the campaign.
    pub duplicates: u64,
    /// Rows skipped: the number is on the do-not-call list.
    pub dnc: u64,
}

/// An engine's last heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EngineRow {
    /// Engine id.
    pub id: String,
    /// Started, ms since epoch (UTC).
    pub started_at: i64,
    /// Last heartbeat, ms since epoch (UTC).
    pub heartbeat_at: i64,
    /// What it said it was doing.
    pub state: String,
}

/// Campaign statuses.
pub const STATUSES: [&str; 3] = ["stopped", "running", "paused"];

/// The default app database: `switchboard.db` in the platform data folder.
pub fn default_url() -> Result<String, DialerError> {
    let dirs = directories::ProjectDirs::from("", "", "switchboard").ok_or_else(|| {
        DialerError::Config("no home folder for the app database; pass --db-url".into())
    })?;
    let dir = dirs.data_dir();
    std::fs::create_dir_all(dir)
        .map_err(|e| DialerError::Config(format!("cannot create {}: {e}", dir.display())))?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        dir.join("switchboard.db").display()
    ))
}

use crate::clock::now_ms;

impl AppDb {
    /// Opens the app database at `url` (`sqlite://PATH?mode=rwc`,
    /// `mysql://`/`mariadb://`, `postgres://`) and brings its schema up to
    /// date.
    ///
    /// Errors: an unknown scheme, a refused connection (password hidden),
    /// a failed migration.
    pub async fn open(url: &str) -> Result<Self, DialerError> {
        let shown = crate::cdr::store::redact(url);
        let db = |e: sqlx::Error| DialerError::Connect {
            url: shown.clone(),
            reason: e.to_string().replace(url, &shown),
        };
        let pool = match sqlpool::backend(url).map_err(db)? {
            Some(Backend::MySql(o)) => Pool::MySql(sqlpool::open(o, 8).await.map_err(db)?),
            Some(Backend::Postgres(o)) => Pool::Postgres(sqlpool::open(o, 8).await.map_err(db)?),
            // One writer: WAL lets consoles read while the engine writes,
            // and a busy timeout makes a second writer wait, not fail.
            Some(Backend::Sqlite(o)) => Pool::Sqlite(
                sqlpool::open(
                    o.journal_mode(SqliteJournalMode::Wal)
                        .busy_timeout(std::time::Duration::from_secs(5)),
                    1,
                )
                .await
                .map_err(db)?,
            ),
            None => {
                return Err(DialerError::Config(format!(
                    "app database URL `{shown}`: use sqlite://, mysql://, mariadb:// or postgres://"
                )));
            }
        };
        let this = AppDb { pool, url: shown };
        this.migrate().await?;
        Ok(this)
    }

    /// Brings the schema up to this build's. A database a newer build
    /// already migrated further is accepted: every migration only adds
    /// (columns, indexes, tables), so during an upgrade an older console or
    /// engine keeps working beside a newer one.
    async fn migrate(&self) -> Result<(), DialerError> {
        let tolerant = |mut m: sqlx::migrate::Migrator| {
            m.set_ignore_missing(true);
            m
        };
        let result = match &self.pool {
            Pool::MySql(p) => tolerant(sqlx::migrate!("migrations/mysql")).run(p).await,
            Pool::Postgres(p) => tolerant(sqlx::migrate!("migrations/postgres")).run(p).await,
            Pool::Sqlite(p) => tolerant(sqlx::migrate!("migrations/sqlite")).run(p).await,
        };
        result.map_err(|e| DialerError::Db(format!("migrating {}: {e}", self.url)))
    }

    /// The URL, password hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `sql` with `?` placeholders numbered `$1…` for PostgreSQL.
    fn sql(&self, sql: &str) -> String {
        if !matches!(self.pool, Pool::Postgres(_)) {
            return sql.to_string();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Whether this backend locks rows with `FOR UPDATE SKIP LOCKED`.
    /// Row lock for a read in a transaction (SQLite has one writer).
    fn for_update(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "",
            _ => " FOR UPDATE",
        }
    }

    fn skip_locked(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "",
            _ => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Creates or updates a campaign from its definition (its status is
    /// kept); returns whether it was created.
    ///
    /// Errors: the database fails.
    pub async fn apply(&self, def: &CampaignDef, login: &str) -> Result<bool, DialerError> {
        let json = serde_json::to_string(def).map_err(|e| DialerError::Db(e.to_string()))?;
        let now = now_ms();
        let update = self.sql("UPDATE campaigns SET definition = ?, updated_at = ? WHERE name = ?");
        let updated = on!(self, p => sqlx::query(AssertSqlSafe(update.as_str()))
            .bind(&json)
            .bind(now)
            .bind(&def.name)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        let created = updated == 0;
        if created {
            let insert = self.sql(
                "INSERT INTO campaigns (name, definition, status, acked_status, updated_at) VALUES (?, ?, 'stopped', 'stopped', ?)",
            );
            on!(self, p => sqlx::query(AssertSqlSafe(insert.as_str()))
                .bind(&def.name)
                .bind(&json)
                .bind(now)
                .execute(p)
                .await
                .map(|_| ()))?;
        }
        self.audit(
            login,
            if created { "create" } else { "update" },
            &def.name,
            &json,
        )
        .await?;
        Ok(created)
    }

    /// Every campaign, by name.
    ///
    /// Errors: the database fails, or a stored definition no longer parses.
    pub async fn campaigns(&self) -> Result<Vec<CampaignRow>, DialerError> {
        let sql = "SELECT id, name, definition, status, acked_status, acked_by, acked_at, updated_at FROM campaigns ORDER BY name";
        let rows = on!(self, p => {
            let rows = sqlx::query(sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok::<_, sqlx::Error>((
                        r.try_get::<i64, _>(0)?,
                        r.try_get::<String, _>(1)?,
                        r.try_get::<String, _>(2)?,
                        r.try_get::<String, _>(3)?,
                        r.try_get::<String, _>(4)?,
                        r.try_get::<Option<String>, _>(5)?,
                        r.try_get::<Option<i64>, _>(6)?,
                        r.try_get::<i64, _>(7)?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        rows.into_iter()
            .map(
                |(id, name, def, status, acked_status, acked_by, acked_at, updated_at)| {
                    let def: CampaignDef = serde_json::from_str(&def)
                        .map_err(|e| DialerError::Db(format!("campaign `{name}`: {e}")))?;
                    Ok(CampaignRow {
                        id,
                        name,
                        def,
                        status,
                        acked_status,
                        acked_by,
                        acked_at,
                        updated_at,
                    })
                },
            )
            .collect()
    }

    /// The campaign called `name`.
    ///
    /// Errors: no such campaign (the message lists `campaign list`).
    pub async fn campaign(&self, name: &str) -> Result<CampaignRow, DialerError> {
        self.campaigns()
            .await?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                DialerError::Config(format!(
                    "no campaign `{name}`; `switchboard campaign list` shows them, `campaign apply FILE.toml` creates one"
                ))
            })
    }

    /// Asks for `status` (`running`, `paused`, `stopped`): the engine acts
    /// on it within a second and acknowledges. An audit row names `login`.
    ///
    /// Errors: an unknown status or campaign.
    pub async fn set_status(
        &self,
        name: &str,
        status: &str,
        login: &str,
    ) -> Result<(), DialerError> {
        if !STATUSES.contains(&status) {
            return Err(DialerError::Config(format!(
                "status `{status}`: use running, paused or stopped"
            )));
        }
        let c = self.campaign(name).await?;
        let sql = self.sql("UPDATE campaigns SET status = ?, updated_at = ? WHERE id = ?");
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(status)
            .bind(now_ms())
            .bind(c.id)
            .execute(p)
            .await
            .map(|_| ()))?;
        self.audit(login, status, name, &format!("from {}", c.status))
            .await
    }

    /// Records that `engine` applied `status` to campaign `id`.
    ///
    /// Errors: the database fails.
    pub async fn ack(&self, id: i64, status: &str, engine: &str) -> Result<(), DialerError> {
        let sql = self
            .sql("UPDATE campaigns SET acked_status = ?, acked_by = ?, acked_at = ? WHERE id = ?");
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(status)
            .bind(engine)
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Imports `parsed` into campaign `name` in one transaction: numbers on
    /// the do-not-call list or already leads of the campaign are skipped
    /// and counted.
    ///
    /// Errors: no such campaign, or the database fails (nothing imported).
    pub async fn import(
        &self,
        name: &str,
        parsed: Parsed,
        login: &str,
    ) -> Result<ImportReport, DialerError> {
        let c = self.campaign(name).await?;
        let mut report = ImportReport {
            duplicates: parsed.duplicates,
            ..ImportReport::default()
        };
        let in_dnc = self.sql("SELECT COUNT(*) FROM dnc WHERE number = ?");
        let exists = self.sql("SELECT COUNT(*) FROM leads WHERE campaign_id = ? AND number = ?");
        let insert = self.sql(
            "INSERT INTO leads (campaign_id, number, data, state, attempts, next_attempt_at, updated_at) VALUES (?, ?, ?, 'pending', 0, 0, ?)",
        );
        let now = now_ms();
        on!(self, p => {
            let mut tx = p.begin().await?;
            for lead in &parsed.leads {
                let dnc: i64 = sqlx::query(AssertSqlSafe(in_dnc.as_str()))
                    .bind(&lead.number)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if dnc > 0 {
                    report.dnc += 1;
                    continue;
                }
                let dup: i64 = sqlx::query(AssertSqlSafe(exists.as_str()))
                    .bind(c.id)
                    .bind(&lead.number)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if dup > 0 {
                    report.duplicates += 1;
                    continue;
                }
                let data = serde_json::to_string(&lead.data).unwrap_or_else(|_| "{}".into());
                sqlx::query(AssertSqlSafe(insert.as_str()))
                    .bind(c.id)
                    .bind(&lead.number)
                    .bind(data)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                report.imported += 1;
            }
            tx.commit().await
        })?;
        self.audit(
            login,
            "import",
            name,
            &format!(
                "{} imported, {} duplicates, {} on the do-not-call list",
                report.imported, report.duplicates, report.dnc
            ),
        )
        .await?;
        Ok(report)
    }

    /// Adds numbers (already normalised) to the do-not-call list; pending
    /// leads with them become `dnc`.
    ///
    /// Errors: the database fails.
    pub async fn add_dnc(&self, numbers: &[String], login: &str) -> Result<(), DialerError> {
        let exists = self.sql("SELECT COUNT(*) FROM dnc WHERE number = ?");
        let insert = self.sql("INSERT INTO dnc (number, added_at) VALUES (?, ?)");
        let leads = self.sql(
            "UPDATE leads SET state = 'dnc', updated_at = ? WHERE number = ? AND state = 'pending'",
        );
        let now = now_ms();
        on!(self, p => {
            let mut tx = p.begin().await?;
            for n in numbers {
                let have: i64 = sqlx::query(AssertSqlSafe(exists.as_str()))
                    .bind(n)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if have == 0 {
                    sqlx::query(AssertSqlSafe(insert.as_str()))
                        .bind(n)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(AssertSqlSafe(leads.as_str()))
                    .bind(now)
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        self.audit(login, "dnc", "", &format!("{} numbers", numbers.len()))
            .await
    }

    /// Lead counts and live attempts of campaign `id`.
    ///
    /// Errors: the database fails.
    pub async fn progress(&self, id: i64) -> Result<Progress, DialerError> {
        let by_state =
            self.sql("SELECT state, COUNT(*) FROM leads WHERE campaign_id = ? GROUP BY state");
        let attempts = self
            .sql("SELECT COUNT(*), COUNT(*) - COUNT(ended_at) FROM attempts WHERE campaign_id = ?");
        let (states, (made, live)) = on!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(by_state.as_str()))
                .bind(id)
                .fetch_all(p)
                .await?;
            let states = rows
                .iter()
                .map(|r| Ok::<_, sqlx::Error>((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<Vec<_>, _>>()?;
            let a = sqlx::query(AssertSqlSafe(attempts.as_str()))
                .bind(id)
                .fetch_one(p)
                .await?;
            Ok::<_, sqlx::Error>((states, (a.try_get::<i64, _>(0)?, a.try_get::<i64, _>(1)?)))
        })?;
        let mut pr = Progress {
            attempts: made,
            live,
            ..Progress::default()
        };
        for (state, n) in states {
            pr.total += n;
            match state.as_str() {
                "pending" => pr.pending = n,
                "dialing" => pr.dialing = n,
                "answered" => pr.answered = n,
                "failed" => pr.failed = n,
                "dnc" => pr.dnc = n,
                "exhausted" => pr.exhausted = n,
                _ => pr.unknown += n,
            }
        }
        Ok(pr)
    }

    /// The abandon ledger of campaign `id` since `since` (ms since the
    /// epoch, UTC): its live answers (attempts answered since then), and
    /// of those the drops: taken by an agent more than `drop_ms` after the
    /// answer, or ended more than `drop_ms` after it with no agent. An
    /// answered call still waiting counts once it ends or is taken.
    ///
    /// Errors: the database fails.
    pub async fn abandons(
        &self,
        id: i64,
        since: i64,
        drop_ms: i64,
        false_positive_percent: f64,
    ) -> Result<Abandons, DialerError> {
        let sql = self.sql(&format!(
            "SELECT COUNT(CASE WHEN {LIVE} THEN 1 END), COUNT(CASE WHEN {LIVE} AND {DROP} THEN 1 END), COUNT(CASE WHEN NOT {LIVE} THEN 1 END) FROM attempts WHERE campaign_id = ? AND answered_at >= ?"
        ));
        let (answers, drops, machines) = on!(self, p => {
            let r = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(drop_ms)
                .bind(drop_ms)
                .bind(id)
                .bind(since)
                .fetch_one(p)
                .await?;
            Ok::<_, sqlx::Error>((
                r.try_get::<i64, _>(0)?,
                r.try_get::<i64, _>(1)?,
                r.try_get::<i64, _>(2)?,
            ))
        })?;
        Ok(Abandons {
            since,
            answers,
            drops,
            machines,
            false_positive_percent,
        })
    }

    /// When `number` was last a drop (answered since `since`, ms since the
    /// epoch, UTC, and no agent within `drop_ms`), in any campaign: its
    /// answer time. What UK practice checks before calling a number again
    /// (not within 72 hours of an abandoned call).
    ///
    /// Errors: the database fails.
    pub async fn last_drop(
        &self,
        number: &str,
        since: i64,
        drop_ms: i64,
    ) -> Result<Option<i64>, DialerError> {
        let sql = self.sql(&format!(
            "SELECT MAX(answered_at) FROM attempts WHERE number = ? AND answered_at >= ? AND {LIVE} AND {DROP}"
        ));
        Ok(on!(self, p => {
            let r = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(number)
                .bind(since)
                .bind(drop_ms)
                .bind(drop_ms)
                .fetch_one(p)
                .await?;
            r.try_get::<Option<i64>, _>(0)
        })?)
    }

    /// Campaign `row`'s abandon ledger now, where it is measured: over its
    /// regime's window, with its `drop_s`; `None` for a campaign sent to an
    /// extension (no queue tells when its agent answered).
    ///
    /// Errors: the database fails.
    pub async fn ledger(&self, row: &CampaignRow) -> Result<Option<Abandons>, DialerError> {
        if row.def.destination.extension.is_some() {
            return Ok(None);
        }
        let pacing = &row.def.pacing;
        let since = now_ms() - pacing.regime.window_s() * 1000;
        let drop_ms = i64::from(pacing.drop_s) * 1000;
        let fp = row
            .def
            .amd
            .as_ref()
            .map_or(0.0, |a| a.false_positive_percent);
        Ok(Some(self.abandons(row.id, since, drop_ms, fp).await?))
    }

    /// The times of campaign `id`'s last `limit` attempts that ended since
    /// `since` (ms since the epoch, UTC), newest first: what predictive
    /// pacing estimates its statistics from
    /// ([`super::pacing::stats::estimate`]).
    ///
    /// Errors: the database fails.
    pub async fn attempt_times(
        &self,
        id: i64,
        since: i64,
        limit: u32,
    ) -> Result<Vec<super::pacing::stats::AttemptTimes>, DialerError> {
        // A machine is unanswered for pacing; a live answer needs its
        // agent from the end of its greeting.
        let sql = self.sql(&format!(
            "SELECT originated_at, CASE WHEN {LIVE} THEN COALESCE(greeted_at, answered_at) END, agent_at, ended_at FROM attempts WHERE campaign_id = ? AND ended_at >= ? ORDER BY ended_at DESC LIMIT ?"
        ));
        let rows = on!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .bind(since)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok::<_, sqlx::Error>(super::pacing::stats::AttemptTimes {
                        originated_at: r.try_get(0)?,
                        answered_at: r.try_get(1)?,
                        agent_at: r.try_get(2)?,
                        ended_at: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows)
    }

    /// Claims at most `n` due leads of campaign `id` for `engine`: each
    /// becomes `dialing` and gets an attempt row, committed before anything
    /// is dialed. Two engines never claim the same lead (`FOR UPDATE SKIP
    /// LOCKED` on MariaDB/PostgreSQL; SQLite has one writer), and a lead
    /// whose number joined the do-not-call list becomes `dnc` instead.
    ///
    /// A deadlock or serialization failure between two engines claiming at
    /// once (MariaDB and PostgreSQL may pick a victim under row locks), or
    /// SQLite's "database is locked" for a transaction that read before the
    /// other engine wrote, is retried: nothing of the failed transaction was
    /// kept.
    ///
    /// Errors: the database fails (nothing claimed).
    pub async fn claim(
        &self,
        id: i64,
        engine: &str,
        n: u32,
        now: i64,
    ) -> Result<Vec<Claimed>, DialerError> {
        self.claim_within(&Claim {
            campaign: id,
            engine,
            n,
            now,
            max_concurrent: None,
            lease: None,
        })
        .await
    }

    /// Like [`AppDb::claim`], and never more than `c.max_concurrent`
    /// attempts of the campaign in flight, counted over every engine: the
    /// count and the claim are one transaction, serialized per campaign by a
    /// lock on its row (SQLite has one writer), so two engines cannot both
    /// see the same room. With `c.lease`, nothing is claimed once another
    /// engine took it over (its token no longer in the row).
    ///
    /// Errors: as [`AppDb::claim`]; [`DialerError::LeaseLost`] when the lease
    /// is not held.
    pub async fn claim_within(&self, c: &Claim<'_>) -> Result<Vec<Claimed>, DialerError> {
        if c.n == 0 {
            return Ok(Vec::new());
        }
        let mut tries = 0;
        loop {
            match self.claim_once(c).await {
                Ok(None) => {
                    return Err(DialerError::LeaseLost(c.engine.to_string()));
                }
                Ok(Some(claimed)) => return Ok(claimed),
                Err(e) if tries < CLAIM_TRIES && self.is_conflict(&e) => {
                    tries += 1;
                    // Randomized and growing, so two engines that collided
                    // do not collide again in lockstep.
                    let cap_ms = (5u64 << tries.min(6)).min(200);
                    let wait = rand::random_range(1..=cap_ms);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A failure the claim retries: a deadlock or serialization failure
    /// (MariaDB, PostgreSQL), or SQLite busy.
    fn is_conflict(&self, e: &sqlx::Error) -> bool {
        is_conflict(e) || (matches!(self.pool, Pool::Sqlite(_)) && is_sqlite_busy(e))
    }

    async fn claim_once(&self, c: &Claim<'_>) -> Result<Option<Vec<Claimed>>, sqlx::Error> {
        let Claim {
            campaign: id,
            engine,
            n,
            now,
            max_concurrent,
            lease,
        } = *c;
        let held = self.sql("SELECT COUNT(*) FROM engines WHERE id = ? AND lease_token = ?");
        let lock = self.sql(&format!(
            "SELECT id FROM campaigns WHERE id = ?{}",
            self.for_update()
        ));
        let live =
            self.sql("SELECT COUNT(*) FROM attempts WHERE campaign_id = ? AND ended_at IS NULL");
        let select_with = |limit: i64| {
            self.sql(&format!(
                "SELECT id, number, data, attempts FROM leads WHERE campaign_id = ? AND state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT {limit}{}",
                self.skip_locked()
            ))
        };
        let in_dnc = self.sql("SELECT COUNT(*) FROM dnc WHERE number = ?");
        let to_dnc = self.sql("UPDATE leads SET state = 'dnc', updated_at = ? WHERE id = ?");
        let mark = self.sql(
            "UPDATE leads SET state = 'dialing', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'pending'",
        );
        let attempt = self.sql(
            "INSERT INTO attempts (id, lead_id, campaign_id, engine_id, number, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        );
        let claimed = on!(self, p => {
            let mut tx = p.begin().await?;
            // The campaign's row lock comes first: on MariaDB (repeatable
            // read) the first plain read fixes the transaction's snapshot,
            // and it must be taken after the other engine's claim committed.
            if max_concurrent.is_some() {
                sqlx::query(AssertSqlSafe(lock.as_str()))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            if let Some(lease) = lease {
                let ok: i64 = sqlx::query(AssertSqlSafe(held.as_str()))
                    .bind(&lease.engine)
                    .bind(&lease.token)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if ok == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
            let mut limit = i64::from(n);
            if let Some(cap) = max_concurrent {
                let in_flight: i64 = sqlx::query(AssertSqlSafe(live.as_str()))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                limit = limit.min(i64::from(cap) - in_flight);
                if limit <= 0 {
                    tx.commit().await?;
                    return Ok(Some(Vec::new()));
                }
            }
            let select = select_with(limit);
            let rows = sqlx::query(AssertSqlSafe(select.as_str()))
                .bind(id)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::new();
            for r in &rows {
                let lead_id: i64 = r.try_get(0)?;
                let number: String = r.try_get(1)?;
                let data: String = r.try_get(2)?;
                let attempts: i64 = r.try_get(3)?;
                let dnc: i64 = sqlx::query(AssertSqlSafe(in_dnc.as_str()))
                    .bind(&number)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if dnc > 0 {
                    sqlx::query(AssertSqlSafe(to_dnc.as_str()))
                        .bind(now)
                        .bind(lead_id)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
                let marked = sqlx::query(AssertSqlSafe(mark.as_str()))
                    .bind(now)
                    .bind(lead_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if marked != 1 {
                    continue;
                }
                let attempt_id = attempt_id(lead_id, attempts + 1);
                sqlx::query(AssertSqlSafe(attempt.as_str()))
                    .bind(&attempt_id)
                    .bind(lead_id)
                    .bind(id)
                    .bind(engine)
                    .bind(&number)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                out.push(Claimed {
                    attempt_id,
                    lead_id,
                    number,
                    data: serde_json::from_str(&data).unwrap_or_default(),
                });
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(out)
        })?;
        Ok(Some(claimed))
    }

    async fn stamp(&self, column: &str, attempt: &str, at: i64) -> Result<(), DialerError> {
        let sql = self.sql(&format!(
            "UPDATE attempts SET {column} = ? WHERE id = ? AND {column} IS NULL"
        ));
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(at)
            .bind(attempt)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The originates of `attempts` are about to be sent (ms since epoch):
    /// committed before the first byte goes to Asterisk, so an attempt
    /// without this stamp was never dialed and can be requeued.
    ///
    /// Errors: the database fails, or `lease` is no longer held
    /// ([`DialerError::LeaseLost`]): then nothing may be sent.
    pub async fn sending(
        &self,
        attempts: &[&str],
        lease: &Lease,
        at: i64,
    ) -> Result<(), DialerError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; attempts.len()].join(", ");
        // Fenced by the token: only while no other engine took the lease.
        // An engine that froze past its lease and resumed after another
        // took over must not send what that one may have requeued; one that
        // froze and resumed with nobody taking over is still the only one.
        let sql = self.sql(&format!(
            "UPDATE attempts SET sending_at = ? WHERE id IN ({marks}) \
             AND EXISTS (SELECT 1 FROM engines WHERE id = ? AND lease_token = ?)"
        ));
        let n = on!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(at);
            for a in attempts {
                q = q.bind(*a);
            }
            q.bind(&lease.engine)
                .bind(&lease.token)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n as usize != attempts.len() {
            return Err(DialerError::LeaseLost(lease.engine.clone()));
        }
        Ok(())
    }

    /// The originate for `attempt` was accepted by Asterisk at `at`.
    ///
    /// Errors: the database fails.
    pub async fn originated(&self, attempt: &str, at: i64) -> Result<(), DialerError> {
        self.stamp("originated_at", attempt, at).await
    }

    /// The customer answered `attempt` at `at`.
    ///
    /// Errors: the database fails.
    pub async fn answered(&self, attempt: &str, at: i64) -> Result<(), DialerError> {
        self.stamp("answered_at", attempt, at).await
    }

    /// Records who took `attempt`: the queue member's interface, or the
    /// destination extension (at most 64 characters).
    ///
    /// Errors: the database fails.
    pub async fn agent(&self, attempt: &str, agent: &str, at: i64) -> Result<(), DialerError> {
        let agent: String = agent.chars().filter(|c| !c.is_control()).take(64).collect();
        // The first agent's time is the answer-to-agent time's end.
        self.set_with_time(
            "UPDATE attempts SET agent = ?, agent_at = COALESCE(agent_at, ?) WHERE id = ?",
            &agent,
            (at > 0).then_some(at),
            attempt,
        )
        .await
    }

    /// Runs `sql`, an update of one attempt binding a text, a time (ms)
    /// and the attempt's id, in that order.
    async fn set_with_time(
        &self,
        sql: &str,
        text: &str,
        at: Option<i64>,
        attempt: &str,
    ) -> Result<(), DialerError> {
        let sql = self.sql(sql);
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(text)
            .bind(at)
            .bind(attempt)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Records AMD's verdict on `attempt` (`AMDSTATUS`, at most 16
    /// characters) and when it came (`greeted_at`: the end of the
    /// greeting, where the abandon rules' clock starts). The first verdict
    /// stays.
    ///
    /// Errors: the database fails.
    pub async fn amd(&self, attempt: &str, status: &str, at: i64) -> Result<(), DialerError> {
        let status: String = status
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect();
        self.set_with_time(
            "UPDATE attempts SET amd_status = COALESCE(amd_status, ?), greeted_at = COALESCE(greeted_at, ?) WHERE id = ?",
            &status,
            Some(at),
            attempt,
        )
        .await
    }

    /// Ends `attempt` with `outcome` (and the hangup cause) and moves its
    /// lead on: answered, retried after the rule's delay, exhausted, failed,
    /// unknown, or due again (`stopped`, `not_dialed`: those give their
    /// attempt back). Ending an attempt twice changes nothing, an answer
    /// recorded for it wins over `outcome` ([`verdict::settle`]), and a lead
    /// already answered is never made due again.
    ///
    /// Errors: the database fails.
    pub async fn finish(
        &self,
        attempt: &str,
        outcome: Outcome,
        cause: Option<i64>,
        def: &CampaignDef,
        at: i64,
    ) -> Result<(), DialerError> {
        self.end_attempt(attempt, outcome, cause, Some(def), at, None)
            .await
    }

    /// The originate for `attempt` was not taken (Asterisk answered 5xx),
    /// so nothing was dialed: the attempt ends `not_dialed`, gives its count
    /// back, and the lead is due again at `retry_at` (ms).
    ///
    /// Errors: the database fails.
    pub async fn requeue(&self, attempt: &str, at: i64, retry_at: i64) -> Result<(), DialerError> {
        self.end_attempt(attempt, Outcome::NotDialed, None, None, at, Some(retry_at))
            .await
    }

    async fn end_attempt(
        &self,
        attempt: &str,
        proposed: Outcome,
        cause: Option<i64>,
        def: Option<&CampaignDef>,
        at: i64,
        due_at: Option<i64>,
    ) -> Result<(), DialerError> {
        let info = self.sql(
            "SELECT a.lead_id, a.answered_at, l.attempts, l.state FROM attempts a \
             JOIN leads l ON l.id = a.lead_id WHERE a.id = ?",
        );
        let end = self.sql(
            "UPDATE attempts SET ended_at = ?, outcome = ?, hangup_cause = ? WHERE id = ? AND ended_at IS NULL",
        );
        let set = self.sql(
            "UPDATE leads SET state = ?, next_attempt_at = ?, last_outcome = ?, attempts = ?, updated_at = ? WHERE id = ?",
        );
        on!(self, p => {
            let mut tx = p.begin().await?;
            let Some(row) = sqlx::query(AssertSqlSafe(info.as_str()))
                .bind(attempt)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(());
            };
            let lead_id: i64 = row.try_get(0)?;
            let recorded_answer = row.try_get::<Option<i64>, _>(1)?.is_some();
            let made: i64 = row.try_get(2)?;
            let lead_state: String = row.try_get(3)?;
            let outcome = verdict::settle(proposed, recorded_answer);
            let ended = sqlx::query(AssertSqlSafe(end.as_str()))
                .bind(at)
                .bind(outcome.as_str())
                .bind(cause)
                .bind(attempt)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if ended == 1 && lead_state != "answered" {
                let made = if verdict::counts_as_dial(outcome) {
                    made
                } else {
                    (made - 1).max(0)
                };
                let (state, next) = match (def, due_at) {
                    (_, Some(due)) if !verdict::counts_as_dial(outcome) => ("pending", due),
                    (Some(def), _) => next_state(def, outcome, made, at),
                    // Only a requeue comes without its definition, and it
                    // has its due time; anything else is never redialed.
                    (None, _) => ("unknown", 0),
                };
                sqlx::query(AssertSqlSafe(set.as_str()))
                    .bind(state)
                    .bind(next)
                    .bind(outcome.as_str())
                    .bind(made)
                    .bind(at)
                    .bind(lead_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Attempts not ended, of `engine` and of engines whose heartbeat is
    /// older than `stale_before` (ms since epoch): those this engine must
    /// reconcile.
    ///
    /// Errors: the database fails.
    pub async fn in_flight(
        &self,
        engine: &str,
        stale_before: i64,
    ) -> Result<Vec<InFlight>, DialerError> {
        let sql = self.sql(
            "SELECT a.id, a.campaign_id, a.engine_id, a.answered_at, a.sending_at, a.originated_at FROM attempts a \
             LEFT JOIN engines e ON e.id = a.engine_id \
             WHERE a.ended_at IS NULL AND (a.engine_id = ? OR e.heartbeat_at IS NULL OR e.heartbeat_at < ?)",
        );
        let rows = on!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(engine)
                .bind(stale_before)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok::<_, sqlx::Error>(InFlight {
                        attempt_id: r.try_get(0)?,
                        campaign_id: r.try_get(1)?,
                        engine_id: r.try_get(2)?,
                        answered: r.try_get::<Option<i64>, _>(3)?.is_some(),
                        maybe_sent: r.try_get::<Option<i64>, _>(4)?.is_some()
                            || r.try_get::<Option<i64>, _>(5)?.is_some(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows)
    }

    /// Every attempt of campaign `id`, oldest first.
    ///
    /// Errors: the database fails.
    pub async fn attempts(&self, id: i64) -> Result<Vec<AttemptRow>, DialerError> {
        let sql = self.sql(
            "SELECT id, lead_id, number, engine_id, created_at, originated_at, answered_at, ended_at, outcome, hangup_cause, agent, amd_status, greeted_at, agent_at \
             FROM attempts WHERE campaign_id = ? ORDER BY created_at, id",
        );
        let rows = on!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok::<_, sqlx::Error>(AttemptRow {
                        id: r.try_get(0)?,
                        lead_id: r.try_get(1)?,
                        number: r.try_get(2)?,
                        engine_id: r.try_get(3)?,
                        created_at: r.try_get(4)?,
                        originated_at: r.try_get(5)?,
                        answered_at: r.try_get(6)?,
                        ended_at: r.try_get(7)?,
                        outcome: r.try_get(8)?,
                        hangup_cause: r.try_get(9)?,
                        agent: r.try_get(10)?,
                        amd_status: r.try_get(11)?,
                        greeted_at: r.try_get(12)?,
                        agent_at: r.try_get(13)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows)
    }

    /// Takes the lease of engine id `lease.engine` for `ttl_ms` from `now`
    /// (ms since epoch), if nobody holds it or its holder let it expire.
    /// `Ok(false)`: a live engine with that id holds it.
    ///
    /// Errors: the database fails.
    pub async fn take_lease(
        &self,
        lease: &Lease,
        started_at: i64,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool, DialerError> {
        let take = self.sql(
            "UPDATE engines SET lease_token = ?, lease_until = ?, started_at = ?, heartbeat_at = ?, state = 'starting' \
             WHERE id = ? AND (lease_token IS NULL OR lease_until IS NULL OR lease_until < ? OR lease_token = ?)",
        );
        let exists = self.sql("SELECT COUNT(*) FROM engines WHERE id = ?");
        let insert = self.sql(
            "INSERT INTO engines (id, started_at, heartbeat_at, state, lease_token, lease_until) VALUES (?, ?, ?, 'starting', ?, ?)",
        );
        let taken = on!(self, p => async {
            let n = sqlx::query(AssertSqlSafe(take.as_str()))
                .bind(&lease.token)
                .bind(now + ttl_ms)
                .bind(started_at)
                .bind(now)
                .bind(&lease.engine)
                .bind(now)
                .bind(&lease.token)
                .execute(p)
                .await?
                .rows_affected();
            if n == 1 {
                return Ok::<_, sqlx::Error>(true);
            }
            let rows: i64 = sqlx::query(AssertSqlSafe(exists.as_str()))
                .bind(&lease.engine)
                .fetch_one(p)
                .await?
                .try_get(0)?;
            if rows > 0 {
                return Ok(false);
            }
            // A first start of this id; two racing starts: one insert wins.
            Ok(sqlx::query(AssertSqlSafe(insert.as_str()))
                .bind(&lease.engine)
                .bind(started_at)
                .bind(now)
                .bind(&lease.token)
                .bind(now + ttl_ms)
                .execute(p)
                .await
                .is_ok())
        }
        .await)?;
        Ok(taken)
    }

    /// Renews `lease` until `now + ttl_ms` and records the engine's
    /// heartbeat and `state`. `Ok(false)`: the lease was lost (another
    /// engine with this id took it after it expired): the caller must stop
    /// dialing at once.
    ///
    /// Errors: the database fails (the lease is then not renewed).
    pub async fn renew_lease(
        &self,
        lease: &Lease,
        now: i64,
        ttl_ms: i64,
        state: &str,
    ) -> Result<bool, DialerError> {
        let sql = self.sql(
            "UPDATE engines SET lease_until = ?, heartbeat_at = ?, state = ? WHERE id = ? AND lease_token = ?",
        );
        let state: String = state.chars().take(250).collect();
        let n = on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(now + ttl_ms)
            .bind(now)
            .bind(&state)
            .bind(&lease.engine)
            .bind(&lease.token)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every engine that ever ran, newest heartbeat first.
    ///
    /// Errors: the database fails.
    pub async fn engines(&self) -> Result<Vec<EngineRow>, DialerError> {
        let sql =
            "SELECT id, started_at, heartbeat_at, state FROM engines ORDER BY heartbeat_at DESC";
        let rows = on!(self, p => {
            let rows = sqlx::query(sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok::<_, sqlx::Error>(EngineRow {
                        id: r.try_get(0)?,
                        started_at: r.try_get(1)?,
                        heartbeat_at: r.try_get(2)?,
                        state: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows)
    }
}

/// An answered attempt that is a drop: taken by an agent more than the
/// drop time after the end of the greeting (AMD's verdict; the answer
/// without AMD), or ended more than it after with no agent (two `?`: the
/// drop time, ms, twice).
const DROP: &str = "((agent_at IS NOT NULL AND agent_at - COALESCE(greeted_at, answered_at) > ?) OR (agent_at IS NULL AND ended_at IS NOT NULL AND ended_at - COALESCE(greeted_at, answered_at) > ?))";

/// An answered attempt a person answered, as far as anyone knows: AMD
/// did not call it a machine (or did not run).
const LIVE: &str = "(COALESCE(amd_status, '') <> 'MACHINE')";

/// How often a claim is tried again after a conflict.
/// Claims retried after a conflict before the error reaches the caller; with
/// the backoff above, about 3 s of trying.
const CLAIM_TRIES: u32 = 20;

/// A conflict the database asks the client to retry: SQLSTATE 40001
/// (MariaDB deadlock, PostgreSQL serialization failure) or 40P01
/// (PostgreSQL deadlock).
fn is_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "40001" || c == "40P01")
}

/// SQLite's "database is locked" (`SQLITE_BUSY` and its extended codes,
/// low byte 5): a transaction that read before another connection wrote
/// cannot take the write lock, and SQLite says so at once instead of
/// waiting its busy timeout (two engines on one SQLite file).
fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}

/// A lead's state and next attempt time after an attempt ended with
/// `outcome`, `made` attempts in all, at `at` (ms).
fn next_state(def: &CampaignDef, outcome: Outcome, made: i64, at: i64) -> (&'static str, i64) {
    match outcome {
        Outcome::Answered => ("answered", 0),
        Outcome::Unknown => ("unknown", 0),
        Outcome::Stopped | Outcome::NotDialed => ("pending", at),
        _ => match def.retry_rule(outcome) {
            Some(r) if made < i64::from(r.max_attempts) => {
                ("pending", at + i64::from(r.delay_s) * 1000)
            }
            Some(_) => ("exhausted", 0),
            None => ("failed", 0),
        },
    }
}

/// The id of attempt `n` of lead `lead`, also its ARI channel id (and so
/// Asterisk's `Uniqueid` and CDR `uniqueid` of the customer's leg):
/// `sb-<lead>-<n>-<64 random bits, hex>`. Lead ids repeat across app
/// databases (a new one, or two sites on one PBX), and Asterisk's CDRs would
/// then merge unrelated calls under one id: the random part keeps ids unique
/// across databases and engines (a clash needs about 2^32 attempts).
pub fn attempt_id(lead: i64, n: i64) -> String {
    format!("sb-{lead}-{n}-{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer::campaign::RetryRule;

    #[test]
    fn machines_leave_the_rate_but_their_false_positives_count() {
        let mut a = Abandons {
            since: 0,
            answers: 97,
            drops: 2,
            machines: 100,
            false_positive_percent: 0.0,
        };
        assert_eq!(a.percent().map(|p| (p * 100.0).round()), Some(206.0));
        assert_eq!(a.machine_percent().map(|p| p.round()), Some(51.0));
        // 3 % of 100 machines were people AMD hung up on: 3 more drops of
        // 3 more live answers, (2 + 3) / (97 + 3) = 5 %.
        a.false_positive_percent = 3.0;
        assert_eq!(a.percent().map(|p| (p * 100.0).round()), Some(500.0));
        let none = Abandons::default();
        assert_eq!((none.percent(), none.machine_percent()), (None, None));
    }

    #[test]
    fn retries_follow_the_rules() {
        let mut def = CampaignDef::parse(
            "name = \"t\"\ndial = \"Local/{number}@c\"\ncaller_id = \"x\"\ndestination = { queue = \"q\" }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        def.retry.busy = Some(RetryRule {
            delay_s: 300,
            max_attempts: 2,
        });
        assert_eq!(
            next_state(&def, Outcome::Busy, 1, 1_000),
            ("pending", 301_000)
        );
        assert_eq!(next_state(&def, Outcome::Busy, 2, 1_000), ("exhausted", 0));
        assert_eq!(next_state(&def, Outcome::NoAnswer, 1, 1_000), ("failed", 0));
        assert_eq!(
            next_state(&def, Outcome::Answered, 1, 1_000),
            ("answered", 0)
        );
        assert_eq!(next_state(&def, Outcome::Unknown, 1, 1_000), ("unknown", 0));
    }
}
