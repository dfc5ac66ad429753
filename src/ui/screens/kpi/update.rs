//! `update` for the KPI screen: its keys and its days line.

use crate::service::cdr::DbRequest;
use crate::ui::keymap::Action;
use crate::ui::model::Model;
use crate::ui::nav;
use crate::ui::query::Query;
use crate::ui::screens::history::update::shared_action;
use crate::ui::update::{Outcome, go, issue};

/// Runs the days line's text.
///
/// Errors: the word that is wrong, or a filter (the KPI screen takes days
/// only).
pub fn run_query(model: &mut Model, text: &str) -> Result<Outcome, String> {
    let q = Query::parse(text, model.today())?;
    if !q.is_days_only() {
        return Err(
            "the KPI screen takes days only: today, yesterday, 2026-11-20 or 2026-11-01..2026-11-20"
                .into(),
        );
    }
    model.kpi.query = q;
    Ok(issue(model, "computing KPIs", |m, id| m.kpi.request(id)))
}

/// A normal-mode action on the KPI screen.
pub fn action(model: &mut Model, action: Action) -> Outcome {
    if let Some(outcome) = shared_action(model, action, table_height(model), move_by) {
        return outcome;
    }
    match action {
        Action::SortNext => {
            let n = super::rows::columns(model.kpi.focus).len();
            let st = model.kpi.table_mut();
            st.sort = (st.sort + 1) % n;
            go(true)
        }
        Action::SortReverse => {
            let st = model.kpi.table_mut();
            st.reverse = !st.reverse;
            go(true)
        }
        Action::FocusNext | Action::FocusPrev => {
            model.kpi.focus = match action {
                Action::FocusNext => model.kpi.focus.next(),
                _ => model.kpi.focus.next().next(),
            };
            go(true)
        }
        Action::Export => issue(model, "exporting KPIs", |m, id| DbRequest::ExportKpi {
            id,
            day: m.kpi.query.from,
            extensions: m.kpi.extensions.clone(),
            queues: m.kpi.queues.clone().unwrap_or_default(),
            agents: m.kpi.agents.clone(),
        }),
        Action::Refresh => issue(model, "computing KPIs", |m, id| m.kpi.request(id)),
        _ => go(false),
    }
}

fn table_height(model: &Model) -> usize {
    crate::ui::layout::table_height(model, model.kpi.focus.index())
}

/// Moves the selection in the focused table.
pub fn move_by(model: &mut Model, delta: isize) -> Outcome {
    let height = table_height(model);
    let focus = model.kpi.focus;
    let keys = crate::ui::table::keys(&super::rows::rows(model, focus));
    nav::move_selection(&keys, model.kpi.table_mut(), delta, height);
    go(true)
}
