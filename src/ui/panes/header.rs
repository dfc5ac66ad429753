//! Header: connection state (with a STALE marker when the data may be out of
//! date), the clock, and the headline figures summed over all queues.

use crate::ami::ConnectionState;
use crate::cdr::filter::Visibility;
use crate::pbx::queue::Activity;
use crate::pbx::{ExtensionState, Health};
use crate::ui::format::duration;
use crate::ui::model::{Model, Source};
use crate::ui::sanitize::clean;
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Headline figures for the whole floor. Definitions in docs/kpi.md.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headline {
    /// Live calls.
    pub calls: usize,
    /// Callers waiting in all queues.
    pub waiting: usize,
    /// Longest current wait in any queue, seconds.
    pub longest_wait_s: i64,
    /// Distinct members (by interface) available / busy / paused.
    pub available: usize,
    /// See `available`.
    pub busy: usize,
    /// See `available`.
    pub paused: usize,
    /// Completed queue calls, all queues.
    pub completed: u32,
    /// Abandoned queue calls, all queues.
    pub abandoned: u32,
    /// Calls completed within each queue's service level, all queues.
    pub completed_in_sl: u32,
    /// Extensions not Offline / all extensions.
    pub online: usize,
    /// All extensions.
    pub extensions: usize,
    /// Worst queue health.
    pub worst: Option<Health>,
}

impl Headline {
    /// Sums the queues, extensions and calls the user may see, at
    /// `model.now_ms`.
    pub fn of(model: &Model) -> Self {
        let calls = if model.access == Visibility::All {
            model
                .pbx
                .channels
                .values()
                .map(|c| c.linkedid.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
        } else {
            crate::pbx::calls(model.pbx.channels.values())
                .iter()
                .filter(|c| model.sees_call(c))
                .count()
        };
        let mut h = Headline {
            calls,
            ..Headline::default()
        };
        let mut seen = std::collections::HashSet::new();
        for q in model
            .pbx
            .queues
            .values()
            .filter(|q| model.sees_queue(&q.name))
        {
            let f = q.figures(model.now_ms, &model.health);
            h.waiting += f.waiting;
            h.longest_wait_s = h.longest_wait_s.max(f.longest_wait_s);
            h.completed += q.completed;
            h.abandoned += q.abandoned;
            h.completed_in_sl += q.completed_in_sl;
            h.worst = h.worst.max(Some(f.health));
            for m in q.members.values() {
                let Some(a) = m.activity() else { continue };
                if !seen.insert(m.interface.as_str()) {
                    continue;
                }
                match a {
                    Activity::Paused => h.paused += 1,
                    Activity::Available => h.available += 1,
                    Activity::Busy => h.busy += 1,
                }
            }
        }
        let visible = || {
            model
                .pbx
                .extensions
                .values()
                .filter(|e| model.sees_extension(&e.exten))
        };
        h.extensions = visible().count();
        h.online = visible()
            .filter(|e| e.state != ExtensionState::Offline)
            .count();
        h
    }

    /// Service level over all queues, % (answered within SL / (answered + abandoned)).
    pub fn service_level(&self) -> Option<f64> {
        let total = self.completed + self.abandoned;
        (total > 0).then(|| f64::from(self.completed_in_sl) * 100.0 / f64::from(total))
    }

    /// Abandon rate, % (abandoned / (answered + abandoned)).
    pub fn abandon_rate(&self) -> Option<f64> {
        let total = self.completed + self.abandoned;
        (total > 0).then(|| f64::from(self.abandoned) * 100.0 / f64::from(total))
    }
}

fn clock(ms: i64, utc_offset_s: i32) -> String {
    let secs = (ms / 1000 + i64::from(utc_offset_s)).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Draws the two header lines.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme, utc_offset_s: i32) {
    let source = match &model.source {
        Source::Live { addr } => addr.clone(),
        Source::Replay { file } => format!("replay {file}"),
    };
    let (conn_text, conn_item) = match &model.conn {
        ConnectionState::Ready => ("● Ready".to_string(), Item::ConnReady),
        ConnectionState::Resyncing => ("◐ Resyncing".to_string(), Item::ConnResyncing),
        ConnectionState::Connecting { attempt } => (
            format!("◌ Connecting (attempt {attempt})"),
            Item::ConnResyncing,
        ),
        ConnectionState::Down { retry_in, reason } => {
            let left = retry_in.as_millis() as i64 - (model.now_ms - model.conn_since_ms);
            (
                format!("✕ Down: {reason}; retry in {}s", (left.max(0) + 999) / 1000),
                Item::ConnDown,
            )
        }
    };
    let mut line1 = vec![
        Span::styled(" switchboard ", theme.style(Item::Title)),
        Span::styled(format!(" {} ", clean(&conn_text)), theme.style(conn_item)),
        Span::styled(format!(" {} ", clean(&source)), theme.style(Item::Muted)),
    ];
    if model.is_stale() {
        line1.push(Span::styled(" STALE ", theme.style(Item::Stale)));
    }
    line1.push(Span::styled(
        format!("  {}", clock(model.now_ms, utc_offset_s)),
        theme.style(Item::Header),
    ));
    let h = Headline::of(model);
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.0}%")).unwrap_or_else(|| "-".into());
    let line2 = format!(
        " Calls {} │ Waiting {}, longest {} │ Avail {} · Busy {} · Paused {} │ Answered {} · Abandoned {} ({}) │ SL {} │ Phones {}/{}",
        h.calls,
        h.waiting,
        duration(h.longest_wait_s),
        h.available,
        h.busy,
        h.paused,
        h.completed,
        h.abandoned,
        pct(h.abandon_rate()),
        pct(h.service_level()),
        h.online,
        h.extensions,
    );
    let header = theme.style(Item::Header);
    let text = vec![
        Line::from(line1).style(header),
        Line::from(Span::styled(line2, header)).style(header),
    ];
    f.render_widget(Paragraph::new(text).style(header), area);
}
