//! Draws the Live screen: its panes, and beside the queues the selected
//! queue's callers and members.

use super::queues::{CALLER_COLUMNS, MEMBER_COLUMNS, member_cells};
use super::{columns, queues, rows};
use crate::pbx::{Pbx, Queue};
use crate::ui::format::{duration, ramp_item};
use crate::ui::layout::Areas;
use crate::ui::model::Model;
use crate::ui::table::{self, Decor, SortKey, TableCell, TableRow, TableState};
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// Draws the panes laid out in `areas`.
pub fn draw(f: &mut Frame, areas: &Areas, model: &Model, theme: &Theme) {
    let mut queue_rows = None;
    for (pane, area) in &areas.panes {
        let rows = rows(model, *pane);
        let decor = Decor {
            title: pane.title().to_string(),
            count: true,
            focused: model.focus == *pane,
            theme,
        };
        let columns = columns(model, *pane);
        table::render(f, *area, &columns, &rows, model.table(*pane), decor);
        if *pane == crate::ui::model::PaneId::Queues {
            queue_rows = Some(rows);
        }
    }
    if let Some(area) = areas.queue_detail {
        let rows = queue_rows.unwrap_or_else(|| rows(model, crate::ui::model::PaneId::Queues));
        let q = queues::selected_queue(model, &rows);
        draw_detail(f, area, model, q, theme);
    }
}

/// Draws the selected queue's callers (top) and members (bottom) in `area`.
pub fn draw_detail(
    f: &mut Frame,
    area: Rect,
    model: &Model,
    queue: Option<(&Pbx, &Queue)>,
    theme: &Theme,
) {
    let Some((p, q)) = queue else {
        let empty = TableState::default();
        let decor = Decor {
            title: "No queue".into(),
            count: true,
            focused: false,
            theme,
        };
        table::render(f, area, &MEMBER_COLUMNS, &[], &empty, decor);
        return;
    };
    let callers_height = (q.callers.len() as u16 + 3).max(4).min(area.height / 2);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(callers_height), Constraint::Min(3)]).areas(area);
    let now = model.now_ms;
    let waiting_ramp = model.time_in_state.waiting;
    let callers: Vec<TableRow<'_>> = q
        .callers
        .positioned()
        .map(|(position, c)| TableRow {
            pbx: "",
            key: &c.uniqueid,
            sort: SortKey::Num(i64::from(position)),
            cells: Box::new(move || {
                let wait = c.wait_s(now);
                vec![
                    TableCell::new(position.to_string(), Item::Text),
                    TableCell::new(c.caller_name.clone(), Item::Text),
                    TableCell::new(c.caller_num.clone(), Item::Muted),
                    TableCell::new(duration(wait), ramp_item(wait, Some(waiting_ramp))),
                ]
            }),
        })
        .collect();
    let st = TableState::default();
    // With several PBXs the queue is named with its PBX: `lyon/sales`.
    let name = if model.pbxs.is_many() {
        format!("{}/{}", p.name, q.name)
    } else {
        q.name.clone()
    };
    let title = format!("{name}: callers");
    table::render(
        f,
        top,
        &CALLER_COLUMNS,
        &callers,
        &st,
        Decor {
            title,
            count: true,
            focused: false,
            theme,
        },
    );
    let members: Vec<TableRow<'_>> = q
        .members
        .values()
        .map(|m| TableRow {
            pbx: "",
            key: &m.interface,
            sort: SortKey::Fold(if m.name.is_empty() {
                &m.interface
            } else {
                &m.name
            }),
            cells: Box::new(move || member_cells(m, now)),
        })
        .collect();
    let members = table::prepare(members, &st);
    let title = format!("{name}: members{}", staffing(model, q));
    table::render(
        f,
        bottom,
        &MEMBER_COLUMNS,
        &members,
        &st,
        Decor {
            title,
            count: true,
            focused: false,
            theme,
        },
    );
}

/// The queue's staffing advice for the members' title (docs/kpi.md, "Need"
/// and "Fcst"): what Erlang C asks for the recent load, and the service
/// level it forecasts with the agents on duty now.
fn staffing(model: &Model, q: &Queue) -> String {
    let f = q.figures(
        model.now_ms,
        &model.health,
        model.sl_targets.variant(&q.name),
    );
    match (f.agents_needed, f.forecast_sl) {
        (Some(n), Some(sl)) => format!(
            " · need {n}, on duty {} (SL {sl:.0}% ≤{}s)",
            f.staffed - f.paused,
            q.service_level_s
        ),
        _ => String::new(),
    }
}
