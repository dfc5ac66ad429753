//! Detail popup of the History screen: every column of the selected leg (or
//! of each leg of the selected call), and the recording file.

use super::state::HistoryView;
use crate::cdr::columns::Field;
use crate::cdr::history::Call;
use crate::cdr::record::CdrRecord;
use crate::endpoints::ExtensionRule;
use crate::sanitize::clean;
use crate::ui::format::duration;
use crate::ui::model::Model;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn leg_lines(leg: &CdrRecord, n: usize, theme: &Theme, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(Span::styled(
        format!("leg {n}"),
        theme.style(Item::Title),
    )));
    for field in Field::ALL {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<14}", field.name()), theme.style(Item::Muted)),
            Span::styled(
                clean(&leg.text(field)).into_owned(),
                theme.style(Item::Text),
            ),
        ]));
    }
}

/// The popup's lines for the selected line of `h`.
pub fn lines(h: &HistoryView, rule: &ExtensionRule, theme: &Theme) -> Vec<Line<'static>> {
    let Some(line) = h.selected_line() else {
        return Vec::new();
    };
    let Some(call) = h.list.calls.get(line.call) else {
        return Vec::new();
    };
    let mut out = vec![summary(call, rule, theme)];
    out.push(Line::from(vec![
        Span::styled("recording     ", theme.style(Item::Muted)),
        Span::styled(
            clean(call.recording().unwrap_or("none")).into_owned(),
            theme.style(Item::Text),
        ),
    ]));
    if !call.complete {
        out.push(Line::from(Span::styled(
            "(only the legs matching the query; expand the call to load all)",
            theme.style(Item::Muted),
        )));
    }
    for (i, leg) in call.legs.iter().enumerate() {
        if line.leg.is_none_or(|j| j == i) {
            out.push(Line::from(""));
            leg_lines(leg, i + 1, theme, &mut out);
        }
    }
    out
}

fn summary(call: &Call, rule: &ExtensionRule, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(
        clean(&format!(
            "call {}: {} legs, {}, {} long, talk {}, answered by {}",
            call.id,
            call.legs.len(),
            call.disposition(),
            duration(call.duration_s()),
            duration(call.talk_s()),
            call.answered_by(rule).unwrap_or("nobody")
        ))
        .into_owned(),
        theme.style(Item::Header),
    ))
}

/// Draws the popup over `area`, scrolled by `scroll` lines.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme, scroll: u16) {
    let h = &model.history;
    let popup = crate::ui::layout::popup(area, Constraint::Percentage(90), 100);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Item::BorderFocused))
        .title(Span::styled(
            " Call detail (PBX local time) ",
            theme.style(Item::Title),
        ));
    f.render_widget(
        Paragraph::new(lines(h, &model.extension_rule, theme))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .style(theme.style(Item::Text)),
        popup,
    );
}
