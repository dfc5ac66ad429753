//! `update` for the History screen: its keys, its query line and the CDR
//! worker's pages and legs.

use crate::service::cdr::DbRequest;
use crate::ui::keymap::Action;
use crate::ui::model::{Mode, Model, Screen};
use crate::ui::nav;
use crate::ui::query::Query;
use crate::ui::update::{Outcome, global_action, go, issue, show};

/// Runs the query line's text.
///
/// Errors: the word that is wrong.
pub fn run_query(model: &mut Model, text: &str) -> Result<Outcome, String> {
    model.history.query = Query::parse(text, model.today())?;
    Ok(issue(model, "loading calls", |m, id| m.history.restart(id)))
}

/// The actions the History and KPI screens share: leaving for another
/// screen, opening the query line, cancelling the running query, and moving
/// the selection (`page` rows to a page, by the screen's own `move_by`).
/// `None` for an action that is the screen's own.
pub fn shared_action(
    model: &mut Model,
    action: Action,
    page: usize,
    move_by: fn(&mut Model, isize) -> Outcome,
) -> Option<Outcome> {
    if let Some(outcome) = global_action(model, action) {
        return Some(outcome);
    }
    if nav::is_movement(action) {
        let page = isize::try_from(page.max(1)).unwrap_or(isize::MAX);
        return Some(move_by(model, nav::steps(action, page)));
    }
    Some(match action {
        Action::FocusExtensions | Action::FocusQueues | Action::FocusCalls => {
            let _ = show(model, Screen::Live);
            crate::ui::screens::live::update::action(model, action)
        }
        Action::Filter => {
            let current = match model.screen {
                Screen::Kpi => model.kpi.query.describe(),
                _ => model.history.query.describe(),
            };
            model.mode = Mode::Query {
                text: format!("{current} "),
                error: None,
            };
            go(true)
        }
        Action::CancelQuery if model.running.is_some() => {
            model.running = None;
            model.notice = Some(("query cancelled".into(), false));
            Outcome::Request(Box::new(DbRequest::Cancel))
        }
        _ => return None,
    })
}

/// A normal-mode action on the History screen.
pub fn action(model: &mut Model, action: Action) -> Outcome {
    if let Some(outcome) = shared_action(model, action, table_height(model), move_by) {
        return outcome;
    }
    match action {
        Action::SortNext | Action::SortReverse => {
            if action == Action::SortNext {
                model.history.next_order();
            } else {
                model.history.reverse();
            }
            issue(model, "loading calls", |m, id| m.history.restart(id))
        }
        Action::Expand => {
            // `issue` takes the next id, the one the request is built with.
            let id = model.last_id + 1;
            match model.history.toggle(id) {
                Some(req) => issue(model, "loading legs", |_, _| req),
                None => go(true),
            }
        }
        Action::Detail if !model.history.lines.is_empty() => {
            model.history.detail = Some(0);
            go(true)
        }
        Action::Export => issue(model, "exporting", |m, id| DbRequest::Export {
            id,
            filter: m.history.query.filter(crate::access::Visibility::All),
        }),
        Action::Refresh => issue(model, "loading calls", |m, id| m.history.restart(id)),
        _ => go(false),
    }
}

fn table_height(model: &Model) -> usize {
    crate::ui::layout::table_height(model, 0)
}

/// Moves the selection; near the end of what is loaded, asks for the next
/// page.
pub fn move_by(model: &mut Model, delta: isize) -> Outcome {
    let height = table_height(model);
    let h = &mut model.history;
    let keys: Vec<&str> = h.lines.iter().map(|l| l.key.as_str()).collect();
    if nav::move_selection(&keys, &mut h.table, delta, height).is_none() {
        return go(false);
    }
    if model.running.is_none() && model.history.wants_more(height) {
        return issue(model, "loading more calls", |m, id| m.history.next_page(id));
    }
    go(true)
}
