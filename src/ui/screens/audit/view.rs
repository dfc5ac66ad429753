//! Draws the Audit screen: the table of [`super::rows`].

use super::rows::{COLUMNS, rows};
use crate::ui::model::Model;
use crate::ui::table::{self, Decor};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Draws the table in `area`.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let rows = rows(model);
    let decor = Decor {
        title: "Audit trail".into(),
        count: true,
        focused: true,
        theme,
    };
    table::render(f, area, &COLUMNS, &rows, &model.audit.table, decor);
}
