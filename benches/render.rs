//! A full console frame with 2,000 extensions and 100 queues.
//! Target (issue: live console): at most 2 ms per frame.
//! Run: cargo bench --bench render

#[path = "support/synth.rs"]
mod synth;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::ui::keymap::Keymap;
use switchboard::ui::theme::{ColorMode, Theme};
use switchboard::ui::view::{ViewCtx, draw};

fn bench(c: &mut Criterion) {
    let now = 1_800_000_000_000;
    let theme = Theme::builtin("dark", ColorMode::TrueColor).unwrap_or_else(|e| panic!("{e}"));
    let keymap = Keymap::load("default").unwrap_or_else(|e| panic!("{e}"));
    let ctx = ViewCtx {
        theme: &theme,
        keymap: &keymap,
    };
    let model = synth::model(2_000, 100, 20, 400, now);
    for (w, h) in [(120u16, 40u16), (240, 70)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        c.bench_function(&format!("frame 2000 ext 100 queues {w}x{h}"), |b| {
            b.iter(|| {
                // Force a full redraw each time, as after a resize.
                term.clear().unwrap_or_else(|e| panic!("{e}"));
                term.draw(|f| draw(f, &model, &ctx))
                    .unwrap_or_else(|e| panic!("{e}"));
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
