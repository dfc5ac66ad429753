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
    /// The PBX the row belongs to (live panes; empty elsewhere): part of
    /// its identity, matched by `pbx:NAME` in the filter.
    pub pbx: &'a str,
    /// Stable identity within its PBX (device, queue name, linkedid),
    /// borrowed from the state.
    pub key: &'a str,
    /// Sort key in the active column.
    pub sort: SortKey<'a>,
    /// Builds the cells, one per column.
    pub cells: Box<dyn Fn() -> Vec<TableCell> + 'a>,
}

impl std::fmt::Debug for TableRow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRow")
            .field("pbx", &self.pbx)
            .field("key", &self.key)
            .finish()
    }
}

/// Separates the PBX from the key in a row's id.
const ID_SEP: char = '\u{1f}';

impl TableRow<'_> {
    /// The row's identity as a selection keeps it: the key, after its PBX
    /// when it has one.
    pub fn id(&self) -> String {
        if self.pbx.is_empty() {
            self.key.to_string()
        } else {
            format!("{}{ID_SEP}{}", self.pbx, self.key)
        }
    }

    /// `id` is this row's [`TableRow::id`] (compared without allocating:
    /// it runs for every row of every frame).
    pub fn is(&self, id: &str) -> bool {
        if self.pbx.is_empty() {
            return id == self.key;
        }
        id.strip_prefix(self.pbx)
            .and_then(|rest| rest.strip_prefix(ID_SEP))
            .is_some_and(|k| k == self.key)
    }
}

/// Splits `pbx:NAME` words off a filter: the names (any case) and the rest
/// of the text for the fuzzy match.
fn pbx_words(filter: &str) -> (Vec<&str>, String) {
    let mut names = Vec::new();
    let mut rest = Vec::new();
    for word in filter.split_whitespace() {
        match word.strip_prefix("pbx:") {
            Some(name) if !name.is_empty() => names.push(name),
            _ => rest.push(word),
        }
    }
    (names, rest.join(" "))
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

/// Keeps rows matching `filter` (`pbx:NAME` words keep that PBX's rows;
/// the rest is fuzzy, smart case, over all cells) and sorts them by their
/// sort key and the state's direction; ties keep the PBX and key order.
pub fn prepare<'a>(mut rows: Vec<TableRow<'a>>, state: &TableState) -> Vec<TableRow<'a>> {
    let (pbxs, fuzzy) = pbx_words(&state.filter);
    if !pbxs.is_empty() {
        rows.retain(|r| pbxs.iter().any(|n| n.eq_ignore_ascii_case(r.pbx)));
    }
    if !fuzzy.is_empty() {
        let pattern = Pattern::parse(&fuzzy, CaseMatching::Smart, Normalization::Smart);
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
        ord.then_with(|| a.pbx.cmp(b.pbx))
            .then_with(|| a.key.cmp(b.key))
    });
    rows
}

/// Index of the selected row in `rows`, defaulting to the first.
pub fn selected_index(rows: &[TableRow<'_>], state: &TableState) -> usize {
    state
        .selected
        .as_deref()
        .and_then(|id| rows.iter().position(|r| r.is(id)))
        .unwrap_or(0)
}

/// The keys of `rows`, in display order (for [`super::nav`]), owned so the
/// rows' borrow of the model ends before the selection changes.
pub fn keys(rows: &[TableRow<'_>]) -> Vec<String> {
    rows.iter().map(TableRow::id).collect()
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

/// Narrowest a column is cut to before columns are left out.
const NARROWEST: u16 = 3;

/// The widths of `columns` in `inner` cells, one space between columns:
/// their own constraints when they fit (a `Min` column takes what is
/// left). When they over-fill the width the layout solver's answer changes
/// from run to run, so the widths are fixed here instead. The first column
/// (what the row is: a queue, an extension, a caller) keeps its width; the
/// others give up width from the right, down to [`NARROWEST`] cells; if
/// that is not enough, whole columns are left out from the right (fewer
/// constraints than columns), and the room that frees goes back to the cut
/// columns from the left.
fn fitted(columns: &[Column], inner: u16) -> Vec<Constraint> {
    let nominal: Vec<u16> = columns
        .iter()
        .map(|c| match c.width {
            Constraint::Length(n) | Constraint::Min(n) => n,
            _ => NARROWEST,
        })
        .collect();
    let need =
        |w: &[u16]| w.iter().map(|&n| u32::from(n)).sum::<u32>() + w.len().saturating_sub(1) as u32;
    let inner32 = u32::from(inner);
    if need(&nominal) <= inner32 {
        return columns.iter().map(|c| c.width).collect();
    }
    let mut widths = nominal.clone();
    let mut excess = need(&widths) - inner32;
    for w in widths.iter_mut().skip(1).rev() {
        let cut = u32::from(w.saturating_sub(NARROWEST)).min(excess);
        *w -= cut as u16;
        excess -= cut;
    }
    while need(&widths) > inner32 && widths.len() > 1 {
        widths.pop();
    }
    if let [only] = widths.as_mut_slice() {
        *only = (*only).min(inner);
    }
    let mut spare = inner32.saturating_sub(need(&widths));
    for (w, &full) in widths.iter_mut().zip(&nominal).skip(1) {
        let back = u32::from(full - *w).min(spare);
        *w += back as u16;
        spare -= back;
    }
    widths.into_iter().map(Constraint::Length).collect()
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
    let widths = fitted(columns, area.width.saturating_sub(2));
    let shown = widths.len();
    let height = body_height(area);
    let selected = selected_index(rows, state);
    let offset = state.offset.min(rows.len().saturating_sub(height.max(1)));
    // The marker goes before the title: a title that fills its column is
    // cut at its end, and the marker must survive that.
    let header = Row::new(columns.iter().take(shown).enumerate().map(|(i, c)| {
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
            let row = Row::new((r.cells)().into_iter().take(shown).map(|c| {
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
    let table = Table::new(visible, widths)
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
            pbx: "",
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
    fn the_same_key_on_two_pbxs_is_two_rows_and_pbx_words_filter() {
        let two = || {
            ["paris", "lyon"]
                .into_iter()
                .map(|pbx| TableRow {
                    pbx,
                    key: "sales",
                    sort: SortKey::Num(0),
                    cells: Box::new(move || {
                        vec![TableCell::new(format!("{pbx} sales"), Item::Text)]
                    }),
                })
                .collect::<Vec<_>>()
        };
        let mut st = TableState::default();
        let all = prepare(two(), &st);
        assert_eq!(
            all.iter().map(|r| r.pbx).collect::<Vec<_>>(),
            ["lyon", "paris"]
        );
        crate::ui::nav::move_selection(&keys(&all), &mut st, 1, 10);
        assert_eq!(
            selected_index(&all, &st),
            1,
            "the selection is paris's sales, not the first sales"
        );
        assert!(all[1].is(st.selected.as_deref().unwrap_or_default()));
        st.filter = "PBX:Paris".into();
        assert!(
            prepare(two(), &st).is_empty(),
            "`pbx:` is lower case; `PBX:Paris` is fuzzy text"
        );
        st.filter = "pbx:PARIS sal".into();
        let paris = prepare(two(), &st);
        assert_eq!(paris.iter().map(|r| r.pbx).collect::<Vec<_>>(), ["paris"]);
        st.filter = "pbx:nowhere".into();
        assert!(prepare(two(), &st).is_empty());
    }

    #[test]
    fn over_full_columns_are_cut_from_the_right_then_left_out() {
        let col = |width| Column { title: "x", width };
        let cols = [
            col(Constraint::Min(8)),
            col(Constraint::Length(10)),
            col(Constraint::Length(6)),
        ];
        // 8 + 10 + 6 + 2 spaces = 26: fits in 30, the constraints stay.
        assert_eq!(fitted(&cols, 30), cols.map(|c| c.width).to_vec());
        // 4 too many: the last column gives 3 cells, the middle one 1.
        assert_eq!(
            fitted(&cols, 22),
            [
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(3)
            ]
        );
        // Cut to 8 + 3 + 3 + 2 = 16, still too wide: the last goes, and the
        // cell that frees goes back to the middle one.
        assert_eq!(
            fitted(&cols, 13),
            [Constraint::Length(8), Constraint::Length(4)]
        );
        // The first column is what the row is: it goes last.
        assert_eq!(fitted(&cols, 8), [Constraint::Length(8)]);
        assert_eq!(fitted(&cols, 5), [Constraint::Length(5)]);
    }

    #[test]
    fn natural_and_folded_order() {
        let mut keys = vec!["sales", "10", "2", "Support", "002"];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(keys, ["2", "002", "10", "sales", "Support"]);
        assert_eq!(fold_cmp("Émile", "émile"), Ordering::Equal);
    }
}
