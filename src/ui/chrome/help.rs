//! Help popup: every binding of the keymap, generated, so it cannot drift.

use crate::ui::keymap::Keymap;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The help text lines for `keymap`.
pub fn lines<'a>(keymap: &Keymap, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let mut last = None;
    for (ctx, keys, desc) in keymap.entries() {
        if last != Some(ctx) {
            if last.is_some() {
                out.push(Line::from(""));
            }
            out.push(Line::from(Span::styled(
                format!("[{}]", ctx.name()),
                theme.style(Item::Title),
            )));
            last = Some(ctx);
        }
        out.push(Line::from(vec![
            Span::styled(format!("  {keys:<22}"), theme.style(Item::FooterKey)),
            Span::styled(desc.to_string(), theme.style(Item::Text)),
        ]));
    }
    out
}

/// Draws the popup centred in `area`, scrolled by `scroll` lines.
pub fn draw(f: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, scroll: u16) {
    let popup = crate::ui::layout::popup(area, Constraint::Percentage(80), 64);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Item::BorderFocused))
        .title(Span::styled(
            format!(" Keys: {} ", keymap.name),
            theme.style(Item::Title),
        ));
    f.render_widget(
        Paragraph::new(lines(keymap, theme))
            .block(block)
            .scroll((scroll, 0))
            .style(theme.style(Item::Text)),
        popup,
    );
}

/// A one-line yes/no question in a small popup.
pub fn question(f: &mut Frame, area: Rect, text: &str, theme: &Theme) {
    let popup = crate::ui::layout::popup(area, Constraint::Length(3), 72);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Item::BorderFocused))
        .title(Span::styled(" y / n ", theme.style(Item::Title)));
    f.render_widget(
        Paragraph::new(crate::sanitize::clean(text).into_owned())
            .block(block)
            .style(theme.style(Item::Text)),
        popup,
    );
}
