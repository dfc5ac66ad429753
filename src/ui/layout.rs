//! Where each part goes: one pure function of the screen size and the model,
//! shared by the view and by mouse handling so clicks land where things are.

use super::model::{Model, PaneId, Screen};
use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// Screen areas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Areas {
    /// Two header lines.
    pub header: Rect,
    /// Visible list panes and their areas.
    pub panes: Vec<(PaneId, Rect)>,
    /// The selected queue's callers and members, when shown.
    pub queue_detail: Option<Rect>,
    /// History and KPI screens: the query and status line.
    pub status: Option<Rect>,
    /// History and KPI screens: the tables (History: calls; KPI: extensions,
    /// queues).
    pub tables: Vec<Rect>,
    /// One footer line.
    pub footer: Rect,
}

/// Below this width the panes stack instead of sitting side by side.
const WIDE: u16 = 100;

/// Computes the areas for `area`.
pub fn areas(area: Rect, model: &Model) -> Areas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    if model.screen != Screen::Live {
        let [status, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(body);
        let tables = if model.screen == Screen::Kpi {
            let [ext, queues, agents] = Layout::vertical([
                Constraint::Percentage(45),
                Constraint::Percentage(25),
                Constraint::Percentage(30),
            ])
            .areas(rest);
            vec![ext, queues, agents]
        } else {
            vec![rest]
        };
        return Areas {
            header,
            panes: Vec::new(),
            queue_detail: None,
            status: Some(status),
            tables,
            footer,
        };
    }
    let (panes, queue_detail) = if model.zoom {
        zoomed(body, model.focus)
    } else if area.width >= WIDE {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
        let [queues, detail] = split(top, Direction::Horizontal, 55);
        let [ext, calls] = split(bottom, Direction::Horizontal, 50);
        (
            vec![
                (PaneId::Queues, queues),
                (PaneId::Extensions, ext),
                (PaneId::Calls, calls),
            ],
            Some(detail),
        )
    } else {
        let [queues, ext, calls] = Layout::vertical([
            Constraint::Percentage(30),
            Constraint::Percentage(40),
            Constraint::Percentage(30),
        ])
        .areas(body);
        (
            vec![
                (PaneId::Queues, queues),
                (PaneId::Extensions, ext),
                (PaneId::Calls, calls),
            ],
            None,
        )
    };
    Areas {
        header,
        panes,
        queue_detail,
        status: None,
        tables: Vec::new(),
        footer,
    }
}

fn split(area: Rect, dir: Direction, first_percent: u16) -> [Rect; 2] {
    Layout::default()
        .direction(dir)
        .constraints([Constraint::Percentage(first_percent), Constraint::Min(0)])
        .areas(area)
}

fn zoomed(body: Rect, focus: PaneId) -> (Vec<(PaneId, Rect)>, Option<Rect>) {
    if focus == PaneId::Queues {
        let [list, detail] = split(body, Direction::Horizontal, 50);
        (vec![(PaneId::Queues, list)], Some(detail))
    } else {
        (vec![(focus, body)], None)
    }
}

impl Areas {
    /// The area of `pane`, if visible.
    pub fn pane(&self, pane: PaneId) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }
}

/// A popup centred in `area`, `height` high (a percentage or a number of
/// rows, borders included), at most `max_width` columns wide.
pub fn popup(area: Rect, height: Constraint, max_width: u16) -> Rect {
    let [v] = Layout::vertical([height])
        .flex(ratatui::layout::Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Max(max_width)])
        .flex(ratatui::layout::Flex::Center)
        .areas(v);
    popup
}

/// Body rows of the screen's table number `i` (its first is 0) at the
/// model's size; 1 when it has none.
pub fn table_height(model: &Model, i: usize) -> usize {
    areas(model.size, model)
        .tables
        .get(i)
        .copied()
        .map(crate::ui::table::body_height)
        .unwrap_or(1)
}
