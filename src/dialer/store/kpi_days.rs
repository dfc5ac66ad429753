//! The `kpi_days` table: closed days' per-extension KPIs, kept so a range
//! of days is read, not recomputed (see `cdr::kpi_cache`).

use super::{AppDb, DialerError, Pool};
use sqlx::{AssertSqlSafe, Row};

/// One stored day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiDay {
    /// CDR legs of the day when it was computed (-1: not counted, the day
    /// had settled).
    pub legs: i64,
    /// The day's largest `uniqueid` then ("" when not counted).
    pub last_uniqueid: String,
    /// The figures, JSON.
    pub figures: String,
    /// When they were computed, ms since the Unix epoch (UTC); set on
    /// storing.
    pub computed_at: i64,
}

impl AppDb {
    /// The stored figures of `day` (`YYYY-MM-DD`) for `source` (a key
    /// naming the CDR source and the settings they were computed with).
    ///
    /// Errors: the query fails.
    pub async fn kpi_day(&self, source: &str, day: &str) -> Result<Option<KpiDay>, DialerError> {
        let sql = self
            .sql("SELECT legs, last_uniqueid, figures, computed_at FROM kpi_days WHERE source = ? AND day = ?");
        let row = on!(self, p => sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(source)
        .bind(day)
        .fetch_optional(p)
        .await?
        .map(|r| -> Result<KpiDay, sqlx::Error> {
            Ok(KpiDay {
                legs: r.try_get(0)?,
                last_uniqueid: r.try_get(1)?,
                figures: r.try_get(2)?,
                computed_at: r.try_get(3)?,
            })
        }));
        Ok(row.transpose()?)
    }

    /// Stores (or replaces) the figures of `day` for `source`.
    ///
    /// Errors: the write fails.
    pub async fn put_kpi_day(
        &self,
        source: &str,
        day: &str,
        stored: &KpiDay,
    ) -> Result<(), DialerError> {
        let delete = self.sql("DELETE FROM kpi_days WHERE source = ? AND day = ?");
        let insert = self.sql(
            "INSERT INTO kpi_days (source, day, legs, last_uniqueid, figures, computed_at) VALUES (?, ?, ?, ?, ?, ?)",
        );
        on!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(AssertSqlSafe(delete.as_str()))
                .bind(source)
                .bind(day)
                .execute(&mut *tx)
                .await?;
            sqlx::query(AssertSqlSafe(insert.as_str()))
                .bind(source)
                .bind(day)
                .bind(stored.legs)
                .bind(&stored.last_uniqueid)
                .bind(&stored.figures)
                .bind(stored.computed_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
