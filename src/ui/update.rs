//! `update`: the only place the model changes. Each message says whether the
//! screen needs a redraw; side effects are not done here.

use super::keymap::{Action, Context, Key, Keymap};
use super::model::{Mode, Model, OnYes, Running, Screen};
use super::screens::{audit, campaigns, history, kpi, live};
use crate::ami::AmiMsg;
use crate::ami::connection::LinkHealth;
use crate::service::campaigns::{AppReply, AppRequest};
use crate::service::cdr::{DbReply, DbRequest};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

/// Everything the console reacts to.
#[derive(Debug)]
pub enum Msg {
    /// From PBX number `pbx`'s AMI link (or a replay), received at
    /// `now_ms`.
    Ami {
        /// Index of the PBX in the model's list.
        pbx: usize,
        /// The message.
        msg: AmiMsg,
        /// Receive time, ms since epoch (UTC).
        now_ms: i64,
    },
    /// PBX number `.0`'s AMI link freshness changed.
    Link(usize, LinkHealth),
    /// The event source ended: a replay reached its end, or the AMI actor
    /// stopped.
    SourceEnded,
    /// A key press.
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// The terminal was resized to (width, height).
    Resize(u16, u16),
    /// The clock moved (once a second); ms since epoch (UTC).
    Tick(i64),
    /// The daemon sent live data changes (an attached console).
    Live(Box<crate::serve::live::LiveDelta>),
    /// The CDR worker answered.
    Db(DbReply),
    /// The app-database worker answered.
    App(AppReply),
    /// The supervisor-actions worker answered.
    Act(crate::service::supervise::ActReply),
}

/// What the loop should do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Keep going; redraw when `dirty`.
    Continue {
        /// Something visible changed.
        dirty: bool,
    },
    /// Redraw, and hand this request to the CDR worker.
    Request(Box<DbRequest>),
    /// Redraw, and hand this request to the app-database worker.
    App(AppRequest),
    /// Redraw, and hand this request to the supervisor-actions worker.
    Act(crate::service::supervise::ActRequest),
    /// Leave the console.
    Quit,
}

/// A screen's handler of normal-mode actions.
type ScreenAction = fn(&mut Model, Action) -> Outcome;

/// Keep going, redrawing when `dirty`.
pub const fn go(dirty: bool) -> Outcome {
    Outcome::Continue { dirty }
}

/// Marks `req` as the running query and returns it to the loop.
///
/// A running export is never replaced (the worker runs one request at a
/// time, and a new one would cut the file short): the new request is refused
/// with a notice until the export ends or `Esc` cancels it.
pub fn issue(
    model: &mut Model,
    what: &'static str,
    make: impl FnOnce(&mut Model, u64) -> DbRequest,
) -> Outcome {
    if let Some(r) = &model.running
        && r.what.starts_with("exporting")
    {
        model.notice = Some((
            format!("{} first: wait for it, or Esc to cancel it", r.what),
            true,
        ));
        return go(true);
    }
    let id = model.next_id();
    let req = make(model, id);
    model.running = Some(Running {
        id,
        since_ms: model.now_ms,
        what,
        rows: None,
    });
    model.notice = None;
    Outcome::Request(Box::new(req))
}

/// Applies `msg` to `model`.
pub fn update(model: &mut Model, msg: Msg, keymap: &Keymap) -> Outcome {
    match msg {
        Msg::Ami { pbx, msg, now_ms } => {
            if let AmiMsg::Event(e) = &msg
                && e.message.event_name() == Some("Hangup")
            {
                model.kpi.call_ended_ms = Some(now_ms);
            }
            go(model
                .pbxs
                .get_mut(pbx)
                .is_some_and(|p| p.handle(&msg, now_ms)))
        }
        Msg::Tick(now_ms) => {
            model.now_ms = now_ms;
            if model.screen == Screen::Kpi && model.running.is_none() && model.kpi.due(now_ms) {
                return issue(model, "computing KPIs", |m, id| m.kpi.request(id));
            }
            if model.screen == Screen::Campaigns && model.campaigns.pending.is_none() {
                return campaigns::update::refresh(model);
            }
            if model.screen == Screen::Audit && audit::update::due(model, now_ms) {
                return audit::update::refresh(model);
            }
            go(true)
        }
        Msg::Link(pbx, health) => {
            let Some(p) = model.pbxs.get_mut(pbx) else {
                return go(false);
            };
            let was_stale = p.link.is_stale();
            p.link.health = health;
            go(was_stale != p.link.is_stale())
        }
        Msg::SourceEnded => {
            model.source_ended = true;
            go(true)
        }
        Msg::Live(delta) => {
            if !delta.channels_gone.is_empty() {
                model.kpi.call_ended_ms = Some(model.now_ms);
            }
            let pbx = delta.pbx;
            go(model
                .pbxs
                .get_mut(pbx)
                .map(|p| delta.apply(&mut p.state))
                .is_some())
        }
        Msg::Db(reply) => cdr_reply(model, reply),
        Msg::App(reply) if model.audit.pending == Some(reply.id()) => {
            audit::update::reply(model, reply)
        }
        Msg::App(reply) => campaigns::update::reply(model, reply),
        Msg::Act(reply) => super::supervise::update::reply(model, reply),
        Msg::Resize(w, h) => {
            model.size = Rect::new(0, 0, w, h);
            go(true)
        }
        Msg::Key(ev) if ev.kind != KeyEventKind::Release => key(model, &ev, keymap),
        Msg::Key(_) => go(false),
        Msg::Mouse(ev) => mouse(model, ev),
    }
}

fn key(model: &mut Model, ev: &KeyEvent, keymap: &Keymap) -> Outcome {
    let k = Key::from_event(ev);
    if let Some(scroll) = model.history.detail {
        return popup_key(model, keymap, &k, Some(scroll), |m, s| m.history.detail = s);
    }
    match model.mode.clone() {
        Mode::Help { scroll } => popup_key(model, keymap, &k, Some(scroll), |m, s| {
            m.mode = s.map_or(Mode::Normal, |scroll| Mode::Help { scroll })
        }),
        Mode::Filter => filter_key(model, ev, &k, keymap),
        Mode::Query { text, .. } => line_key(
            model,
            ev,
            &k,
            keymap,
            text,
            |text, error| Mode::Query { text, error },
            |m, t| match m.screen {
                Screen::Kpi => kpi::update::run_query(m, t),
                _ => history::update::run_query(m, t),
            },
        ),
        Mode::Command { text, .. } => line_key(
            model,
            ev,
            &k,
            keymap,
            text,
            |text, error| Mode::Command { text, error },
            |m, t| {
                if crate::supervise::command::is_act(t) {
                    super::supervise::update::run_command(m, t)
                } else {
                    campaigns::update::run_command(m, t)
                }
            },
        ),
        Mode::Confirm { on_yes, .. } => confirm_key(model, &k, keymap, on_yes),
        Mode::Menu(menu) => super::supervise::update::menu_key(model, &k, keymap, menu),
        Mode::Normal => {
            let (contexts, act): (&[Context], ScreenAction) = match model.screen {
                Screen::Live => (
                    &[Context::Live, Context::List, Context::Global],
                    live::update::action,
                ),
                Screen::Campaigns => (
                    &[Context::Campaigns, Context::List, Context::Global],
                    campaigns::update::action,
                ),
                Screen::History => (
                    &[Context::History, Context::List, Context::Global],
                    history::update::action,
                ),
                Screen::Kpi => (
                    &[Context::History, Context::List, Context::Global],
                    kpi::update::action,
                ),
                Screen::Audit => (&[Context::List, Context::Global], audit::update::action),
            };
            match keymap.action(contexts, &k) {
                Some(action) => act(model, action),
                None => go(false),
            }
        }
    }
}

/// Keys while a yes/no question is open: yes does what it asked about.
fn confirm_key(model: &mut Model, k: &Key, keymap: &Keymap, on_yes: OnYes) -> Outcome {
    match keymap.action(&[Context::Confirm], k) {
        Some(Action::Accept) => {
            model.mode = Mode::Normal;
            match on_yes {
                OnYes::Campaign { name, status } => {
                    campaigns::update::set_status(model, name, status)
                }
                OnYes::Act { pbx, act } => super::supervise::update::run(model, pbx, act),
            }
        }
        Some(Action::Cancel) => {
            model.mode = Mode::Normal;
            go(true)
        }
        _ => go(false),
    }
}

/// Keys of a scrolling popup (help, detail): `set(None)` closes it.
fn popup_key(
    model: &mut Model,
    keymap: &Keymap,
    k: &Key,
    scroll: Option<u16>,
    set: impl FnOnce(&mut Model, Option<u16>),
) -> Outcome {
    let scroll = scroll.unwrap_or(0);
    match keymap.action(&[Context::Help], k) {
        Some(Action::Close) => set(model, None),
        Some(Action::Up) => set(model, Some(scroll.saturating_sub(1))),
        Some(Action::Down) => set(model, Some(scroll.saturating_add(1))),
        _ => return go(false),
    }
    go(true)
}

fn filter_key(model: &mut Model, ev: &KeyEvent, k: &Key, keymap: &Keymap) -> Outcome {
    let pane = model.focus;
    match keymap.action(&[Context::Filter], k) {
        Some(Action::Accept) => model.mode = Mode::Normal,
        Some(Action::Cancel) => {
            model.table_mut(pane).filter.clear();
            model.mode = Mode::Normal;
        }
        _ => {
            if !edit_line(&mut model.table_mut(pane).filter, ev) {
                return go(false);
            }
        }
    }
    let st = model.table_mut(pane);
    st.offset = 0;
    st.selected = None;
    go(true)
}

/// How a typed line (the History/KPI query, the command line) is kept in
/// the mode: its text and why the last Enter was refused.
type LineMode = fn(String, Option<String>) -> Mode;

/// Keys of a typed line: Enter hands the text to `accept` (which returns
/// the outcome, or the reason to refuse it), Esc closes, other keys edit.
fn line_key(
    model: &mut Model,
    ev: &KeyEvent,
    k: &Key,
    keymap: &Keymap,
    mut text: String,
    mode: LineMode,
    accept: impl FnOnce(&mut Model, &str) -> Result<Outcome, String>,
) -> Outcome {
    match keymap.action(&[Context::Filter], k) {
        Some(Action::Accept) => {
            model.mode = Mode::Normal;
            match accept(model, &text) {
                Ok(outcome) => outcome,
                Err(e) => {
                    model.mode = mode(text, Some(e));
                    go(true)
                }
            }
        }
        Some(Action::Cancel) => {
            model.mode = Mode::Normal;
            go(true)
        }
        _ if edit_line(&mut text, ev) => {
            model.mode = mode(text, None);
            go(true)
        }
        _ => go(false),
    }
}

/// Longest filter or query line, characters.
const LINE_MAX: usize = 120;

/// Backspace and printable characters edit `line`; returns whether the key
/// was one of those.
fn edit_line(line: &mut String, ev: &KeyEvent) -> bool {
    match ev.code {
        KeyCode::Backspace => {
            line.pop();
        }
        KeyCode::Char(c)
            if !ev
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            if line.chars().count() < LINE_MAX {
                line.push(c);
            }
        }
        _ => return false,
    }
    true
}

/// Switches screens; a screen shown for the first time runs its query.
pub fn show(model: &mut Model, screen: Screen) -> Outcome {
    model.screen = screen;
    model.zoom = false;
    match screen {
        Screen::History if !model.history.started => {
            issue(model, "loading calls", |m, id| m.history.restart(id))
        }
        Screen::Kpi if model.kpi.computed_ms.is_none() && model.running.is_none() => {
            issue(model, "computing KPIs", |m, id| m.kpi.request(id))
        }
        Screen::Campaigns => campaigns::update::refresh(model),
        Screen::Audit => audit::update::refresh(model),
        _ => go(true),
    }
}

/// The actions every screen shares: quit, help, switching screens, the
/// command line. `None` for an action that is the screen's own.
pub fn global_action(model: &mut Model, action: Action) -> Option<Outcome> {
    match action {
        Action::Quit => return Some(Outcome::Quit),
        Action::Help => model.mode = Mode::Help { scroll: 0 },
        Action::ShowLive => return Some(show(model, Screen::Live)),
        Action::ShowHistory => return Some(show(model, Screen::History)),
        Action::ShowKpi => return Some(show(model, Screen::Kpi)),
        Action::ShowCampaigns => return Some(show(model, Screen::Campaigns)),
        Action::ShowAudit => return Some(show(model, Screen::Audit)),
        Action::Command => {
            model.mode = Mode::Command {
                text: String::new(),
                error: None,
            }
        }
        _ => return None,
    }
    Some(go(true))
}

/// The mouse: the Live screen's panes take clicks and the wheel; on the
/// other screens the wheel moves the selection.
fn mouse(model: &mut Model, ev: MouseEvent) -> Outcome {
    let delta = match ev.kind {
        MouseEventKind::ScrollUp => -1,
        MouseEventKind::ScrollDown => 1,
        _ => 0,
    };
    match model.screen {
        Screen::Live => live::update::mouse(model, ev),
        _ if delta == 0 => go(false),
        Screen::History => history::update::move_by(model, delta),
        Screen::Kpi => kpi::update::move_by(model, delta),
        Screen::Campaigns => campaigns::update::move_by(model, delta),
        Screen::Audit => audit::update::move_by(model, delta),
    }
}

/// A reply from the CDR worker; replies to a request since replaced are
/// dropped.
fn cdr_reply(model: &mut Model, reply: DbReply) -> Outcome {
    let id = reply.id();
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
            extensions,
            queues,
            agents,
            ..
        } => {
            model.kpi.extensions = extensions;
            model.kpi.queues = queues;
            model.kpi.agents = agents;
            model.kpi.computed_ms = Some(model.now_ms);
            model.kpi.call_ended_ms = None;
        }
        DbReply::Exported { rows, path, .. } => {
            model.notice = Some((format!("exported {rows} rows to {}", path.display()), false));
        }
        DbReply::Failed { message, .. } => model.notice = Some((message, true)),
        // The screen asks for no stream.
        DbReply::Progress { .. } | DbReply::Chunk { .. } | DbReply::Streamed { .. } => {}
    }
    go(true)
}
