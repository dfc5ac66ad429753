//! The table engine every list pane uses: rows with typed sort keys, a fuzzy
//! filter (nucleo-matcher), a selection that follows its row by key, and a
//! renderer that builds widgets only for the visible window (a 5,000-row pane
//! costs the same to draw as a 20-row one, apart from sorting).

use super::sanitize::clean;
use super::theme::{Item, Theme};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};
use std::cmp::Ordering;

/// How a cell sorts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    /// Numeric (seconds, counts).
    Num(i64),
    /// Text, compared case-insensitively by the caller's choice of key.
    Text(String),
}

/// One cell: its text, its style item, and its sort key.
#[derive(Clone, Debug)]
pub struct TableCell {
    /// Text as shown (sanitized when drawn).
    pub text: String,
    /// Theme item for the text.
    pub item: Item,
}

impl TableCell {
    /// A cell.
    pub fn new(text: impl Into<String>, item: Item) -> Self {
        TableCell {
            text: text.into(),
            item,
        }
    }
}

/// One row: a stable key (selection follows it), its cells, sort keys per
/// column and the text the filter searches.
#[derive(Clone, Debug)]
pub struct TableRow {
    /// Stable identity (device, queue name, linkedid).
    pub key: String,
    /// Cells, one per column.
    pub cells: Vec<TableCell>,
    /// Sort key per column.
    pub sort: Vec<SortKey>,
}

/// A column: title and width.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Header text.
    pub title: &'static str,
    /// Width constraint.
    pub width: Constraint,
}

/// Sort, filter and selection of one pane (lives in the model).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableState {
    /// Key of the selected row.
    pub selected: Option<String>,
    /// First visible row.
    pub offset: usize,
    /// Sort column.
    pub sort: usize,
    /// Descending.
    pub reverse: bool,
    /// Fuzzy filter text (empty = all rows).
    pub filter: String,
}

/// Keeps rows matching `filter` (fuzzy, smart case) and sorts them by the
/// state's column and direction; ties keep the key order.
pub fn prepare(mut rows: Vec<TableRow>, state: &TableState) -> Vec<TableRow> {
    if !state.filter.trim().is_empty() {
        let pattern = Pattern::parse(&state.filter, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut hay = String::new();
        rows.retain(|r| {
            hay.clear();
            for c in &r.cells {
                hay.push_str(&c.text);
                hay.push(' ');
            }
            pattern
                .score(Utf32Str::new(&hay, &mut buf), &mut matcher)
                .is_some()
        });
    }
    let col = state.sort;
    rows.sort_by(|a, b| {
        let ord = match (a.sort.get(col), b.sort.get(col)) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => Ordering::Equal,
        };
        let ord = if state.reverse { ord.reverse() } else { ord };
        ord.then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// Index of the selected row in `rows`, defaulting to the first.
pub fn selected_index(rows: &[TableRow], state: &TableState) -> usize {
    state
        .selected
        .as_ref()
        .and_then(|k| rows.iter().position(|r| &r.key == k))
        .unwrap_or(0)
}

/// Moves the selection by `delta` rows (clamped) and keeps it visible in a
/// window of `height` rows.
pub fn move_selection(rows: &[TableRow], state: &mut TableState, delta: isize, height: usize) {
    if rows.is_empty() {
        state.selected = None;
        state.offset = 0;
        return;
    }
    let current = selected_index(rows, state) as isize;
    let next = (current + delta).clamp(0, rows.len() as isize - 1) as usize;
    state.selected = Some(rows[next].key.clone());
    scroll_into_view(state, next, height, rows.len());
}

/// Adjusts `offset` so row `index` is visible in `height` rows.
pub fn scroll_into_view(state: &mut TableState, index: usize, height: usize, len: usize) {
    let height = height.max(1);
    if index < state.offset {
        state.offset = index;
    } else if index >= state.offset + height {
        state.offset = index + 1 - height;
    }
    state.offset = state.offset.min(len.saturating_sub(height));
}

/// Rows visible in a table drawn in `area` with borders and a header line.
pub fn body_height(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// What to draw around a table.
pub struct Decor<'a> {
    /// Title text.
    pub title: String,
    /// Focused (border style, selection shown).
    pub focused: bool,
    /// The theme.
    pub theme: &'a Theme,
}

/// Draws `rows` (already prepared) in `area`: bordered block, header with the
/// sort marker, the visible window, the selection.
pub fn render(
    f: &mut Frame,
    area: Rect,
    columns: &[Column],
    rows: &[TableRow],
    state: &TableState,
    decor: Decor<'_>,
) {
    let theme = decor.theme;
    let border = if decor.focused {
        theme.style(Item::BorderFocused)
    } else {
        theme.style(Item::Border)
    };
    let count = if state.filter.is_empty() {
        format!(" {} ", rows.len())
    } else {
        format!(" {} match /{} ", rows.len(), clean(&state.filter))
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", decor.title), theme.style(Item::Title)),
            Span::styled(count, theme.style(Item::Muted)),
        ]));
    let height = body_height(area);
    let selected = selected_index(rows, state);
    let offset = state.offset.min(rows.len().saturating_sub(height.max(1)));
    let header = Row::new(columns.iter().enumerate().map(|(i, c)| {
        let mark = match (i == state.sort, state.reverse) {
            (true, false) => "▲",
            (true, true) => "▼",
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(theme.style(Item::TableHeader));
    let visible = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let row = Row::new(r.cells.iter().map(|c| {
                Cell::from(Span::styled(
                    clean(&c.text).into_owned(),
                    theme.style(c.item),
                ))
            }));
            if decor.focused && i == selected {
                row.style(theme.style(Item::Selected))
            } else {
                row.style(Style::default())
            }
        });
    let table = Table::new(visible, columns.iter().map(|c| c.width))
        .header(header)
        .block(block)
        .column_spacing(1)
        .style(theme.style(Item::Text));
    f.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, text: &str, n: i64) -> TableRow {
        TableRow {
            key: key.into(),
            cells: vec![TableCell::new(text, Item::Text)],
            sort: vec![SortKey::Num(n)],
        }
    }

    #[test]
    fn filter_sort_and_select() {
        let rows = vec![
            row("a", "José Núñez", 3),
            row("b", "Zoë", 1),
            row("c", "Jose Perez", 2),
        ];
        let mut st = TableState::default();
        let sorted = prepare(rows.clone(), &st);
        assert_eq!(
            sorted.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        st.filter = "jose".into();
        let filtered = prepare(rows.clone(), &st);
        assert_eq!(filtered.len(), 2, "smart normalisation matches José too");
        st.filter.clear();
        st.reverse = true;
        let rev = prepare(rows, &st);
        move_selection(&rev, &mut st, 1, 10);
        assert_eq!(st.selected.as_deref(), Some("c"));
        move_selection(&rev, &mut st, 10, 10);
        assert_eq!(st.selected.as_deref(), Some("b"));
    }

    #[test]
    fn scrolling_keeps_selection_visible() {
        let mut st = TableState::default();
        scroll_into_view(&mut st, 15, 10, 100);
        assert_eq!(st.offset, 6);
        scroll_into_view(&mut st, 3, 10, 100);
        assert_eq!(st.offset, 3);
    }
}
