//! `switchboard serve` against the lab's real Asterisk: one daemon holds the
//! AMI link; consoles attach over its Unix socket as the users the kernel
//! names, and each receives only what its `[acl]` rights allow. Restricted
//! users are real accounts every Debian has (`nobody`, `daemon`), switched
//! to by the test (which runs as root in CI).

mod common;

use common::Lab;
use futures_util::{SinkExt, StreamExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use switchboard::ami::{AmiMsg, ConnectionState};
use switchboard::serve::protocol::{self, Answer, Hello, Purpose};

use common::daemon::{
    DAEMON_GID, DAEMON_UID, Daemon, NOBODY, NOGROUP, Site, cli_as, log, site_with, start,
    wait_channel,
};

/// Tests that make or end calls take turns on the one Asterisk.
static CALLS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The lab site of these tests: `nobody` a supervisor of extension 301
/// and queue `sales`; `daemon` is not listed.
fn site(lab: &Lab) -> Site {
    site_with(
        lab,
        "[acl.users.nobody]\nrole = \"supervisor\"\nextensions = [\"301\"]\nqueues = [\"sales\"]\n",
    )
}

/// What `serve snapshot` printed: queue names, extensions, channel names.
#[derive(Debug)]
struct Seen {
    queues: Vec<String>,
    extensions: Vec<String>,
    channels: Vec<String>,
}

fn snapshot_as(site: &Site, uid: u32) -> Seen {
    snapshot_of(site, uid, &[])
}

/// [`snapshot_as`] with more arguments (`--pbx NAME`).
fn snapshot_of(site: &Site, uid: u32, more: &[&str]) -> Seen {
    let mut args = vec!["serve", "snapshot", "--timeout", "60"];
    args.extend_from_slice(more);
    let out = cli_as(site, uid, &args);
    assert!(
        out.status.success(),
        "serve snapshot as uid {uid}: {}\ndaemon log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        log(site)
    );
    seen(&out.stdout)
}

/// Reads `serve snapshot`'s JSON.
fn seen(stdout: &[u8]) -> Seen {
    let v: serde_json::Value = serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("{e}"));
    let strings = |key: &str, field: Option<&str>| -> Vec<String> {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| match field {
                        Some(f) => x[f].as_str(),
                        None => x.as_str(),
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Seen {
        queues: strings("queues", Some("name")),
        extensions: strings("extensions", Some("exten")),
        channels: strings("channels", None),
    }
}

/// Waits until Asterisk lists a channel whose name starts with `prefix`.
#[test]
fn each_console_receives_only_what_its_user_may_see() {
    let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    lab.quiesce();
    let site = site(&lab);
    let _daemon = start(&site);
    // A call on extension 301 (nobody may see it) and a dialer customer
    // ringing (nobody may not).
    lab.cli("channel originate Local/301@phones application Wait 60")
        .unwrap_or_else(|e| panic!("{e}"));
    lab.cli("channel originate Local/5551006@customers application Wait 60")
        .unwrap_or_else(|e| panic!("{e}"));
    wait_channel(&lab, "PJSIP/301-");
    wait_channel(&lab, "Local/5551006@customers-");

    // The admin sees the whole floor.
    let root = snapshot_as(&site, 0);
    let exts = &root.extensions;
    assert_eq!(root.queues, ["sales", "support"], "admin's queues");
    assert!(
        exts.contains(&"301".to_string()) && exts.contains(&"302".to_string()),
        "{exts:?}"
    );
    assert!(
        root.channels
            .iter()
            .any(|c| c.starts_with("Local/5551006@customers-")),
        "admin sees the customer: {:?}",
        root.channels
    );

    // `nobody` receives queue sales, extension 301 and 301's call, and not
    // one byte of the rest (the daemon filtered before sending).
    let restricted = snapshot_as(&site, NOBODY);
    assert_eq!(restricted.queues, ["sales"], "nobody's queues");
    assert_eq!(restricted.extensions, ["301"], "nobody's extensions");
    assert!(
        restricted
            .channels
            .iter()
            .any(|c| c.starts_with("PJSIP/301-")),
        "nobody sees 301's call: {:?}",
        restricted.channels
    );
    assert!(
        !restricted.channels.iter().any(|c| c.contains("@customers")),
        "nobody must not receive the customer's channels: {:?}",
        restricted.channels
    );

    // The same user with no config at all and a hostile environment (a
    // CDR URL, an as-user) still receives exactly the same: the rights are
    // the daemon's, not the console's.
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/dev/null", "--connect"])
        .arg(&site.socket)
        .args(["serve", "snapshot", "--timeout", "60"])
        .env(
            "SWITCHBOARD_CDR_URL",
            "mysql://root:x@127.0.0.1/asteriskcdrdb",
        )
        .env("SWITCHBOARD_CONFIG", "/dev/null")
        .uid(NOBODY)
        .gid(NOGROUP)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bare = seen(&out.stdout);
    assert_eq!(bare.queues, ["sales"]);
    assert_eq!(bare.extensions, ["301"]);

    // A user outside the socket's group cannot even connect.
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&site.config)
        .args(["serve", "snapshot", "--timeout", "10"])
        .uid(NOBODY)
        .gid(DAEMON_GID)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("ermission denied"),
        "{err}"
    );

    // `daemon` may reach the socket (group) but is not in [acl]: refused,
    // with the lines an admin adds.
    let out = cli_as(&site, DAEMON_UID, &["serve", "snapshot", "--timeout", "30"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("[acl.users.daemon]"), "{err}");

    // `serve status` is for admins.
    let out = cli_as(&site, NOBODY, &["serve", "status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not an admin"),
        "{err}"
    );
    lab.quiesce();
}

#[test]
fn a_console_of_another_protocol_is_told_both_versions() {
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let _daemon = start(&site);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let answer: Answer = rt.block_on(async {
        let stream = tokio::net::UnixStream::connect(&site.socket)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut link = tokio_util::codec::Framed::new(stream, protocol::codec());
        let hello = Hello {
            protocol: protocol::PROTOCOL + 1,
            version: "99.0.0".into(),
            purpose: Purpose::Console,
        };
        link.send(protocol::encode(&hello).unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let frame = tokio::time::timeout(Duration::from_secs(30), link.next())
            .await
            .unwrap_or_else(|_| panic!("no answer in 30 s"))
            .unwrap_or_else(|| panic!("closed without an answer"))
            .unwrap_or_else(|e| panic!("{e}"));
        protocol::decode(&frame).unwrap_or_else(|e| panic!("{e}"))
    });
    let why = answer
        .refused
        .unwrap_or_else(|| panic!("accepted a console of another protocol"));
    assert!(
        why.contains(&format!("protocol {}", protocol::PROTOCOL))
            && why.contains(&format!(
                "protocol {} (switchboard 99.0.0)",
                protocol::PROTOCOL + 1
            )),
        "{why}"
    );
}

/// Waits for the attachment's link state to satisfy `want`, applying live
/// deltas meanwhile; returns whether a snapshot (reset) arrived.
async fn wait_link(
    a: &mut switchboard::serve::attach::Attachment,
    want: impl Fn(&ConnectionState) -> bool,
    deadline: Duration,
) -> bool {
    let until = tokio::time::Instant::now() + deadline;
    let mut snapshot = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => panic!("link state not reached in {deadline:?}"),
            m = a.ami[0].recv() => match m {
                Some(AmiMsg::State(s)) if want(&s) => return snapshot,
                Some(_) => {}
                None => panic!("attachment ended"),
            },
            d = a.live.recv() => {
                snapshot |= d.is_some_and(|d| d.reset);
            }
        }
    }
}

#[test]
fn a_console_reattaches_by_itself_when_the_daemon_comes_back() {
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let mut daemon = start(&site);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(a.login, common::login());
        wait_link(&mut a, |s| *s == ConnectionState::Ready, Duration::from_secs(60)).await;

        // `serve status` lists this console.
        let list = switchboard::serve::status::consoles(&site.socket)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(list.iter().any(|c| c.login == common::login()), "{list:?}");

        // The daemon dies: the console learns it at once (STALE on screen)
        // and its requests fail with words instead of hanging.
        let _ = daemon.0.kill();
        let _ = daemon.0.wait();
        wait_link(
            &mut a,
            |s| matches!(s, ConnectionState::Down { reason, .. } if reason.contains("daemon")),
            Duration::from_secs(30),
        )
        .await;
        a.app
            .requests
            .send(switchboard::service::campaigns::AppRequest::Refresh { id: 7 })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let reply = tokio::time::timeout(Duration::from_secs(30), a.app.replies.recv())
            .await
            .unwrap_or_else(|_| panic!("no reply while detached"));
        assert!(
            matches!(&reply, Some(switchboard::service::campaigns::AppReply::Failed { id: 7, message }) if message.contains("not attached")),
            "{reply:?}"
        );

        // It comes back: the console reattaches and gets a fresh snapshot.
        std::fs::remove_file(&site.socket).unwrap_or_default();
        daemon = start(&site);
        let snapshot =
            wait_link(&mut a, |s| *s == ConnectionState::Ready, Duration::from_secs(90)).await;
        let snapshot = snapshot
            || tokio::time::timeout(Duration::from_secs(30), async {
                while let Some(d) = a.live.recv().await {
                    if d.reset {
                        return true;
                    }
                }
                false
            })
            .await
            .unwrap_or(false);
        assert!(snapshot, "no fresh snapshot after reattaching");
        a.task.abort();
    });
    drop(daemon);
}

/// Sends `request` and waits up to 60 s for its last reply (not a chunk
/// or a progress count).
async fn final_reply(
    link: &mut switchboard::service::cdr::DbLink,
    request: switchboard::service::cdr::DbRequest,
    what: &str,
) -> switchboard::service::cdr::DbReply {
    use switchboard::service::cdr::DbReply;
    let id = request.id();
    link.requests
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match link.replies.recv().await {
                Some(DbReply::Chunk { .. } | DbReply::Progress { .. }) => {}
                Some(r) if r.id() == id => return r,
                Some(_) => {}
                None => panic!("the attachment ended"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no reply to {what} through the daemon in 60 s"))
}

#[test]
fn history_through_the_daemon_needs_no_credential_in_the_console() {
    use switchboard::access::Visibility;
    use switchboard::cdr::filter::{CdrFilter, Order, SortKey};
    use switchboard::service::cdr::{DbReply, DbRequest};
    let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let _daemon = start(&site);
    // The lab's CDR times are UTC (its PBX time zone).
    let since = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(2);
    lab.cli("channel originate Local/301@phones application Wait 1")
        .unwrap_or_else(|e| panic!("{e}"));
    wait_channel(&lab, "PJSIP/301-");
    lab.quiesce();
    let to = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(1);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let legs = rt.block_on(async {
        // This process holds no config, no CDR URL: only the socket.
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let request = DbRequest::Page {
            id: 42,
            filter: CdrFilter::window(since, to, Visibility::All),
            order: Order {
                key: SortKey::Start,
                descending: true,
            },
            cursor: None,
            rows: 500,
        };
        let reply = final_reply(&mut a.db, request, "a History page").await;
        let legs = match reply {
            DbReply::Page { legs, .. } => legs,
            other => panic!("{other:?}\ndaemon log:\n{}", log(&site)),
        };
        // The History export (`e`): the daemon streams the rows, the
        // console writes the file, as its user, where it runs.
        let export = DbRequest::Export {
            id: 43,
            filter: CdrFilter::window(since, to, Visibility::All),
        };
        let reply = final_reply(&mut a.db, export, "an export").await;
        a.task.abort();
        let DbReply::Exported { rows, path, .. } = reply else {
            panic!("{reply:?}\ndaemon log:\n{}", log(&site));
        };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            text.lines().count() as u64,
            rows + 1,
            "{}: a header and {rows} rows",
            path.display()
        );
        assert!(
            text.starts_with("calldate,") || text.contains("uniqueid"),
            "{text}"
        );
        assert_eq!(
            rows as usize,
            legs.len(),
            "the export holds the page's legs"
        );
        legs
    });
    assert!(
        legs.iter()
            .any(|l| l.channel.starts_with("Local/301@phones")
                || l.dstchannel.starts_with("PJSIP/301-")),
        "the call on 301 is not in the page the daemon sent: {} legs",
        legs.len()
    );
}

/// Runs the CLI as `uid` with no config and no URL at all (`--config
/// /dev/null`, an empty environment): only the daemon's socket.
fn bare_cli_as(site: &Site, uid: u32, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/dev/null", "--connect"])
        .arg(&site.socket)
        .args(args)
        .env_clear()
        .uid(uid)
        .gid(NOGROUP)
        .current_dir(site.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("switchboard {args:?}: {e}"))
}

/// One exported leg: its uniqueid, its call, and whether it touches
/// nobody's rights (extension 301, or waiting in queue `sales`).
#[derive(Debug, PartialEq)]
struct Leg {
    uniqueid: String,
    call: String,
    touches: bool,
    on_302: bool,
}

/// The legs of `cdr export --format json` output.
fn exported(out: &Output, what: &str) -> Vec<Leg> {
    common::json_lines(out, what)
        .into_iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let on = |ext: &str| {
                ["channel", "dstchannel"]
                    .iter()
                    .any(|k| text(k).contains(&format!("/{ext}")))
                    || text("src") == ext
                    || text("dst") == ext
            };
            let data = text("lastdata");
            let in_sales =
                text("lastapp") == "Queue" && (data == "sales" || data.starts_with("sales,"));
            Leg {
                uniqueid: text("uniqueid"),
                call: text("linkedid"),
                touches: on("301") || in_sales,
                on_302: on("302"),
            }
        })
        .collect()
}

#[test]
fn commands_through_the_daemon_hold_no_credential_and_keep_the_users_rights() {
    let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let _daemon = start(&site);
    // A call on 301 (nobody's extension) and one on 302 (not theirs).
    for phone in ["301", "302"] {
        lab.cli(&format!(
            "channel originate Local/{phone}@phones application Wait 1"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        wait_channel(&lab, &format!("PJSIP/{phone}-"));
    }
    lab.quiesce();
    // The lab's PBX time zone is UTC.
    let today = chrono::Utc::now().date_naive().to_string();
    let export = ["cdr", "export", "--format", "json", "--from", &today];
    let attached = exported(&bare_cli_as(&site, NOBODY, &export), "attached export");
    let direct = |as_user: Option<&str>| {
        let mut args = vec!["--direct"];
        args.extend(export);
        if let Some(u) = as_user {
            args.extend(["--as-user", u]);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&site.config)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        exported(&out, &format!("direct export as {as_user:?}"))
    };
    // The same legs (rows that start in the same second come in any order).
    let ids = |legs: &[Leg]| -> std::collections::BTreeSet<String> {
        legs.iter().map(|l| l.uniqueid.clone()).collect()
    };
    let (got, want) = (ids(&attached), ids(&direct(Some("nobody"))));
    assert!(
        got == want,
        "the daemon's export differs from the ACL's view of nobody: {} legs only attached {:?}, {} only direct {:?}",
        got.difference(&want).count(),
        got.difference(&want).take(5).collect::<Vec<_>>(),
        want.difference(&got).count(),
        want.difference(&got).take(5).collect::<Vec<_>>()
    );
    // Every call nobody received has a leg on 301 or in sales.
    let theirs: std::collections::BTreeSet<&str> = attached
        .iter()
        .filter(|l| l.touches)
        .map(|l| l.call.as_str())
        .collect();
    assert!(
        !theirs.is_empty(),
        "today's call on 301 is not in nobody's export"
    );
    let foreign: Vec<&Leg> = attached
        .iter()
        .filter(|l| !theirs.contains(l.call.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "{} legs of calls nobody may not see, such as {:?}",
        foreign.len(),
        foreign.iter().take(5).collect::<Vec<_>>()
    );
    // And the admin's export holds the call on 302 that nobody's lacks.
    let all = direct(None);
    assert!(
        all.iter()
            .any(|l| l.on_302 && !theirs.contains(l.call.as_str())),
        "the admin's export has no call on 302 alone: the test proves nothing"
    );
    // KPIs: only nobody's extension and queue.
    let kpi = bare_cli_as(
        &site,
        NOBODY,
        &["kpi", "--format", "json", "--from", &today],
    );
    let rows = common::json_lines(&kpi, "nobody's kpi");
    assert!(
        rows.iter().any(|r| r["extension"] == "301")
            && rows.iter().all(|r| r["extension"] == "301"),
        "nobody's extension KPIs: {rows:?}"
    );
    // What only a direct run takes is refused, with what to do.
    let o = bare_cli_as(&site, NOBODY, &["kpi", "--as-user", "root"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("you are who the kernel says"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Campaigns: nobody reads, but may not change; the admin may.
    let name = format!("serve-{}", std::process::id());
    let file = site.dir.path().join("campaign.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"{name}\"\ndial = \"Local/{{number}}@customers\"\ncaller_id = \"\\\"Lab\\\" <5551000>\"\ndestination = {{ queue = \"sales\" }}\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = file.to_string_lossy().to_string();
    let leads = site.dir.path().join("leads.csv");
    std::fs::write(&leads, "number\n5551234\n").unwrap_or_else(|e| panic!("{e}"));
    let leads = leads.to_string_lossy().to_string();
    for args in [
        vec!["campaign", "apply", file.as_str()],
        vec!["campaign", "import", name.as_str(), leads.as_str()],
        vec!["campaign", "dnc", "5551234"],
        vec!["campaign", "start", name.as_str()],
    ] {
        let o = bare_cli_as(&site, NOBODY, &args);
        assert!(!o.status.success(), "nobody ran {args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("`nobody` may not change campaigns"),
            "{args:?}: {err}"
        );
    }
    let o = cli_as(&site, 0, &["campaign", "apply", &file]);
    assert!(
        o.status.success(),
        "the admin's apply: {}\ndaemon log:\n{}",
        String::from_utf8_lossy(&o.stderr),
        log(&site)
    );
    let o = bare_cli_as(&site, NOBODY, &["campaign", "status", &name]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains(&name) && out.contains("stopped"),
        "nobody's campaign status: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The daemon's resident memory, kB (`VmRSS`).
fn rss_kb(daemon: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.0.id()))
        .unwrap_or_else(|e| panic!("{e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"))
}

/// Event-to-console latencies (ms, from the daemon applying a change to
/// this console holding it) of the deltas received for `span`, and the
/// longest gap between two deltas.
async fn latencies(
    live: &mut tokio::sync::mpsc::Receiver<switchboard::serve::live::LiveDelta>,
    span: Duration,
) -> (Vec<i64>, Duration) {
    let end = tokio::time::Instant::now() + span;
    let (mut got, mut gap, mut last) = (Vec::new(), Duration::ZERO, tokio::time::Instant::now());
    while let Ok(Some(d)) = tokio::time::timeout_at(end, live.recv()).await {
        let now = tokio::time::Instant::now();
        gap = gap.max(now - last);
        last = now;
        if d.applied_ms > 0 {
            got.push(switchboard::clock::now_ms() - d.applied_ms);
        }
    }
    got.sort_unstable();
    (got, gap.max(tokio::time::Instant::now() - last))
}

fn p99(sorted: &[i64]) -> i64 {
    sorted
        .get(sorted.len().saturating_sub(1) * 99 / 100)
        .copied()
        .unwrap_or_default()
}

#[test]
fn a_console_that_stops_reading_slows_no_one_and_costs_no_memory() {
    let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let daemon = start(&site);
    let _traffic = lab.traffic(120, 4.0);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut healthy = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let (before, _) = latencies(&mut healthy.live, Duration::from_secs(10)).await;
        assert!(
            before.len() > 10,
            "only {} deltas in 10 s of traffic",
            before.len()
        );
        // A console that says hello, then never reads again.
        let stream = tokio::net::UnixStream::connect(&site.socket)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stalled = tokio_util::codec::Framed::new(stream, protocol::codec());
        let hello = protocol::encode(&Hello::new(Purpose::Console)).unwrap_or_else(|e| panic!("{e}"));
        stalled.send(hello).await.unwrap_or_else(|e| panic!("{e}"));
        let rss_before = rss_kb(&daemon);
        let (during, gap) = latencies(&mut healthy.live, Duration::from_secs(60)).await;
        let rss_after = rss_kb(&daemon);
        healthy.task.abort();
        drop(stalled);
        eprintln!(
            "p99 {} ms before, {} ms while a console did not read ({} deltas, longest gap {gap:?}); daemon RSS {rss_before} -> {rss_after} kB",
            p99(&before),
            p99(&during),
            during.len()
        );
        assert!(
            p99(&during) <= 2 * p99(&before) + 500,
            "the other console's p99 went from {} ms to {} ms",
            p99(&before),
            p99(&during)
        );
        assert!(
            gap < Duration::from_secs(15),
            "the other console received nothing for {gap:?}"
        );
        assert!(
            rss_after <= rss_before + 32 * 1024,
            "the daemon grew from {rss_before} kB to {rss_after} kB while a console did not read"
        );
    });
}

/// A frozen daemon (SIGSTOP) is not a quiet one: the console learns it
/// within the silence limit (no heartbeat), shows the link down with the
/// reason, and reattaches by itself once the daemon runs again.
#[test]
fn a_console_tells_a_frozen_daemon_and_reattaches_when_it_thaws() {
    let Some(lab) = Lab::get() else { return };
    let site = site(&lab);
    let daemon = start(&site);
    let signal = |sig: &str| {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &daemon.0.id().to_string()])
            .status();
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        wait_link(&mut a, |s| *s == ConnectionState::Ready, Duration::from_secs(60)).await;
        signal("STOP");
        let frozen = Instant::now();
        wait_link(
            &mut a,
            |s| matches!(s, ConnectionState::Down { reason, .. } if reason.contains("sent nothing")),
            Duration::from_secs(60),
        )
        .await;
        let told = frozen.elapsed();
        signal("CONT");
        wait_link(&mut a, |s| *s == ConnectionState::Ready, Duration::from_secs(60)).await;
        a.task.abort();
        assert!(
            told >= switchboard::serve::protocol::DAEMON_SILENCE - Duration::from_secs(6),
            "the link was called lost after {told:?}, before the silence limit"
        );
        eprintln!("a frozen daemon was told after {told:?}");
    });
}

/// The lab's config with its `[ami]` table replaced by two `[[pbx]]`: `a`
/// (the first Asterisk) and `b` (the second, its keep-alive short so a
/// frozen `b` shows within seconds).
fn two_pbx_site(lab: &Lab) -> Site {
    let one = site(lab);
    let text = std::fs::read_to_string(&one.config).unwrap_or_else(|e| panic!("{e}"));
    let mut kept = Vec::new();
    let mut in_ami = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_ami = line.trim() == "[ami]";
        }
        if !in_ami {
            kept.push(line);
        }
    }
    let secret = lab.var("LAB_AMI_SECRET_FILE");
    let pbxs = format!(
        "[[pbx]]\nname = \"a\"\nami = {{ port = {}, secret_file = \"{secret}\" }}\n\n[[pbx]]\nname = \"b\"\nami = {{ port = {}, secret_file = \"{secret}\", ping_interval_s = 2, ping_timeout_s = 2 }}\n",
        lab.var("LAB_AMI_PORT"),
        lab.var("LAB_B_AMI_PORT"),
    );
    // `nobody` (a supervisor of queue sales) sees PBX b only.
    let text = kept.join("\n").replace(
        "[acl.users.nobody]\n",
        "[acl.users.nobody]\npbxs = [\"b\"]\n",
    );
    std::fs::write(&one.config, format!("{pbxs}\n{text}\n")).unwrap_or_else(|e| panic!("{e}"));
    one
}

/// An attached console's view, per PBX, fed by its frames.
struct View {
    a: switchboard::serve::attach::Attachment,
    links: switchboard::ami::fan_in::FanIn,
    states: Vec<switchboard::pbx::State>,
    conns: Vec<ConnectionState>,
    health: Vec<switchboard::ami::connection::LinkHealth>,
    /// When each link was first seen out of date after being Ready.
    stale_at: Vec<Option<Instant>>,
}

impl View {
    async fn attach(socket: PathBuf) -> View {
        let mut a = switchboard::serve::attach::attach(socket)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let n = a.site.pbxs.len();
        let links = switchboard::ami::fan_in::FanIn::new(std::mem::take(&mut a.ami));
        View {
            a,
            links,
            states: (0..n).map(|_| switchboard::pbx::State::new()).collect(),
            conns: vec![ConnectionState::Connecting { attempt: 1 }; n],
            health: vec![Default::default(); n],
            stale_at: vec![None; n],
        }
    }

    fn note_stale(&mut self, i: usize) {
        let stale = self.health[i].ping_overdue || self.conns[i] != ConnectionState::Ready;
        if !stale {
            self.stale_at[i] = None;
        } else if self.stale_at[i].is_none() {
            self.stale_at[i] = Some(Instant::now());
        }
    }

    /// Applies frames until `done(self)` holds; panics after `deadline`.
    /// Returns the PBXs each applied delta was for, with its arrival time.
    async fn until(
        &mut self,
        deadline: Duration,
        done: impl Fn(&View) -> bool,
    ) -> Vec<(usize, Instant)> {
        let give_up = tokio::time::Instant::now() + deadline;
        let mut seen = Vec::new();
        while !done(self) {
            tokio::select! {
                _ = tokio::time::sleep_until(give_up) => panic!(
                    "not reached in {deadline:?}: links {:?}, health {:?}", self.conns, self.health
                ),
                m = self.links.recv() => match m {
                    Some((i, AmiMsg::State(s))) => {
                        self.conns[i] = s;
                        self.note_stale(i);
                    }
                    Some(_) => {}
                    None => panic!("attachment ended"),
                },
                h = self.a.health.recv() => if let Some((i, h)) = h {
                    self.health[i] = h;
                    self.note_stale(i);
                },
                d = self.a.live.recv() => {
                    let d = d.unwrap_or_else(|| panic!("attachment ended"));
                    seen.push((d.pbx, Instant::now()));
                    let i = d.pbx;
                    d.apply(&mut self.states[i]);
                }
            }
        }
        seen
    }

    /// PBX `i` has a channel whose name contains `part`.
    fn has(&self, i: usize, part: &str) -> bool {
        self.states[i]
            .channels
            .values()
            .any(|c| c.name.contains(part))
    }
}

/// Puts PBX b's Asterisk back to running when dropped (even on a failed
/// assert), and hangs up what the test started on both.
struct ThawB<'a>(&'a Lab);

impl Drop for ThawB<'_> {
    fn drop(&mut self) {
        self.0.signal_asterisk_b("CONT");
        let _ = self.0.cli("channel request hangup all");
        let _ = self.0.cli_b("channel request hangup all");
    }
}

/// One daemon follows both lab Asterisks: each PBX's calls land in its own
/// state (the same queue names and devices on both, never mixed), and with
/// PBX b frozen (SIGSTOP) for 20 s, PBX a's new calls still reach the
/// console within a second or two, while b's link is shown out of date.
#[test]
fn two_pbxs_in_one_daemon_and_a_frozen_one_never_delays_the_other() {
    let Some(lab) = Lab::get() else { return };
    let _calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let site = two_pbx_site(&lab);
    let _daemon = start(&site);
    let _thaw = ThawB(&lab);
    let originate = |b: bool, num: &str| {
        let cmd = format!("channel originate Local/{num}@callers-sales application Wait 25");
        let r = if b { lab.cli_b(&cmd) } else { lab.cli(&cmd) };
        r.unwrap_or_else(|e| panic!("{cmd}: {e}"));
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut v = View::attach(site.socket.clone()).await;
        assert_eq!(v.a.site.pbxs, ["a", "b"]);
        v.until(Duration::from_secs(60), |v| {
            v.conns.iter().all(|c| *c == ConnectionState::Ready)
                && v.states.iter().all(|s| s.queues.contains_key("sales"))
        })
        .await;

        // A call on each PBX: each in its own state only.
        originate(false, "5551201");
        originate(true, "5552202");
        v.until(Duration::from_secs(30), |v| v.has(0, "5551201") && v.has(1, "5552202"))
            .await;
        assert!(!v.has(0, "5552202") && !v.has(1, "5551201"), "calls of one PBX showed on the other");

        // PBX b freezes; a call a second on PBX a, each timed to the console.
        lab.signal_asterisk_b("STOP");
        let frozen = Instant::now();
        let mut worst = Duration::ZERO;
        let mut n = 0;
        while frozen.elapsed() < Duration::from_secs(20) {
            n += 1;
            let num = format!("55513{n:02}");
            let sent = Instant::now();
            originate(false, &num);
            v.until(Duration::from_secs(10), |v| v.has(0, &num)).await;
            worst = worst.max(sent.elapsed());
            tokio::time::sleep_until((sent + Duration::from_secs(1)).into()).await;
        }
        // b's link was shown out of date (its ping unanswered) meanwhile.
        let b_stale_after = v.stale_at[1].map(|t| t.saturating_duration_since(frozen));
        lab.signal_asterisk_b("CONT");
        v.until(Duration::from_secs(60), |v| {
            v.conns[1] == ConnectionState::Ready && !v.health[1].ping_overdue
        })
        .await;
        v.a.task.abort();
        // A supervisor with rights on PBX b: b's sales, nothing of a's.
        let on_b = snapshot_of(&site, NOBODY, &["--pbx", "b"]);
        assert_eq!(on_b.queues, ["sales"], "{on_b:?}");
        let on_a = cli_as(&site, NOBODY, &["serve", "snapshot", "--pbx", "a"]);
        let said = String::from_utf8_lossy(&on_a.stderr);
        assert!(
            !on_a.status.success() && said.contains("no rights on PBX a"),
            "{said}"
        );
        eprintln!(
            "PBX b frozen 20 s: {n} calls on PBX a, the slowest on screen after {worst:?}; b shown out of date after {b_stale_after:?}"
        );
        assert!(
            b_stale_after.is_some_and(|t| t < Duration::from_secs(15)),
            "PBX b's link was not shown out of date within 15 s of its freeze: {b_stale_after:?}"
        );
        assert!(
            worst < Duration::from_secs(2),
            "a call on PBX a took {worst:?} to reach the console while PBX b was frozen"
        );
    });
}

/// Each PBX's own CDRs through one daemon: PBX b writes its CDRs to its own
/// SQLite file and queue_log (its `[[pbx]]` `cdr` table); a call on b is in
/// b's History and never in a's; `nobody`, whose rights are on PBX b, reads
/// b's by default and is refused a's with the reason.
#[test]
fn each_pbx_has_its_own_history_and_a_user_reads_only_their_pbxs() {
    use std::os::unix::fs::PermissionsExt;
    use switchboard::access::Visibility;
    use switchboard::cdr::filter::{CdrFilter, Order, SortKey};
    use switchboard::service::cdr::{DbReply, DbRequest};
    let Some(lab) = Lab::get() else { return };
    let _calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let site = two_pbx_site(&lab);
    let url_file = site.dir.path().join("b-cdr-url");
    std::fs::write(
        &url_file,
        format!("sqlite://{}?mode=ro", lab.var("LAB_B_SQLITE_CDR")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&url_file, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&site.config).unwrap_or_else(|e| panic!("{e}"));
    let text = text.replacen(
        "name = \"b\"\n",
        &format!(
            "name = \"b\"\ncdr = {{ url_file = \"{}\", queue_log = \"{}\" }}\n",
            url_file.display(),
            lab.var("LAB_B_QUEUE_LOG")
        ),
        1,
    );
    std::fs::write(&site.config, text).unwrap_or_else(|e| panic!("{e}"));
    let _daemon = start(&site);
    // A caller only PBX b hears of (CDR times are UTC, the lab's zone).
    let number = format!("55590{:05}", std::process::id() % 100_000);
    let since = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(2);
    lab.cli_b(&format!(
        "channel originate Local/{number}@callers-sales application Wait 1"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let to = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(5);
    let page = |pbx: Option<&str>| {
        let mut filter = CdrFilter::window(since, to, Visibility::All);
        filter.pbx = pbx.map(str::to_string);
        DbRequest::Page {
            id: 7,
            filter,
            order: Order {
                key: SortKey::Start,
                descending: true,
            },
            cursor: None,
            rows: 500,
        }
    };
    let has = |reply: &DbReply| match reply {
        DbReply::Page { legs, .. } => legs.iter().any(|l| l.src == number),
        other => panic!("{other:?}\ndaemon log:\n{}", log(&site)),
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let start = Instant::now();
        while !has(&final_reply(&mut a.db, page(Some("b")), "b's History").await) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the call on PBX b never reached b's History"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // PBX a's History (the default, the first PBX) has none of it.
        assert!(!has(&final_reply(&mut a.db, page(None), "a's History").await));
        assert!(!has(&final_reply(&mut a.db, page(Some("a")), "a's History").await));
        let unknown = final_reply(&mut a.db, page(Some("c")), "an unknown PBX").await;
        assert!(
            matches!(&unknown, DbReply::Failed { message, .. } if message.contains("no PBX is named `c`; name one of: a, b")),
            "{unknown:?}"
        );
        a.task.abort();
    });
    // `nobody` (rights on PBX b): b's calls by default, a's refused.
    let day = chrono::Utc::now().date_naive().to_string();
    let own = cli_as(&site, NOBODY, &["cdr", "export", "--from", &day]);
    assert!(
        own.status.success() && String::from_utf8_lossy(&own.stdout).contains(&number),
        "{}",
        String::from_utf8_lossy(&own.stderr)
    );
    let other = cli_as(
        &site,
        NOBODY,
        &["cdr", "export", "--pbx", "a", "--from", &day],
    );
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(
        !other.status.success() && said.contains("no rights on PBX a: yours are b"),
        "{said}"
    );
}
