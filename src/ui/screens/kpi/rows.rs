//! KPI pane: per extension (from CDRs), per queue and per agent (from
//! queue_log), the
//! figures `switchboard kpi` prints, computed by the same code. Formulas in
//! docs/kpi.md.

use super::state::KpiTable;
use crate::cdr::kpi::ExtensionKpi;
use crate::cdr::queue_log::{AgentKpi, QueueKpi};
use crate::ui::format::duration;
use crate::ui::model::Model;
use crate::ui::table::{self, Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;

const fn col(title: &'static str, width: u16) -> Column {
    Column {
        title,
        width: Constraint::Length(width),
    }
}

/// Extension table (docs/kpi.md "History KPIs per extension"): calls
/// counted once each, talk from the extension's own leg, THT = talk +
/// after-call work, AHT = THT / handled calls.
pub const EXTENSION_COLUMNS: [Column; 10] = [
    col("Extension", 10),
    col("Calls", 5),
    col("Rung", 5),
    col("Answered", 8),
    col("Missed", 6),
    col("Placed", 6),
    col("THT", 8),
    col("AHT", 7),
    col("First call", 10),
    col("Last end", 10),
];

/// Queue table: Queue, Offered, Answered, Abandoned (short), Exits
/// (timeouts, empty, key), SL with its variant and T (`87% SL2≤20s`), ASA,
/// Avg wait, Longest wait, agents needed (Erlang C staffing advice from
/// the last 30 minutes, docs/kpi.md).
pub const QUEUE_COLUMNS: [Column; 10] = [
    col("Queue", 11),
    col("Offered", 7),
    col("Answered", 8),
    col("Abandoned", 9),
    col("Exits", 5),
    col("SL", 15),
    col("ASA", 5),
    col("Avg wait", 8),
    col("Longest", 7),
    col("Need", 4),
];

/// Agent table (docs/kpi.md "Agent KPIs"): the member as queue_log names
/// it, its extension, rings, answers, misses, talk and after-call work,
/// AHT, time paused with its longest reason, time logged in, occupancy.
pub const AGENT_COLUMNS: [Column; 12] = [
    col("Agent", 14),
    col("Ext", 5),
    col("Rung", 5),
    col("Answered", 8),
    col("Missed", 6),
    col("Talk", 8),
    col("ACW", 7),
    col("AHT", 7),
    col("Paused", 8),
    col("Most paused for", 15),
    col("Logged in", 9),
    col("Occ", 5),
];

/// Columns of `table`.
pub fn columns(table: KpiTable) -> &'static [Column] {
    match table {
        KpiTable::Extensions => &EXTENSION_COLUMNS,
        KpiTable::Queues => &QUEUE_COLUMNS,
        KpiTable::Agents => &AGENT_COLUMNS,
    }
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |s| duration(s.round() as i64))
}

fn clock(t: Option<chrono::NaiveDateTime>) -> String {
    t.map_or_else(|| "—".into(), |t| t.format("%H:%M:%S").to_string())
}

fn extension_row(k: &ExtensionKpi, sort: usize) -> TableRow<'_> {
    let num = |n: u64| SortKey::Num(i64::try_from(n).unwrap_or(i64::MAX));
    let key = match sort {
        1 => num(k.calls),
        2 => num(k.rung),
        3 => num(k.answered),
        4 => num(k.missed),
        5 => num(k.placed),
        6 => SortKey::Num(k.tht_s),
        7 => SortKey::Num(k.aht_s.map_or(-1, |v| v as i64)),
        8 => SortKey::Owned(clock(k.first_start)),
        9 => SortKey::Owned(clock(k.last_end)),
        _ => SortKey::Natural(&k.extension),
    };
    TableRow {
        pbx: "",
        key: &k.extension,
        sort: key,
        cells: Box::new(move || {
            vec![
                TableCell::new(k.extension.clone(), Item::Text),
                TableCell::new(k.calls.to_string(), Item::Text),
                TableCell::new(k.rung.to_string(), Item::Text),
                TableCell::new(k.answered.to_string(), Item::Text),
                TableCell::new(
                    k.missed.to_string(),
                    if k.missed > 0 {
                        Item::RampWarn
                    } else {
                        Item::Text
                    },
                ),
                TableCell::new(k.placed.to_string(), Item::Text),
                TableCell::new(duration(k.tht_s), Item::Text),
                TableCell::new(secs(k.aht_s), Item::Text),
                TableCell::new(clock(k.first_start), Item::Muted),
                TableCell::new(clock(k.last_end), Item::Muted),
            ]
        }),
    }
}

fn queue_row(q: &QueueKpi, sort: usize) -> TableRow<'_> {
    let num = |n: u64| SortKey::Num(i64::try_from(n).unwrap_or(i64::MAX));
    let key = match sort {
        1 => num(q.offered),
        2 => num(q.answered),
        3 => num(q.abandoned),
        4 => num(q.exited),
        5 => SortKey::Num(q.service_level.map_or(-1, |v| (v * 10.0) as i64)),
        6 => SortKey::Num(q.asa_s.map_or(-1, |v| v as i64)),
        7 => SortKey::Num(q.avg_wait_s.map_or(-1, |v| v as i64)),
        8 => SortKey::Num(q.longest_wait_s.map_or(-1, |v| v as i64)),
        9 => SortKey::Num(q.staffing.agents_needed.map_or(-1, i64::from)),
        _ => SortKey::Natural(&q.queue),
    };
    TableRow {
        pbx: "",
        key: &q.queue,
        sort: key,
        cells: Box::new(move || {
            vec![
                TableCell::new(q.queue.clone(), Item::Text),
                TableCell::new(q.offered.to_string(), Item::Text),
                TableCell::new(q.answered.to_string(), Item::Text),
                TableCell::new(
                    format!("{} ({})", q.abandoned, q.short_abandoned),
                    if q.abandoned > 0 {
                        Item::RampWarn
                    } else {
                        Item::Text
                    },
                ),
                TableCell::new(
                    q.exited.to_string(),
                    if q.exited > 0 {
                        Item::RampWarn
                    } else {
                        Item::Text
                    },
                ),
                TableCell::new(
                    format!(
                        "{} {}≤{}s",
                        q.service_level
                            .map_or_else(|| "—".into(), |v| format!("{v:.0}%")),
                        q.sl_variant.label(),
                        q.sl_seconds
                    ),
                    Item::Text,
                ),
                TableCell::new(secs(q.asa_s), Item::Text),
                TableCell::new(secs(q.avg_wait_s), Item::Text),
                TableCell::new(
                    q.longest_wait_s
                        .map_or_else(|| "—".into(), |v| duration(v as i64)),
                    Item::Text,
                ),
                TableCell::new(
                    q.staffing
                        .agents_needed
                        .map_or_else(|| "—".into(), |n| n.to_string()),
                    Item::Text,
                ),
            ]
        }),
    }
}

fn agent_row(a: &AgentKpi, sort: usize) -> TableRow<'_> {
    let num = |n: u64| SortKey::Num(i64::try_from(n).unwrap_or(i64::MAX));
    let secs_u = |n: u64| duration(i64::try_from(n).unwrap_or(i64::MAX));
    let key = match sort {
        1 => SortKey::Natural(a.extension.as_deref().unwrap_or("")),
        2 => num(a.rung),
        3 => num(a.answered),
        4 => num(a.missed),
        5 => num(a.talk_s),
        6 => num(a.acw_s),
        7 => SortKey::Num(a.aht_s.map_or(-1, |v| v as i64)),
        8 | 9 => num(a.paused_s),
        10 => SortKey::Num(
            a.logged_in_s
                .map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX)),
        ),
        11 => SortKey::Num(a.occupancy.map_or(-1, |v| (v * 10.0) as i64)),
        _ => SortKey::Fold(&a.agent),
    };
    TableRow {
        pbx: "",
        key: &a.agent,
        sort: key,
        cells: Box::new(move || {
            let top = a.pause_reasons.iter().max_by_key(|(_, s)| **s).map_or_else(
                String::new,
                |(reason, s)| {
                    let reason = if reason.is_empty() { "(none)" } else { reason };
                    format!("{reason} {}", secs_u(*s))
                },
            );
            vec![
                TableCell::new(a.agent.clone(), Item::Text),
                TableCell::new(a.extension.clone().unwrap_or_default(), Item::Muted),
                TableCell::new(a.rung.to_string(), Item::Text),
                TableCell::new(a.answered.to_string(), Item::Text),
                TableCell::new(
                    a.missed.to_string(),
                    if a.missed > 0 {
                        Item::RampWarn
                    } else {
                        Item::Text
                    },
                ),
                TableCell::new(secs_u(a.talk_s), Item::Text),
                TableCell::new(secs_u(a.acw_s), Item::Text),
                TableCell::new(secs(a.aht_s), Item::Text),
                TableCell::new(secs_u(a.paused_s), Item::Text),
                TableCell::new(top, Item::Muted),
                TableCell::new(a.logged_in_s.map_or_else(|| "—".into(), secs_u), Item::Text),
                TableCell::new(
                    a.occupancy
                        .map_or_else(|| "—".into(), |v| format!("{v:.0}%")),
                    Item::Text,
                ),
            ]
        }),
    }
}

/// The rows of `table`, sorted as its state says.
pub fn rows(model: &Model, table: KpiTable) -> Vec<TableRow<'_>> {
    let k = &model.kpi;
    match table {
        KpiTable::Extensions => table::prepare(
            k.extensions
                .iter()
                .map(|e| extension_row(e, k.ext_table.sort))
                .collect(),
            &k.ext_table,
        ),
        KpiTable::Queues => table::prepare(
            k.queues
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|q| queue_row(q, k.queue_table.sort))
                .collect(),
            &k.queue_table,
        ),
        KpiTable::Agents => table::prepare(
            k.agents
                .iter()
                .map(|a| agent_row(a, k.agent_table.sort))
                .collect(),
            &k.agent_table,
        ),
    }
}
