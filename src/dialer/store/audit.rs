//! The `audit` table: one trail for campaign intents (start, pause, stop,
//! apply, import, do-not-call) and supervisor actions (pause, members,
//! hang-ups, transfers), allowed or refused. Times are ms since the Unix
//! epoch, UTC.

use super::{AppDb, DialerError, Pool, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

/// A supervisor action as the trail keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActEntry<'a> {
    /// The kernel-verified login (the process's own for a direct console).
    pub login: &'a str,
    /// The PBX (`[[pbx]] name`).
    pub pbx: &'a str,
    /// `pause`, `unpause`, `add`, `remove`, `penalty`, `logoff`,
    /// `hangup`, `transfer`.
    pub action: &'a str,
    /// What it acts on (`PJSIP/301 in sales`, a channel).
    pub target: &'a str,
    /// The reason or value (`Lunch`, `penalty 2`).
    pub detail: &'a str,
}

/// One row of the trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Row id (increasing).
    pub id: i64,
    /// When, ms since the epoch (UTC).
    pub at: i64,
    /// Who.
    pub login: String,
    /// The PBX acted on; empty for campaign rows.
    pub pbx: String,
    /// What (a campaign status, `apply`, `pause`, `hangup`…).
    pub action: String,
    /// On what: a campaign's name, a member in a queue, a channel.
    pub target: String,
    /// The reason or value.
    pub detail: String,
    /// `ok`, `failed`, `refused`, or `sent` (asked of Asterisk and no
    /// answer recorded: the process stopped meanwhile).
    pub result: String,
    /// Asterisk's answer, or the refusal's words.
    pub answer: String,
}

/// Which rows [`AppDb::audit_trail`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// From (inclusive), ms since the epoch (UTC).
    pub from_ms: Option<i64>,
    /// To (exclusive), ms since the epoch (UTC).
    pub to_ms: Option<i64>,
    /// Only this login's rows.
    pub login: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At most this many, the newest.
    pub limit: u32,
}

/// Longest target or answer kept, characters (the MySQL column holds 255).
const KEPT: usize = 250;

fn kept(text: &str) -> String {
    text.chars().take(KEPT).collect()
}

impl AppDb {
    /// A campaign intent's row (always `ok`: refusals of campaign rights
    /// are told to the user and not written).
    pub(super) async fn audit(
        &self,
        login: &str,
        action: &str,
        campaign: &str,
        detail: &str,
    ) -> Result<(), DialerError> {
        let sql = self.sql(
            "INSERT INTO audit (at, login, action, campaign, target, detail, result) VALUES (?, ?, ?, ?, ?, ?, 'ok')",
        );
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(now_ms())
            .bind(login)
            .bind(action)
            .bind(campaign)
            .bind(campaign)
            .bind(detail)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Writes a supervisor action's row with `result` (`sent` before
    /// Asterisk is asked, `refused` when it never is) and returns its id.
    ///
    /// Errors: the database fails.
    pub async fn audit_act(
        &self,
        e: &ActEntry<'_>,
        result: &str,
        answer: &str,
    ) -> Result<i64, DialerError> {
        let sql = self.sql(
            "INSERT INTO audit (at, login, action, pbx, target, detail, result, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let (target, detail, answer) = (kept(e.target), kept(e.detail), kept(answer));
        macro_rules! bound {
            ($sql:expr) => {
                sqlx::query(AssertSqlSafe($sql))
                    .bind(now_ms())
                    .bind(e.login)
                    .bind(e.action)
                    .bind(e.pbx)
                    .bind(target.as_str())
                    .bind(detail.as_str())
                    .bind(result)
                    .bind(answer.as_str())
            };
        }
        Ok(match &self.pool {
            Pool::MySql(p) => {
                let done = bound!(sql.as_str()).execute(p).await?;
                i64::try_from(done.last_insert_id()).map_err(|e| DialerError::Db(e.to_string()))?
            }
            Pool::Sqlite(p) => bound!(sql.as_str()).execute(p).await?.last_insert_rowid(),
            Pool::Postgres(p) => {
                let returning = format!("{sql} RETURNING id");
                bound!(returning.as_str())
                    .fetch_one(p)
                    .await?
                    .try_get::<i64, _>(0)?
            }
        })
    }

    /// Records Asterisk's answer on row `id` (`ok` or `failed`).
    ///
    /// Errors: the database fails.
    pub async fn audit_result(
        &self,
        id: i64,
        result: &str,
        answer: &str,
    ) -> Result<(), DialerError> {
        let sql = self.sql("UPDATE audit SET result = ?, answer = ? WHERE id = ?");
        on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(result)
            .bind(kept(answer))
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The trail's rows matching `q`, oldest first (the newest `q.limit`).
    ///
    /// Errors: the query fails.
    pub async fn audit_trail(&self, q: &AuditQuery) -> Result<Vec<AuditRow>, DialerError> {
        let mut sql = String::from(
            "SELECT id, at, login, COALESCE(pbx, ''), action, COALESCE(target, campaign, ''), detail, result, COALESCE(answer, '') FROM audit WHERE 1 = 1",
        );
        if q.from_ms.is_some() {
            sql.push_str(" AND at >= ?");
        }
        if q.to_ms.is_some() {
            sql.push_str(" AND at < ?");
        }
        if q.login.is_some() {
            sql.push_str(" AND login = ?");
        }
        if q.action.is_some() {
            sql.push_str(" AND action = ?");
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        let sql = self.sql(&sql);
        let mut rows = on!(self, p => {
            let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
            if let Some(v) = q.from_ms {
                query = query.bind(v);
            }
            if let Some(v) = q.to_ms {
                query = query.bind(v);
            }
            if let Some(v) = &q.login {
                query = query.bind(v.as_str());
            }
            if let Some(v) = &q.action {
                query = query.bind(v.as_str());
            }
            query
                .bind(i64::from(q.limit))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| {
                    Ok(AuditRow {
                        id: r.try_get(0)?,
                        at: r.try_get(1)?,
                        login: r.try_get(2)?,
                        pbx: r.try_get(3)?,
                        action: r.try_get(4)?,
                        target: r.try_get(5)?,
                        detail: r.try_get(6)?,
                        result: r.try_get(7)?,
                        answer: r.try_get(8)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        rows.reverse();
        Ok(rows)
    }
}
