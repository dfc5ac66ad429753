//! `update` for the Audit screen: reading the trail (on showing the
//! screen, then every few seconds while it shows) and moving in it.

use super::{SHOWN, rows};
use crate::dialer::store::AuditQuery;
use crate::service::campaigns::{AppReply, AppRequest};
use crate::ui::keymap::Action;
use crate::ui::model::Model;
use crate::ui::nav;
use crate::ui::table;
use crate::ui::update::{Outcome, global_action, go};

/// How often the trail is read again while the screen shows, ms.
pub const REREAD_MS: i64 = 5_000;

/// Reads the newest rows.
pub fn refresh(model: &mut Model) -> Outcome {
    let id = model.next_id();
    model.audit.pending = Some(id);
    Outcome::App(AppRequest::Audit {
        id,
        query: AuditQuery {
            limit: SHOWN,
            ..AuditQuery::default()
        },
    })
}

/// Whether the rows are due a new read at `now_ms`.
pub fn due(model: &Model, now_ms: i64) -> bool {
    model.audit.pending.is_none()
        && model
            .audit
            .read_ms
            .is_none_or(|at| now_ms - at >= REREAD_MS)
}

/// A normal-mode action on the Audit screen.
pub fn action(model: &mut Model, action: Action) -> Outcome {
    if nav::is_movement(action) {
        let page = crate::ui::layout::table_height(model, 0).max(1) as isize;
        return move_by(model, nav::steps(action, page));
    }
    match action {
        Action::Refresh => refresh(model),
        _ => global_action(model, action).unwrap_or(go(false)),
    }
}

/// Moves the selection by `delta` rows.
pub fn move_by(model: &mut Model, delta: isize) -> Outcome {
    let height = crate::ui::layout::table_height(model, 0);
    let keys = table::keys(&rows::rows(model));
    nav::move_selection(&keys, &mut model.audit.table, delta, height);
    go(true)
}

/// The worker's answer to a read.
pub fn reply(model: &mut Model, reply: AppReply) -> Outcome {
    model.audit.pending = None;
    model.audit.read_ms = Some(model.now_ms);
    match reply {
        AppReply::Audit { rows, .. } => {
            model.audit.rows = rows.into_iter().map(|r| (r.id.to_string(), r)).collect();
        }
        AppReply::Failed { message, .. } => model.notice = Some((message, true)),
        _ => return go(false),
    }
    go(true)
}
