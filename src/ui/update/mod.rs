//! `update`: the only place the model changes. Each message says whether the
//! screen needs a redraw; side effects are not done here.

mod campaigns;
mod cdr;

use super::appdb::{AppReply, AppRequest};
use super::db::{DbReply, DbRequest};
use super::keymap::{Action, Context, Key, Keymap};
use super::layout;
use super::model::{Mode, Model, PaneId, Running, Screen};
use super::table::{self, body_height};
use super::view;
use crate::ami::AmiMsg;
use crate::ami::connection::LinkHealth;
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

/// Everything the console reacts to.
#[derive(Debug)]
pub enum Msg {
    /// From the AMI connection (or a replay), received at `now_ms`.
    Ami {
        /// The message.
        msg: AmiMsg,
        /// Receive time, ms since epoch (UTC).
        now_ms: i64,
    },
    /// The AMI link's freshness changed.
    Link(LinkHealth),
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
    /// The CDR worker answered.
    Db(DbReply),
    /// The app-database worker answered.
    App(AppReply),
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
    /// Leave the console.
    Quit,
}

const fn go(dirty: bool) -> Outcome {
    Outcome::Continue { dirty }
}

/// Marks `req` as the running query and returns it to the loop.
///
/// A running export is never replaced (the worker runs one request at a
/// time, and a new one would cut the file short): the new request is refused
/// with a notice until the export ends or `Esc` cancels it.
fn issue(
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
        Msg::Ami { msg, now_ms } => {
            if let AmiMsg::State(s) = &msg
                && *s != model.conn
            {
                model.conn = s.clone();
                model.conn_since_ms = now_ms;
                if model.conn == crate::ami::ConnectionState::Ready {
                    model.dropped_at_ready = model.link.dropped;
                }
                model.pbx.handle(&msg);
                return go(true);
            }
            if let AmiMsg::Event(e) = &msg
                && e.message.event_name() == Some("Hangup")
            {
                model.kpi.call_ended_ms = Some(now_ms);
            }
            go(model.pbx.handle(&msg))
        }
        Msg::Tick(now_ms) => {
            model.now_ms = now_ms;
            if model.screen == Screen::Kpi && model.running.is_none() && model.kpi.due(now_ms) {
                return issue(model, "computing KPIs", |m, id| m.kpi.request(id));
            }
            if model.screen == Screen::Campaigns && model.campaigns.pending.is_none() {
                return campaigns::refresh(model);
            }
            go(true)
        }
        Msg::Link(health) => {
            let was_stale = model.is_stale();
            model.link = health;
            go(was_stale != model.is_stale())
        }
        Msg::SourceEnded => {
            model.source_ended = true;
            go(true)
        }
        Msg::Db(reply) => cdr::reply(model, reply),
        Msg::App(reply) => campaigns::reply(model, reply),
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
            cdr::run_query,
        ),
        Mode::Command { text, .. } => line_key(
            model,
            ev,
            &k,
            keymap,
            text,
            |text, error| Mode::Command { text, error },
            campaigns::run_command,
        ),
        Mode::Confirm { name, status, .. } => {
            campaigns::confirm_key(model, &k, keymap, name, status)
        }
        Mode::Normal if model.screen == Screen::Live => {
            match keymap.action(&[Context::List, Context::Global], &k) {
                Some(action) => normal_action(model, action),
                None => go(false),
            }
        }
        Mode::Normal if model.screen == Screen::Campaigns => {
            match keymap.action(&[Context::Campaigns, Context::List, Context::Global], &k) {
                Some(action) => campaigns::action(model, action),
                None => go(false),
            }
        }
        Mode::Normal => {
            match keymap.action(&[Context::History, Context::List, Context::Global], &k) {
                Some(action) => cdr::action(model, action),
                None => go(false),
            }
        }
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

/// Rows a movement action moves by, with `page` rows to a page (0 for
/// other actions).
fn steps(action: Action, page: isize) -> isize {
    match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => 0,
    }
}

fn focused_height(model: &Model) -> usize {
    layout::areas(model.size, model)
        .pane(model.focus)
        .map(body_height)
        .unwrap_or(1)
}

fn move_by(model: &mut Model, delta: isize) {
    let pane = model.focus;
    let height = focused_height(model);
    let mut st = model.table(pane).clone();
    table::move_selection(&view::rows(model, pane), &mut st, delta, height);
    *model.table_mut(pane) = st;
}

/// Switches screens; a screen shown for the first time runs its query.
fn show(model: &mut Model, screen: Screen) -> Outcome {
    model.screen = screen;
    model.zoom = false;
    match screen {
        Screen::History if !model.history.started => {
            issue(model, "loading calls", |m, id| m.history.restart(id))
        }
        Screen::Kpi if model.kpi.computed_ms.is_none() && model.running.is_none() => {
            issue(model, "computing KPIs", |m, id| m.kpi.request(id))
        }
        Screen::Campaigns => campaigns::refresh(model),
        _ => go(true),
    }
}

fn normal_action(model: &mut Model, action: Action) -> Outcome {
    let page = focused_height(model).max(1) as isize;
    match action {
        Action::Quit => return Outcome::Quit,
        Action::Help => model.mode = Mode::Help { scroll: 0 },
        Action::ShowLive => return show(model, Screen::Live),
        Action::ShowHistory => return show(model, Screen::History),
        Action::ShowKpi => return show(model, Screen::Kpi),
        Action::ShowCampaigns => return show(model, Screen::Campaigns),
        Action::Command => {
            model.mode = Mode::Command {
                text: String::new(),
                error: None,
            }
        }
        Action::FocusNext => model.focus = model.focus.cycle(1),
        Action::FocusPrev => model.focus = model.focus.cycle(-1),
        Action::FocusExtensions => model.focus = PaneId::Extensions,
        Action::FocusQueues => model.focus = PaneId::Queues,
        Action::FocusCalls => model.focus = PaneId::Calls,
        Action::Filter => model.mode = Mode::Filter,
        Action::ClearFilter => {
            let st = model.table_mut(model.focus);
            if st.filter.is_empty() {
                return go(false);
            }
            st.filter.clear();
        }
        Action::Zoom => model.zoom = !model.zoom,
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => move_by(model, steps(action, page)),
        Action::SortNext => {
            let n = view::columns(model.focus).len();
            let st = model.table_mut(model.focus);
            st.sort = (st.sort + 1) % n;
        }
        Action::SortReverse => {
            let st = model.table_mut(model.focus);
            st.reverse = !st.reverse;
        }
        Action::Accept
        | Action::Cancel
        | Action::Close
        | Action::Expand
        | Action::Detail
        | Action::Export
        | Action::Refresh
        | Action::CancelQuery
        | Action::CampaignStart
        | Action::CampaignPause
        | Action::CampaignStop => return go(false),
    }
    go(true)
}

fn mouse(model: &mut Model, ev: MouseEvent) -> Outcome {
    if model.screen != Screen::Live {
        return cdr::mouse(model, ev);
    }
    let areas = layout::areas(model.size, model);
    let at = Position::new(ev.column, ev.row);
    let Some((pane, rect)) = areas.panes.iter().find(|(_, r)| r.contains(at)).copied() else {
        return go(false);
    };
    match ev.kind {
        MouseEventKind::ScrollUp => {
            model.focus = pane;
            move_by(model, -1);
        }
        MouseEventKind::ScrollDown => {
            model.focus = pane;
            move_by(model, 1);
        }
        MouseEventKind::Down(MouseButton::Left) => {
            model.focus = pane;
            // Row 0 is the border, row 1 the column header.
            let Some(line) = ev.row.checked_sub(rect.y + 2) else {
                return go(true);
            };
            let index = model.table(pane).offset + usize::from(line);
            let key = view::rows(model, pane)
                .get(index)
                .map(|r| r.key.to_string());
            if key.is_some() {
                model.table_mut(pane).selected = key;
            }
        }
        _ => return go(false),
    }
    go(true)
}
