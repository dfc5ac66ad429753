//! The History screen's state: the query, the calls loaded so far (pages
//! appended as the selection nears the end), which calls show their legs,
//! and the lines the table draws. Pure state: the requests it makes are
//! returned to `update`, which hands them to the CDR worker.

use crate::access::Visibility;
use crate::cdr::filter::{Order, SortKey};
use crate::cdr::history::CallList;
use crate::cdr::record::CdrRecord;
use crate::service::cdr::DbRequest;
use crate::ui::query::Query;
use crate::ui::table::TableState;
use std::collections::HashSet;

/// Legs fetched per page.
pub const PAGE_ROWS: u32 = 200;

/// One line of the History table: a call, or one of its legs when expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    /// Selection key: `c:<linkedid>` or `l:<uniqueid>`.
    pub key: String,
    /// Index of the call in the list.
    pub call: usize,
    /// Index of the leg in the call, for leg lines.
    pub leg: Option<usize>,
}

/// The History screen.
#[derive(Clone, Debug)]
pub struct HistoryView {
    /// The query shown and run.
    pub query: Query,
    /// Order of the pages.
    pub order: Order,
    /// Calls loaded.
    pub list: CallList,
    /// Calls whose legs are shown.
    pub expanded: HashSet<String>,
    /// The table lines, rebuilt when the list or the expansion changes.
    pub lines: Vec<HistoryLine>,
    /// Selection and scroll (the sort fields are unused: pages come sorted).
    pub table: TableState,
    /// The detail popup is open on the selected line, scrolled by this.
    pub detail: Option<u16>,
    /// A query has been run since start.
    pub started: bool,
}

impl HistoryView {
    /// Today's calls, newest first, not yet loaded.
    pub fn new(query: Query) -> Self {
        HistoryView {
            query,
            order: Order {
                key: SortKey::Start,
                descending: true,
            },
            list: CallList::default(),
            expanded: HashSet::new(),
            lines: Vec::new(),
            table: TableState::default(),
            detail: None,
            started: false,
        }
    }

    /// Drops what is loaded and asks for the first page of the query.
    pub fn restart(&mut self, id: u64) -> DbRequest {
        self.list = CallList::default();
        self.expanded.clear();
        self.lines.clear();
        self.table.selected = None;
        self.table.offset = 0;
        self.detail = None;
        self.started = true;
        self.next_page(id)
    }

    /// The request for the page after what is loaded.
    pub fn next_page(&self, id: u64) -> DbRequest {
        DbRequest::Page {
            id,
            filter: self.query.filter(Visibility::All),
            order: self.order,
            cursor: self.list.next.clone(),
            rows: PAGE_ROWS,
        }
    }

    /// Adds a page.
    pub fn add_page(&mut self, legs: Vec<CdrRecord>, order: Order, rows: u32) {
        if order != self.order {
            return;
        }
        self.list.append(legs, order, rows);
        self.rebuild();
    }

    /// Adds a call's complete legs.
    pub fn add_legs(&mut self, call: &str, legs: Vec<CdrRecord>) {
        self.list.complete(call, legs);
        self.rebuild();
    }

    /// The line at the selection.
    pub fn selected_line(&self) -> Option<&HistoryLine> {
        let key = self.table.selected.as_deref();
        key.and_then(|k| self.lines.iter().find(|l| l.key == k))
            .or(self.lines.first())
    }

    /// Index of the selection in `lines`.
    pub fn selected_index(&self) -> usize {
        self.table
            .selected
            .as_deref()
            .and_then(|k| self.lines.iter().position(|l| l.key == k))
            .unwrap_or(0)
    }

    /// Shows or hides the selected call's legs; returns the request that
    /// loads the legs not loaded yet.
    pub fn toggle(&mut self, id: u64) -> Option<DbRequest> {
        let line = self.selected_line()?.clone();
        let call = self.list.calls.get(line.call)?;
        let call_id = call.id.clone();
        let request = (!call.complete).then(|| DbRequest::Legs {
            id,
            pbx: self.query.pbx.clone(),
            call: call_id.clone(),
            around: call.start().unwrap_or_default(),
        });
        if !self.expanded.remove(&call_id) {
            self.expanded.insert(call_id.clone());
        }
        self.table.selected = Some(format!("c:{call_id}"));
        self.rebuild();
        if self.expanded.contains(&call_id) {
            request
        } else {
            None
        }
    }

    /// Cycles the order: newest first, oldest first, longest first,
    /// shortest first.
    pub fn next_order(&mut self) {
        self.order = match (self.order.key, self.order.descending) {
            (SortKey::Start, true) => Order {
                key: SortKey::Start,
                descending: false,
            },
            (SortKey::Start, false) => Order {
                key: SortKey::Duration,
                descending: true,
            },
            (SortKey::Duration, true) => Order {
                key: SortKey::Duration,
                descending: false,
            },
            (SortKey::Duration, false) => Order {
                key: SortKey::Start,
                descending: true,
            },
        };
    }

    /// Reverses the order.
    pub fn reverse(&mut self) {
        self.order.descending = !self.order.descending;
    }

    /// The order, for titles.
    pub fn order_label(&self) -> &'static str {
        match (self.order.key, self.order.descending) {
            (SortKey::Start, true) => "newest first",
            (SortKey::Start, false) => "oldest first",
            (SortKey::Duration, true) => "longest first",
            (SortKey::Duration, false) => "shortest first",
        }
    }

    /// More pages exist and the selection is within a page of the end.
    pub fn wants_more(&self, height: usize) -> bool {
        self.started
            && !self.list.done
            && self.list.next.is_some()
            && self.selected_index() + height.max(1) * 2 >= self.lines.len()
    }

    fn rebuild(&mut self) {
        self.lines.clear();
        for (i, call) in self.list.calls.iter().enumerate() {
            self.lines.push(HistoryLine {
                key: format!("c:{}", call.id),
                call: i,
                leg: None,
            });
            if self.expanded.contains(&call.id) {
                for (j, leg) in call.legs.iter().enumerate() {
                    self.lines.push(HistoryLine {
                        key: format!("l:{}", leg.uniqueid),
                        call: i,
                        leg: Some(j),
                    });
                }
            }
        }
    }
}
