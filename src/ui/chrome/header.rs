//! Header: connection state (with a STALE marker when the data may be out of
//! date), the clock, and the headline figures summed over all queues.

use crate::access::Visibility;
use crate::ami::ConnectionState;
use crate::pbx::queue::Activity;
use crate::pbx::{ExtensionState, Health};
use crate::sanitize::clean;
use crate::service_level::{SlCounts, SlVariant};
use crate::ui::fit::{ALWAYS, Part, fit, fit_joined};
use crate::ui::format::duration;
use crate::ui::model::{Model, Source};
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
    /// Completed, abandoned and within-service-level counts, summed over
    /// the queues (each within its own `ServiceLevel`).
    pub sl: SlCounts,
    /// The service-level variant shown (`[kpi] sl`).
    pub sl_variant: SlVariant,
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
        let mut h = Headline::default();
        for (i, p) in model.visible_pbxs().enumerate() {
            h.add(model, i, p);
        }
        h.sl_variant = h.sl.shown(model.sl_targets.sl);
        h
    }

    /// Adds PBX `p` (number `i`) to the sums.
    fn add(&mut self, model: &Model, i: usize, p: &crate::pbx::Pbx) {
        let state = &p.state;
        self.calls += if model.access == Visibility::All {
            state
                .channels
                .values()
                .map(|c| c.linkedid.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
        } else {
            crate::pbx::calls(state.channels.values())
                .iter()
                .filter(|c| model.sees_call(state, c))
                .count()
        };
        // A member in two queues of one PBX counts once; interfaces of two
        // PBXs are two agents.
        let mut seen = std::collections::HashSet::new();
        for q in state.queues.values().filter(|q| model.sees_queue(&q.name)) {
            let f = q.figures(
                model.now_ms,
                &model.health,
                model.sl_targets.variant(&q.name),
            );
            self.waiting += f.waiting;
            self.longest_wait_s = self.longest_wait_s.max(f.longest_wait_s);
            let c = q.sl_counts();
            self.sl.answered += c.answered;
            self.sl.answered_in_sl += c.answered_in_sl;
            self.sl.abandoned += c.abandoned;
            self.sl.abandoned_in_sl += c.abandoned_in_sl;
            self.worst = self.worst.max(Some(f.health));
            for m in q.members.values() {
                let Some(a) = m.activity() else { continue };
                if !seen.insert((i, m.interface.as_str())) {
                    continue;
                }
                match a {
                    Activity::Paused => self.paused += 1,
                    Activity::Available => self.available += 1,
                    Activity::Busy => self.busy += 1,
                }
            }
        }
        let visible = || {
            state
                .extensions
                .values()
                .filter(|e| model.shows_extension(e))
        };
        self.extensions += visible().count();
        self.online += visible()
            .filter(|e| e.state != ExtensionState::Offline)
            .count();
    }

    /// Service level over all queues, % in `sl_variant`.
    pub fn service_level(&self) -> Option<f64> {
        self.sl.percent(self.sl_variant)
    }

    /// Abandon rate, % (abandoned / (answered + abandoned)).
    pub fn abandon_rate(&self) -> Option<f64> {
        let total = self.sl.answered + self.sl.abandoned;
        (total > 0).then(|| self.sl.abandoned as f64 * 100.0 / total as f64)
    }
}

/// `HH:MM:SS` of `ms` in the PBX's time zone (DST followed as it changes).
fn clock(ms: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .format("%H:%M:%S")
        .to_string()
}

/// Line 1: connection state, STALE and the data's age, the clock always
/// survive; the source and the title go first when the line is narrow.
fn status_line<'a>(model: &Model, theme: &Theme, width: u16) -> Line<'a> {
    let source = match &model.source {
        Source::Live { addr } => format!("{addr} direct"),
        Source::Attached { pbx, login } => {
            crate::sanitize::escape(&format!("{pbx} via daemon as {login}")).into_owned()
        }
        Source::Replay { file } => format!("replay {file}"),
    };
    let mut parts = vec![Part::new(
        1,
        Span::styled(" switchboard ", theme.style(Item::Title)),
    )];
    let many = model.pbxs.is_many();
    for p in model.pbxs.iter() {
        let (text, item) = link_text(model, &p.link.conn);
        // Several PBXs: each link's state is named after its PBX.
        let text = if many {
            format!(" {text} {} ", clean(&p.name))
        } else {
            format!(" {text} ")
        };
        parts.push(Part::new(ALWAYS, Span::styled(text, theme.style(item))));
        if p.link.is_stale() {
            parts.push(Part::new(
                ALWAYS,
                Span::styled(" STALE ", theme.style(Item::Stale)),
            ));
        }
        if let Some(age) = model.data_age_s(&p.link) {
            parts.push(Part::new(
                9,
                Span::styled(
                    format!(" no data for {} ", duration(age)),
                    theme.style(Item::Stale),
                ),
            ));
        }
    }
    parts.push(Part::new(
        8,
        Span::styled(
            format!(" {} ", clock(model.now_ms, model.tz)),
            theme.style(Item::Header),
        ),
    ));
    parts.push(Part::new(
        2,
        Span::styled(format!(" {} ", clean(&source)), theme.style(Item::Muted)),
    ));
    fit(parts, width)
}

/// A link's state as the header words it, with its theme item.
fn link_text(model: &Model, conn: &ConnectionState) -> (String, Item) {
    match (conn, &model.source) {
        (_, Source::Replay { .. }) if model.source_ended => {
            ("■ End of recording".to_string(), Item::ConnResyncing)
        }
        (_, Source::Live { .. } | Source::Attached { .. }) if model.source_ended => {
            ("✕ AMI link stopped".to_string(), Item::ConnDown)
        }
        (ConnectionState::Ready, _) => ("● Ready".to_string(), Item::ConnReady),
        (ConnectionState::Resyncing, _) => ("◐ Resyncing".to_string(), Item::ConnResyncing),
        (ConnectionState::Connecting { attempt }, _) => {
            (format!("◌ Connecting ({attempt})"), Item::ConnResyncing)
        }
        (ConnectionState::Down { .. }, _) => ("✕ Down".to_string(), Item::ConnDown),
    }
}

/// Line 2: the headline figures, SL and waiting callers last to go; while
/// the link is down, why and when it retries come first.
fn figures_line<'a>(model: &Model, theme: &Theme, width: u16) -> Line<'a> {
    let style = theme.style(Item::Header);
    let h = Headline::of(model);
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.0}%")).unwrap_or_else(|| "-".into());
    let mut parts = Vec::new();
    for p in model.pbxs.iter() {
        let ConnectionState::Down { retry_in, reason } = &p.link.conn else {
            continue;
        };
        if model.source_ended {
            break;
        }
        let left = i64::try_from(retry_in.as_millis())
            .unwrap_or(i64::MAX)
            .saturating_sub(model.now_ms.saturating_sub(p.link.since_ms));
        let who = if model.pbxs.is_many() {
            format!("{}: ", clean(&p.name))
        } else {
            String::new()
        };
        parts.push(Part::new(
            ALWAYS,
            Span::styled(
                format!(
                    " {who}{}; retry in {}s ",
                    clean(reason),
                    (left.max(0).saturating_add(999)) / 1000
                ),
                theme.style(Item::ConnDown),
            ),
        ));
    }
    let figures = [
        (4, format!(" Calls {} ", h.calls)),
        (
            8,
            format!(
                " Waiting {}, longest {} ",
                h.waiting,
                duration(h.longest_wait_s)
            ),
        ),
        (
            5,
            format!(
                " Avail {} · Busy {} · Paused {} ",
                h.available, h.busy, h.paused
            ),
        ),
        (
            6,
            format!(
                " Answered {} · Abandoned {} ({}) ",
                h.sl.answered,
                h.sl.abandoned,
                pct(h.abandon_rate())
            ),
        ),
        (
            9,
            format!(" {} {} ", h.sl_variant.label(), pct(h.service_level())),
        ),
        (3, format!(" Phones {}/{} ", h.online, h.extensions)),
    ];
    for (priority, text) in figures {
        parts.push(Part::new(priority, Span::styled(text, style)));
    }
    fit_joined(parts, Some(Span::styled("│", style)), width)
}

/// Draws the two header lines.
pub fn draw(f: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let header = theme.style(Item::Header);
    let text = vec![
        status_line(model, theme, area.width).style(header),
        figures_line(model, theme, area.width).style(header),
    ];
    f.render_widget(Paragraph::new(text).style(header), area);
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn the_clock_reads_the_pbx_zone_and_follows_dst() {
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap_or(chrono_tz::Tz::UTC);
        // 2026-03-08 06:59:59 UTC is 01:59:59 EST; one second later, 03:00 EDT.
        let before = 1_772_953_199_000;
        assert_eq!(clock(before, ny), "01:59:59");
        assert_eq!(clock(before + 1_000, ny), "03:00:00");
        assert_eq!(clock(before, chrono_tz::Tz::UTC), "06:59:59");
    }
}
