//! What to select from the CDR table, turned into SQL with bound parameters.
//!
//! Time windows are computed in Rust in the PBX's local time (Asterisk writes
//! local time without a zone) and bound as `YYYY-MM-DD HH:MM:SS` strings;
//! nothing a user types is ever spliced into SQL text.

use super::columns::{ColumnMap, Field, Wire};
use super::record::TIME_FORMAT;
use crate::access::Visibility;
use crate::endpoints::ExtensionRule;
use chrono::NaiveDateTime;
use std::fmt::Write as _;

/// A call's outcome as Asterisk records it, with the spellings that vary
/// between versions folded together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Disposition {
    /// `ANSWERED`.
    Answered,
    /// `NO ANSWER` (also `NOANSWER`).
    NoAnswer,
    /// `BUSY`.
    Busy,
    /// `FAILED`.
    Failed,
    /// `CONGESTION` (also `CONGESTED`).
    Congestion,
}

impl Disposition {
    /// Parses `answered`, `no-answer`, `NO ANSWER`, `noanswer`, `busy`,
    /// `failed`, `congestion`, `congested` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_uppercase();
        match norm.as_str() {
            "ANSWERED" => Some(Self::Answered),
            "NOANSWER" => Some(Self::NoAnswer),
            "BUSY" => Some(Self::Busy),
            "FAILED" => Some(Self::Failed),
            "CONGESTION" | "CONGESTED" => Some(Self::Congestion),
            _ => None,
        }
    }

    /// The values found in the `disposition` column.
    pub fn db_values(self) -> &'static [&'static str] {
        match self {
            Self::Answered => &["ANSWERED"],
            Self::NoAnswer => &["NO ANSWER", "NOANSWER"],
            Self::Busy => &["BUSY"],
            Self::Failed => &["FAILED"],
            Self::Congestion => &["CONGESTION", "CONGESTED"],
        }
    }
}

/// A CDR query.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CdrFilter {
    /// First instant included, PBX local time.
    pub from: NaiveDateTime,
    /// First instant excluded, PBX local time.
    pub to: NaiveDateTime,
    /// Source number or extension (`src`, or the extension on `channel`).
    pub src: Option<String>,
    /// Destination number or extension (`dst`, or the extension on `dstchannel`).
    pub dst: Option<String>,
    /// Outcome.
    pub disposition: Option<Disposition>,
    /// Free text over src, dst, clid, uniqueid, channel, dstchannel.
    pub search: Option<String>,
    /// What the requesting user may see.
    pub visibility: Visibility,
    /// Only the legs of this call (`linkedid`), when set.
    pub linkedid: Option<String>,
    /// At most this many rows (a first page), oldest first.
    pub limit: Option<u32>,
    /// What counts as an extension (`[kpi.extensions]`): the channels an
    /// extension in `src`, `dst` or the visibility is looked for on, and the
    /// extensions the KPIs count.
    pub extension_rule: ExtensionRule,
    /// Whose CDRs: the PBX's name (`None`: the first PBX the user sees).
    /// Chooses the source; no SQL of its own.
    #[serde(default)]
    pub pbx: Option<String>,
}

impl CdrFilter {
    /// Every row in `[from, to)` (PBX local time) that `visibility` allows.
    pub fn window(from: NaiveDateTime, to: NaiveDateTime, visibility: Visibility) -> Self {
        CdrFilter {
            from,
            to,
            src: None,
            dst: None,
            disposition: None,
            search: None,
            visibility,
            linkedid: None,
            limit: None,
            extension_rule: ExtensionRule::default(),
            pbx: None,
        }
    }

    /// The same filter for a user who sees `visibility`.
    pub fn with_visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }

    /// The same filter, extensions recognised by `rule`.
    pub fn with_extension_rule(mut self, rule: ExtensionRule) -> Self {
        self.extension_rule = rule;
        self
    }
}

/// What a history page is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    /// The leg's start (`calldate`/`start`): served by FreePBX's index.
    Start,
    /// The leg's `duration`.
    Duration,
}

/// Sort key and direction of a history page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    /// Sorted by.
    pub key: SortKey,
    /// Largest first (newest, longest).
    pub descending: bool,
}

/// Where the next page starts (keyset pagination: no OFFSET, so page N costs
/// what page 1 costs).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cursor {
    /// After legs starting at `at`; `seen` are the uniqueids of the legs at
    /// exactly `at` already shown. Ordering by the start column alone lets
    /// the start index serve the order and stop early; ties are skipped by
    /// uniqueid instead of by a second sort column.
    Start {
        /// Start of the last leg shown, PBX local time.
        at: NaiveDateTime,
        /// Uniqueids of the legs at `at` already shown.
        seen: Vec<String>,
    },
    /// After the leg with this `duration` (seconds) and `uniqueid`
    /// (duration has no index, so the uniqueid breaks ties in SQL).
    Duration {
        /// Duration of the last leg shown, seconds.
        secs: i64,
        /// Its uniqueid.
        uniqueid: String,
    },
}

/// SQL dialect differences that matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// MariaDB / MySQL.
    MySql,
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// A quoted identifier.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A column read as raw bytes (decoded in Rust: UTF-8, else Latin-1;
    /// zero dates and odd types never fail the query).
    pub fn as_bytes(self, column: &str) -> String {
        self.expr_as_bytes(&self.ident(column))
    }

    /// An SQL expression read as raw bytes, like [`Dialect::as_bytes`].
    pub fn expr_as_bytes(self, expr: &str) -> String {
        match self {
            Dialect::MySql => format!("CAST({expr} AS BINARY)"),
            Dialect::Postgres => format!("convert_to(({expr})::text, 'UTF8')"),
            Dialect::Sqlite => format!("CAST({expr} AS BLOB)"),
        }
    }
}

/// SQL text and the string parameters to bind, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sql {
    /// The statement.
    pub text: String,
    /// Parameters, bound as text.
    pub binds: Vec<String>,
}

struct Builder<'a> {
    d: Dialect,
    cols: &'a ColumnMap,
    binds: Vec<String>,
    /// The rows' window: the filter's, or a slice of it.
    span: (NaiveDateTime, NaiveDateTime),
}

/// `value` escaped for `LIKE … ESCAPE '!'`.
fn like_escape(value: &str) -> String {
    value
        .replace('!', "!!")
        .replace('%', "!%")
        .replace('_', "!_")
}

impl Builder<'_> {
    fn bind(&mut self, v: String) -> String {
        self.binds.push(v);
        match self.d {
            Dialect::Postgres => format!("${}", self.binds.len()),
            _ => "?".to_string(),
        }
    }

    fn col(&self, f: Field) -> String {
        self.d.ident(self.cols.get(f).unwrap_or(f.name()))
    }

    fn time(&mut self, t: NaiveDateTime) -> String {
        let p = self.bind(t.format(TIME_FORMAT).to_string());
        match self.d {
            Dialect::Postgres => format!("{p}::timestamp"),
            _ => p,
        }
    }

    fn window(&mut self, f: &CdrFilter) -> String {
        self.between(f.from, f.to)
    }

    fn between(&mut self, from: NaiveDateTime, to: NaiveDateTime) -> String {
        let start = self.col(Field::Start);
        let (from, to) = (self.time(from), self.time(to));
        format!("{start} >= {from} AND {start} < {to}")
    }

    /// A numeric column as a number (SQLite tables may declare it TEXT).
    fn number(&self, f: Field) -> String {
        let c = self.col(f);
        match self.d {
            Dialect::Sqlite => format!("CAST({c} AS INTEGER)"),
            _ => c,
        }
    }

    fn bind_number(&mut self, v: i64) -> String {
        let p = self.bind(v.to_string());
        match self.d {
            Dialect::Postgres => format!("{p}::bigint"),
            Dialect::Sqlite => format!("CAST({p} AS INTEGER)"),
            Dialect::MySql => p,
        }
    }

    /// The condition that continues after `cursor`, and the ORDER BY.
    fn keyset(&mut self, order: Order, cursor: Option<&Cursor>) -> (Option<String>, String) {
        let (cmp, dir) = if order.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        match order.key {
            SortKey::Start => {
                let col = self.col(Field::Start);
                let cond = match cursor {
                    Some(Cursor::Start { at, .. }) => {
                        let p = self.time(*at);
                        Some(format!("{col} {cmp}= {p}"))
                    }
                    _ => None,
                };
                (cond, format!("{col} {dir}"))
            }
            SortKey::Duration => {
                let col = self.number(Field::Duration);
                let uid = self.col(Field::Uniqueid);
                let cond = match cursor {
                    Some(Cursor::Duration { secs, uniqueid }) => {
                        let a = self.bind_number(*secs);
                        let b = self.bind_number(*secs);
                        let u = self.bind(uniqueid.clone());
                        Some(format!(
                            "({col} {cmp} {a} OR ({col} = {b} AND {uid} {cmp} {u}))"
                        ))
                    }
                    _ => None,
                };
                (cond, format!("{col} {dir}, {uid} {dir}"))
            }
        }
    }

    fn like(&mut self, field: Field, pattern: String) -> String {
        let col = self.col(field);
        let p = self.bind(pattern);
        let op = if self.d == Dialect::Postgres {
            "ILIKE"
        } else {
            "LIKE"
        };
        format!("{col} {op} {p} ESCAPE '!'")
    }

    /// `number` as the party on `field` (src/dst) or as the extension on the
    /// channel column (every channel prefix `rule` gives it).
    fn party(
        &mut self,
        rule: &ExtensionRule,
        field: Field,
        channel: Field,
        number: &str,
    ) -> String {
        let col = self.col(field);
        let eq = self.bind(number.to_string());
        let mut parts = vec![format!("{col} = {eq}")];
        for prefix in rule.channel_prefixes(number) {
            parts.push(self.like(channel, format!("{}%", like_escape(&prefix))));
        }
        format!("({})", parts.join(" OR "))
    }

    fn extension_anywhere(&mut self, rule: &ExtensionRule, ext: &str) -> String {
        let a = self.party(rule, Field::Src, Field::Channel, ext);
        let b = self.party(rule, Field::Dst, Field::Dstchannel, ext);
        format!("{a} OR {b}")
    }

    fn conditions(&mut self, f: &CdrFilter, table: &str) -> String {
        let mut cond = vec![self.between(self.span.0, self.span.1)];
        if let Some(src) = &f.src {
            cond.push(self.party(&f.extension_rule, Field::Src, Field::Channel, src));
        }
        if let Some(dst) = &f.dst {
            cond.push(self.party(&f.extension_rule, Field::Dst, Field::Dstchannel, dst));
        }
        if let Some(d) = f.disposition {
            let col = self.col(Field::Disposition);
            let ps: Vec<String> = d
                .db_values()
                .iter()
                .map(|v| self.bind(v.to_string()))
                .collect();
            cond.push(format!("{col} IN ({})", ps.join(", ")));
        }
        if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
            // Case- and accent-insensitive the same way on every backend
            // (super::search).
            let needle = super::search::fold(s);
            let subs = super::search::substitutions(&needle);
            let pattern = format!("%{}%", like_escape(&needle));
            let fields = [
                Field::Src,
                Field::Dst,
                Field::Clid,
                Field::Uniqueid,
                Field::Channel,
                Field::Dstchannel,
            ];
            let ors: Vec<String> = fields
                .into_iter()
                .map(|fl| {
                    let col = super::search::folded(&self.col(fl), &subs, self.d);
                    let p = self.bind(pattern.clone());
                    format!("{col} LIKE {p} ESCAPE '!'")
                })
                .collect();
            cond.push(format!("({})", ors.join(" OR ")));
        }
        if let Some(id) = &f.linkedid {
            let col = self.col(Field::Linkedid);
            let p = self.bind(id.clone());
            cond.push(format!("{col} = {p}"));
        }
        if let Visibility::Restricted { extensions, queues } = &f.visibility {
            cond.push(self.visible(f, extensions, queues, table));
        }
        cond.join(" AND ")
    }

    /// The leg waited in `queue`: `lastapp` Queue, `lastdata` `queue` or
    /// `queue,options…`.
    fn in_queue(&mut self, queue: &str) -> String {
        let app = self.col(Field::Lastapp);
        let data = self.col(Field::Lastdata);
        let q = self.bind("Queue".to_string());
        let eq = self.bind(queue.to_string());
        let like = self.like(Field::Lastdata, format!("{},%", like_escape(queue)));
        format!("({app} = {q} AND ({data} = {eq} OR {like}))")
    }

    /// Binds happen in text order: `?` placeholders are positional.
    fn visible(
        &mut self,
        f: &CdrFilter,
        exts: &[String],
        queues: &[String],
        table: &str,
    ) -> String {
        if exts.is_empty() && queues.is_empty() {
            return "1 = 0".to_string();
        }
        let subquery = self.cols.get(Field::Linkedid).is_some();
        let window = subquery.then(|| self.window(f));
        let mut any: Vec<String> = exts
            .iter()
            .map(|e| self.extension_anywhere(&f.extension_rule, e))
            .collect();
        any.extend(queues.iter().map(|q| self.in_queue(q)));
        let any = format!("({})", any.join(" OR "));
        match window {
            Some(window) => {
                let link = self.col(Field::Linkedid);
                let t = self.d.ident(table);
                format!("{link} IN (SELECT {link} FROM {t} WHERE {window} AND {any})")
            }
            None => any,
        }
    }
}

impl CdrFilter {
    /// `SELECT` of aggregates over the rows, as bytes: `aggregates` maps
    /// each field to the function applied (`COUNT` of `*` when the field is
    /// `None`). What tells whether a day's rows changed and where the data
    /// begins and ends.
    pub fn aggregate(
        &self,
        table: &str,
        cols: &ColumnMap,
        d: Dialect,
        aggregates: &[(&str, Option<Field>)],
    ) -> Sql {
        let mut b = Builder {
            d,
            cols,
            binds: Vec::new(),
            span: (self.from, self.to),
        };
        let select: Vec<String> = aggregates
            .iter()
            .map(|(function, field)| {
                let arg = field.map_or_else(|| "*".to_string(), |f| b.col(f));
                d.expr_as_bytes(&format!("{function}({arg})"))
            })
            .collect();
        let cond = b.conditions(self, table);
        Sql {
            text: format!(
                "SELECT {} FROM {} WHERE {cond}",
                select.join(", "),
                d.ident(table)
            ),
            binds: b.binds,
        }
    }

    /// `SELECT` of `fields` (those the table has) as bytes from `table`,
    /// oldest first, at most `limit` rows: what export and the KPIs stream.
    pub fn select(&self, table: &str, cols: &ColumnMap, fields: &[Field], d: Dialect) -> Sql {
        self.select_span(table, cols, fields, d, (self.from, self.to), self.limit)
    }

    /// Like [`CdrFilter::select`] for the rows starting in `span` (a slice
    /// of the window), at most `limit`. Visibility still looks at the whole
    /// window, so a call that crosses a slice boundary stays visible.
    pub fn select_span(
        &self,
        table: &str,
        cols: &ColumnMap,
        fields: &[Field],
        d: Dialect,
        span: (NaiveDateTime, NaiveDateTime),
        limit: Option<u32>,
    ) -> Sql {
        let order = Order {
            key: SortKey::Start,
            descending: false,
        };
        self.build(table, cols, fields, d, order, None, span, limit)
    }

    /// One history page: at most `rows` legs in `order`, after `cursor`.
    /// A start cursor asks for `seen.len()` more rows, which the caller
    /// drops (see [`Cursor::Start`]).
    #[allow(clippy::too_many_arguments)]
    pub fn select_page(
        &self,
        table: &str,
        cols: &ColumnMap,
        fields: &[Field],
        d: Dialect,
        order: Order,
        cursor: Option<&Cursor>,
        rows: u32,
    ) -> Sql {
        let extra = match cursor {
            Some(Cursor::Start { seen, .. }) => u32::try_from(seen.len()).unwrap_or(u32::MAX),
            _ => 0,
        };
        self.build(
            table,
            cols,
            fields,
            d,
            order,
            cursor,
            (self.from, self.to),
            Some(rows.saturating_add(extra)),
        )
    }

    /// The statement: ordering by the start column alone lets FreePBX's
    /// index serve the window and the order, so a first page stops early.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        table: &str,
        cols: &ColumnMap,
        fields: &[Field],
        d: Dialect,
        order: Order,
        cursor: Option<&Cursor>,
        span: (NaiveDateTime, NaiveDateTime),
        limit: Option<u32>,
    ) -> Sql {
        let mut b = Builder {
            d,
            cols,
            binds: Vec::new(),
            span,
        };
        let mut text = String::from("SELECT ");
        for (i, field) in fields
            .iter()
            .copied()
            .filter(|f| cols.get(*f).is_some())
            .enumerate()
        {
            if i > 0 {
                text.push_str(", ");
            }
            let col = cols.get(field).unwrap_or(field.name());
            match cols.wire(field) {
                Wire::Cast => text.push_str(&d.as_bytes(col)),
                _ => text.push_str(&d.ident(col)),
            }
        }
        let mut cond = b.conditions(self, table);
        let (after, order_by) = b.keyset(order, cursor);
        if let Some(after) = after {
            cond.push_str(" AND ");
            cond.push_str(&after);
        }
        let _ = write!(
            text,
            " FROM {} WHERE {cond} ORDER BY {order_by}",
            d.ident(table)
        );
        if let Some(n) = limit {
            let _ = write!(text, " LIMIT {n}");
        }
        Sql {
            text,
            binds: b.binds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cols() -> ColumnMap {
        let names: Vec<String> = "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,accountcode,uniqueid,linkedid"
            .split(',')
            .map(String::from)
            .collect();
        ColumnMap::resolve(&names, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn day() -> CdrFilter {
        let t = |s: &str| {
            NaiveDateTime::parse_from_str(s, TIME_FORMAT).unwrap_or_else(|e| panic!("{e}"))
        };
        CdrFilter::window(
            t("2026-11-21 00:00:00"),
            t("2026-11-22 00:00:00"),
            Visibility::All,
        )
    }

    #[test]
    fn user_input_is_bound_never_spliced() {
        let mut f = day();
        f.search = Some("x' OR '1'='1".into());
        f.dst = Some("30%_1".into());
        let sql = f.select("cdr", &cols(), &Field::ALL, Dialect::MySql);
        assert!(!sql.text.contains("OR '1'='1"), "{}", sql.text);
        assert!(
            sql.binds.iter().any(|b| b == "%x' or '1'='1%"),
            "folded, bound"
        );
        assert!(
            sql.binds.iter().any(|b| b == "PJSIP/30!%!_1-%"),
            "LIKE metacharacters escaped: {:?}",
            sql.binds
        );
    }

    #[test]
    fn mysql_columns_of_known_types_are_selected_uncast() {
        let typed = |name: &str, data: &str, full: &str| [name.into(), data.into(), full.into()];
        let m = cols().with_mysql_types(&[
            typed("calldate", "datetime", "datetime"),
            typed("channel", "varchar", "varchar(80)"),
            typed("billsec", "int", "int(11)"),
            typed("duration", "decimal", "decimal(10,2)"),
        ]);
        let fields = [
            Field::Start,
            Field::Channel,
            Field::Billsec,
            Field::Duration,
            Field::Src,
        ];
        let sql = day().select("cdr", &m, &fields, Dialect::MySql);
        assert!(
            sql.text.starts_with(
                "SELECT `calldate`, `channel`, `billsec`, CAST(`duration` AS BINARY), \
                 CAST(`src` AS BINARY) FROM"
            ),
            "{}",
            sql.text
        );
    }

    #[test]
    fn placeholders_follow_the_dialect() {
        let mut f = day();
        f.disposition = Some(Disposition::NoAnswer);
        let pg = f.select("cdr", &cols(), &Field::ALL, Dialect::Postgres);
        assert!(
            pg.text
                .contains("\"calldate\" >= $1::timestamp AND \"calldate\" < $2::timestamp"),
            "{}",
            pg.text
        );
        assert!(pg.text.contains("\"disposition\" IN ($3, $4)"));
        assert_eq!(
            pg.binds[2..],
            ["NO ANSWER".to_string(), "NOANSWER".to_string()]
        );
        let my = f.select("cdr", &cols(), &Field::ALL, Dialect::MySql);
        assert_eq!(my.text.matches('?').count(), my.binds.len());
    }

    #[test]
    fn restricted_users_see_whole_calls_through_linkedid() {
        let mut f = day();
        f.visibility = Visibility::Restricted {
            extensions: vec!["301".into()],
            queues: vec![],
        };
        let sql = f.select("cdr", &cols(), &Field::ALL, Dialect::Sqlite);
        assert!(
            sql.text
                .contains("\"linkedid\" IN (SELECT \"linkedid\" FROM \"cdr\" WHERE"),
            "{}",
            sql.text
        );
        // The extension's channels, as the one extension rule names them.
        for prefix in [
            "PJSIP/301-%",
            "SIP/301-%",
            "IAX2/301-%",
            "DAHDI/301-%",
            "Local/301@from-queue-%",
        ] {
            assert!(sql.binds.iter().any(|b| b == prefix), "{prefix}");
        }
        f.visibility = Visibility::Restricted {
            extensions: vec![],
            queues: vec![],
        };
        assert!(
            f.select("cdr", &cols(), &Field::ALL, Dialect::Sqlite)
                .text
                .contains("1 = 0")
        );
    }

    /// The SQL with each positional `?` replaced by its bind, in order.
    fn expand(sql: &Sql) -> String {
        let mut binds = sql.binds.iter();
        sql.text
            .split('?')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_string()
                } else {
                    format!(
                        "'{}'{part}",
                        binds.next().map(String::as_str).unwrap_or("MISSING")
                    )
                }
            })
            .collect()
    }

    #[test]
    fn positional_binds_follow_the_text() {
        let mut f = day();
        f.src = Some("100".into());
        f.search = Some("Zoë".into());
        f.visibility = Visibility::Restricted {
            extensions: vec!["301".into()],
            queues: vec![],
        };
        let sql = f.select("cdr", &cols(), &Field::ALL, Dialect::MySql);
        let text = expand(&sql);
        assert!(!text.contains("MISSING"));
        assert!(text.contains("WHERE `calldate` >= '2026-11-21 00:00:00' AND `calldate` < '2026-11-22 00:00:00' AND (`src` = '100'"), "{text}");
        assert!(text.contains("FROM `cdr` WHERE `calldate` >= '2026-11-21 00:00:00' AND `calldate` < '2026-11-22 00:00:00' AND ((`src` = '301'"), "{text}");
        // The search folded (Zoë → zoe), the column folded the same way.
        assert!(
            text.contains("CONVERT(`clid` USING utf8mb4) COLLATE utf8mb4_bin, 'E', 'e')"),
            "{text}"
        );
        assert!(text.contains("LIKE '%zoe%'"), "{text}");
    }

    #[test]
    fn dispositions_fold_their_spellings() {
        assert_eq!(Disposition::parse("no-answer"), Some(Disposition::NoAnswer));
        assert_eq!(Disposition::parse("NOANSWER"), Some(Disposition::NoAnswer));
        assert_eq!(
            Disposition::parse("Congested"),
            Some(Disposition::Congestion)
        );
        assert_eq!(Disposition::parse("maybe"), None);
    }
}
