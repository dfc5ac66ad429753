//! `update` for the History and KPI screens: their keys, the query line and
//! the CDR worker's replies.

use super::{Outcome, go, issue, normal_action, show, steps};
use crate::ui::db::{DbReply, DbRequest};
use crate::ui::keymap::Action;
use crate::ui::kpi::KpiTable;
use crate::ui::layout;
use crate::ui::model::{Mode, Model, Screen};
use crate::ui::panes::kpi;
use crate::ui::query::Query;
use crate::ui::table::{self, body_height};
use crossterm::event::{MouseEvent, MouseEventKind};

/// Runs the query line's text on the History or KPI screen.
///
/// Errors: the word that is wrong, or a filter on the KPI screen (days only).
pub(super) fn run_query(model: &mut Model, text: &str) -> Result<Outcome, String> {
    let q = Query::parse(text, model.today())?;
    if model.screen == Screen::Kpi {
        if !q.is_days_only() {
            return Err(
                "the KPI screen takes days only: today, yesterday, 2026-11-20 or 2026-11-01..2026-11-20"
                    .into(),
            );
        }
        model.kpi.query = q;
        Ok(issue(model, "computing KPIs", |m, id| m.kpi.request(id)))
    } else {
        model.history.query = q;
        Ok(issue(model, "loading calls", |m, id| m.history.restart(id)))
    }
}

/// A normal-mode action on the History or KPI screen.
pub(super) fn action(model: &mut Model, action: Action) -> Outcome {
    let history = model.screen == Screen::History;
    let height = table_height(model);
    let page = height.max(1) as isize;
    match action {
        Action::Quit
        | Action::Help
        | Action::ShowLive
        | Action::ShowHistory
        | Action::ShowKpi
        | Action::ShowCampaigns
        | Action::Command => normal_action(model, action),
        Action::FocusExtensions | Action::FocusQueues | Action::FocusCalls => {
            let _ = show(model, Screen::Live);
            normal_action(model, action)
        }
        Action::Filter => {
            let current = if history {
                model.history.query.describe()
            } else {
                model.kpi.query.describe()
            };
            model.mode = Mode::Query {
                text: format!("{current} "),
                error: None,
            };
            go(true)
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => move_by(model, steps(action, page)),
        Action::SortNext | Action::SortReverse if history => {
            if action == Action::SortNext {
                model.history.next_order();
            } else {
                model.history.reverse();
            }
            issue(model, "loading calls", |m, id| m.history.restart(id))
        }
        Action::SortNext => {
            let n = kpi::columns(model.kpi.focus).len();
            let st = model.kpi.table_mut();
            st.sort = (st.sort + 1) % n;
            go(true)
        }
        Action::SortReverse => {
            let st = model.kpi.table_mut();
            st.reverse = !st.reverse;
            go(true)
        }
        Action::FocusNext | Action::FocusPrev if !history => {
            model.kpi.focus = match model.kpi.focus {
                KpiTable::Extensions => KpiTable::Queues,
                KpiTable::Queues => KpiTable::Extensions,
            };
            go(true)
        }
        Action::Expand if history => {
            // `issue` takes the next id, the one the request is built with.
            let id = model.last_id + 1;
            match model.history.toggle(id) {
                Some(req) => issue(model, "loading legs", |_, _| req),
                None => go(true),
            }
        }
        Action::Detail if history && !model.history.lines.is_empty() => {
            model.history.detail = Some(0);
            go(true)
        }
        Action::Export if history => issue(model, "exporting", |m, id| DbRequest::Export {
            id,
            filter: m.history.query.filter(crate::cdr::filter::Visibility::All),
        }),
        Action::Export => issue(model, "exporting KPIs", |m, id| DbRequest::ExportKpi {
            id,
            day: m.kpi.query.from,
            extensions: m.kpi.extensions.clone(),
            queues: m.kpi.queues.clone().unwrap_or_default(),
        }),
        Action::Refresh if history => issue(model, "loading calls", |m, id| m.history.restart(id)),
        Action::Refresh => issue(model, "computing KPIs", |m, id| m.kpi.request(id)),
        Action::CancelQuery if model.running.is_some() => {
            model.running = None;
            model.notice = Some(("query cancelled".into(), false));
            Outcome::Request(Box::new(DbRequest::Cancel))
        }
        _ => go(false),
    }
}

fn table_height(model: &Model) -> usize {
    let areas = layout::areas(model.size, model);
    let i = match (model.screen, model.kpi.focus) {
        (Screen::Kpi, KpiTable::Queues) => 1,
        _ => 0,
    };
    areas.tables.get(i).copied().map(body_height).unwrap_or(1)
}

fn move_by(model: &mut Model, delta: isize) -> Outcome {
    let height = table_height(model);
    if model.screen == Screen::Kpi {
        let focus = model.kpi.focus;
        let mut st = match focus {
            KpiTable::Extensions => model.kpi.ext_table.clone(),
            KpiTable::Queues => model.kpi.queue_table.clone(),
        };
        table::move_selection(&kpi::rows(model, focus), &mut st, delta, height);
        *model.kpi.table_mut() = st;
        return go(true);
    }
    let h = &mut model.history;
    let len = h.lines.len();
    if len == 0 {
        return go(false);
    }
    let next = (h.selected_index() as isize)
        .saturating_add(delta)
        .clamp(0, len as isize - 1) as usize;
    h.table.selected = Some(h.lines[next].key.clone());
    table::scroll_into_view(&mut h.table, next, height, len);
    if model.running.is_none() && model.history.wants_more(height) {
        return issue(model, "loading more calls", |m, id| m.history.next_page(id));
    }
    go(true)
}

/// Mouse wheel moves the selection.
pub(super) fn mouse(model: &mut Model, ev: MouseEvent) -> Outcome {
    match ev.kind {
        MouseEventKind::ScrollUp => move_by(model, -1),
        MouseEventKind::ScrollDown => move_by(model, 1),
        _ => go(false),
    }
}

/// A reply from the CDR worker; replies to a request since replaced are
/// dropped.
pub(super) fn reply(model: &mut Model, reply: DbReply) -> Outcome {
    let id = match &reply {
        DbReply::Page { id, .. }
        | DbReply::Legs { id, .. }
        | DbReply::Kpi { id, .. }
        | DbReply::Progress { id, .. }
        | DbReply::Exported { id, .. }
        | DbReply::Failed { id, .. } => *id,
    };
    let Some(running) = model.running.as_mut().filter(|r| r.id == id) else {
        return go(false);
    };
    if let DbReply::Progress { rows, .. } = reply {
        running.rows = Some(rows);
        return go(true);
    }
    model.running = None;
    match reply {
        DbReply::Page {
            legs, rows, order, ..
        } => model.history.add_page(legs, order, rows),
        DbReply::Legs { call, legs, .. } => model.history.add_legs(&call, legs),
        DbReply::Kpi {
            extensions, queues, ..
        } => {
            model.kpi.extensions = extensions;
            model.kpi.queues = queues;
            model.kpi.computed_ms = Some(model.now_ms);
            model.kpi.call_ended_ms = None;
        }
        DbReply::Exported { rows, path, .. } => {
            model.notice = Some((format!("exported {rows} rows to {}", path.display()), false));
        }
        DbReply::Failed { message, .. } => model.notice = Some((message, true)),
        DbReply::Progress { .. } => {}
    }
    go(true)
}
