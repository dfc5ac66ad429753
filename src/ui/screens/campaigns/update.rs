//! `update` for the Campaigns screen, the command line and the yes/no
//! question: the console writes what the supervisor asks for (through the
//! app-database worker); the engine acts and acknowledges.

use super::rows;
use super::state::{Command, parse_command};
use crate::service::campaigns::{AppReply, AppRequest};
use crate::ui::keymap::Action;
use crate::ui::model::{Mode, Model, OnYes, Screen};
use crate::ui::nav;
use crate::ui::table;
use crate::ui::update::{Outcome, global_action, go};

/// Issues an app-database request and remembers its id.
pub fn ask(model: &mut Model, make: impl FnOnce(u64) -> AppRequest) -> Outcome {
    let id = model.next_id();
    model.campaigns.pending = Some(id);
    Outcome::App(make(id))
}

/// A refresh of the Campaigns screen.
pub fn refresh(model: &mut Model) -> Outcome {
    ask(model, |id| AppRequest::Refresh { id })
}

/// Asks for `status` on `name`, if the user may.
pub fn set_status(model: &mut Model, name: String, status: &'static str) -> Outcome {
    if !model.campaigns.may_control {
        model.notice = Some((
            "you may not start, pause or stop campaigns; an admin sets campaigns = true for you in [acl.users]".into(),
            true,
        ));
        return go(true);
    }
    ask(model, |id| AppRequest::SetStatus {
        id,
        name,
        status: status.to_string(),
    })
}

/// Stopping hangs calls up: it asks first.
fn stop_or_set(model: &mut Model, name: String, status: &'static str) -> Outcome {
    if status != "stopped" {
        return set_status(model, name, status);
    }
    let live = model
        .campaigns
        .campaigns
        .iter()
        .find(|c| c.row.name == name)
        .map_or(0, |c| c.progress.live);
    model.mode = Mode::Confirm {
        question: format!("Stop `{name}`? No new dials; its {live} live calls are hung up."),
        on_yes: OnYes::Campaign { name, status },
    };
    go(true)
}

/// A normal-mode action on the Campaigns screen.
pub fn action(model: &mut Model, action: Action) -> Outcome {
    let selected = model.campaigns.selected().map(str::to_string);
    match action {
        Action::CampaignStart | Action::CampaignPause | Action::CampaignStop => {
            let Some(name) = selected else {
                return go(false);
            };
            let status = match action {
                Action::CampaignStart => "running",
                Action::CampaignPause => "paused",
                _ => "stopped",
            };
            stop_or_set(model, name, status)
        }
        _ if nav::is_movement(action) => {
            let page = table_height(model).max(1) as isize;
            move_by(model, nav::steps(action, page))
        }
        Action::Refresh => refresh(model),
        _ => global_action(model, action).unwrap_or(go(false)),
    }
}

fn table_height(model: &Model) -> usize {
    crate::ui::layout::table_height(model, 0)
}

/// Moves the selection by `delta` rows.
pub fn move_by(model: &mut Model, delta: isize) -> Outcome {
    let height = table_height(model);
    let keys = table::keys(&rows::rows(model));
    nav::move_selection(&keys, &mut model.campaigns.table, delta, height);
    go(true)
}

/// Runs a command typed after `:`.
///
/// Errors: what to type instead.
/// Runs a `:` command. The line closes either way, so the next `:` starts
/// empty; a refusal shows as an error notice on the Campaigns screen, and a
/// command that goes through clears the last notice.
pub fn run_command(model: &mut Model, text: &str) -> Result<Outcome, String> {
    // The next tick refreshes the screen.
    model.screen = Screen::Campaigns;
    Ok(match command(model, text) {
        Ok(outcome) => outcome,
        Err(e) => {
            model.notice = Some((format!(":{} — {e}", text.trim()), true));
            go(true)
        }
    })
}

/// Why a user without the campaign right cannot run a changing command.
const NO_RIGHT: &str =
    "you may not change campaigns; an admin sets campaigns = true for you in [acl.users]";

fn command(model: &mut Model, text: &str) -> Result<Outcome, String> {
    let command = parse_command(text)?;
    model.notice = None;
    Ok(match command {
        Command::Status { status, name } => stop_or_set(model, name, status),
        Command::Pace { name, mode, ratio } => {
            if !model.campaigns.may_control {
                return Err(NO_RIGHT.into());
            }
            let change = crate::dialer::pacing::PaceChange {
                mode: Some(mode),
                ratio,
                max_abandon_percent: None,
            };
            ask(model, |id| AppRequest::Pace { id, name, change })
        }
        Command::Import { name, file } => {
            if !model.campaigns.may_control {
                return Err(NO_RIGHT.into());
            }
            // Read here, as the console's user: the worker (the daemon's,
            // when attached) never opens a file a user names.
            let csv = std::fs::read(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
            ask(model, |id| AppRequest::Import {
                id,
                name,
                source: file,
                csv: csv.into(),
            })
        }
    })
}

/// A reply from the app-database worker.
pub fn reply(model: &mut Model, reply: AppReply) -> Outcome {
    let id = reply.id();
    if model.campaigns.pending != Some(id) {
        return go(false);
    }
    model.campaigns.pending = None;
    match reply {
        AppReply::Snapshot {
            campaigns, engines, ..
        } => {
            // A change asked for is shown until the engine acknowledges it.
            if let Some((name, status)) = &model.campaigns.asked
                && campaigns
                    .iter()
                    .any(|c| &c.row.name == name && &c.row.acked_status == status)
            {
                model.campaigns.asked = None;
            }
            model.campaigns.campaigns = campaigns;
            model.campaigns.engines = engines;
            model.campaigns.read_ms = Some(model.now_ms);
            go(true)
        }
        AppReply::Asked { name, status, .. } => {
            model.campaigns.asked = Some((name, status));
            refresh(model)
        }
        AppReply::Imported { message, .. } => {
            model.notice = Some((message, false));
            refresh(model)
        }
        AppReply::Applied { name, created, .. } => {
            let what = if created {
                "created (stopped)"
            } else {
                "updated"
            };
            model.notice = Some((format!("campaign `{name}` {what}"), false));
            refresh(model)
        }
        AppReply::DncAdded { count, .. } => {
            model.notice = Some((format!("{count} numbers on the do-not-call list"), false));
            go(true)
        }
        // The console never asks for a fit (the simulator's command does);
        // audit rows go to the Audit screen.
        AppReply::Fitted { .. } | AppReply::Audit { .. } => go(false),
        AppReply::ImportRejected {
            source,
            errors,
            count,
            ..
        } => {
            model.notice = Some((rejected(&source, &errors, count), true));
            go(true)
        }
        AppReply::Failed { message, .. } => {
            model.notice = Some((message, true));
            go(true)
        }
    }
}

/// Bad lines shown on the status line; the rest are counted.
const SHOWN_ERRORS: usize = 3;

/// The status line for an import with bad lines.
fn rejected(source: &str, errors: &[String], count: usize) -> String {
    let shown: Vec<&str> = errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(String::as_str)
        .collect();
    let more = count.saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{source}: nothing imported; {}{more} (`switchboard campaign import` lists every line)",
        shown.join("; ")
    )
}
