//! The status line of the History and KPI screens: what is shown (the
//! query), and the running query with its elapsed time, or the last notice.

use crate::sanitize::clean;
use crate::ui::model::{Model, Screen};
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the line in `area`.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let what = match model.screen {
        Screen::Kpi => {
            let at = model.kpi.computed_ms.map_or_else(
                || "not computed yet".to_string(),
                |ms| {
                    let t = chrono::DateTime::from_timestamp_millis(ms)
                        .unwrap_or_default()
                        .with_timezone(&model.tz);
                    format!("computed {}, again as calls end", t.format("%H:%M:%S"))
                },
            );
            format!(" KPIs {} · {at} ", model.kpi.query.describe())
        }
        Screen::Campaigns => {
            let asked = model
                .campaigns
                .asked
                .as_ref()
                .map(|(name, status)| {
                    format!("· `{name}`: {status} asked, waiting for the engine ")
                })
                .unwrap_or_default();
            format!(
                " Engines: {} {asked}",
                crate::ui::screens::campaigns::rows::engines_line(model)
            )
        }
        Screen::Audit => format!(
            " Audit · the newest {} rows (an admin's: everyone's; else your own) · read every {} s ",
            crate::ui::screens::audit::SHOWN,
            crate::ui::screens::audit::update::REREAD_MS / 1000
        ),
        _ => format!(
            " History {} · {} ",
            model.history.query.describe(),
            model.history.order_label()
        ),
    };
    let mut spans = vec![Span::styled(
        clean(&what).into_owned(),
        theme.style(Item::Title),
    )];
    if let Some(r) = &model.running {
        let secs = (model.now_ms - r.since_ms).max(0) as f64 / 1000.0;
        let rows = r.rows.map(|n| format!(", {n} rows")).unwrap_or_default();
        spans.push(Span::styled(
            format!(" {}… {secs:.0} s{rows} · Esc cancels ", r.what),
            theme.style(Item::ConnResyncing),
        ));
    }
    if let Some((text, error)) = &model.notice {
        let item = if *error {
            Item::ConnDown
        } else {
            Item::ConnReady
        };
        spans.push(Span::styled(
            format!(" {} ", clean(text)),
            theme.style(item),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
