//! History pane: calls from the CDRs, one line per call (legs grouped by
//! linkedid), with a call's legs indented below it when expanded. What a
//! call line says is defined in docs/kpi.md ("History calls").

use crate::cdr::filter::SortKey as Order;
use crate::cdr::history::Call;
use crate::cdr::record::CdrRecord;
use crate::ui::format::duration;
use crate::ui::model::Model;
use crate::ui::table::{self, Column, Decor, SortKey, TableCell, TableRow, TableState};
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};

/// Columns: Time, From, To, Answered by, Result, Duration, Talk, Legs.
pub const COLUMNS: [Column; 8] = [
    Column {
        title: "Time",
        width: Constraint::Length(19),
    },
    Column {
        title: "From",
        width: Constraint::Min(16),
    },
    Column {
        title: "To",
        width: Constraint::Min(12),
    },
    Column {
        title: "Answered by",
        width: Constraint::Min(11),
    },
    Column {
        title: "Result",
        width: Constraint::Length(10),
    },
    Column {
        title: "Duration",
        width: Constraint::Length(8),
    },
    Column {
        title: "Talk",
        width: Constraint::Length(7),
    },
    Column {
        title: "Legs",
        width: Constraint::Length(4),
    },
];

/// Theme item of a disposition.
pub fn disposition_item(d: &str) -> Item {
    match crate::cdr::filter::Disposition::parse(d) {
        Some(crate::cdr::filter::Disposition::Answered) => Item::HealthOk,
        Some(crate::cdr::filter::Disposition::NoAnswer) => Item::RampWarn,
        Some(crate::cdr::filter::Disposition::Busy) => Item::StateBusy,
        Some(_) => Item::HealthCritical,
        None => Item::Muted,
    }
}

fn time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "—".into())
}

fn caller(call: &Call) -> String {
    let (src, name) = call.caller();
    match (name.is_empty() || name == src, src.is_empty()) {
        (true, _) => src.to_string(),
        (false, true) => name.to_string(),
        (false, false) => format!("{name} <{src}>"),
    }
}

/// The time a call line shows: the start of the leg that placed the call in
/// the list's order (its latest leg newest-first, its earliest otherwise),
/// so the times read in the order the lines are in.
fn placed_at(call: &Call, order: crate::cdr::filter::Order) -> Option<chrono::NaiveDateTime> {
    match (order.key, order.descending) {
        (Order::Start, true) => call.legs.iter().filter_map(|l| l.start).max(),
        _ => call.start(),
    }
}

fn call_cells(
    call: &Call,
    order: crate::cdr::filter::Order,
    rule: &crate::endpoints::ExtensionRule,
) -> Vec<TableCell> {
    vec![
        TableCell::new(time(placed_at(call, order)), Item::Text),
        TableCell::new(caller(call), Item::Text),
        TableCell::new(call.dialed(), Item::Text),
        TableCell::new(call.answered_by(rule).unwrap_or(""), Item::Text),
        TableCell::new(call.disposition(), disposition_item(call.disposition())),
        TableCell::new(duration(call.duration_s()), Item::Text),
        TableCell::new(duration(call.talk_s()), Item::Text),
        TableCell::new(call.legs.len().to_string(), Item::Muted),
    ]
}

fn leg_cells(leg: &CdrRecord) -> Vec<TableCell> {
    let at = leg
        .start
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    vec![
        TableCell::new(format!("  └ {at}"), Item::Muted),
        TableCell::new(leg.channel.clone(), Item::Muted),
        TableCell::new(leg.dstchannel.clone(), Item::Muted),
        TableCell::new(format!("{} {}", leg.lastapp, leg.lastdata), Item::Muted),
        TableCell::new(leg.disposition.clone(), disposition_item(&leg.disposition)),
        TableCell::new(duration(leg.duration_s), Item::Muted),
        TableCell::new(duration(leg.billsec_s), Item::Muted),
        TableCell::new("", Item::Muted),
    ]
}

/// The table's rows: one per line of the History view.
pub fn rows(model: &Model) -> Vec<TableRow<'_>> {
    let calls = &model.history.list.calls;
    let order = model.history.order;
    let rule = &model.extension_rule;
    model
        .history
        .lines
        .iter()
        .filter_map(|line| {
            let call = calls.get(line.call)?;
            let cells: Box<dyn Fn() -> Vec<TableCell>> = match line.leg {
                None => Box::new(move || call_cells(call, order, rule)),
                Some(j) => {
                    let leg = call.legs.get(j)?;
                    Box::new(move || leg_cells(leg))
                }
            };
            Some(TableRow {
                pbx: "",
                key: &line.key,
                sort: SortKey::Num(0),
                cells,
            })
        })
        .collect()
}

/// Draws the calls table in `area`.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let h = &model.history;
    let rows = rows(model);
    // The header marks the server-side order: Time or Duration.
    let state = TableState {
        sort: match h.order.key {
            Order::Start => 0,
            Order::Duration => 5,
        },
        reverse: h.order.descending,
        filter: String::new(),
        ..h.table.clone()
    };
    let more = if h.list.done { "" } else { "+" };
    let decor = Decor {
        title: format!(
            "History{}: {} calls{more}, {} legs",
            of_pbx(model.cdr_pbx(h.query.pbx.as_deref())),
            h.list.calls.len(),
            h.list.legs
        ),
        focused: true,
        count: false,
        theme,
    };
    table::render(f, area, &COLUMNS, &rows, &state, decor);
}

/// ` of lyon` in a title, with several PBXs (the PBX name is peer text).
pub fn of_pbx(pbx: Option<String>) -> String {
    pbx.map(|p| format!(" of {}", crate::sanitize::escape(&p)))
        .unwrap_or_default()
}
