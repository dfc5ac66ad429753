//! Themes: a style per item, from TOML.
//!
//! ```toml
//! inherits = "dark"            # optional
//! [items]
//! "state.ringing" = { fg = "#ffcc00", bold = true }
//! ```
//!
//! Colours are names (`red`, `lightblue`), `#rrggbb` or 0-255 indexes.
//! Built-in themes (`themes/*.toml`) are embedded; `<config>/themes/<name>.toml`
//! overrides or adds one. Terminals without true colour get the nearest of
//! the 256 palette colours; `NO_COLOR` drops colour and keeps emphasis
//! (reverse for the selection, bold/reverse for warnings).

use ratatui::style::{Color, Modifier, Style};
use std::fmt::Write as _;
use thiserror::Error;

/// Every styled thing on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// Ordinary text.
    Text,
    /// Secondary text (devices, hints).
    Muted,
    /// The header line.
    Header,
    /// The stale marker while resyncing or down.
    Stale,
    /// Pane borders.
    Border,
    /// The focused pane's border.
    BorderFocused,
    /// Pane titles.
    Title,
    /// The selected row.
    Selected,
    /// Table column headers.
    TableHeader,
    /// The footer line.
    Footer,
    /// Key names in the footer and help.
    FooterKey,
    /// Extension Idle.
    StateIdle,
    /// Extension Ringing.
    StateRinging,
    /// Extension In call.
    StateInCall,
    /// Extension On hold.
    StateOnHold,
    /// Extension Busy.
    StateBusy,
    /// Extension Paused.
    StatePaused,
    /// Extension Offline.
    StateOffline,
    /// Extension Unknown.
    StateUnknown,
    /// Time in state past the warning threshold.
    RampWarn,
    /// Time in state past the critical threshold.
    RampCrit,
    /// Queue health OK.
    HealthOk,
    /// Queue health Warn.
    HealthWarn,
    /// Queue health Critical.
    HealthCritical,
    /// Connection Ready.
    ConnReady,
    /// Connection Connecting/Resyncing.
    ConnResyncing,
    /// Connection Down.
    ConnDown,
    /// The filter input line.
    Filter,
}

/// `(item, name in files, description)`: one list for parsing, docs and
/// `--print-theme-items`.
const ITEMS: &[(Item, &str, &str)] = &[
    (Item::Text, "text", "Ordinary text"),
    (
        Item::Muted,
        "muted",
        "Secondary text: devices, channel names",
    ),
    (
        Item::Header,
        "header",
        "The header line with headline figures",
    ),
    (
        Item::Stale,
        "stale",
        "STALE marker while resyncing or disconnected",
    ),
    (Item::Border, "border", "Pane borders"),
    (
        Item::BorderFocused,
        "border.focused",
        "Border of the focused pane",
    ),
    (Item::Title, "title", "Pane titles"),
    (Item::Selected, "selected", "The selected row"),
    (Item::TableHeader, "table.header", "Column headers"),
    (Item::Footer, "footer", "The footer line with key hints"),
    (
        Item::FooterKey,
        "footer.key",
        "Key names in the footer and help",
    ),
    (Item::StateIdle, "state.idle", "Extension idle"),
    (Item::StateRinging, "state.ringing", "Extension ringing"),
    (Item::StateInCall, "state.in_call", "Extension in a call"),
    (
        Item::StateOnHold,
        "state.on_hold",
        "Extension holding a call",
    ),
    (Item::StateBusy, "state.busy", "Extension busy"),
    (
        Item::StatePaused,
        "state.paused",
        "Extension paused in a queue",
    ),
    (
        Item::StateOffline,
        "state.offline",
        "Extension offline (unregistered)",
    ),
    (
        Item::StateUnknown,
        "state.unknown",
        "Extension state unknown",
    ),
    (
        Item::RampWarn,
        "ramp.warn",
        "Time in state past its warning threshold",
    ),
    (
        Item::RampCrit,
        "ramp.crit",
        "Time in state past its critical threshold",
    ),
    (Item::HealthOk, "health.ok", "Queue health OK"),
    (Item::HealthWarn, "health.warn", "Queue health warning"),
    (
        Item::HealthCritical,
        "health.critical",
        "Queue health critical",
    ),
    (Item::ConnReady, "conn.ready", "Connection state: ready"),
    (
        Item::ConnResyncing,
        "conn.resyncing",
        "Connection state: connecting or resyncing",
    ),
    (Item::ConnDown, "conn.down", "Connection state: down"),
    (Item::Filter, "filter", "The filter input line"),
];

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit colour (`COLORTERM=truecolor` or `24bit`).
    TrueColor,
    /// The 256-colour palette.
    Ansi256,
    /// No colour (`NO_COLOR` set): emphasis only.
    Mono,
}

impl ColorMode {
    /// From the environment: `NO_COLOR` (non-empty) wins, then `COLORTERM`.
    pub fn detect() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            ColorMode::Mono
        } else if std::env::var("COLORTERM").is_ok_and(|v| v == "truecolor" || v == "24bit") {
            ColorMode::TrueColor
        } else {
            ColorMode::Ansi256
        }
    }
}

/// Why a theme did not load.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ThemeError {
    /// No built-in theme and no user file of that name.
    #[error(
        "theme `{0}` not found: built-in themes are dark, light and high-contrast; or add <config>/themes/{0}.toml"
    )]
    NotFound(String),
    /// Bad TOML or a bad item/value; the message names it.
    #[error("theme `{name}`: {message}")]
    Invalid {
        /// Theme name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// A loaded theme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// Theme name.
    pub name: String,
    /// Colour mode the styles were resolved for.
    pub mode: ColorMode,
    styles: Vec<Style>,
}

fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "dark" => Some(include_str!("../../themes/dark.toml")),
        "light" => Some(include_str!("../../themes/light.toml")),
        "high-contrast" => Some(include_str!("../../themes/high-contrast.toml")),
        _ => None,
    }
}

impl Theme {
    /// Loads `name` for the terminal's colour mode: the user's file if there
    /// is one, else the built-in.
    pub fn load(name: &str) -> Result<Self, ThemeError> {
        let text = crate::config::paths::user_or_builtin("themes", name, builtin)
            .map_err(|message| ThemeError::Invalid {
                name: name.to_string(),
                message,
            })?
            .ok_or_else(|| ThemeError::NotFound(name.to_string()))?;
        Self::parse(name, &text, ColorMode::detect())
    }

    /// A built-in theme for a given mode (snapshot tests, benchmarks).
    pub fn builtin(name: &str, mode: ColorMode) -> Result<Self, ThemeError> {
        Self::parse(
            name,
            builtin(name).ok_or_else(|| ThemeError::NotFound(name.to_string()))?,
            mode,
        )
    }

    /// Parses theme TOML for `mode`.
    pub fn parse(name: &str, text: &str, mode: ColorMode) -> Result<Self, ThemeError> {
        let mut styles = vec![Style::default(); ITEMS.len()];
        Self::fill(name, text, &mut styles, 0)?;
        let styles = styles
            .into_iter()
            .zip(ITEMS)
            .map(|(s, (item, _, _))| adapt(s, *item, mode))
            .collect();
        Ok(Theme {
            name: name.to_string(),
            mode,
            styles,
        })
    }

    fn fill(name: &str, text: &str, styles: &mut [Style], depth: u8) -> Result<(), ThemeError> {
        let invalid = |message: String| ThemeError::Invalid {
            name: name.to_string(),
            message,
        };
        let table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_string()))?;
        if let Some(parent) = table.get("inherits") {
            let parent = parent.as_str().unwrap_or("");
            let parent_text = builtin(parent)
                .filter(|_| depth < 4)
                .ok_or_else(|| invalid(format!("inherits unknown built-in theme `{parent}`")))?;
            Self::fill(parent, parent_text, styles, depth + 1)?;
        }
        for key in table.keys() {
            if key != "inherits" && key != "items" {
                return Err(invalid(format!(
                    "unknown key `{key}`; a theme has `inherits` and [items]"
                )));
            }
        }
        let Some(items) = table.get("items") else {
            return Ok(());
        };
        let items = items
            .as_table()
            .ok_or_else(|| invalid("[items] must be a table".into()))?;
        for (item_name, spec) in items {
            let index = ITEMS
                .iter()
                .position(|(_, n, _)| n == item_name)
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown item `{item_name}` (see --print-theme-items)"
                    ))
                })?;
            styles[index] =
                parse_style(spec).map_err(|m| invalid(format!("item `{item_name}`: {m}")))?;
        }
        Ok(())
    }

    /// The style of `item`.
    pub fn style(&self, item: Item) -> Style {
        // ITEMS lists the items in declaration order (checked by a test), so
        // the discriminant is the index: this runs for every cell drawn.
        self.styles.get(item as usize).copied().unwrap_or_default()
    }

    /// Text for `--print-theme-items`: every item, its description and value.
    pub fn describe(&self) -> String {
        let mut out = format!("# theme: {} ({:?})\n", self.name, self.mode);
        for ((_, name, desc), style) in ITEMS.iter().zip(&self.styles) {
            let _ = writeln!(out, "{name:<16} {desc:<46} {}", style_text(style));
        }
        out
    }
}

fn style_text(s: &Style) -> String {
    let mut parts = Vec::new();
    if let Some(fg) = s.fg {
        parts.push(format!("fg={fg}"));
    }
    if let Some(bg) = s.bg {
        parts.push(format!("bg={bg}"));
    }
    if !s.add_modifier.is_empty() {
        parts.push(format!("{:?}", s.add_modifier));
    }
    parts.join(" ")
}

fn parse_style(spec: &toml::Value) -> Result<Style, String> {
    let table = spec
        .as_table()
        .ok_or("must be a table like { fg = \"red\", bold = true }")?;
    let mut style = Style::default();
    for (k, v) in table {
        match k.as_str() {
            "fg" | "bg" => {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    _ => return Err(format!("{k} must be a colour name, #rrggbb or 0-255")),
                };
                let color: Color = s.parse().map_err(|_| format!("`{s}` is not a colour"))?;
                style = if k == "fg" {
                    style.fg(color)
                } else {
                    style.bg(color)
                };
            }
            m => {
                let modifier = match m {
                    "bold" => Modifier::BOLD,
                    "dim" => Modifier::DIM,
                    "italic" => Modifier::ITALIC,
                    "underlined" => Modifier::UNDERLINED,
                    "reversed" => Modifier::REVERSED,
                    _ => {
                        return Err(format!(
                            "unknown attribute `{m}` (fg, bg, bold, dim, italic, underlined, reversed)"
                        ));
                    }
                };
                if v.as_bool().ok_or(format!("{m} must be true or false"))? {
                    style = style.add_modifier(modifier);
                }
            }
        }
    }
    Ok(style)
}

fn adapt(style: Style, item: Item, mode: ColorMode) -> Style {
    match mode {
        ColorMode::TrueColor => style,
        ColorMode::Ansi256 => Style {
            fg: style.fg.map(to_256),
            bg: style.bg.map(to_256),
            ..style
        },
        ColorMode::Mono => {
            let base = Style::default().add_modifier(style.add_modifier);
            match item {
                Item::Selected
                | Item::RampCrit
                | Item::HealthCritical
                | Item::ConnDown
                | Item::Stale => base.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                Item::BorderFocused
                | Item::RampWarn
                | Item::HealthWarn
                | Item::Title
                | Item::TableHeader => base.add_modifier(Modifier::BOLD),
                _ => base,
            }
        }
    }
}

/// Nearest 256-palette colour for an RGB colour; other colours unchanged.
pub fn to_256(c: Color) -> Color {
    let Color::Rgb(r, g, b) = c else {
        return c;
    };
    let cube = |v: u8| -> u8 { ((u16::from(v) * 5 + 127) / 255) as u8 };
    let level = |i: u8| -> u8 { if i == 0 { 0 } else { 55 + i * 40 } };
    let (cr, cg, cb) = (cube(r), cube(g), cube(b));
    let cube_rgb = (level(cr), level(cg), level(cb));
    let gray_avg = ((u16::from(r) + u16::from(g) + u16::from(b)) / 3) as u8;
    let gray_i = if gray_avg < 8 {
        0
    } else {
        ((gray_avg - 8) / 10).min(23)
    };
    let gray_v = 8 + gray_i * 10;
    let dist = |(x, y, z): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if dist((gray_v, gray_v, gray_v)) < dist(cube_rgb) {
        Color::Indexed(232 + gray_i)
    } else {
        Color::Indexed(16 + 36 * cr + 6 * cg + cb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_define_every_item() {
        for name in ["dark", "light", "high-contrast"] {
            let t = Theme::builtin(name, ColorMode::TrueColor);
            assert!(t.is_ok(), "{name}: {t:?}");
            let described = t.map(|t| t.describe()).unwrap_or_default();
            for (_, item, _) in ITEMS {
                assert!(described.contains(item), "{name} lacks {item}");
            }
        }
    }

    #[test]
    fn items_are_listed_in_declaration_order() {
        for (i, (item, name, _)) in ITEMS.iter().enumerate() {
            assert_eq!(*item as usize, i, "{name} is out of place in ITEMS");
        }
    }

    #[test]
    fn bad_items_are_named() {
        let e = Theme::parse(
            "t",
            "[items]\n\"state.ringin\" = { fg = \"red\" }\n",
            ColorMode::TrueColor,
        );
        assert!(
            e.err()
                .is_some_and(|e| e.to_string().contains("state.ringin"))
        );
        let e = Theme::parse(
            "t",
            "[items]\ntext = { fg = \"nocolour\" }\n",
            ColorMode::TrueColor,
        );
        assert!(e.err().is_some_and(|e| e.to_string().contains("nocolour")));
    }

    #[test]
    fn fallback_and_mono() {
        assert_eq!(to_256(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(to_256(Color::Rgb(128, 128, 128)), Color::Indexed(244));
        let t = Theme::builtin("dark", ColorMode::Mono).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.style(Item::StateRinging).fg, None);
        assert!(
            t.style(Item::Selected)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        let t = Theme::builtin("dark", ColorMode::Ansi256).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            t.style(Item::StateRinging).fg,
            Some(Color::Indexed(_))
        ));
    }
}
