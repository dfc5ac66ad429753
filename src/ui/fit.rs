//! One-line bars (header, footer) that keep what matters at any width: each
//! part has a priority, and when the line is too narrow the lowest-priority
//! parts are dropped whole (never cut mid-value), the rest keeping their
//! order.

use ratatui::text::{Line, Span};

/// Never dropped (drawn even if it is cut at the right edge).
pub const ALWAYS: u8 = u8::MAX;

/// A piece of a bar: spans shown or dropped together.
#[derive(Clone, Debug)]
pub struct Part<'a> {
    /// Higher survives longer; [`ALWAYS`] is never dropped.
    pub priority: u8,
    /// What is drawn.
    pub spans: Vec<Span<'a>>,
}

impl<'a> Part<'a> {
    /// One span of `priority`.
    pub fn new(priority: u8, span: Span<'a>) -> Self {
        Part {
            priority,
            spans: vec![span],
        }
    }

    /// Spans of `priority` that go together (a key and its label).
    pub fn group(priority: u8, spans: Vec<Span<'a>>) -> Self {
        Part { priority, spans }
    }

    fn width(&self) -> usize {
        self.spans.iter().map(Span::width).sum()
    }
}

/// The parts that fit in `width` columns, in their order.
pub fn fit(parts: Vec<Part<'_>>, width: u16) -> Line<'_> {
    fit_joined(parts, None, width)
}

/// Like [`fit`], with `sep` drawn between the parts that remain.
pub fn fit_joined<'a>(mut parts: Vec<Part<'a>>, sep: Option<Span<'a>>, width: u16) -> Line<'a> {
    let width = usize::from(width);
    let sep_width = sep.as_ref().map_or(0, Span::width);
    let joints = |n: usize| n.saturating_sub(1) * sep_width;
    let total =
        |parts: &[Part<'_>]| parts.iter().map(Part::width).sum::<usize>() + joints(parts.len());
    while total(&parts) > width {
        // The lowest priority goes first; among equals, the rightmost.
        let Some(i) = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.priority != ALWAYS)
            .min_by_key(|(i, p)| (p.priority, usize::MAX - i))
            .map(|(i, _)| i)
        else {
            break;
        };
        parts.remove(i);
    }
    let mut spans = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0
            && let Some(s) = &sep
        {
            spans.push(s.clone());
        }
        spans.extend(p.spans);
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line<'_>) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn drops_lowest_priority_whole_and_keeps_order() {
        let parts = || {
            vec![
                Part::new(1, Span::raw("[title]")),
                Part::new(ALWAYS, Span::raw("[state]")),
                Part::new(5, Span::raw("[sl 88%]")),
                Part::new(3, Span::raw("[phones 4/5]")),
                Part::new(9, Span::raw("[q quit]")),
            ]
        };
        assert_eq!(
            text(&fit(parts(), 100)),
            "[title][state][sl 88%][phones 4/5][q quit]"
        );
        assert_eq!(text(&fit(parts(), 30)), "[state][sl 88%][q quit]");
        assert_eq!(text(&fit(parts(), 3)), "[state]");
        let joined = fit_joined(parts(), Some(Span::raw("|")), 32);
        assert_eq!(text(&joined), "[state]|[sl 88%]|[q quit]");
    }
}
