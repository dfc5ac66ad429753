//! Campaigns pane: each campaign's status and whether the engine has
//! acknowledged it, progress (total, pending, dialing, answered, failed,
//! DNC, exhausted), live calls, answer rate, abandon rate (the ledger's,
//! over the regime's window) and machine rate (AMD); the engines'
//! heartbeats on the status line.

use super::state::ENGINE_STALE_MS;
use crate::service::campaigns::CampaignStatus;
use crate::ui::model::Model;
use crate::ui::table::{Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;

const fn col(title: &'static str, width: u16) -> Column {
    Column {
        title,
        width: Constraint::Length(width),
    }
}

/// Columns: Campaign, Status, Engine, Total, Pending, Dialing, Answered,
/// Failed, DNC, Exhausted, Live, Answer %, Abandon % (drops over live
/// answers in the regime's window: 30 days, or 24 h in UK mode), Machine %
/// (answers AMD took for machines over all answers in that window; `—`
/// without `[amd]`).
pub const COLUMNS: [Column; 14] = [
    Column {
        title: "Campaign",
        width: Constraint::Min(16),
    },
    col("Status", 8),
    col("Engine", 30),
    col("Total", 7),
    col("Pending", 7),
    col("Dialing", 7),
    col("Answered", 8),
    col("Failed", 6),
    col("DNC", 5),
    col("Exhaust", 7),
    col("Live", 5),
    col("Ans %", 5),
    col("Aband %", 7),
    col("Mach %", 6),
];

fn status_item(status: &str) -> Item {
    match status {
        "running" => Item::StateInCall,
        "paused" => Item::StatePaused,
        _ => Item::Muted,
    }
}

/// What the engine said about the campaign's status: acknowledged, still
/// waiting (for how long), or no engine running.
fn ack(c: &CampaignStatus, engines_up: bool, now_ms: i64) -> (String, Item) {
    let r = &c.row;
    if r.acked_status == r.status {
        let by = r.acked_by.as_deref().unwrap_or("engine");
        (format!("✓ {} ({by})", r.acked_status), Item::HealthOk)
    } else if !engines_up {
        ("no engine running".into(), Item::HealthCritical)
    } else {
        let secs = (now_ms - r.updated_at).max(0) / 1000;
        (format!("waiting {secs} s"), Item::RampWarn)
    }
}

/// One row per campaign, by name.
pub fn rows(model: &Model) -> Vec<TableRow<'_>> {
    let now = model.now_ms;
    let engines_up = model.campaigns.live_engines(now).next().is_some();
    model
        .campaigns
        .campaigns
        .iter()
        .map(|c| TableRow {
            pbx: "",
            key: &c.row.name,
            sort: SortKey::Fold(&c.row.name),
            cells: Box::new(move || {
                let p = &c.progress;
                let (ack_text, ack_item) = ack(c, engines_up, now);
                let n = |v: i64| TableCell::new(v.to_string(), Item::Text);
                vec![
                    TableCell::new(c.row.name.clone(), Item::Text),
                    TableCell::new(c.row.status.clone(), status_item(&c.row.status)),
                    TableCell::new(ack_text, ack_item),
                    n(p.total),
                    n(p.pending),
                    n(p.dialing),
                    n(p.answered),
                    n(p.failed),
                    n(p.dnc),
                    n(p.exhausted),
                    TableCell::new(p.live.to_string(), Item::StateInCall),
                    TableCell::new(
                        p.answer_rate()
                            .map_or_else(|| "—".into(), |r| format!("{r:.0}")),
                        Item::Text,
                    ),
                    abandon_cell(c),
                    machine_cell(c),
                ]
            }),
        })
        .collect()
}

/// The abandon rate against the campaign's cap: critical at or over it,
/// a warning from four fifths of it; `—` with no live answer (or a
/// campaign whose calls go to an extension, with no ledger).
fn abandon_cell(c: &CampaignStatus) -> TableCell {
    let Some(pct) = c.abandons.and_then(|a| a.percent()) else {
        return TableCell::new("—", Item::Muted);
    };
    let cap = c.row.def.pacing.max_abandon_percent;
    let item = if pct >= cap {
        Item::HealthCritical
    } else if pct >= cap * 0.8 {
        Item::HealthWarn
    } else {
        Item::HealthOk
    };
    TableCell::new(format!("{pct:.1}"), item)
}

/// The share of answers AMD took for machines; `—` for a campaign
/// without `[amd]` or without answers.
fn machine_cell(c: &CampaignStatus) -> TableCell {
    match c.abandons.and_then(|a| a.machine_percent()) {
        // Whole percent: it informs, it is not held to a cap.
        Some(pct) if c.row.def.amd.is_some() || pct > 0.0 => {
            TableCell::new(format!("{pct:.0}"), Item::Text)
        }
        _ => TableCell::new("—", Item::Muted),
    }
}

/// The engines, for the status line: `lab-engine: ARI up, … (0 s ago)`.
pub fn engines_line(model: &Model) -> String {
    let now = model.now_ms;
    let v = &model.campaigns;
    if v.engines.is_empty() {
        return "no engine has run on this database (switchboard --engine)".into();
    }
    v.engines
        .iter()
        .map(|e| {
            let age = (now - e.heartbeat_at).max(0);
            if age < ENGINE_STALE_MS {
                format!("{}: {}", e.id, e.state)
            } else {
                format!("{}: silent for {} s", e.id, age / 1000)
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
