//! Footer: key hints generated from the keymap, or the filter being typed.

use crate::ui::keymap::{Action, Context, Keymap};
use crate::ui::model::{Mode, Model};
use crate::ui::sanitize::clean;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const HINTS: [(Context, Action, &str); 7] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::FocusNext, "pane"),
    (Context::Global, Action::Filter, "filter"),
    (Context::List, Action::SortNext, "sort"),
    (Context::List, Action::SortReverse, "reverse"),
    (Context::Global, Action::Zoom, "zoom"),
    (Context::Global, Action::Quit, "quit"),
];

/// Draws the footer line.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, keymap: &Keymap, theme: &Theme) {
    let key = theme.style(Item::FooterKey);
    let text = theme.style(Item::Footer);
    let filter = &model.table(model.focus).filter;
    let line = if model.mode == Mode::Filter {
        Line::from(vec![
            Span::styled(format!(" Filter {}: ", model.focus.title()), key),
            Span::styled(format!("{}█", clean(filter)), theme.style(Item::Filter)),
            Span::styled("  Enter keep · Esc clear", text),
        ])
    } else {
        let mut spans = Vec::new();
        for (ctx, action, label) in HINTS {
            if let Some(k) = keymap.keys(ctx, action).first() {
                spans.push(Span::styled(format!(" {}", k.label()), key));
                spans.push(Span::styled(format!(" {label} "), text));
            }
        }
        if !filter.is_empty() {
            spans.push(Span::styled(
                format!(" /{} ", clean(filter)),
                theme.style(Item::Filter),
            ));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line).style(text), area);
}
