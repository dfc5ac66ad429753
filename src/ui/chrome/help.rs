//! Help popup: every binding of the keymap, generated, so it cannot drift,
//! and the supervisor actions this user may take (none of them, and no
//! action key, for a user whose roles grant none).

use crate::ui::keymap::{Context, Keymap};
use crate::ui::supervise::SuperviseView;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The help text lines for `keymap`, and the actions of `acts`.
pub fn lines<'a>(keymap: &Keymap, theme: &Theme, acts: &SuperviseView) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let mut last = None;
    let may_act = !acts.rights.grants.is_empty();
    for (ctx, keys, desc) in keymap.entries() {
        if !may_act && matches!(ctx, Context::Live | Context::Menu) {
            continue;
        }
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
    if may_act {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            "[your actions]",
            theme.style(Item::Title),
        )));
        for g in &acts.rights.grants {
            let scope = g
                .queues
                .as_ref()
                .map_or("every queue you see".to_string(), |q| q.join(", "));
            out.push(Line::from(vec![
                Span::styled(
                    format!("  {:<22}", g.kind.name()),
                    theme.style(Item::FooterKey),
                ),
                Span::styled(scope, theme.style(Item::Text)),
            ]));
        }
        for u in acts.unavailable.iter().filter(|u| acts.rights.has(u.kind)) {
            out.push(Line::from(Span::styled(
                format!("  ✕ {}: {}", u.kind.name(), crate::sanitize::clean(&u.why)),
                theme.style(Item::ConnDown),
            )));
        }
        out.push(Line::from(Span::styled(
            format!(
                "  :{}",
                crate::supervise::command::USAGE.trim_start_matches("use :")
            ),
            theme.style(Item::Muted),
        )));
    }
    out
}

/// Draws the popup centred in `area`, scrolled by `scroll` lines.
pub fn draw(
    f: &mut Frame,
    area: Rect,
    (keymap, acts): (&Keymap, &SuperviseView),
    theme: &Theme,
    scroll: u16,
) {
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
        Paragraph::new(lines(keymap, theme, acts))
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block)
            .scroll((scroll, 0))
            .style(theme.style(Item::Text)),
        popup,
    );
}

/// A one-line yes/no question in a small popup.
pub fn question(f: &mut Frame, area: Rect, text: &str, theme: &Theme) {
    let text = crate::sanitize::clean(text).into_owned();
    // Wrapped: as many lines as the text needs at the popup's width.
    let inner = usize::from(area.width.clamp(3, 72) - 2);
    let lines = text.chars().count().div_ceil(inner).max(1);
    let height = u16::try_from(lines + 2).unwrap_or(u16::MAX);
    let popup = crate::ui::layout::popup(area, Constraint::Length(height), 72);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Item::BorderFocused))
        .title(Span::styled(" y / n ", theme.style(Item::Title)));
    f.render_widget(
        Paragraph::new(text)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block)
            .style(theme.style(Item::Text)),
        popup,
    );
}
