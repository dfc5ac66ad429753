//! The table engine every list pane uses: rows with typed sort keys, a fuzzy
//! filter (nucleo-matcher), a selection that follows its row by key, and a
//! renderer that builds widgets only for the visible window (a 5,000-row pane
//! costs the same to draw as a 20-row one, apart from sorting).

use super::theme::{Item, Theme};
use crate::sanitize::clean;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};
use std::cmp::Ordering;

/// How a row sorts in the active column. Borrowed where it can be: building
/// keys for thousands of rows per frame must not allocate per row.
#[derive(Clone, Debug)]
pub enum SortKey<'a> {
    /// Numeric (seconds, counts).
    Num(i64),
    /// Case-insensitive text.
    Fold(&'a str),
    /// Numbers before names, numbers by value (`2` < `10` < `sales`).
    Natural(&'a str),
    /// Text owned by the key (computed labels).
    Owned(String),
}

fn natural_cmp(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (digits(a), digits(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => fold_cmp(a, b),
    }
}

fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

impl SortKey<'_> {
    fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.cmp(b),
            (SortKey::Natural(a), SortKey::Natural(b)) => natural_cmp(a, b),
            (SortKey::Fold(a), SortKey::Fold(b)) => fold_cmp(a, b),
            (SortKey::Owned(a), SortKey::Owned(b)) => fold_cmp(a, b),
            _ => Ordering::Equal,
        }
    }
}

/// One cell: its text and its style item.
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

/// One row: a stable key (the selection follows it), its sort key in the
/// active column, and its cells, built only when the row is drawn or
/// filtered.
pub struct TableRow<'a> {
    /// Stable identity (device, queue name, linkedid), borrowed from the state.
    pub key: &'a str,
    /// Sort key in the active column.
    pub sort: SortKey<'a>,
    /// Builds the cells, one per column.
    pub cells: Box<dyn Fn() -> Vec<TableCell> + 'a>,
}

impl std::fmt::Debug for TableRow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRow").field("key", &self.key).finish()
    }
}

/// A column: title and width.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Header text.
    pub title: &'static str,
    /// Width constraint.
    pub width: Constraint,
}

pub use super::nav::TableState;

/// Keeps rows matching `filter` (fuzzy, smart case, over all cells) and
/// sorts them by their sort key and the state's direction; ties keep the key
/// order.
pub fn prepare<'a>(mut rows: Vec<TableRow<'a>>, state: &TableState) -> Vec<TableRow<'a>> {
    if !state.filter.trim().is_empty() {
        let pattern = Pattern::parse(&state.filter, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut hay = String::new();
        rows.retain(|r| {
            hay.clear();
            for c in (r.cells)() {
                hay.push_str(&c.text);
                hay.push(' ');
            }
            pattern
                .score(Utf32Str::new(&hay, &mut buf), &mut matcher)
                .is_some()
        });
    }
    rows.sort_by(|a, b| {
        let ord = a.sort.compare(&b.sort);
        let ord = if state.reverse { ord.reverse() } else { ord };
        ord.then_with(|| a.key.cmp(b.key))
    });
    rows
}

/// Index of the selected row in `rows`, defaulting to the first.
pub fn selected_index(rows: &[TableRow<'_>], state: &TableState) -> usize {
    super::nav::selected_index(rows.iter().map(|r| r.key), state)
}

/// The keys of `rows`, in display order (for [`super::nav`]), owned so the
/// rows' borrow of the model ends before the selection changes.
pub fn keys(rows: &[TableRow<'_>]) -> Vec<String> {
    rows.iter().map(|r| r.key.to_string()).collect()
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
    /// Show the row count after the title (off where the title counts).
    pub count: bool,
    /// The theme.
    pub theme: &'a Theme,
}

/// Draws `rows` (already prepared) in `area`: bordered block, header with the
/// sort marker, the visible window, the selection.
pub fn render(
    f: &mut Frame,
    area: Rect,
    columns: &[Column],
    rows: &[TableRow<'_>],
    state: &TableState,
    decor: Decor<'_>,
) {
    let theme = decor.theme;
    let border = if decor.focused {
        theme.style(Item::BorderFocused)
    } else {
        theme.style(Item::Border)
    };
    let count = if !decor.count {
        String::new()
    } else if state.filter.is_empty() {
        format!(" {} ", rows.len())
    } else {
        format!(" {} match /{} ", rows.len(), clean(&state.filter))
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(
                format!(" {} ", clean(&decor.title)),
                theme.style(Item::Title),
            ),
            Span::styled(count, theme.style(Item::Muted)),
        ]));
    let height = body_height(area);
    let selected = selected_index(rows, state);
    let offset = state.offset.min(rows.len().saturating_sub(height.max(1)));
    // The marker goes before the title: a title that fills its column is
    // cut at its end, and the marker must survive that.
    let header = Row::new(columns.iter().enumerate().map(|(i, c)| {
        let mark = match (i == state.sort, state.reverse) {
            (true, false) => "▲",
            (true, true) => "▼",
            _ => "",
        };
        Cell::from(format!("{mark}{}", c.title))
    }))
    .style(theme.style(Item::TableHeader));
    let visible = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let row = Row::new((r.cells)().into_iter().map(|c| {
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

    fn row<'a>(key: &'a str, text: &'a str, n: i64) -> TableRow<'a> {
        TableRow {
            key,
            sort: SortKey::Num(n),
            cells: Box::new(move || vec![TableCell::new(text, Item::Text)]),
        }
    }

    fn rows() -> Vec<TableRow<'static>> {
        vec![
            row("a", "José Núñez", 3),
            row("b", "Zoë", 1),
            row("c", "Jose Perez", 2),
        ]
    }

    #[test]
    fn filter_sort_and_select() {
        let mut st = TableState::default();
        let sorted = prepare(rows(), &st);
        assert_eq!(
            sorted.iter().map(|r| r.key).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        st.filter = "jose".into();
        assert_eq!(
            prepare(rows(), &st).len(),
            2,
            "smart normalisation matches José too"
        );
        st.filter.clear();
        st.reverse = true;
        let rev = prepare(rows(), &st);
        crate::ui::nav::move_selection(&keys(&rev), &mut st, 1, 10);
        assert_eq!(st.selected.as_deref(), Some("c"));
        crate::ui::nav::move_selection(&keys(&rev), &mut st, 10, 10);
        assert_eq!(st.selected.as_deref(), Some("b"));
    }

    #[test]
    fn natural_and_folded_order() {
        let mut keys = vec!["sales", "10", "2", "Support", "002"];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(keys, ["2", "002", "10", "sales", "Support"]);
        assert_eq!(fold_cmp("Émile", "émile"), Ordering::Equal);
    }
}
