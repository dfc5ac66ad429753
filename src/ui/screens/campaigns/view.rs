//! Draws the Campaigns screen: the table of [`super::rows`].

use super::rows::{COLUMNS, rows};
use crate::ui::model::Model;
use crate::ui::table::{self, Decor};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Draws the table in `area`.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let rows = rows(model);
    let rights = if model.campaigns.may_control {
        ""
    } else {
        " (read only)"
    };
    let decor = Decor {
        title: format!("Campaigns{rights}"),
        count: true,
        focused: true,
        theme,
    };
    table::render(f, area, &COLUMNS, &rows, &model.campaigns.table, decor);
}
