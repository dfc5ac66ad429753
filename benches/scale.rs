//! Per-event cost against the size of the state (issue "second look", item 8):
//! events/s of a steady churn (a call arrives, joins a queue, the oldest
//! caller leaves and hangs up) with 100, 10,000 and 100,000 live callers and
//! channels, once spread over many queues and once in one deep queue.
//! Target: the figures at 100 and at 100,000 differ by less than 2x.
//! Run: cargo bench --bench scale

use std::hint::black_box;
use std::time::Instant;
use switchboard::ami::Message;
use switchboard::pbx::State;

fn event(name: &str, headers: &[(&str, &str)]) -> Message {
    let mut m = Message::default();
    m.push("Event", name);
    for (k, v) in headers {
        m.push(k, v);
    }
    m
}

/// A caller arrives: `waiting[q]` is how many wait in its queue (the
/// position Asterisk gives a normal joiner is that plus one).
fn arrive(s: &mut State, waiting: &mut [usize], i: usize, at: i64) {
    let queues = waiting.len();
    let uid = format!("1700000000.{i}");
    let chan = format!("Local/{i}@callers-0000;2");
    let queue = format!("q{}", i % queues);
    s.apply(
        &event(
            "Newchannel",
            &[
                ("Channel", &chan),
                ("Uniqueid", &uid),
                ("Linkedid", &uid),
                ("ChannelState", "6"),
                ("CallerIDNum", "5551234"),
                ("CallerIDName", "José Núñez"),
            ],
        ),
        at,
    );
    waiting[i % queues] += 1;
    let position = waiting[i % queues].to_string();
    s.apply(
        &event(
            "QueueCallerJoin",
            &[
                ("Queue", &queue),
                ("Channel", &chan),
                ("Uniqueid", &uid),
                ("Position", &position),
                ("CallerIDNum", "5551234"),
                ("CallerIDName", "José Núñez"),
            ],
        ),
        at,
    );
}

fn depart(s: &mut State, waiting: &mut [usize], i: usize, at: i64) {
    let queues = waiting.len();
    waiting[i % queues] -= 1;
    let uid = format!("1700000000.{i}");
    let queue = format!("q{}", i % queues);
    s.apply(
        &event(
            "QueueCallerLeave",
            &[("Queue", &queue), ("Uniqueid", &uid), ("Position", "1")],
        ),
        at,
    );
    s.apply(&event("Hangup", &[("Uniqueid", &uid), ("Cause", "16")]), at);
}

/// Events per second of the churn at `live` callers over `queues` queues.
fn churn(live: usize, queues: usize) -> f64 {
    let mut s = State::new();
    let mut waiting = vec![0usize; queues];
    for i in 0..live {
        arrive(&mut s, &mut waiting, i, 0);
    }
    assert_eq!(s.channels.len(), live);
    let rounds = 100_000;
    let start = Instant::now();
    for r in 0..rounds {
        arrive(&mut s, &mut waiting, live + r, 1);
        depart(&mut s, &mut waiting, r, 1);
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(s.events_applied);
    assert_eq!(s.channels.len(), live);
    (rounds * 4) as f64 / secs
}

fn main() {
    for (label, spread) in [
        ("spread, 10 callers a queue", true),
        ("one deep queue", false),
    ] {
        println!("{label}:");
        let mut base = None;
        for live in [100usize, 10_000, 100_000] {
            let queues = if spread { (live / 10).max(1) } else { 1 };
            let eps = churn(live, queues);
            let b = *base.get_or_insert(eps);
            println!(
                "  {live:>7} callers and channels, {queues:>6} queue(s): {:>10.0} events/s  ({:.2}x the 100 figure)",
                eps,
                eps / b
            );
        }
    }
}
