//! Footer: key hints generated from the keymap, or the filter being typed.

use crate::sanitize::clean;
use crate::ui::fit::{ALWAYS, Part, fit};
use crate::ui::keymap::{Action, Context, Keymap};
use crate::ui::model::{Mode, Model, Screen};
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the footer line.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, keymap: &Keymap, theme: &Theme) {
    let key = theme.style(Item::FooterKey);
    let text = theme.style(Item::Footer);
    let text_style = text;
    let filter = &model.table(model.focus).filter;
    let line = if let Mode::Command { text, error } = &model.mode {
        let mut spans = vec![
            Span::styled(" :", key),
            Span::styled(format!("{}█", clean(text)), theme.style(Item::Filter)),
        ];
        spans.push(match error {
            Some(e) => Span::styled(format!("  {}", clean(e)), theme.style(Item::ConnDown)),
            None => Span::styled(
                if crate::supervise::command::is_act(text) {
                    "  Enter run · Esc close · ? help lists the action commands"
                } else {
                    "  campaign start|pause|stop NAME · pause|unpause|hangup… · Enter run · Esc close"
                },
                text_style,
            ),
        });
        Line::from(spans)
    } else if let Mode::Query { text, error } = &model.mode {
        let mut spans = vec![
            Span::styled(" Query: ", key),
            Span::styled(format!("{}█", clean(text)), theme.style(Item::Filter)),
        ];
        match error {
            Some(e) => spans.push(Span::styled(
                format!("  {}", clean(e)),
                theme.style(Item::ConnDown),
            )),
            None => spans.push(Span::styled(
                "  today · 2026-11-01..2026-11-20 · src:X dst:X disp:no-answer pbx:X · text   Enter run · Esc close",
                text_style,
            )),
        }
        Line::from(spans)
    } else if model.mode == Mode::Filter {
        Line::from(vec![
            Span::styled(format!(" Filter {}: ", model.focus.title()), key),
            Span::styled(format!("{}█", clean(filter)), theme.style(Item::Filter)),
            Span::styled("  Enter keep · Esc clear", text),
        ])
    } else {
        use crate::ui::screens::{audit, campaigns, history, kpi, live};
        let hints: &[(Context, Action, &str)] = match model.screen {
            Screen::Live => &live::HINTS,
            Screen::History => &history::HINTS,
            Screen::Kpi => &kpi::HINTS,
            Screen::Campaigns => &campaigns::HINTS,
            Screen::Audit => &audit::HINTS,
        };
        // Quit and help survive any width; the rest go right to left.
        let mut parts = Vec::new();
        let n = hints.len();
        for (i, &(ctx, action, label)) in hints.iter().enumerate() {
            let priority = match action {
                Action::Quit => ALWAYS,
                Action::Help => ALWAYS - 1,
                _ => u8::try_from(n - i).unwrap_or(0),
            };
            if let Some(k) = keymap.keys(ctx, action).first() {
                parts.push(Part::group(
                    priority,
                    vec![
                        Span::styled(format!(" {}", k.label()), key),
                        Span::styled(format!(" {label} "), text),
                    ],
                ));
            }
        }
        if model.screen == Screen::Live && !filter.is_empty() {
            parts.push(Part::new(
                ALWAYS - 2,
                Span::styled(format!(" /{} ", clean(filter)), theme.style(Item::Filter)),
            ));
        }
        fit(parts, area.width)
    };
    f.render_widget(Paragraph::new(line).style(text), area);
}
