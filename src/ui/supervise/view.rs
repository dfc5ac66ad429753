//! Draws the action menu: a popup over the screen, titled with its
//! target, the item under the cursor highlighted, greyed items with why
//! on the last line.

use super::state::Menu;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Draws `menu` centred in `area`.
pub fn draw(f: &mut Frame, area: Rect, menu: &Menu, theme: &Theme) {
    let why = menu
        .items
        .get(menu.selected)
        .and_then(|i| i.blocked.as_deref());
    let extra = if why.is_some() { 3 } else { 0 };
    let rows = u16::try_from(menu.items.len()).unwrap_or(u16::MAX);
    let height = rows.saturating_add(2 + extra).min(area.height);
    let popup = crate::ui::layout::popup(area, Constraint::Length(height), 64);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Item::BorderFocused))
        .title(Span::styled(
            format!(" {} ", crate::sanitize::clean(&menu.title)),
            theme.style(Item::Title),
        ));
    // Keep the cursor in view when the list is taller than the popup.
    let shown = usize::from(height.saturating_sub(2 + extra));
    let first = menu.selected.saturating_sub(shown.saturating_sub(1));
    let mut lines: Vec<Line> = menu
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(shown)
        .map(|(i, item)| {
            let style = match (i == menu.selected, item.blocked.is_some()) {
                (true, _) => theme.style(Item::Selected),
                (false, true) => theme.style(Item::Muted),
                (false, false) => theme.style(Item::Text),
            };
            let mark = if item.blocked.is_some() { "✕ " } else { "  " };
            Line::from(Span::styled(
                format!("{mark}{}", crate::sanitize::clean(&item.label)),
                style,
            ))
        })
        .collect();
    if let Some(why) = why {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            crate::sanitize::clean(why).into_owned(),
            theme.style(Item::ConnDown),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
