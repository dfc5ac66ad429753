//! List navigation, one helper for every list on every screen: which row is
//! selected (by key, so it survives re-sorting and new rows), how far a key
//! moves it, and the scroll offset that keeps it visible.

use super::keymap::Action;

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

/// A key that moves a list's selection (up, down, page, top, bottom).
pub fn is_movement(action: Action) -> bool {
    steps(action, 1) != 0
}

/// Rows a movement action moves by, with `page` rows to a page (0 for
/// other actions).
pub fn steps(action: Action, page: isize) -> isize {
    match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => 0,
    }
}

/// Index of the selected key in `keys` (display order), defaulting to the
/// first.
pub fn selected_index<'a>(keys: impl IntoIterator<Item = &'a str>, state: &TableState) -> usize {
    state
        .selected
        .as_deref()
        .and_then(|k| keys.into_iter().position(|r| r == k))
        .unwrap_or(0)
}

/// Moves the selection by `delta` among `keys` (display order, clamped at
/// both ends) and keeps it visible in a window of `height` rows. Returns
/// the new index, `None` when the list is empty.
pub fn move_selection<K: AsRef<str>>(
    keys: &[K],
    state: &mut TableState,
    delta: isize,
    height: usize,
) -> Option<usize> {
    if keys.is_empty() {
        state.selected = None;
        state.offset = 0;
        return None;
    }
    let current = selected_index(keys.iter().map(AsRef::as_ref), state) as isize;
    let next = current
        .saturating_add(delta)
        .clamp(0, keys.len() as isize - 1) as usize;
    state.selected = Some(keys[next].as_ref().to_string());
    scroll_into_view(state, next, height, keys.len());
    Some(next)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_clamp_and_keep_the_selection_visible() {
        let keys = ["a", "b", "c", "d", "e"];
        let mut st = TableState::default();
        assert_eq!(move_selection(&keys, &mut st, 3, 2), Some(3));
        assert_eq!((st.selected.as_deref(), st.offset), (Some("d"), 2));
        assert_eq!(move_selection(&keys, &mut st, isize::MAX / 2, 2), Some(4));
        assert_eq!(move_selection(&keys, &mut st, -10, 2), Some(0));
        assert_eq!(st.offset, 0);
        assert_eq!(move_selection::<&str>(&[], &mut st, 1, 2), None);
        assert_eq!(st.selected, None);
    }
}
