//! Key bindings, per context, from TOML.
//!
//! A keymap file has one table per context; each key of a table is an action
//! and its value the list of keys bound to it:
//!
//! ```toml
//! inherits = "default"        # optional: start from another keymap
//! [list]
//! down = ["j", "down"]
//! ```
//!
//! Built-in keymaps (`keymaps/*.toml`) are embedded in the binary; a file
//! `<config>/keymaps/<name>.toml` overrides or adds one. A key bound twice
//! where both bindings are active at once is a load error naming the key and
//! the context, as is an unknown context, action or key name.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use thiserror::Error;

/// Where a binding applies. Normal mode looks up `List` then `Global`; on the
/// History and KPI screens `History` comes first and may take a key from
/// `Global` (Enter opens a call's detail there instead of zooming). The
/// filter line and the popups are modal and use only their own context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere in normal mode.
    Global,
    /// Moving in the focused pane's list.
    List,
    /// The History and KPI screens.
    History,
    /// The Campaigns screen.
    Campaigns,
    /// The Live screen (before `list` and `global` there).
    Live,
    /// The action menu.
    Menu,
    /// A yes/no question.
    Confirm,
    /// While typing a filter.
    Filter,
    /// While the help popup is open.
    Help,
}

impl Context {
    const ALL: [Context; 9] = [
        Context::Global,
        Context::List,
        Context::History,
        Context::Campaigns,
        Context::Live,
        Context::Menu,
        Context::Confirm,
        Context::Filter,
        Context::Help,
    ];

    /// Table name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::History => "history",
            Context::Campaigns => "campaigns",
            Context::Live => "live",
            Context::Menu => "menu",
            Context::Confirm => "confirm",
            Context::Filter => "filter",
            Context::Help => "help",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Everything a key can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Leave the console.
    Quit,
    /// Open the help popup.
    Help,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Focus Extensions.
    FocusExtensions,
    /// Focus Queues.
    FocusQueues,
    /// Focus Calls.
    FocusCalls,
    /// The live screen (queues, extensions, calls).
    ShowLive,
    /// The CDR history screen.
    ShowHistory,
    /// The KPI screen.
    ShowKpi,
    /// Show or hide the selected call's legs.
    Expand,
    /// Every column of the selected leg, and the recording file.
    Detail,
    /// Export what the screen shows to a CSV file.
    Export,
    /// Run the screen's query again.
    Refresh,
    /// Cancel the running query.
    CancelQuery,
    /// The Campaigns screen.
    ShowCampaigns,
    /// The Audit screen.
    ShowAudit,
    /// Type a command (`:campaign start NAME`).
    Command,
    /// Start (or resume) the selected campaign.
    CampaignStart,
    /// Pause the selected campaign.
    CampaignPause,
    /// Stop the selected campaign (asks first).
    CampaignStop,
    /// Type a fuzzy filter for the focused pane.
    Filter,
    /// Clear the focused pane's filter.
    ClearFilter,
    /// Give the focused pane the whole screen, or back.
    Zoom,
    /// The action menu on the selected row (pause, hang up…).
    Actions,
    /// Selection up one row.
    Up,
    /// Selection down one row.
    Down,
    /// Selection up one page.
    PageUp,
    /// Selection down one page.
    PageDown,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// Sort by the next column.
    SortNext,
    /// Reverse the sort order.
    SortReverse,
    /// Keep the typed filter.
    Accept,
    /// Drop the typed filter.
    Cancel,
    /// Close the popup.
    Close,
}

/// `(context, action, name in files, description)`: the single list that the
/// parser, `--print-keymap`, the help popup and the footer all read.
const ACTIONS: &[(Context, Action, &str, &str)] = &[
    (Context::Global, Action::Quit, "quit", "Quit switchboard"),
    (Context::Global, Action::Help, "help", "Show key bindings"),
    (
        Context::Global,
        Action::FocusNext,
        "focus_next",
        "Next pane",
    ),
    (
        Context::Global,
        Action::FocusPrev,
        "focus_prev",
        "Previous pane",
    ),
    (
        Context::Global,
        Action::FocusExtensions,
        "focus_extensions",
        "Extensions pane",
    ),
    (
        Context::Global,
        Action::FocusQueues,
        "focus_queues",
        "Queues pane",
    ),
    (
        Context::Global,
        Action::FocusCalls,
        "focus_calls",
        "Calls pane",
    ),
    (
        Context::Global,
        Action::ShowLive,
        "show_live",
        "Live screen",
    ),
    (
        Context::Global,
        Action::ShowHistory,
        "show_history",
        "History screen",
    ),
    (Context::Global, Action::ShowKpi, "show_kpi", "KPI screen"),
    (
        Context::Global,
        Action::ShowCampaigns,
        "show_campaigns",
        "Campaigns screen",
    ),
    (
        Context::Global,
        Action::ShowAudit,
        "show_audit",
        "Audit screen (actions taken)",
    ),
    (
        Context::Global,
        Action::Command,
        "command",
        "Command line (:campaign start NAME)",
    ),
    (
        Context::Global,
        Action::Filter,
        "filter",
        "Filter (fuzzy), or edit the query",
    ),
    (
        Context::Global,
        Action::ClearFilter,
        "clear_filter",
        "Clear the filter",
    ),
    (Context::Global, Action::Zoom, "zoom", "Zoom the pane"),
    (Context::List, Action::Up, "up", "Up"),
    (Context::List, Action::Down, "down", "Down"),
    (Context::List, Action::PageUp, "page_up", "Page up"),
    (Context::List, Action::PageDown, "page_down", "Page down"),
    (Context::List, Action::Top, "top", "First row"),
    (Context::List, Action::Bottom, "bottom", "Last row"),
    (
        Context::List,
        Action::SortNext,
        "sort_next",
        "Sort by next column",
    ),
    (
        Context::List,
        Action::SortReverse,
        "sort_reverse",
        "Reverse sort",
    ),
    (
        Context::History,
        Action::Expand,
        "expand",
        "Show or hide a call's legs",
    ),
    (
        Context::History,
        Action::Detail,
        "detail",
        "Every column of the selected leg",
    ),
    (Context::History, Action::Export, "export", "Export to CSV"),
    (Context::History, Action::Refresh, "refresh", "Run again"),
    (
        Context::History,
        Action::CancelQuery,
        "cancel_query",
        "Cancel the running query",
    ),
    (
        Context::Campaigns,
        Action::CampaignStart,
        "start",
        "Start the campaign",
    ),
    (
        Context::Campaigns,
        Action::CampaignPause,
        "pause",
        "Pause it (live calls go on)",
    ),
    (
        Context::Campaigns,
        Action::CampaignStop,
        "stop",
        "Stop it (asks; live calls hung up)",
    ),
    (
        Context::Live,
        Action::Actions,
        "actions",
        "Actions on the selected row (pause, transfer, hang up…)",
    ),
    (Context::Menu, Action::Up, "up", "Previous action"),
    (Context::Menu, Action::Down, "down", "Next action"),
    (Context::Menu, Action::Accept, "choose", "Run the action"),
    (Context::Menu, Action::Cancel, "close", "Close the menu"),
    (Context::Confirm, Action::Accept, "yes", "Yes"),
    (Context::Confirm, Action::Cancel, "no", "No"),
    (Context::Filter, Action::Accept, "accept", "Keep the filter"),
    (Context::Filter, Action::Cancel, "cancel", "Clear and close"),
    (
        Context::Help,
        Action::Close,
        "close",
        "Close help or detail",
    ),
    (Context::Help, Action::Up, "up", "Scroll up"),
    (Context::Help, Action::Down, "down", "Scroll down"),
];

/// Why a keymap did not load.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeymapError {
    /// No built-in keymap and no user file of that name.
    #[error(
        "keymap `{0}` not found: built-in keymaps are default and vim; or add <config>/keymaps/{0}.toml"
    )]
    NotFound(String),
    /// Bad TOML or a bad value; the message names the place.
    #[error("keymap `{name}`: {message}")]
    Invalid {
        /// Keymap name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// A key as the keymap sees it: code plus modifiers, Shift folded into the
/// character for printable keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

impl Key {
    /// Normalises a terminal key event.
    pub fn from_event(ev: &KeyEvent) -> Self {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `q`, `G`, `ctrl-c`, `alt-x`, `enter`, `esc`, `tab`, `backtab`,
    /// `space`, `up`, `pageup`, `home`, `f1`...
    pub fn parse(s: &str) -> Option<Self> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().ok()?)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }

    /// Short label for the footer and help (`ctrl-c`, `PgDn`, `?`).
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "S-Tab".to_string(),
            KeyCode::Backspace => "Bksp".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".to_string(),
        };
        let mut out = String::new();
        if self.ctrl {
            out.push_str("ctrl-");
        }
        if self.alt {
            out.push_str("alt-");
        }
        out + &base
    }
}

/// A loaded keymap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    /// Keymap name.
    pub name: String,
    bindings: BTreeMap<(Context, Action), Vec<Key>>,
}

fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../keymaps/default.toml")),
        "vim" => Some(include_str!("../../keymaps/vim.toml")),
        _ => None,
    }
}

impl Keymap {
    /// Loads `name`: the user's file if there is one, else the built-in.
    pub fn load(name: &str) -> Result<Self, KeymapError> {
        let text = crate::config::paths::user_or_builtin("keymaps", name, builtin)
            .map_err(|message| KeymapError::Invalid {
                name: name.to_string(),
                message,
            })?
            .ok_or_else(|| KeymapError::NotFound(name.to_string()))?;
        Self::parse(name, &text, 0)
    }

    /// Parses keymap TOML. `depth` guards against inheritance loops.
    pub fn parse(name: &str, text: &str, depth: u8) -> Result<Self, KeymapError> {
        let invalid = |message: String| KeymapError::Invalid {
            name: name.to_string(),
            message,
        };
        let table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_string()))?;
        let mut map = match table.get("inherits") {
            Some(toml::Value::String(parent)) if depth < 4 => {
                let parent_text = builtin(parent).ok_or_else(|| {
                    invalid(format!("inherits unknown built-in keymap `{parent}`"))
                })?;
                Keymap::parse(parent, parent_text, depth + 1)?.bindings
            }
            Some(_) => return Err(invalid("`inherits` must name a built-in keymap".into())),
            None => BTreeMap::new(),
        };
        for (ctx_name, value) in &table {
            if ctx_name == "inherits" {
                continue;
            }
            let ctx = Context::from_name(ctx_name).ok_or_else(|| {
                invalid(format!(
                    "unknown context [{ctx_name}]; contexts are global, list, history, campaigns, live, menu, confirm, filter, help"
                ))
            })?;
            let actions = value
                .as_table()
                .ok_or_else(|| invalid(format!("[{ctx_name}] must be a table")))?;
            for (action_name, keys) in actions {
                let action = ACTIONS
                    .iter()
                    .find(|(c, _, n, _)| *c == ctx && n == action_name)
                    .map(|(_, a, _, _)| *a)
                    .ok_or_else(|| {
                        invalid(format!("unknown action `{action_name}` in [{ctx_name}]"))
                    })?;
                let list = keys.as_array().ok_or_else(|| {
                    invalid(format!("[{ctx_name}] {action_name} must be a list of keys"))
                })?;
                let mut parsed = Vec::new();
                for k in list {
                    let s = k.as_str().unwrap_or("");
                    parsed.push(Key::parse(s).ok_or_else(|| {
                        invalid(format!(
                            "unknown key `{s}` for {action_name} in [{ctx_name}]"
                        ))
                    })?);
                }
                map.insert((ctx, action), parsed);
            }
        }
        let keymap = Keymap {
            name: name.to_string(),
            bindings: map,
        };
        keymap.check_duplicates().map_err(invalid)?;
        Ok(keymap)
    }

    /// A key may do one thing per mode: normal mode is `global` + `list`,
    /// and `history` (or `campaigns`) + `list` on those screens, where the
    /// screen's context comes before `global`.
    fn check_duplicates(&self) -> Result<(), String> {
        let groups: [&[Context]; 8] = [
            &[Context::Global, Context::List],
            &[Context::Global, Context::List, Context::Live],
            &[Context::Menu],
            &[Context::History, Context::List],
            &[Context::Campaigns, Context::List],
            &[Context::Confirm],
            &[Context::Filter],
            &[Context::Help],
        ];
        for group in groups {
            let mut seen: HashMap<Key, (Context, Action)> = HashMap::new();
            for ((ctx, action), keys) in
                self.bindings.iter().filter(|((c, _), _)| group.contains(c))
            {
                for key in keys {
                    if let Some((other_ctx, other)) = seen.insert(*key, (*ctx, *action)) {
                        return Err(format!(
                            "duplicate key binding `{}` in [{}]: `{}` and `{}`{}",
                            key.label(),
                            ctx.name(),
                            action_name(other_ctx, other),
                            action_name(*ctx, *action),
                            if other_ctx != *ctx {
                                format!(" (from [{}])", other_ctx.name())
                            } else {
                                String::new()
                            }
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The action bound to `key`, searching `contexts` in order.
    pub fn action(&self, contexts: &[Context], key: &Key) -> Option<Action> {
        contexts.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .find(|((c, _), keys)| c == ctx && keys.contains(key))
                .map(|((_, a), _)| *a)
        })
    }

    /// Keys bound to `action` in `ctx`.
    pub fn keys(&self, ctx: Context, action: Action) -> &[Key] {
        self.bindings
            .get(&(ctx, action))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// `(context, keys label, description)` of every bound action, in the
    /// canonical order: what help and `--print-keymap` show.
    pub fn entries(&self) -> Vec<(Context, String, &'static str)> {
        ACTIONS
            .iter()
            .filter_map(|(ctx, action, _, desc)| {
                let keys = self.keys(*ctx, *action);
                (!keys.is_empty()).then(|| {
                    let label = keys.iter().map(Key::label).collect::<Vec<_>>().join(", ");
                    (*ctx, label, *desc)
                })
            })
            .collect()
    }

    /// Text for `--print-keymap`.
    pub fn describe(&self) -> String {
        let mut out = format!("# keymap: {}\n", self.name);
        let mut last = None;
        for (ctx, keys, desc) in self.entries() {
            if last != Some(ctx) {
                let _ = writeln!(out, "\n[{}]", ctx.name());
                last = Some(ctx);
            }
            let _ = writeln!(out, "  {keys:<18} {desc}");
        }
        out
    }
}

fn action_name(ctx: Context, action: Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|(c, a, _, _)| *c == ctx && *a == action)
        .map(|(_, _, n, _)| *n)
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        for name in ["default", "vim"] {
            let k = Keymap::parse(name, builtin(name).unwrap_or(""), 0);
            assert!(k.is_ok(), "{name}: {k:?}");
        }
    }

    #[test]
    fn duplicate_binding_names_key_and_context() {
        let err = Keymap::parse("t", "[list]\nup = [\"k\"]\nsort_next = [\"k\"]\n", 0)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("keymap `t`: duplicate key binding `k` in [list]: `up` and `sort_next`")
        );
        let across = Keymap::parse("t", "[global]\nquit = [\"j\"]\n[list]\ndown = [\"j\"]\n", 0)
            .err()
            .map(|e| e.to_string());
        assert!(across.is_some_and(|e| e.contains("`j`") && e.contains("(from [global])")));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(Keymap::parse("t", "[lists]\nup = [\"k\"]\n", 0).is_err());
        assert!(Keymap::parse("t", "[list]\nupp = [\"k\"]\n", 0).is_err());
        assert!(Keymap::parse("t", "[list]\nup = [\"hyper-k\"]\n", 0).is_err());
    }

    #[test]
    fn vim_inherits_and_adds() -> Result<(), KeymapError> {
        let k = Keymap::parse("vim", builtin("vim").unwrap_or(""), 0)?;
        let j = Key::parse("j").ok_or(KeymapError::NotFound("j".into()))?;
        let down = Key::parse("down").ok_or(KeymapError::NotFound("down".into()))?;
        assert_eq!(
            k.action(&[Context::List, Context::Global], &j),
            Some(Action::Down)
        );
        assert_eq!(
            k.action(&[Context::List, Context::Global], &down),
            Some(Action::Down)
        );
        Ok(())
    }

    #[test]
    fn shifted_letters_match_their_uppercase() {
        let ev = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(Some(Key::from_event(&ev)), Key::parse("S"));
    }
}
