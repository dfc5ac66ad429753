//! The CDR store: one sqlx pool per backend (sqlx's `Any` driver has no
//! date types), the table's columns read at connect and mapped.

use super::CdrError;
use super::columns::{ColumnMap, Field, Wire};
use super::filter::{CdrFilter, Cursor, Dialect, Order, Sql};
use super::record::{CdrRecord, decode_text};
use crate::sqlpool::{self, Backend};
use futures_util::TryStreamExt;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Clone)]
enum Pool {
    MySql(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// A connected CDR database. A clone shares the connection pool.
#[derive(Clone)]
pub struct CdrStore {
    pool: Pool,
    table: String,
    columns: ColumnMap,
    /// The URL, password hidden, for messages.
    server: String,
    /// Longest wait for a query's next row (the first one included).
    deadline: std::time::Duration,
}

/// Default of [`CdrStore::with_deadline`] (`[cdr] query_timeout_s`).
pub const QUERY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// The slice of a window one query reads (see [`CdrStore::for_each`]).
const SLICE: chrono::Duration = chrono::Duration::days(1);

/// `url` with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!(
                "{}{}:***{}",
                &url[..scheme_end + 3],
                &rest[..colon],
                &rest[at..]
            )
        }
        _ => url.to_string(),
    }
}

/// Runs `$sql` on `$pool` and feeds each row, decoded into a [`CdrRecord`],
/// to `$sink`, awaiting the [`Wait`] it may return before the next row;
/// evaluates to the number of rows. One body for every backend.
/// What a paced sink hands back to hold the query until it resolves.
pub type Wait = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

macro_rules! each_row {
    ($self:expr, $pool:expr, $sql:expr, $fields:expr, $sink:expr) => {{
        // The text holds only quoted identifiers (from the table's own column
        // list or config) and placeholders; every user value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql.text.as_str()));
        for b in &$sql.binds {
            q = q.bind(b.as_str());
        }
        let wires: Vec<Wire> = $fields.iter().map(|f| $self.columns.wire(*f)).collect();
        let mut rows = q.fetch($pool);
        let mut n = 0u64;
        // One record for every row: each field read is set on every row, and
        // its text reuses the room the previous row's took.
        let mut rec = CdrRecord::default();
        // A frozen server never answers: each row (the first one included)
        // must come within the store's deadline. A row already received is
        // taken without arming the timer (most are: the server sends them
        // in bulk).
        loop {
            let mut next = rows.try_next();
            let row = match futures_util::poll!(&mut next) {
                std::task::Poll::Ready(row) => row,
                std::task::Poll::Pending => tokio::time::timeout($self.deadline, next)
                    .await
                    .map_err(|_| $self.timed_out())?,
            }?;
            let Some(row) = row else { break };
            for (i, (field, wire)) in $fields.iter().zip(&wires).enumerate() {
                // Each column is selected as bytes or in the form its wire
                // names: no per-value type check is needed.
                let raw: Option<&[u8]> = row.try_get_unchecked(i)?;
                rec.set_wire(*field, raw, *wire);
            }
            if let Some(wait) = $sink(&rec)? {
                wait.await;
            }
            n += 1;
        }
        n
    }};
}

/// The table's columns: `N` texts per column (its name first), each read as
/// bytes and decoded.
macro_rules! column_info {
    ($pool:expr, $sql:expr, $table:expr, $n:literal) => {{
        let rows = sqlx::query($sql).bind($table).fetch_all($pool).await?;
        let mut columns: Vec<[String; $n]> = Vec::with_capacity(rows.len());
        for row in rows {
            let mut texts: [String; $n] = Default::default();
            for (i, text) in texts.iter_mut().enumerate() {
                let raw: Vec<u8> = row.try_get(i)?;
                *text = decode_text(&raw);
            }
            columns.push(texts);
        }
        columns
    }};
}

/// Set on every MySQL/MariaDB CDR connection: text columns arrive as the
/// bytes they hold, whatever their character set (see [`Wire::Stored`]).
const MYSQL_RAW_TEXT: &str = "SET character_set_results = binary";

impl CdrStore {
    /// Connects to `url` (`mysql://` or `mariadb://`, `postgres://`,
    /// `sqlite://PATH`, opened read-only) and maps the columns of `table`.
    ///
    /// Errors: an unknown scheme, a refused connection (the message names the
    /// URL with its password hidden), no such table, or a required column
    /// missing (see [`ColumnMap::resolve`]).
    pub async fn connect(
        url: &str,
        table: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, CdrError> {
        let db = |e: sqlx::Error| CdrError::Connect {
            url: redact(url),
            reason: e.to_string().replace(url, &redact(url)),
        };
        let pool = match sqlpool::backend(url).map_err(db)? {
            Some(Backend::MySql(o)) => Pool::MySql(
                sqlpool::open_with(o, 2, Some(MYSQL_RAW_TEXT))
                    .await
                    .map_err(db)?,
            ),
            Some(Backend::Postgres(o)) => Pool::Postgres(sqlpool::open(o, 2).await.map_err(db)?),
            Some(Backend::Sqlite(o)) => {
                Pool::Sqlite(sqlpool::open(o.read_only(true), 2).await.map_err(db)?)
            }
            None => {
                return Err(CdrError::Config(format!(
                    "CDR URL `{}`: use mysql://, mariadb://, postgres:// or sqlite://",
                    redact(url)
                )));
            }
        };
        let deadline = QUERY_DEADLINE;
        // MySQL/MariaDB columns come with their types: text, dates and
        // integers are then read as the server holds them, not cast.
        let (names, mysql_types) = tokio::time::timeout(deadline, async {
            Ok::<_, sqlx::Error>(match &pool {
            Pool::MySql(p) => {
                let types = column_info!(
                    p,
                    "SELECT CAST(COLUMN_NAME AS BINARY), CAST(DATA_TYPE AS BINARY), \
                     CAST(COLUMN_TYPE AS BINARY) FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    table,
                    3
                );
                (types.iter().map(|[name, ..]| name.clone()).collect(), Some(types))
            }
            Pool::Postgres(p) => (column_info!(
                p,
                "SELECT convert_to(column_name::text, 'UTF8') FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                table,
                1
            ).into_iter().map(|[name]| name).collect::<Vec<_>>(), None),
            Pool::Sqlite(p) => (column_info!(
                p,
                "SELECT CAST(name AS BLOB) FROM pragma_table_info(?)",
                table,
                1
            ).into_iter().map(|[name]| name).collect(), None),
            })
        })
        .await
        .map_err(|_| CdrError::Timeout {
            server: redact(url),
            secs: deadline.as_secs(),
        })??;
        if names.is_empty() {
            return Err(CdrError::Config(format!(
                "no CDR table `{table}` in {}; set cdr.table",
                redact(url)
            )));
        }
        let mut columns = ColumnMap::resolve(&names, overrides)?;
        if let Some(types) = mysql_types {
            columns = columns.with_mysql_types(&types);
        }
        Ok(CdrStore {
            pool,
            table: table.to_string(),
            columns,
            server: redact(url),
            deadline,
        })
    }

    /// The same store, waiting at most `deadline` for each row of a query
    /// (the first one included) before failing with [`CdrError::Timeout`].
    pub fn with_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The longest wait for a query's next row.
    pub fn deadline(&self) -> std::time::Duration {
        self.deadline
    }

    fn timed_out(&self) -> CdrError {
        CdrError::Timeout {
            server: self.server.clone(),
            secs: self.deadline.as_secs(),
        }
    }

    /// The first and last start of the rows `filter` selects (PBX local
    /// time; `None` without rows): two index dives.
    ///
    /// Errors: the query fails or passes the deadline.
    pub async fn span(
        &self,
        filter: &CdrFilter,
    ) -> Result<Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>, CdrError> {
        let cells = self
            .aggregate(
                filter,
                &[("MIN", Some(Field::Start)), ("MAX", Some(Field::Start))],
            )
            .await?;
        let time = |i: usize| {
            let mut rec = CdrRecord::default();
            rec.set(Field::Start, cells.get(i).cloned().flatten().as_deref());
            rec.start
        };
        Ok(time(0).zip(time(1)))
    }

    /// How many rows `filter` selects and their largest `uniqueid`: what
    /// tells whether a day's rows changed. Reads every row of the window.
    ///
    /// Errors: the query fails or passes the deadline.
    pub async fn stamp(&self, filter: &CdrFilter) -> Result<(i64, String), CdrError> {
        let cells = self
            .aggregate(filter, &[("COUNT", None), ("MAX", Some(Field::Uniqueid))])
            .await?;
        let text = |i: usize| cells.get(i).cloned().flatten().map(|b| decode_text(&b));
        Ok((
            text(0).and_then(|t| t.trim().parse().ok()).unwrap_or(0),
            text(1).unwrap_or_default(),
        ))
    }

    /// One row of aggregates (see [`CdrFilter::aggregate`]), as bytes.
    async fn aggregate(
        &self,
        filter: &CdrFilter,
        aggregates: &[(&str, Option<Field>)],
    ) -> Result<Vec<Option<Vec<u8>>>, CdrError> {
        let sql = filter.aggregate(&self.table, &self.columns, self.dialect(), aggregates);
        macro_rules! one_row {
            ($pool:expr) => {{
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.text.as_str()));
                for b in &sql.binds {
                    q = q.bind(b.as_str());
                }
                let row = tokio::time::timeout(self.deadline, q.fetch_one($pool))
                    .await
                    .map_err(|_| self.timed_out())??;
                (0..aggregates.len())
                    .map(|i| row.try_get::<Option<Vec<u8>>, _>(i))
                    .collect::<Result<Vec<_>, _>>()?
            }};
        }
        Ok(match &self.pool {
            Pool::MySql(p) => one_row!(p),
            Pool::Postgres(p) => one_row!(p),
            Pool::Sqlite(p) => one_row!(p),
        })
    }

    /// The server (URL, password hidden) and table: what names this CDR
    /// source in kept KPI days.
    pub fn identity(&self) -> String {
        format!("{} {}", self.server, self.table)
    }

    /// The column mapping found at connect.
    pub fn columns(&self) -> &ColumnMap {
        &self.columns
    }

    fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::MySql(_) => Dialect::MySql,
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Streams every row matching `filter`, oldest first, into `sink`, with
    /// constant memory; returns how many rows were sent. Only `fields` are
    /// read (the others stay empty); a `sink` error stops the query and is
    /// returned.
    ///
    /// The window is read a day at a time: over a few days MariaDB's
    /// optimizer trades the start index for a full scan and a sort of every
    /// matching row before the first one comes (measured: 80,000 rows/s
    /// instead of 200,000 on a 10-million-row table).
    pub async fn for_each(
        &self,
        filter: &CdrFilter,
        fields: &[Field],
        mut sink: impl FnMut(&CdrRecord) -> Result<(), CdrError>,
    ) -> Result<u64, CdrError> {
        self.for_each_paced(filter, fields, |r| sink(r).map(|()| None))
            .await
    }

    /// [`for_each`](Self::for_each) with a sink that can hold the query
    /// back: when it returns a [`Wait`] (a chunk handed to a slow reader),
    /// the next row is read only after the wait ends, so a slow consumer
    /// costs no memory.
    ///
    /// Errors: as `for_each`.
    pub async fn for_each_paced(
        &self,
        filter: &CdrFilter,
        fields: &[Field],
        mut sink: impl FnMut(&CdrRecord) -> Result<Option<Wait>, CdrError>,
    ) -> Result<u64, CdrError> {
        let mut sent = 0u64;
        let mut from = filter.from;
        while from < filter.to {
            let to = (from + SLICE).min(filter.to);
            let limit = match filter.limit {
                Some(l) => match u32::try_from(u64::from(l).saturating_sub(sent)) {
                    Ok(0) => break,
                    Ok(left) => Some(left),
                    Err(_) => Some(l),
                },
                None => None,
            };
            let sql = filter.select_span(
                &self.table,
                &self.columns,
                fields,
                self.dialect(),
                (from, to),
                limit,
            );
            sent += self.run(&sql, fields, &mut sink).await?;
            from = to;
        }
        Ok(sent)
    }

    /// One history page: at most `rows` legs matching `filter` in `order`
    /// after `cursor`, every field the table has. Legs a start cursor has
    /// already shown are left out.
    ///
    /// Errors: the query fails.
    pub async fn page(
        &self,
        filter: &CdrFilter,
        order: Order,
        cursor: Option<&Cursor>,
        rows: u32,
    ) -> Result<Vec<CdrRecord>, CdrError> {
        let fields: Vec<Field> = self.columns.fields().collect();
        let sql = filter.select_page(
            &self.table,
            &self.columns,
            &fields,
            self.dialect(),
            order,
            cursor,
            rows,
        );
        let mut legs = Vec::new();
        let shown = |r: &CdrRecord| match cursor {
            Some(Cursor::Start { at, seen }) => r.start == Some(*at) && seen.contains(&r.uniqueid),
            _ => false,
        };
        self.run(&sql, &fields, |r| {
            if !shown(r) {
                legs.push(r.clone());
            }
            Ok(None)
        })
        .await?;
        legs.truncate(rows as usize);
        Ok(legs)
    }

    async fn run(
        &self,
        sql: &Sql,
        fields: &[Field],
        mut sink: impl FnMut(&CdrRecord) -> Result<Option<Wait>, CdrError>,
    ) -> Result<u64, CdrError> {
        let fields: Vec<Field> = fields
            .iter()
            .copied()
            .filter(|f| self.columns.get(*f).is_some())
            .collect();
        Ok(match &self.pool {
            Pool::MySql(p) => each_row!(self, p, sql, fields, sink),
            Pool::Postgres(p) => each_row!(self, p, sql, fields, sink),
            Pool::Sqlite(p) => each_row!(self, p, sql, fields, sink),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("mysql://cdr:s3cr%40t@db:3306/asteriskcdrdb"),
            "mysql://cdr:***@db:3306/asteriskcdrdb"
        );
        assert_eq!(
            redact("sqlite:///var/log/asterisk/master.db"),
            "sqlite:///var/log/asterisk/master.db"
        );
        assert_eq!(redact("postgres://cdr@db/x"), "postgres://cdr@db/x");
    }
}
