//! Supervisor actions against the lab's real Asterisk, through the
//! `switchboard serve` daemon: each act is checked in Asterisk's own view
//! (`queue show`, the channel list, its AMI events), each is in the audit
//! trail, and a user without the right reaches nothing.

mod common;

use common::Lab;
use common::daemon::{NOBODY, Site, cli_as, log, poll, site_with, start, wait_channel};
use std::time::Duration;
use switchboard::ami::{AmiMsg, Message};
use switchboard::service::supervise::{ActLink, ActReply, ActRequest};
use switchboard::supervise::{Act, Destination, SpyMode};

/// `nobody` sees extension 301 and queue `sales`, and may only pause, and
/// only in `sales` (role `teamlead`).
const NOBODY_ACL: &str = r#"
[roles.teamlead]
actions = ["pause"]
queues = ["sales"]

[acl.users.nobody]
role = "supervisor"
extensions = ["301"]
queues = ["sales"]
roles = ["teamlead"]
"#;

/// The tests take turns on the one Asterisk (its queues and desk phones).
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Asks for `act` on the lab's PBX and returns the answer (60 s at most).
async fn ask(link: &mut ActLink, id: u64, act: Act) -> ActReply {
    let request = ActRequest::Run {
        id,
        pbx: "default".into(),
        act,
    };
    link.requests
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::timeout(Duration::from_secs(60), link.replies.recv())
        .await
        .unwrap_or_else(|_| panic!("no answer to act {id} in 60 s"))
        .unwrap_or_else(|| panic!("the attachment ended"))
}

/// `reply` is a success; panics with it and the daemon's log otherwise.
fn done(reply: &ActReply, site: &Site) -> String {
    match reply {
        ActReply::Done { message, .. } => message.clone(),
        other => panic!("{other:?}\ndaemon log:\n{}", log(site)),
    }
}

/// Asterisk's `queue show QUEUE` line for `interface`, if a member.
fn member_line(lab: &Lab, queue: &str, interface: &str) -> Option<String> {
    let shown = lab.cli(&format!("queue show {queue}")).unwrap_or_default();
    // `(PJSIP/301)`, or `(Local/201@agents/n from Local/201@agents)`.
    let (alone, with_state) = (format!("({interface})"), format!("({interface} from "));
    shown
        .lines()
        .find(|l| l.contains(&alone) || l.contains(&with_state))
        .map(str::to_string)
}

/// The audit rows `uid` reads with `switchboard audit --format json`.
fn audit_as(site: &Site, uid: u32, more: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(more);
    let out = cli_as(site, uid, &args);
    assert!(
        out.status.success(),
        "audit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::json_lines(&out, "audit")
}

/// The newest audit row by `login` for `action` on `target`.
fn audited<'a>(
    rows: &'a [serde_json::Value],
    login: &str,
    action: &str,
    target: &str,
) -> Option<&'a serde_json::Value> {
    rows.iter()
        .rev()
        .find(|r| r["login"] == login && r["action"] == action && r["target"] == target)
}

#[test]
fn member_actions_through_the_daemon_are_seen_in_asterisk_and_audited() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site_with(&lab, NOBODY_ACL);
    let _daemon = start(&site);
    // Leftovers of an earlier run.
    let _ = lab.cli("queue remove member PJSIP/303 from support");
    let _ = lab.cli("queue remove member PJSIP/303 from sales");
    let _ = lab.cli("queue unpause member PJSIP/301");
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let (mut events, _observer, mut a) = observe_and_attach(&lab, &site).await;
        // Pause with a reason.
        let asked = std::time::Instant::now();
        let reply = ask(
            &mut a.act,
            1,
            Act::Pause {
                interface: "PJSIP/301".into(),
                queue: Some("support".into()),
                reason: "Lunch".into(),
            },
        )
        .await;
        let said = done(&reply, &site);
        assert!(said.contains("paused successfully"), "{said}");
        let line = member_line(&lab, "support", "PJSIP/301").unwrap_or_default();
        assert!(line.contains("(paused:Lunch"), "queue show: {line}");
        let event = wait_event(&mut events, |m| {
            m.event_name() == Some("QueueMemberPause")
                && m.str("Interface") == "PJSIP/301"
                && m.str("Paused") == "1"
        })
        .await;
        assert_eq!(event.str("PausedReason"), "Lunch", "{event:?}");
        // The console's pane: the daemon's live data shows it.
        let mut state = switchboard::pbx::State::new();
        wait_member((&mut a.live, &mut state), "support", "PJSIP/301", |m| {
            m.paused && m.paused_reason == "Lunch"
        })
        .await;
        // What the supervisor waits from the key to the pane (printed, not
        // asserted: a loaded machine's timing is no test).
        eprintln!("pause to pane: {} ms", asked.elapsed().as_millis());
        // Unpause in every queue it is in.
        let reply = ask(
            &mut a.act,
            2,
            Act::Unpause {
                interface: "PJSIP/301".into(),
                queue: None,
            },
        )
        .await;
        done(&reply, &site);
        let line = member_line(&lab, "support", "PJSIP/301").unwrap_or_default();
        assert!(!line.contains("paused"), "queue show: {line}");
        wait_member((&mut a.live, &mut state), "support", "PJSIP/301", |m| {
            !m.paused
        })
        .await;
        // Add, penalty, log off, remove.
        let add = |queue: &str| Act::Add {
            queue: queue.into(),
            interface: "PJSIP/303".into(),
            member_name: "Desk 303".into(),
            penalty: 3,
        };
        done(&ask(&mut a.act, 3, add("support")).await, &site);
        let line = member_line(&lab, "support", "PJSIP/303").unwrap_or_default();
        assert!(
            line.contains("Desk 303 (PJSIP/303) with penalty 3"),
            "{line}"
        );
        let penalty = Act::Penalty {
            queue: "support".into(),
            interface: "PJSIP/303".into(),
            penalty: 5,
        };
        done(&ask(&mut a.act, 4, penalty).await, &site);
        let line = member_line(&lab, "support", "PJSIP/303").unwrap_or_default();
        assert!(line.contains("with penalty 5"), "{line}");
        done(&ask(&mut a.act, 5, add("sales")).await, &site);
        let logoff = Act::Logoff {
            interface: "PJSIP/303".into(),
        };
        let said = done(&ask(&mut a.act, 6, logoff).await, &site);
        assert!(said.matches("Removed interface").count() == 2, "{said}");
        assert!(member_line(&lab, "support", "PJSIP/303").is_none());
        assert!(member_line(&lab, "sales", "PJSIP/303").is_none());
        done(&ask(&mut a.act, 7, add("support")).await, &site);
        let remove = Act::Remove {
            queue: "support".into(),
            interface: "PJSIP/303".into(),
        };
        done(&ask(&mut a.act, 8, remove).await, &site);
        assert!(member_line(&lab, "support", "PJSIP/303").is_none());
        a.task.abort();
    });
    // `nobody` may pause in sales only, and may not hang up: refused
    // before Asterisk, and audited.
    let out = cli_as(
        &site,
        NOBODY,
        &["act", "pause", "PJSIP/301", "in", "support", "Break"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("in queue support"),
        "{err}"
    );
    let line = member_line(&lab, "support", "PJSIP/301").unwrap_or_default();
    assert!(
        !line.contains("paused"),
        "a refused pause reached Asterisk: {line}"
    );
    let out = cli_as(&site, NOBODY, &["act", "hangup", "PJSIP/301-00000001"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("none of their roles grants it"), "{err}");
    let sales_agent = "Local/201@agents/n";
    let out = cli_as(
        &site,
        NOBODY,
        &["act", "pause", sales_agent, "in", "sales", "Coaching"],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        log(&site)
    );
    let line = member_line(&lab, "sales", sales_agent).unwrap_or_default();
    assert!(line.contains("(paused:Coaching"), "{line}");
    let out = cli_as(&site, NOBODY, &["act", "unpause", sales_agent]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One trail: every act and refusal, with who, what and Asterisk's answer.
    let login = common::login();
    let rows = audit_as(&site, 0, &[]);
    let row = audited(&rows, &login, "pause", "PJSIP/301 in support");
    let row = row.unwrap_or_else(|| panic!("no audit row for the pause: {rows:?}"));
    assert_eq!(row["result"], "ok");
    assert_eq!(row["detail"], "Lunch");
    assert_eq!(row["pbx"], "default");
    assert!(
        row["answer"].as_str().unwrap_or("").contains("paused"),
        "{row}"
    );
    for (action, target) in [
        ("add", "PJSIP/303 in support"),
        ("penalty", "PJSIP/303 in support"),
        ("logoff", "PJSIP/303 in every queue"),
        ("remove", "PJSIP/303 in support"),
        ("unpause", "PJSIP/301 in every queue"),
    ] {
        let row = audited(&rows, &login, action, target);
        assert!(
            row.is_some_and(|r| r["result"] == "ok"),
            "{action}: {rows:?}"
        );
    }
    let refused = audited(&rows, "nobody", "pause", "PJSIP/301 in support");
    assert!(
        refused.is_some_and(|r| r["result"] == "refused"),
        "{rows:?}"
    );
    let refused = audited(&rows, "nobody", "hangup", "PJSIP/301-00000001");
    assert!(
        refused.is_some_and(|r| r["result"] == "refused"),
        "{rows:?}"
    );
    // `nobody` reads only their own rows, and may not ask for others'.
    let own = audit_as(&site, NOBODY, &[]);
    assert!(
        !own.is_empty() && own.iter().all(|r| r["login"] == "nobody"),
        "{own:?}"
    );
    let out = cli_as(&site, NOBODY, &["audit", "--user", &login]);
    assert!(!out.status.success(), "nobody read {login}'s rows");
}

#[test]
fn hang_up_and_transfer_are_seen_in_the_channel_list() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site_with(&lab, NOBODY_ACL);
    let _daemon = start(&site);
    // A call to desk 301 (a SIPp phone that answers), held by Wait.
    lab.cli("channel originate Local/301@phones application Wait 60")
        .unwrap_or_else(|e| panic!("{e}"));
    let phone = wait_channel(&lab, "PJSIP/301-");
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        // The daemon checks the call in its live state, which may lag
        // Asterisk's list by an event or two.
        let hangup = Act::Hangup {
            channel: phone.clone(),
        };
        let said = until_reachable(&mut a.act, 1, hangup, &site).await;
        assert!(said.contains("hangup"), "{said}");
        poll("the hung-up channel gone", || {
            let list = lab.cli("core show channels concise").unwrap_or_default();
            (!list.contains(&phone)).then_some(())
        });
        // A call held in Wait on a Local channel, moved to queue support.
        let held = held_local(&lab, "Local/302@phones", ";1");
        let transfer = Act::Transfer {
            channel: held.clone(),
            to: Destination::Queue("support".into()),
        };
        let said = until_reachable(&mut a.act, 2, transfer, &site).await;
        assert!(said.contains("Redirect successful"), "{said}");
        let line = poll("the transferred call in switchboard-queue", || {
            let list = lab.cli("core show channels concise").unwrap_or_default();
            list.lines()
                .find(|l| l.starts_with(&held) && l.contains("!switchboard-queue!support!"))
                .map(str::to_string)
        });
        assert!(line.contains("!Queue!"), "{line}");
        let _ = lab.cli(&format!("channel request hangup {held}"));
        // A call that has ended: the daemon says so; Asterisk is not asked.
        let gone = Act::Hangup {
            channel: phone.clone(),
        };
        match ask(&mut a.act, 3, gone).await {
            ActReply::Failed { message, .. } | ActReply::Refused { message, .. } => {
                assert!(message.contains("has ended"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        a.task.abort();
    });
}

#[test]
fn listen_whisper_and_barge_ring_the_supervisors_phone_and_spy_on_the_agents_device() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    // The admin's own phone is desk 303 (a SIPp phone that answers).
    let site = site_with(&lab, "phone = \"PJSIP/303\"\n");
    let _daemon = start(&site);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let (mut events, _observer, mut a) = observe_and_attach(&lab, &site).await;
        // A PJSIP agent: desk 301 on a call.
        lab.cli("channel originate Local/301@phones application Wait 60")
            .unwrap_or_else(|e| panic!("{e}"));
        let agent = wait_channel(&lab, "PJSIP/301-");
        let listen = Act::Spy {
            interface: "PJSIP/301".into(),
            mode: SpyMode::Listen,
        };
        let said = until_reachable(&mut a.act, 1, listen, &site).await;
        assert!(said.contains("queued"), "{said}");
        let start = wait_event(&mut events, |m| m.event_name() == Some("ChanSpyStart")).await;
        assert_eq!(start.str("SpyeeChannel"), agent, "{start:?}");
        let spyer = start.str("SpyerChannel").to_string();
        assert!(spyer.starts_with("PJSIP/303-"), "{start:?}");
        // Whisper, without hanging up: the digit reaches ChanSpy as if
        // pressed on the supervisor's phone.
        let whisper = Act::SpyMode {
            mode: SpyMode::Whisper,
        };
        let said = until_reachable(&mut a.act, 2, whisper, &site).await;
        assert!(said.contains("DTMF"), "{said}");
        let dtmf = wait_event(&mut events, |m| {
            m.event_name() == Some("DTMFEnd") && m.str("Channel") == spyer
        })
        .await;
        assert_eq!(dtmf.str("Digit"), "5", "{dtmf:?}");
        assert_eq!(dtmf.str("Direction"), "Received", "{dtmf:?}");
        let _ = lab.cli(&format!("channel request hangup {spyer}"));
        let _ = lab.cli(&format!("channel request hangup {agent}"));
        // A queue member that is a Local channel with no phone behind it
        // (the lab's dialplan agents): spied on its ;2 half, which runs
        // the agent's side.
        let local = held_local(&lab, "Local/206@agents", ";2");
        let barge = Act::Spy {
            interface: "Local/206@agents/n".into(),
            mode: SpyMode::Barge,
        };
        until_reachable(&mut a.act, 3, barge, &site).await;
        let start = wait_event(&mut events, |m| m.event_name() == Some("ChanSpyStart")).await;
        assert_eq!(start.str("SpyeeChannel"), local, "{start:?}");
        let _ = lab.cli(&format!(
            "channel request hangup {}",
            start.str("SpyerChannel")
        ));
        let _ = lab.cli(&format!("channel request hangup {local}"));
        a.task.abort();
    });
}

/// Originates `local` (`Local/302@phones`) into `Wait(60)` and returns the
/// name of its `half` (`;1`: the side in Wait, `;2`: the side running
/// `local`'s dialplan).
fn held_local(lab: &Lab, local: &str, half: &str) -> String {
    lab.cli(&format!("channel originate {local} application Wait 60"))
        .unwrap_or_else(|e| panic!("{e}"));
    let name = wait_channel(lab, &format!("{local}-"));
    name.trim_end_matches(";1")
        .trim_end_matches(";2")
        .to_string()
        + half
}

/// Runs a call act until the daemon's live state has the call (at most
/// 30 s); returns Asterisk's answer.
async fn until_reachable(link: &mut ActLink, id: u64, act: Act, site: &Site) -> String {
    let start = std::time::Instant::now();
    loop {
        match ask(link, id, act.clone()).await {
            ActReply::Done { message, .. } => return message,
            ActReply::Refused { message, .. } | ActReply::Failed { message, .. }
                if (message.contains("has ended") || message.contains("is on no call"))
                    && start.elapsed() < Duration::from_secs(30) =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("{other:?}\ndaemon log:\n{}", log(site)),
        }
    }
}

#[test]
fn a_manager_user_without_the_privileges_is_named_and_nothing_is_sent() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let site = site_with(&lab, "");
    // The same daemon, logged in as the lab's read-only AMI user.
    let text = std::fs::read_to_string(&site.config).unwrap_or_else(|e| panic!("{e}"));
    let text = text.replacen(
        "username = \"switchboard\"",
        "username = \"lab-observer\"",
        1,
    );
    std::fs::write(&site.config, text).unwrap_or_else(|e| panic!("{e}"));
    let _daemon = start(&site);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let mut a = switchboard::serve::attach::attach(site.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        // Asked until the daemon's link has logged in.
        let start = std::time::Instant::now();
        let unavailable = loop {
            a.act
                .requests
                .send(ActRequest::Privileges { id: 1 })
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if let Some(ActReply::Privileges { unavailable, .. }) = a.act.replies.recv().await
                && !unavailable.is_empty()
            {
                break unavailable;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the daemon's link never said what its user may not send\n{}",
                log(&site)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let pause = unavailable
            .iter()
            .find(|u| u.kind == switchboard::access::ActKind::Pause)
            .unwrap_or_else(|| panic!("{unavailable:?}"));
        assert!(pause.why.contains("add `agent`"), "{}", pause.why);
        let hangup = unavailable
            .iter()
            .find(|u| u.kind == switchboard::access::ActKind::Hangup);
        assert!(
            hangup.is_some_and(|u| u.why.contains("add `call`")),
            "{unavailable:?}"
        );
        let reply = ask(
            &mut a.act,
            2,
            Act::Pause {
                interface: "PJSIP/302".into(),
                queue: Some("support".into()),
                reason: String::new(),
            },
        )
        .await;
        assert!(
            matches!(&reply, ActReply::Refused { message, .. } if message.contains("write = line")),
            "{reply:?}"
        );
        a.task.abort();
    });
    let line = member_line(&lab, "support", "PJSIP/302").unwrap_or_default();
    assert!(!line.contains("paused"), "{line}");
}

/// Asterisk's own events (read by the lab's observer, whose handle keeps
/// its link open) and a console attached to `site`'s daemon.
async fn observe_and_attach(
    lab: &Lab,
    site: &Site,
) -> (
    tokio::sync::mpsc::Receiver<AmiMsg>,
    switchboard::ami::connection::Handle,
    switchboard::serve::attach::Attachment,
) {
    let (tx, events) = tokio::sync::mpsc::channel(4096);
    let (observer, _task) = switchboard::ami::connection::spawn(lab.observer(), tx, None);
    let a = switchboard::serve::attach::attach(site.socket.clone())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    (events, observer, a)
}

/// The first event from Asterisk matching `pred`, within 30 s.
async fn wait_event(
    events: &mut tokio::sync::mpsc::Receiver<AmiMsg>,
    pred: impl Fn(&Message) -> bool,
) -> Message {
    let wait = async {
        while let Some(msg) = events.recv().await {
            if let AmiMsg::Event(e) = msg
                && pred(&e.message)
            {
                return Some(e.message);
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no such event from Asterisk in 30 s"))
}

/// Applies the daemon's live data until member `interface` of `queue`
/// passes `pred` (at most 30 s): what the console's pane shows.
async fn wait_member(
    (live, state): (
        &mut tokio::sync::mpsc::Receiver<switchboard::serve::live::LiveDelta>,
        &mut switchboard::pbx::State,
    ),
    queue: &str,
    interface: &str,
    pred: impl Fn(&switchboard::pbx::QueueMember) -> bool,
) {
    let wait = async {
        let m = state
            .queues
            .get(queue)
            .and_then(|q| q.members.get(interface));
        if m.is_some_and(&pred) {
            return true;
        }
        while let Some(delta) = live.recv().await {
            delta.apply(state);
            let m = state
                .queues
                .get(queue)
                .and_then(|q| q.members.get(interface));
            if m.is_some_and(&pred) {
                return true;
            }
        }
        false
    };
    let seen = tokio::time::timeout(Duration::from_secs(30), wait).await;
    assert!(
        seen.unwrap_or(false),
        "the daemon's live data never showed {interface} in {queue} as expected"
    );
}

#[test]
fn a_direct_act_uses_its_own_link_and_lands_in_the_same_trail() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = Lab::get() else { return };
    let _ = lab.cli("queue unpause member PJSIP/302");
    // No daemon: the lab's config, this process's own AMI link.
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(lab.var("LAB_CONFIG"))
            .arg("--direct")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("switchboard {args:?}: {e}"))
    };
    let out = run(&["act", "pause", "PJSIP/302", "in", "support", "Training"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = member_line(&lab, "support", "PJSIP/302").unwrap_or_default();
    assert!(line.contains("(paused:Training"), "{line}");
    let out = run(&["act", "unpause", "PJSIP/302"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = member_line(&lab, "support", "PJSIP/302").unwrap_or_default();
    assert!(!line.contains("paused"), "{line}");
    let rows = common::json_lines(
        &run(&["audit", "--format", "json", "--action", "pause"]),
        "audit",
    );
    let row = audited(&rows, &common::login(), "pause", "PJSIP/302 in support");
    assert!(
        row.is_some_and(|r| r["detail"] == "Training" && r["result"] == "ok"),
        "{rows:?}"
    );
    // A channel that does not exist: Asterisk is not asked (the direct
    // worker reads a fresh snapshot first), and the answer says so.
    let out = run(&["act", "hangup", "PJSIP/302-7fffffff"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("has ended"), "{err}");
}
