//! Draws the KPI screen: the two tables of [`super::rows`].

use super::rows::{columns, rows};
use super::state::KpiTable;
use crate::ui::model::Model;
use crate::ui::table::{self, Decor};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Draws the three tables: extensions in `areas[0]`, queues in
/// `areas[1]`, agents in `areas[2]`.
pub fn draw(f: &mut Frame, areas: &[Rect], model: &Model, theme: &Theme) {
    let k = &model.kpi;
    for (table, area) in KpiTable::ALL.into_iter().zip(areas.iter().copied()) {
        let title = match (table, &k.queues) {
            (KpiTable::Extensions, _) => format!(
                "KPIs per extension (CDR){}",
                crate::ui::screens::history::view::of_pbx(model.cdr_pbx(k.query.pbx.as_deref()))
            ),
            (KpiTable::Queues, Ok(_)) => {
                // The screen uses the default thresholds: name them.
                let q = crate::cdr::queue_log::QueueKpiSettings::default();
                format!(
                    "KPIs per queue (queue_log) · SL variant and T per queue ([kpi]) · Need: Erlang C for {}% within T, last {} min",
                    q.sl_goal_percent,
                    q.staffing_window_s / 60
                )
            }
            (KpiTable::Queues, Err(e)) => format!("KPIs per queue: {e}"),
            (KpiTable::Agents, Ok(_)) => "KPIs per agent (queue_log) · AHT = (talk + ACW) / handled · Occ = (talk + ACW) / (logged in − paused)".to_string(),
            (KpiTable::Agents, Err(_)) => "KPIs per agent: no queue_log".to_string(),
        };
        let state = match table {
            KpiTable::Extensions => &k.ext_table,
            KpiTable::Queues => &k.queue_table,
            KpiTable::Agents => &k.agent_table,
        };
        let decor = Decor {
            title,
            count: true,
            focused: k.focus == table,
            theme,
        };
        table::render(f, area, columns(table), &rows(model, table), state, decor);
    }
}
