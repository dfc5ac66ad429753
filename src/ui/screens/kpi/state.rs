//! The KPI screen's state: the days shown, the figures last computed (one
//! definition: `cdr::kpi` and `cdr::queue_log`, the same code as
//! `switchboard kpi`), and when to compute them again.

use crate::cdr::kpi::ExtensionKpi;
use crate::cdr::queue_log::{AgentKpi, QueueKpi};
use crate::service::cdr::DbRequest;
use crate::ui::query::Query;
use crate::ui::table::TableState;

/// After a call ends, wait this long before recomputing (Asterisk writes the
/// CDR at hangup; queue_log lines come with it), ms.
pub const SETTLE_MS: i64 = 2_000;
/// Recompute at most this often while calls keep ending, ms.
pub const MIN_INTERVAL_MS: i64 = 10_000;

/// Which KPI table has the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpiTable {
    /// Per extension.
    Extensions,
    /// Per queue.
    Queues,
    /// Per queue member (agent).
    Agents,
}

impl KpiTable {
    /// The tables, top to bottom.
    pub const ALL: [KpiTable; 3] = [KpiTable::Extensions, KpiTable::Queues, KpiTable::Agents];

    /// The next table down (`Tab`), the first after the last.
    pub fn next(self) -> Self {
        match self {
            KpiTable::Extensions => KpiTable::Queues,
            KpiTable::Queues => KpiTable::Agents,
            KpiTable::Agents => KpiTable::Extensions,
        }
    }

    /// Its position in [`KpiTable::ALL`] (and among the screen's areas).
    pub fn index(self) -> usize {
        match self {
            KpiTable::Extensions => 0,
            KpiTable::Queues => 1,
            KpiTable::Agents => 2,
        }
    }
}

/// The KPI screen.
#[derive(Clone, Debug)]
pub struct KpiView {
    /// The days (only the dates of the query line count).
    pub query: Query,
    /// Per extension, from the last computation.
    pub extensions: Vec<ExtensionKpi>,
    /// Per queue, or why there are none.
    pub queues: Result<Vec<QueueKpi>, String>,
    /// Per agent, from the same queue_log (none when it could not be read).
    pub agents: Vec<AgentKpi>,
    /// When the figures were computed, ms since epoch (UTC); `None` before.
    pub computed_ms: Option<i64>,
    /// A call ended at this time (ms) since the last computation.
    pub call_ended_ms: Option<i64>,
    /// Focused table.
    pub focus: KpiTable,
    /// Sort and selection of the extension table.
    pub ext_table: TableState,
    /// Sort and selection of the queue table.
    pub queue_table: TableState,
    /// Sort and selection of the agent table.
    pub agent_table: TableState,
}

impl KpiView {
    /// Today's figures, not yet computed.
    pub fn new(query: Query) -> Self {
        KpiView {
            query,
            extensions: Vec::new(),
            queues: Ok(Vec::new()),
            agents: Vec::new(),
            computed_ms: None,
            call_ended_ms: None,
            focus: KpiTable::Extensions,
            ext_table: TableState::default(),
            queue_table: TableState::default(),
            agent_table: TableState::default(),
        }
    }

    /// The request that computes the figures.
    pub fn request(&self, id: u64) -> DbRequest {
        let (from, to) = self.query.window();
        DbRequest::Kpi {
            id,
            from,
            to,
            options: crate::service::cdr::KpiOptions {
                pbx: self.query.pbx.clone(),
                ..Default::default()
            },
        }
    }

    /// Calls ended and have settled, and the last computation is old
    /// enough: time to compute again (the view shows today).
    pub fn due(&self, now_ms: i64) -> bool {
        match (self.call_ended_ms, self.computed_ms) {
            (Some(ended), Some(done)) => {
                now_ms - ended >= SETTLE_MS && now_ms - done >= MIN_INTERVAL_MS
            }
            _ => false,
        }
    }

    /// Focused table state.
    pub fn table_mut(&mut self) -> &mut TableState {
        match self.focus {
            KpiTable::Extensions => &mut self.ext_table,
            KpiTable::Queues => &mut self.queue_table,
            KpiTable::Agents => &mut self.agent_table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn recomputes_after_calls_settle_and_not_too_often() {
        let mut k = KpiView::new(Query::today(NaiveDate::default()));
        assert!(!k.due(0), "nothing computed yet: the screen asks itself");
        k.computed_ms = Some(0);
        assert!(!k.due(60_000), "no call ended");
        k.call_ended_ms = Some(59_000);
        assert!(!k.due(60_000), "not settled");
        assert!(k.due(61_000));
        k.computed_ms = Some(55_000);
        assert!(!k.due(61_000), "computed 6 s ago");
    }
}
