//! Resident memory of the console's state and a drawn frame with 5,000
//! extensions and 1,000 live channels (plus 100 queues of 20 members).
//! Target (issue: live console): at most 50 MB resident.
//! Run: cargo bench --bench memory   (prints JSON figures)

#[path = "support/synth.rs"]
mod synth;

use switchboard::ui::view::offscreen;

/// VmRSS / VmHWM of this process in kB (Linux).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo test --all-targets` runs benches with --bench absent: build a
    // smaller state so the test run stays quick, but still exercise the code.
    let full = std::env::args().any(|a| a == "--bench");
    let (exts, chans) = if full { (5_000, 1_000) } else { (50, 10) };
    let before = status_kb("VmRSS:");
    let now = 1_800_000_000_000;
    let model = synth::model(exts, 100, 20, chans, now);
    let frame = offscreen(&model, 240, 70).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(frame.area.width, 240);
    let after = status_kb("VmRSS:");
    let peak = status_kb("VmHWM:");
    println!(
        "{{\"extensions\":{},\"channels\":{},\"queues\":100,\"rss_before_kb\":{before},\"rss_after_kb\":{after},\"peak_rss_kb\":{peak}}}",
        model.pbxs.0[0].state.extensions.len(),
        model.pbxs.0[0].state.channels.len()
    );
    if full {
        assert!(peak < 50 * 1024, "peak RSS {peak} kB exceeds 50 MB");
    }
}
