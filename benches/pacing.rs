//! Pacing decisions and the simulator.
//! Targets (issue: pacing): decisions for 100 running campaigns in one tick
//! under 1 ms; at least one simulated 8-hour day of a 50-agent campaign per
//! second.
//! Run: cargo bench --bench pacing

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use switchboard::dialer::pacing::{Floor, Mode, PacingDef, Stats, decide};
use switchboard::dialer::simulate::{Model, run};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pacing");
    // 100 predictive campaigns of 20 to 69 agents each, every state of the
    // floor different: one engine tick.
    let def = PacingDef {
        mode: Mode::Predictive,
        ..PacingDef::default()
    };
    let floors: Vec<(Floor, Stats)> = (0..100u32)
        .map(|i| {
            (
                Floor {
                    available: i % 7,
                    busy: 20 + i % 50,
                    ringing: i % 11,
                    waiting: i % 3,
                },
                Stats {
                    answer_rate: 0.1 + f64::from(i % 5) * 0.1,
                    ring_to_answer_s: 6.0 + f64::from(i % 9),
                    handle_s: 120.0 + f64::from(i),
                },
            )
        })
        .collect();
    g.throughput(Throughput::Elements(100));
    g.bench_function("tick of 100 predictive campaigns", |b| {
        b.iter(|| {
            let mut dials = 0;
            for (i, (floor, stats)) in floors.iter().enumerate() {
                let rate = (i % 4 == 0).then_some(0.01);
                dials += decide(&def, floor, stats, rate, 500).dial;
            }
            black_box(dials)
        })
    });
    // One 8-hour day of a 50-agent predictive campaign.
    let day = Model {
        agents: 50,
        aht_s: 180.0,
        answer_rate: 0.3,
        ring_s: (3.0, 15.0),
        hours: 8.0,
        days: 1,
        seed: 1,
        machine_rate: 0.0,
        amd_s: None,
    };
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("simulated 8-hour day, 50 agents", |b| {
        b.iter(|| black_box(run(&def, 500, 25, &day).connects))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
