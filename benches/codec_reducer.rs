//! Codec + reducer throughput on the shipped lab recording.
//! Target (issue: live console): at least 2,000,000 events/s on one core.
//! Run: cargo bench --bench codec_reducer

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use switchboard::ami::{Decoder, Frame};
use switchboard::capture::{Capture, headless};
use switchboard::pbx::State;

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/lab-queues.cap");

fn bench(c: &mut Criterion) {
    let capture = Capture::parse(FIXTURE).unwrap_or_else(|e| panic!("fixture: {e}"));
    let (_, stats) = headless::run(&capture);
    let mut g = c.benchmark_group("lab-queues");
    g.throughput(Throughput::Elements(stats.events));
    g.bench_function("codec", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let mut n = 0u64;
            for r in &capture.records {
                d.feed(r.bytes);
                while let Some(f) = d.next_frame() {
                    if let Ok(Frame::Message(m)) = f {
                        n += m.len() as u64;
                    }
                }
            }
            black_box(n)
        })
    });
    g.bench_function("codec+reducer", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let mut state = State::new();
            state.begin_resync();
            for r in &capture.records {
                d.feed(r.bytes);
                while let Some(f) = d.next_frame() {
                    if let Ok(Frame::Message(m)) = f {
                        state.apply(&m, 1);
                    }
                }
            }
            black_box(state.events_applied)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
