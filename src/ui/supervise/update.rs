//! `update` for supervisor actions: the menu's keys, the command line's
//! action commands, the act sent to the worker and its answer as a notice.

use super::menu;
use super::state::{Menu, Then};
use crate::service::supervise::{ActReply, ActRequest};
use crate::supervise::Act;
use crate::supervise::command;
use crate::ui::keymap::{Action, Context, Key, Keymap};
use crate::ui::model::{Mode, Model, OnYes};
use crate::ui::update::{Outcome, go};

/// Opens the menu on the focused pane's selected row, or says why there
/// is none.
pub fn open_menu(model: &mut Model) -> Outcome {
    match menu::for_selection(model) {
        Ok(menu) => model.mode = Mode::Menu(menu),
        Err(why) => model.notice = Some((why, true)),
    }
    go(true)
}

/// Keys while the menu is open.
pub fn menu_key(model: &mut Model, k: &Key, keymap: &Keymap, mut menu: Menu) -> Outcome {
    let last = menu.items.len().saturating_sub(1);
    match keymap.action(&[Context::Menu], k) {
        Some(Action::Up) => menu.selected = menu.selected.saturating_sub(1),
        Some(Action::Down) => menu.selected = (menu.selected + 1).min(last),
        Some(Action::Cancel) => {
            model.mode = Mode::Normal;
            return go(true);
        }
        Some(Action::Accept) => {
            let Some(item) = menu.items.get(menu.selected).cloned() else {
                return go(false);
            };
            if let Some(why) = item.blocked {
                model.notice = Some((why, true));
                return go(true);
            }
            model.mode = Mode::Normal;
            return match item.then {
                Then::Run(pbx, act) => run(model, pbx, act),
                Then::Ask(pbx, act, question) => {
                    model.mode = Mode::Confirm {
                        question,
                        on_yes: OnYes::Act { pbx, act },
                    };
                    go(true)
                }
                Then::Type(text) => {
                    model.mode = Mode::Command { text, error: None };
                    go(true)
                }
                Then::Open(next) => {
                    model.mode = Mode::Menu(*next);
                    go(true)
                }
            };
        }
        _ => return go(false),
    }
    model.mode = Mode::Menu(menu);
    go(true)
}

/// Sends `act` on `pbx` to the worker; the answer comes as a notice.
pub fn run(model: &mut Model, pbx: String, act: Act) -> Outcome {
    let id = model.next_id();
    model.supervise.pending = Some(id);
    model.notice = Some((format!("{} {}…", act.verb(), act.target()), false));
    Outcome::Act(ActRequest::Run { id, pbx, act })
}

/// Runs an action command typed after `:` (see `supervise::command`).
///
/// Errors: what to type instead (the line stays open with it).
pub fn run_command(model: &mut Model, text: &str) -> Result<Outcome, String> {
    let default_pbx = model
        .visible_pbxs()
        .next()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let (pbx, act) = command::parse(text, &default_pbx)?;
    if !model.supervise.rights.has(act.kind()) {
        let kind = act.kind();
        return Err(format!(
            "none of your roles grants {kind}; an admin adds \"{kind}\" to one of your roles ([roles] and your [acl.users] roles)"
        ));
    }
    Ok(run(model, pbx, act))
}

/// The request for what each PBX's manager user may not send (sent when
/// a link logs in, and so at start).
pub fn privileges_request(model: &mut Model) -> ActRequest {
    ActRequest::Privileges {
        id: model.next_id(),
    }
}

/// An answer from the worker.
pub fn reply(model: &mut Model, reply: ActReply) -> Outcome {
    if model.supervise.pending == Some(reply.id()) {
        model.supervise.pending = None;
    }
    match reply {
        ActReply::Done { message, .. } => model.notice = Some((message, false)),
        ActReply::Refused { message, .. } | ActReply::Failed { message, .. } => {
            model.notice = Some((message, true));
        }
        ActReply::Privileges { unavailable, .. } => {
            let mine: Vec<&str> = unavailable
                .iter()
                .filter(|u| model.supervise.rights.has(u.kind))
                .map(|u| u.why.as_str())
                .collect();
            if let Some(first) = mine.first() {
                model.notice = Some(((*first).to_string(), true));
            }
            model.supervise.unavailable = unavailable;
        }
    }
    go(true)
}
