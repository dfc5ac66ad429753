//! The daemon under load (issue "`switchboard serve`", Show): a synthetic
//! capture replayed into `switchboard serve --replay` in real time at 5,000
//! events/s, with 100 and then 1,000 headless consoles attached over the
//! socket, each decoding every delta into its own state as a console does.
//!
//! Prints, per run: the event-to-client latency (from the daemon applying
//! the oldest change a delta carries to the client having read it;
//! p50/p99/max over every delta every client received during the load),
//! the daemon's peak RSS, and its CPU time per event. The clients run in
//! this process, on the same 2 cores as the daemon: "consoles" decode and
//! apply every delta as a console does; "readers" read every frame and
//! peek at its stamp only, which shows the daemon's own fan-out.
//!
//! Run: cargo bench --bench serve

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use switchboard::capture::CaptureWriter;
use switchboard::clock::now_ms;

/// Events per second during the load.
const RATE: usize = 5_000;
/// Seconds of load.
const LOAD_S: usize = 20;
/// Quiet lead-in before the load, ms: the consoles attach meanwhile.
const LEAD_IN_MS: i64 = 15_000;
/// Queues, members per queue, extensions.
const QUEUES: usize = 50;
const MEMBERS: usize = 20;
const EXTENSIONS: usize = 500;
/// Callers waiting at any time during the load.
const LIVE_CALLERS: usize = 300;

fn block(name: &str, headers: &[(&str, String)]) -> String {
    let mut s = format!("Event: {name}\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// The four events of one caller: arrival (2) or departure (2). A caller
/// joins at the end of its queue, where `LIVE_CALLERS / QUEUES` wait.
fn caller(i: usize, arrive: bool) -> String {
    let position = (i / QUEUES).min(LIVE_CALLERS / QUEUES) + 1;
    let uid = format!("1800000000.{i}");
    let chan = format!("PJSIP/trunk-{i:08x}");
    let queue = format!("queue-{:03}", i % QUEUES);
    if arrive {
        block(
            "Newchannel",
            &[
                ("Channel", chan.clone()),
                ("Uniqueid", uid.clone()),
                ("Linkedid", uid.clone()),
                ("ChannelState", "6".into()),
                ("CallerIDNum", format!("555{i:07}")),
                ("CallerIDName", "José Núñez".into()),
            ],
        ) + &block(
            "QueueCallerJoin",
            &[
                ("Queue", queue),
                ("Channel", chan),
                ("Uniqueid", uid),
                ("Position", position.to_string()),
                ("CallerIDNum", format!("555{i:07}")),
                ("CallerIDName", "José Núñez".into()),
            ],
        )
    } else {
        block(
            "QueueCallerLeave",
            &[
                ("Queue", queue),
                ("Uniqueid", uid.clone()),
                ("Position", "1".into()),
            ],
        ) + &block("Hangup", &[("Uniqueid", uid), ("Cause", "16".into())])
    }
}

/// Writes the capture: the PBX's queues, members and extensions at once,
/// then after the lead-in `RATE` events/s for `LOAD_S` s, one record per
/// 2 ms. Returns the number of load events.
fn write_capture(path: &Path) -> usize {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let start = now_ms();
    let mut w =
        CaptureWriter::new(std::io::BufWriter::new(file), start).unwrap_or_else(|e| panic!("{e}"));
    let mut setup = String::from("Asterisk Call Manager/11.0.0\r\n");
    for e in 0..EXTENSIONS {
        setup += &block(
            "DeviceStateChange",
            &[
                ("Device", format!("PJSIP/{}", 1000 + e)),
                ("State", "NOT_INUSE".into()),
            ],
        );
    }
    for q in 0..QUEUES {
        let queue = format!("queue-{q:03}");
        setup += &block(
            "QueueParams",
            &[("Queue", queue.clone()), ("ServiceLevel", "20".into())],
        );
        for m in 0..MEMBERS {
            let ext = 1000 + (q * MEMBERS + m) % EXTENSIONS;
            setup += &block(
                "QueueMember",
                &[
                    ("Queue", queue.clone()),
                    ("Name", format!("Agent {ext}")),
                    ("Location", format!("PJSIP/{ext}")),
                    ("StateInterface", format!("PJSIP/{ext}")),
                    ("Status", "1".into()),
                    ("Paused", "0".into()),
                ],
            );
        }
    }
    for i in 0..LIVE_CALLERS {
        setup += &caller(i, true);
    }
    w.record(start, setup.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    // Each step: one caller arrives, the oldest leaves (4 events).
    let steps = RATE * LOAD_S / 4;
    let per_record = RATE * 2 / 1000 / 4; // steps per 2 ms
    let mut step = 0;
    let mut offset = LEAD_IN_MS;
    while step < steps {
        let mut chunk = String::new();
        for _ in 0..per_record.max(1) {
            chunk += &caller(LIVE_CALLERS + step, true);
            chunk += &caller(step, false);
            step += 1;
        }
        w.record(start + offset, chunk.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        offset += 2;
    }
    // A quiet tail so the last deltas reach everyone before the end.
    w.record(start + offset + 3_000, b"")
        .unwrap_or_else(|e| panic!("{e}"));
    w.finish()
        .and_then(|mut f| f.flush())
        .unwrap_or_else(|e| panic!("{e}"));
    steps * 4
}

/// The daemon's RSS now (kB) from /proc.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The daemon's peak RSS (kB) and CPU time (s) from /proc.
fn proc_figures(pid: u32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: utime is the 12th,
    // stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (hwm, ticks as f64 / hz)
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// What each attached client does with a frame.
#[derive(Clone, Copy, PartialEq)]
enum Client {
    /// What a console does: decode the whole delta and apply it.
    Console,
    /// Read the frame and peek at its stamp only: the daemon's own
    /// fan-out, without the consoles' decoding on the same 2 cores.
    Reader,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Console => "consoles",
            Client::Reader => "readers",
        }
    }
}

/// The part of a frame a reader looks at.
#[derive(serde::Deserialize)]
enum Peek {
    Live(Vec<Stamp>),
    #[serde(other)]
    Other,
}

#[derive(serde::Deserialize)]
struct Stamp {
    #[serde(default)]
    reset: bool,
    #[serde(default)]
    applied_ms: i64,
}

/// A reader client: its latencies until `end`.
async fn reader(socket: std::path::PathBuf, end: tokio::time::Instant) -> Vec<i64> {
    use futures_util::StreamExt;
    let (mut link, _) = switchboard::serve::attach::handshake(
        &socket,
        switchboard::serve::protocol::Purpose::Console,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    let mut seen = Vec::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => return seen,
            f = link.next() => match f {
                Some(Ok(frame)) => {
                    if let Ok(Peek::Live(stamps)) = switchboard::serve::protocol::decode::<Peek>(&frame) {
                        let now = now_ms();
                        seen.extend(stamps.iter().filter(|s| !s.reset).map(|s| now - s.applied_ms));
                    }
                }
                _ => return seen,
            },
        }
    }
}

fn run(consoles: usize, kind: Client, capture: &Path, dir: &Path, events: usize) {
    let socket = dir.join(format!("bench-{consoles}-{}.sock", kind.name()));
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        format!("[serve]\nsocket = \"{}\"\n", socket.display()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--replay"])
            .arg(capture)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("switchboard serve: {e}")),
    );
    while !socket.exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let load_from = started + Duration::from_millis(LEAD_IN_MS as u64);
    let load_to = load_from + Duration::from_secs(LOAD_S as u64 + 2);
    let ((latencies, clients_cpu, attached_kb), cpu) = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..consoles {
            let socket = socket.clone();
            if kind == Client::Reader {
                let end = tokio::time::Instant::from_std(load_to);
                tasks.push(tokio::spawn(reader(socket, end)));
                continue;
            }
            tasks.push(tokio::spawn(async move {
                let mut a = switchboard::serve::attach::attach(socket)
                    .await
                    .unwrap_or_else(|e| panic!("{e:#}"));
                let mut state = switchboard::pbx::State::new();
                let mut seen = Vec::new();
                let end = tokio::time::Instant::from_std(load_to);
                let mut links = switchboard::ami::fan_in::FanIn::new(std::mem::take(&mut a.ami));
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(end) => break,
                        d = a.live.recv() => match d {
                            Some(d) => {
                                if !d.reset {
                                    seen.push(now_ms() - d.applied_ms);
                                }
                                d.apply(&mut state);
                            }
                            None => break,
                        },
                        _ = links.recv() => {}
                    }
                }
                a.task.abort();
                seen
            }));
        }
        let attached = Instant::now();
        assert!(
            attached < load_from,
            "consoles attached after the load began"
        );
        tokio::time::sleep_until(tokio::time::Instant::from_std(load_from)).await;
        let attached_kb = rss_kb(daemon.0.id());
        let cpu_before = proc_figures(daemon.0.id()).1;
        let clients_before = proc_figures(std::process::id()).1;
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap_or_default());
        }
        let cpu_after = proc_figures(daemon.0.id()).1;
        let clients = proc_figures(std::process::id()).1 - clients_before;
        ((all, clients, attached_kb), cpu_after - cpu_before)
    });
    let (hwm_kb, _) = proc_figures(daemon.0.id());
    let mut sorted = latencies;
    sorted.sort_unstable();
    let what = kind.name();
    println!(
        "{consoles:>5} {what}: {} deltas received; latency p50 {} ms, p99 {} ms, max {} ms; daemon RSS {:.1} MB once attached, {:.1} MB peak; daemon CPU {:.2} s for {events} events = {:.1} µs/event; clients' CPU {:.2} s",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0),
        attached_kb as f64 / 1024.0,
        hwm_kb as f64 / 1024.0,
        cpu,
        cpu * 1e6 / events as f64,
        clients_cpu
    );
}

/// The deltas an admin's console receives under this load, in process:
/// average size and the time to compute, encode and decode one.
fn delta_figures(capture: &Path) {
    use switchboard::access::LiveAccess;
    use switchboard::ami::AmiMsg;
    use switchboard::serve::live::{LiveDelta, SentCopy};
    let reader = switchboard::capture::open(capture).unwrap_or_else(|e| panic!("{e}"));
    let mut state = switchboard::pbx::State::new();
    let mut sent = SentCopy::new();
    let (all, rule) = (
        switchboard::access::Visibility::All,
        switchboard::endpoints::ExtensionRule::default(),
    );
    let access = LiveAccess {
        visibility: &all,
        rule: &rule,
    };
    let (mut n, mut bytes, mut events) = (0u64, 0usize, 0usize);
    let (mut make, mut decode) = (Duration::ZERO, Duration::ZERO);
    let per_delta = RATE / 50; // one delta per 20 ms
    for (_, msg) in switchboard::capture::Replay::from_reader(reader) {
        let is_event = matches!(msg, AmiMsg::Event(_));
        state.handle(&msg);
        if !is_event {
            continue;
        }
        events += 1;
        if events % per_delta == 0 {
            let t = Instant::now();
            let d = sent.delta(&state, access);
            let frame = switchboard::serve::protocol::encode(&d).unwrap_or_default();
            make += t.elapsed();
            if d.reset {
                continue;
            }
            let t = Instant::now();
            let back: LiveDelta =
                switchboard::serve::protocol::decode(&frame).unwrap_or_else(|e| panic!("{e}"));
            decode += t.elapsed();
            std::hint::black_box(back);
            n += 1;
            bytes += frame.len();
        }
    }
    let n = n.max(1);
    println!(
        "one delta per 20 ms for an admin: {:.1} KB on average; {:.0} µs to compute and encode (once per group), {:.0} µs to decode (per console)",
        bytes as f64 / n as f64 / 1024.0,
        make.as_secs_f64() * 1e6 / n as f64,
        decode.as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let capture = dir.path().join("load.cap");
    let events = write_capture(&capture);
    println!(
        "capture: {QUEUES} queues × {MEMBERS} members, {EXTENSIONS} extensions, {LIVE_CALLERS} callers waiting; {events} events at {RATE}/s for {LOAD_S} s"
    );
    delta_figures(&capture);
    // `cargo test --all-targets` runs this without `--bench`: the deltas
    // above are its smoke test; the load runs are for `cargo bench`.
    if std::env::args().any(|a| a == "--deltas-only") || !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench --bench serve -- 1000-readers` runs only the runs named.
    let runs = [
        (100, Client::Console),
        (100, Client::Reader),
        (1_000, Client::Reader),
        (1_000, Client::Console),
    ]
    .map(|(n, kind)| (format!("{n}-{}", kind.name()), n, kind));
    let args: Vec<String> = std::env::args().collect();
    let named = |name: &String| args.contains(name);
    let any_named = runs.iter().any(|(name, ..)| named(name));
    for (name, n, kind) in &runs {
        if !any_named || named(name) {
            run(*n, *kind, &capture, dir.path(), events);
        }
    }
}
