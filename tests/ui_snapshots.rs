//! Snapshot tests of real screens: the shipped lab recording replayed into a
//! model, drawn with ratatui's TestBackend at 120x40 and 80x24, compared with
//! insta. The clock is fixed to the recording's end so the text is stable.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use switchboard::access::Visibility;
use switchboard::ami::ConnectionState;
use switchboard::capture::{Capture, headless};
use switchboard::cdr::columns::Field;
use switchboard::cdr::kpi::ExtensionKpis;
use switchboard::cdr::queue_log::{self, QueueKpiSettings};
use switchboard::cdr::record::CdrRecord;
use switchboard::dialer::campaign::CampaignDef;
use switchboard::dialer::store::{CampaignRow, EngineRow, Progress};
use switchboard::pbx::HealthThresholds;
use switchboard::service::campaigns::{AppReply, AppRequest, CampaignStatus};
use switchboard::service::cdr::{DbReply, DbRequest};
use switchboard::ui::config::TimeInState;
use switchboard::ui::keymap::Keymap;
use switchboard::ui::model::{Model, Screen, Source};
use switchboard::ui::update::{Msg, Outcome, update};
use switchboard::ui::view::offscreen;
use unicode_width::UnicodeWidthStr;

const FIXTURE: &[u8] = include_bytes!("fixtures/lab-queues.cap");
const SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

fn model() -> Model {
    let capture = Capture::parse(FIXTURE).unwrap_or_else(|e| panic!("{e}"));
    let (state, _) = headless::run(&capture);
    let end = capture.start_ms + capture.duration_ms();
    let mut m = Model::new(
        Source::Live {
            addr: "pbx.example:5038".into(),
        },
        TimeInState::default(),
        HealthThresholds::default(),
        end,
    );
    m.pbxs.0[0].state = state;
    m.pbxs.0[0].link.conn = ConnectionState::Ready;
    m.extension_rule = lab_rule();
    m
}

/// The lab's rule: queue members are `Local/2XX@agents`.
fn lab_rule() -> switchboard::endpoints::ExtensionRule {
    switchboard::endpoints::ExtensionRule {
        member_contexts: vec!["agents".into()],
        ..Default::default()
    }
}

fn screen(model: &Model, (w, h): (u16, u16)) -> String {
    let buf = offscreen(model, w, h).unwrap_or_else(|e| panic!("{e}"));
    // A wide character (CJK) covers two cells; the second is not text.
    (0..h)
        .map(|y| {
            let mut line = String::new();
            let mut skip = 0;
            for x in 0..w {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                skip = UnicodeWidthStr::width(sym).saturating_sub(1);
                line.push_str(sym);
            }
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn press(model: &mut Model, code: KeyCode) {
    let keymap = Keymap::load("default").unwrap_or_else(|e| panic!("{e}"));
    update(
        model,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        &keymap,
    );
}

fn sized(mut m: Model, (w, h): (u16, u16)) -> Model {
    m.size = ratatui::layout::Rect::new(0, 0, w, h);
    m
}

fn check(name: &str, build: impl Fn((u16, u16)) -> Model) {
    for size in SIZES {
        let m = build(size);
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), screen(&m, size));
    }
}

#[test]
fn overview_all_panes() {
    check("overview", |s| sized(model(), s));
}

#[test]
fn queues_zoomed_with_callers_and_members() {
    check("queues_zoomed", |s| {
        let mut m = sized(model(), s);
        // Twenty minutes of load on sales: a call every 20 s, 90 s of talk
        // each (4.5 erlangs), for the staffing advice in the members' title.
        let now = m.now_ms;
        if let Some(q) = m.pbxs.0[0].state.queues.get_mut("sales") {
            q.recent = switchboard::pbx::RecentLoad::watched_from(now - 20 * 60_000);
            for i in 0..60 {
                let at = now - 20 * 60_000 + i * 20_000;
                q.recent.arrival(at);
                q.recent.completion(at + 1_000, 90);
            }
        }
        press(&mut m, KeyCode::Char('z'));
        m
    });
}

#[test]
fn extensions_zoomed_sorted_by_state() {
    check("extensions_zoomed", |s| {
        let mut m = sized(model(), s);
        press(&mut m, KeyCode::Char('1'));
        press(&mut m, KeyCode::Char('z'));
        press(&mut m, KeyCode::Char('s'));
        press(&mut m, KeyCode::Char('s'));
        m
    });
}

/// A trunk's endpoint and a custom device state are not extensions
/// (`[kpi.extensions]`): neither listed nor counted in the header.
#[test]
fn trunks_and_custom_devices_are_not_extensions() {
    let mut m = sized(model(), (120, 40));
    let phones = |m: &Model| {
        let h = switchboard::ui::chrome::header::Headline::of(m);
        (h.online, h.extensions)
    };
    let before = phones(&m);
    assert!(before.1 > 0);
    for device in ["PJSIP/provider", "Custom:DND301", "Local/5551234@customers"] {
        m.pbxs.0[0].state.extensions.insert(
            device.into(),
            switchboard::pbx::Extension::new(device, m.now_ms),
        );
    }
    press(&mut m, KeyCode::Char('1'));
    press(&mut m, KeyCode::Char('z'));
    let text = screen(&m, (120, 40));
    for device in ["provider", "DND301", "5551234"] {
        assert!(!text.contains(device), "{device} listed:\n{text}");
    }
    assert_eq!(phones(&m), before);
}

#[test]
fn calls_zoomed() {
    check("calls_zoomed", |s| {
        let mut m = sized(model(), s);
        press(&mut m, KeyCode::Char('3'));
        press(&mut m, KeyCode::Char('z'));
        m
    });
}

#[test]
fn filter_typed_in_extensions() {
    check("filter_extensions", |s| {
        let mut m = sized(model(), s);
        press(&mut m, KeyCode::Char('1'));
        press(&mut m, KeyCode::Char('/'));
        for c in "30".chars() {
            press(&mut m, KeyCode::Char(c));
        }
        m
    });
}

/// Two PBXs with the same recording (so the same queue names, devices and
/// uniqueids on both): lyon's link is down.
fn two_pbxs() -> Model {
    let mut m = model();
    let mut lyon = switchboard::pbx::Pbx::new("lyon", m.now_ms);
    lyon.state = m.pbxs.0[0].state.clone();
    lyon.link.conn = ConnectionState::Down {
        retry_in: Duration::from_secs(4),
        reason: "connect to 10.0.1.2:5038: Connection refused".into(),
    };
    m.pbxs.0[0].name = "paris".into();
    m.pbxs.0.push(lyon);
    m
}

#[test]
fn two_pbxs_show_a_pbx_column_and_each_link() {
    check("two_pbxs", |s| sized(two_pbxs(), s));
    let m = sized(two_pbxs(), (120, 40));
    let text = screen(&m, (120, 40));
    let top = text.lines().next().unwrap_or_default();
    assert!(
        top.contains("● Ready paris") && top.contains("✕ Down lyon") && top.contains("STALE"),
        "{top}"
    );
    assert!(text.contains("lyon: connect to 10.0.1.2:5038"), "{text}");
    // Every queue is listed once per PBX, its rows keyed by both.
    let queues = m.pbxs.0[0].state.queues.len();
    let rows = switchboard::ui::screens::live::rows(&m, switchboard::ui::model::PaneId::Queues);
    assert_eq!(rows.len(), 2 * queues);
    let mut ids: Vec<String> = rows.iter().map(|r| r.id()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2 * queues, "no two rows share an id");
    // `pbx:lyon` keeps lyon's rows; the headline counts both PBXs' calls.
    let mut f = sized(two_pbxs(), (120, 40));
    f.table_mut(switchboard::ui::model::PaneId::Queues).filter = "pbx:lyon".into();
    let lyon = switchboard::ui::screens::live::rows(&f, switchboard::ui::model::PaneId::Queues);
    assert_eq!(lyon.len(), queues);
    assert!(lyon.iter().all(|r| r.pbx == "lyon"));
    // A user with rights on lyon only sees lyon's rows (a direct console).
    let mut scoped = sized(two_pbxs(), (120, 40));
    scoped.pbx_scope = Some(vec!["lyon".into()]);
    let rows =
        switchboard::ui::screens::live::rows(&scoped, switchboard::ui::model::PaneId::Queues);
    assert!(rows.len() == queues && rows.iter().all(|r| r.pbx == "lyon"));
    let one = switchboard::ui::chrome::header::Headline::of(&model());
    let both = switchboard::ui::chrome::header::Headline::of(&m);
    assert_eq!(both.calls, 2 * one.calls);
    assert_eq!(both.available, 2 * one.available);
}

#[test]
fn help_popup() {
    check("help", |s| {
        let mut m = sized(model(), s);
        press(&mut m, KeyCode::Char('?'));
        m
    });
}

#[test]
fn stale_marker_when_down() {
    check("down", |s| {
        let mut m = sized(model(), s);
        m.pbxs.0[0].link.conn = ConnectionState::Down {
            retry_in: Duration::from_secs(4),
            reason: "connect to pbx.example:5038: Connection refused".into(),
        };
        m.pbxs.0[0].link.since_ms = m.now_ms;
        m
    });
}

#[test]
fn hostile_caller_names_never_reach_the_terminal_raw() {
    let mut m = sized(model(), (120, 40));
    let first = m.pbxs.0[0]
        .state
        .queues
        .get("sales")
        .and_then(|q| q.callers.iter().next())
        .map(|c| c.uniqueid.clone());
    if let Some(uid) = first
        && let Some(q) = m.pbxs.0[0].state.queues.get_mut("sales")
        && let Some(c) = q.callers.get_mut(&uid)
    {
        c.caller_name = "Evil\x1b]0;pwned\x07\x1b[2J\u{202E}name".into();
    } else {
        panic!("fixture has no waiting sales caller");
    }
    let text = screen(&m, (120, 40));
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202E}'));
    assert!(text.contains("Evil�]0;pwned��[2J�name"), "{text}");
}

#[test]
fn tiny_terminals_never_panic() {
    for (w, h) in [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (60, 12),
        (99, 15),
        (100, 8),
    ] {
        for keys in [
            &[][..],
            &[KeyCode::Char('z')],
            &[KeyCode::Char('1'), KeyCode::Char('z')],
            &[KeyCode::Char('?')],
            &[KeyCode::F(3), KeyCode::Char('/')],
            &[KeyCode::F(4), KeyCode::Tab, KeyCode::Down],
        ] {
            let mut m = sized(model(), (w, h));
            for k in keys {
                press(&mut m, *k);
            }
            let _ = screen(&m, (w, h));
        }
    }
}

// History and KPI screens, fed the way the console feeds them: a key makes a
// request, and the CDR worker's reply is built from rows Asterisk wrote in
// the lab (tests/fixtures/lab-cdr.jsonl, lab-queue_log).

const CDR_FIXTURE: &str = include_str!("fixtures/lab-cdr.jsonl");
const QUEUE_LOG_FIXTURE: &[u8] = include_bytes!("fixtures/lab-queue_log");

/// The fixture's CDR rows, decoded as from a database (every value as text).
fn cdr_rows() -> Vec<CdrRecord> {
    CDR_FIXTURE
        .lines()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let mut r = CdrRecord::default();
            for field in Field::ALL {
                let text = match &v[field.name()] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                r.set(field, Some(text.as_bytes()));
            }
            r
        })
        .collect()
}

fn keymap() -> Keymap {
    Keymap::load("default").unwrap_or_else(|e| panic!("{e}"))
}

fn request(m: &mut Model, code: KeyCode) -> DbRequest {
    match update(
        m,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        &keymap(),
    ) {
        Outcome::Request(req) => *req,
        other => panic!("{code:?} made no request: {other:?}"),
    }
}

fn reply(m: &mut Model, r: DbReply) {
    update(m, Msg::Db(r), &keymap());
}

/// The History screen after its first page (newest first).
fn history(size: (u16, u16)) -> Model {
    let mut m = sized(model(), size);
    let DbRequest::Page {
        id, rows, order, ..
    } = request(&mut m, KeyCode::F(3))
    else {
        panic!("F3 asks for a page");
    };
    assert_eq!(m.screen, Screen::History);
    let mut legs = cdr_rows();
    legs.sort_by(|a, b| (b.start, &b.uniqueid).cmp(&(a.start, &a.uniqueid)));
    reply(
        &mut m,
        DbReply::Page {
            id,
            legs,
            rows,
            order,
        },
    );
    m
}

/// Selects the first call with three legs or more and expands it.
fn expand_multi_leg_call(m: &mut Model) {
    let target = m
        .history
        .list
        .calls
        .iter()
        .position(|c| c.legs.len() >= 3)
        .unwrap_or_else(|| panic!("fixture has no call with three legs"));
    for _ in 0..target {
        press(m, KeyCode::Down);
    }
    let DbRequest::Legs { id, call, .. } = request(m, KeyCode::Char(' ')) else {
        panic!("space asks for the legs");
    };
    let legs = cdr_rows()
        .into_iter()
        .filter(|r| r.linkedid == call)
        .collect();
    reply(m, DbReply::Legs { id, call, legs });
}

#[test]
fn history_calls_grouped_with_one_expanded() {
    check("history", |s| {
        let mut m = history(s);
        expand_multi_leg_call(&mut m);
        m
    });
}

#[test]
fn history_detail_popup() {
    check("history_detail", |s| {
        let mut m = history(s);
        expand_multi_leg_call(&mut m);
        press(&mut m, KeyCode::Enter);
        m
    });
}

#[test]
fn history_query_line_names_the_bad_word() {
    check("history_query_error", |s| {
        let mut m = history(s);
        press(&mut m, KeyCode::Char('/'));
        for c in "dst:301 disp:maybe".chars() {
            press(&mut m, KeyCode::Char(c));
        }
        press(&mut m, KeyCode::Enter);
        m
    });
}

#[test]
fn a_slow_query_shows_progress_and_esc_cancels_it() {
    let mut m = history((120, 40));
    let DbRequest::Page { id, .. } = request(&mut m, KeyCode::Char('r')) else {
        panic!("r runs the query again");
    };
    m.now_ms += 3_000;
    let text = screen(&m, (120, 40));
    assert!(text.contains("loading calls… 3 s · Esc cancels"), "{text}");
    assert_eq!(request(&mut m, KeyCode::Esc), DbRequest::Cancel);
    assert!(m.running.is_none());
    assert!(screen(&m, (120, 40)).contains("query cancelled"));
    // The cancelled query's late reply changes nothing.
    reply(
        &mut m,
        DbReply::Failed {
            id,
            message: "late".into(),
        },
    );
    assert!(!screen(&m, (120, 40)).contains("late"));
}

#[test]
fn a_running_export_is_never_cut_short_by_another_request() {
    let mut m = history((120, 40));
    let DbRequest::Export { .. } = request(&mut m, KeyCode::Char('e')) else {
        panic!("e exports");
    };
    for key in ['r', 's', 'S'] {
        let out = update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)),
            &keymap(),
        );
        assert!(
            matches!(out, Outcome::Continue { .. }),
            "{key}: {out:?} would replace the export"
        );
    }
    let text = screen(&m, (120, 40));
    assert!(
        text.contains("exporting… 0 s") && text.contains("exporting first"),
        "{text}"
    );
    assert_eq!(request(&mut m, KeyCode::Esc), DbRequest::Cancel);
}

#[test]
fn scrolling_near_the_end_loads_the_next_page() {
    let mut m = history((120, 40));
    let mut legs = cdr_rows();
    legs.truncate(10);
    // A full first page of 10 legs: more may follow.
    m.history = switchboard::ui::screens::history::HistoryView::new(m.history.query.clone());
    let DbRequest::Page { id, order, .. } = request(&mut m, KeyCode::Char('r')) else {
        panic!("r runs the query again");
    };
    reply(
        &mut m,
        DbReply::Page {
            id,
            legs,
            rows: 10,
            order,
        },
    );
    let Outcome::Request(req) = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
        &keymap(),
    ) else {
        panic!("moving near the end of a partial list loads more");
    };
    assert!(
        matches!(
            *req,
            DbRequest::Page {
                cursor: Some(_),
                ..
            }
        ),
        "{req:?}"
    );
}

fn kpi(size: (u16, u16)) -> Model {
    let mut m = sized(model(), size);
    let DbRequest::Kpi { id, .. } = request(&mut m, KeyCode::F(4)) else {
        panic!("F4 asks for KPIs");
    };
    let rule = lab_rule();
    let mut acc = ExtensionKpis::new(rule.clone());
    let rows = cdr_rows();
    for r in &rows {
        acc.add(r);
    }
    let mut settings = QueueKpiSettings::default();
    settings.agent_names.rule = rule;
    // The lab's member names (scripts/lab's [kpi.agents]), and now: the
    // fixture's last second, where open pauses end.
    for (name, ext) in [
        ("Alice Martin", "201"),
        ("Eve Lindqvist", "205"),
        ("Desk 301", "301"),
    ] {
        settings.agent_names.names.insert(name.into(), ext.into());
    }
    settings.now = Some(1_795_253_101);
    let log = queue_log::read(QUEUE_LOG_FIXTURE, 0, i64::MAX, &Visibility::All, &settings)
        .unwrap_or_else(|e| panic!("{e}"));
    reply(
        &mut m,
        DbReply::Kpi {
            id,
            extensions: acc.finish(None, Some(&log), &settings.agent_names),
            queues: Ok(log.queues.clone()),
            agents: log.agents.clone(),
            skipped_lines: 0,
        },
    );
    m
}

#[test]
fn kpi_screen_per_extension_and_queue() {
    check("kpi", kpi);
}

#[test]
fn kpis_recompute_after_calls_end() {
    let mut m = kpi((120, 40));
    let hangup = |at_ms| {
        let mut message = switchboard::ami::Message::default();
        message.push("Event", "Hangup");
        message.push("Uniqueid", "x.1");
        Msg::Ami {
            pbx: 0,
            msg: switchboard::ami::AmiMsg::Event(switchboard::ami::ReceivedEvent {
                at_ms,
                message,
            }),
            now_ms: at_ms,
        }
    };
    let now = m.now_ms;
    update(&mut m, hangup(now + 1_000), &keymap());
    assert!(matches!(
        update(&mut m, Msg::Tick(now + 2_000), &keymap()),
        Outcome::Continue { .. }
    ));
    let due = now + 1_000 + 10_000;
    assert!(matches!(
        update(&mut m, Msg::Tick(due), &keymap()),
        Outcome::Request(r) if matches!(*r, DbRequest::Kpi { .. })
    ));
}

#[test]
fn a_restricted_supervisor_sees_only_their_extension_and_queue_live() {
    check("acl_live", |s| {
        let mut m = sized(model(), s);
        m.access = Visibility::Restricted {
            extensions: vec!["301".into()],
            queues: vec!["support".into()],
        };
        m
    });
    let mut m = sized(model(), (120, 40));
    m.access = Visibility::Restricted {
        extensions: vec!["301".into()],
        queues: vec!["support".into()],
    };
    let text = screen(&m, (120, 40));
    assert!(!text.contains("sales"), "another queue shows:\n{text}");
    assert!(
        text.contains("Extensions  1 ") && !text.contains("│302 "),
        "another extension shows:\n{text}"
    );
    for call in switchboard::pbx::calls(m.pbxs.0[0].state.channels.values()) {
        let shown = m.sees_call(&m.pbxs.0[0].state, &call);
        let on_301 = call
            .channels
            .iter()
            .any(|c| c.name.starts_with("PJSIP/301-"));
        if on_301 {
            assert!(shown, "a call on 301 is hidden");
        }
    }
}

// The Campaigns screen, fed as the console feeds it: F5 asks the app
// database worker, and its reply fills the pane.

fn campaign_status(name: &str, status: &str, acked: &str, p: Progress) -> CampaignStatus {
    let def = CampaignDef::parse(&format!(
        "name = \"{name}\"\ndial = \"Local/{{number}}@customers\"\ncaller_id = \"x\"\ndestination = {{ queue = \"sales\" }}\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    CampaignStatus {
        row: CampaignRow {
            id: 1,
            name: name.into(),
            def,
            status: status.into(),
            acked_status: acked.into(),
            acked_by: Some("lab-engine".into()),
            acked_at: Some(0),
            updated_at: 0,
        },
        progress: p,
        abandons: None,
    }
}

fn campaigns_screen(size: (u16, u16), may_control: bool) -> Model {
    let mut m = sized(model(), size);
    m.campaigns.may_control = may_control;
    let Outcome::App(AppRequest::Refresh { id }) = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)),
        &keymap(),
    ) else {
        panic!("F5 asks the app database");
    };
    let now = m.now_ms;
    let running = Progress {
        total: 1000,
        pending: 640,
        dialing: 8,
        answered: 250,
        failed: 40,
        dnc: 12,
        exhausted: 50,
        live: 8,
        attempts: 400,
        ..Progress::default()
    };
    let mut paused = campaign_status("winter-promo", "running", "paused", Progress::default());
    paused.row.updated_at = now - 3_000;
    let mut spring = campaign_status("spring-renewals", "running", "running", running);
    // 7 drops of 250 live answers: 2.8 %, within a fifth of the 3 % cap;
    // AMD took 50 of 300 answers for machines: 16.7 %.
    spring.abandons = Some(switchboard::dialer::store::Abandons {
        since: now - 30 * 86_400_000,
        answers: 250,
        drops: 7,
        machines: 50,
        false_positive_percent: 0.0,
    });
    update(
        &mut m,
        Msg::App(AppReply::Snapshot {
            id,
            campaigns: vec![spring, paused],
            engines: vec![EngineRow {
                id: "lab-engine".into(),
                started_at: now - 60_000,
                heartbeat_at: now - 400,
                state: "ARI up, 1 campaigns running, 8 live calls".into(),
            }],
        }),
        &keymap(),
    );
    m
}

#[test]
fn campaigns_pane_with_progress_and_acknowledgements() {
    check("campaigns", |s| campaigns_screen(s, true));
    let text = screen(&campaigns_screen((200, 40), true), (200, 40));
    assert!(text.contains("Aband %") && text.contains(" 2.8 "), "{text}");
}

#[test]
fn stopping_a_campaign_asks_first_and_pause_does_not() {
    check("campaigns_stop_question", |s| {
        let mut m = campaigns_screen(s, true);
        press(&mut m, KeyCode::Char('x'));
        m
    });
    let mut m = campaigns_screen((120, 40), true);
    press(&mut m, KeyCode::Char('x'));
    assert_eq!(
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)),
            &keymap()
        ),
        Outcome::Continue { dirty: true },
        "no: nothing is asked of the database"
    );
    press(&mut m, KeyCode::Char('x'));
    let Outcome::App(AppRequest::SetStatus { name, status, .. }) = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
        &keymap(),
    ) else {
        panic!("yes stops the campaign");
    };
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("spring-renewals", "stopped")
    );
    let mut m = campaigns_screen((120, 40), true);
    let Outcome::App(AppRequest::SetStatus { status, .. }) = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE)),
        &keymap(),
    ) else {
        panic!("p pauses at once");
    };
    assert_eq!(status, "paused");
}

#[test]
fn the_command_line_starts_campaigns_and_names_bad_commands() {
    let mut m = campaigns_screen((120, 40), true);
    press(&mut m, KeyCode::Char(':'));
    for c in "campaign start winter-promo".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    let Outcome::App(AppRequest::SetStatus { name, status, .. }) = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        &keymap(),
    ) else {
        panic!(":campaign start runs");
    };
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("winter-promo", "running")
    );
    check("campaigns_bad_command", |s| {
        let mut m = campaigns_screen(s, true);
        press(&mut m, KeyCode::Char(':'));
        for c in "campaign launch spring-renewals".chars() {
            press(&mut m, KeyCode::Char(c));
        }
        press(&mut m, KeyCode::Enter);
        m
    });
    // After a refusal the next `:` starts empty, and a command that goes
    // through clears the error.
    let mut m = campaigns_screen((120, 40), true);
    for c in ":campaign launch x".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    press(&mut m, KeyCode::Enter);
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|(t, err)| *err && t.contains("launch"))
    );
    press(&mut m, KeyCode::Char(':'));
    assert_eq!(
        m.mode,
        switchboard::ui::model::Mode::Command {
            text: String::new(),
            error: None
        }
    );
    for c in "campaign pause winter-promo".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.notice, None, "a good command clears the old error");
}

#[test]
fn a_user_without_campaign_rights_sees_but_cannot_change() {
    check("campaigns_read_only", |s| {
        let mut m = campaigns_screen(s, false);
        press(&mut m, KeyCode::Char('a'));
        m
    });
    let mut m = campaigns_screen((120, 40), false);
    for key in ['a', 'p'] {
        assert!(
            !matches!(
                update(
                    &mut m,
                    Msg::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)),
                    &keymap()
                ),
                Outcome::App(_)
            ),
            "{key} reached the database"
        );
    }
}

/// What a supervisor must always see, at the smallest supported terminal:
/// the connection state, STALE, the clock, SL and how to quit; never a
/// figure cut in the middle.
#[test]
fn header_and_footer_keep_what_matters_at_80x24() {
    let clock = "07:31:49";
    let mut live = sized(model(), (80, 24));
    let text = screen(&live, (80, 24));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("● Ready") && lines[0].contains(clock),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("SL2 100%"), "{}", lines[1]);
    assert!(!lines[1].trim_start().starts_with('│'), "{}", lines[1]);
    // Every figure shown is whole: "Answered N · Abandoned N (P%)" or absent.
    assert!(
        !lines[1].contains("Answered") || lines[1].contains("Abandoned 7 (14%)"),
        "{}",
        lines[1]
    );
    assert!(lines[23].contains("q quit"), "{}", lines[23]);
    for screen_key in [KeyCode::F(3), KeyCode::F(4), KeyCode::F(5)] {
        let mut m = sized(model(), (80, 24));
        press(&mut m, screen_key);
        let t = screen(&m, (80, 24));
        let footer = t.lines().last().unwrap_or("");
        assert!(footer.contains("q quit"), "{screen_key:?}: {footer}");
    }
    live.pbxs.0[0].link.conn = ConnectionState::Down {
        retry_in: Duration::from_secs(5),
        reason: "AMI login as `switchboard` refused: Authentication failed (check manager.conf user and secret)".into(),
    };
    live.pbxs.0[0].link.since_ms = live.now_ms;
    for (w, h) in SIZES {
        let m = sized(live.clone(), (w, h));
        let t = screen(&m, (w, h));
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].contains("✕ Down") && lines[0].contains("STALE") && lines[0].contains(clock),
            "{w}: {}",
            lines[0]
        );
        if w >= 120 {
            assert!(
                lines[1].contains("(check manager.conf user and secret); retry in 5s"),
                "{w}: {}",
                lines[1]
            );
        }
    }
}

#[test]
fn dropped_events_or_an_overdue_ping_show_stale_and_silence_shows_the_age() {
    let mut m = sized(model(), (120, 40));
    m.quiet_after_ms = Some(11_000);
    m.pbxs.0[0].link.health.last_read_ms = m.now_ms - 2_000;
    assert!(!m.is_stale());
    assert!(
        !screen(&m, (120, 40))
            .lines()
            .next()
            .unwrap_or("")
            .contains("STALE")
    );
    // The actor dropped an event: STALE at once, until the next Ready.
    let mut health = m.pbxs.0[0].link.health;
    health.dropped = 3;
    update(&mut m, Msg::Link(0, health), &keymap());
    assert!(
        screen(&m, (120, 40))
            .lines()
            .next()
            .unwrap_or("")
            .contains("STALE")
    );
    let now_ms = m.now_ms;
    for s in [ConnectionState::Resyncing, ConnectionState::Ready] {
        update(
            &mut m,
            Msg::Ami {
                pbx: 0,
                msg: switchboard::ami::AmiMsg::State(s),
                now_ms,
            },
            &keymap(),
        );
    }
    assert!(!m.is_stale(), "the resync after the loss ends STALE");
    // A half-dead link: the Ping is overdue, then nothing arrives for 25 s.
    health.ping_overdue = true;
    update(&mut m, Msg::Link(0, health), &keymap());
    m.now_ms = m.pbxs.0[0].link.health.last_read_ms + 25_000;
    let top = screen(&m, (80, 24))
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(
        top.contains("STALE") && top.contains("no data for 0:25"),
        "{top}"
    );
}

#[test]
fn the_end_of_a_replay_is_shown() {
    let mut m = model();
    m.source = Source::Replay {
        file: "day.cap".into(),
    };
    update(&mut m, Msg::SourceEnded, &keymap());
    let top = screen(&m, (80, 24))
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(top.contains("End of recording"), "{top}");
}

#[test]
fn queue_names_in_titles_are_sanitized_and_sort_markers_survive_narrow_columns() {
    let mut m = sized(model(), (80, 24));
    if let Some(mut q) = m.pbxs.0[0].state.queues.remove("sales") {
        q.name = "sa\u{202E}les\u{200B}".into();
        m.pbxs.0[0].state.queues.insert(q.name.clone(), q);
    }
    let t = screen(&m, (120, 40));
    assert!(!t.contains('\u{202E}') && !t.contains('\u{200B}'), "{t}");
    assert!(t.contains("sa�les�: callers"), "{t}");
    // The Calls pane sorted by its narrow Legs column (after Time) keeps
    // the marker.
    m.focus = switchboard::ui::model::PaneId::Calls;
    press(&mut m, KeyCode::Char('s'));
    let t = screen(&m, (80, 24));
    assert!(t.contains("▼Leg") || t.contains("▲Leg"), "{t}");
}

#[test]
fn calls_sorted_by_from_are_in_caller_order() {
    let mut m = sized(model(), (120, 40));
    m.focus = switchboard::ui::model::PaneId::Calls;
    m.table_mut(switchboard::ui::model::PaneId::Calls).sort = 0;
    m.table_mut(switchboard::ui::model::PaneId::Calls).reverse = false;
    let rows = switchboard::ui::screens::live::rows(&m, switchboard::ui::model::PaneId::Calls);
    let froms: Vec<String> = rows
        .iter()
        .map(|r| (r.cells)()[0].text.to_lowercase())
        .collect();
    let mut sorted = froms.clone();
    sorted.sort();
    assert_eq!(froms, sorted);
}

#[test]
fn history_newest_first_reads_in_order_and_counts_once() {
    let m = history((120, 40));
    let text = screen(&m, (120, 40));
    let times: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .filter(|l| l.starts_with("20"))
        .map(|l| &l[..16])
        .collect();
    assert!(times.len() > 3, "{text}");
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first, as shown:\n{text}");
    let title = text
        .lines()
        .find(|l| l.contains("History:"))
        .unwrap_or_default();
    assert!(
        title.contains("calls") && !title.contains("legs  "),
        "the count is said once: {title}"
    );
}

/// A console attached to the daemon, as the restricted user above: its
/// model is built only from the deltas the daemon sends (the console's own
/// filter lets everything through), and the screen is the same as the
/// direct console's for that user, with the header naming the daemon.
#[test]
fn an_attached_console_shows_what_the_daemon_sent_it() {
    use switchboard::access::LiveAccess;
    use switchboard::serve::live::SentCopy;
    let restricted = Visibility::Restricted {
        extensions: vec!["301".into()],
        queues: vec!["support".into()],
    };
    let attached = |(w, h): (u16, u16)| {
        let daemon = model();
        let rule = lab_rule();
        let delta = SentCopy::new().delta(
            &daemon.pbxs.0[0].state,
            LiveAccess {
                visibility: &restricted,
                rule: &rule,
            },
        );
        let mut m = Model::new(
            Source::Attached {
                pbx: "pbx.example:5038".into(),
                login: "alice".into(),
            },
            TimeInState::default(),
            HealthThresholds::default(),
            daemon.now_ms,
        );
        m.pbxs.0[0].link.conn = ConnectionState::Ready;
        m.extension_rule = rule;
        delta.apply(&mut m.pbxs.0[0].state);
        sized(m, (w, h))
    };
    check("attached", attached);
    let text = screen(&attached((120, 40)), (120, 40));
    assert!(text.contains("via daemon as alice"), "{text}");
    assert!(
        !text.contains("sales"),
        "another queue reached the console:\n{text}"
    );
    let mut direct = sized(model(), (120, 40));
    direct.access = restricted.clone();
    let direct = screen(&direct, (120, 40));
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&text),
        body(&direct),
        "the attached screen differs from the direct one for the same user"
    );

    // The daemon goes away: the header says so and the data is STALE.
    let mut m = attached((120, 40));
    m.pbxs.0[0].link.conn = ConnectionState::Down {
        retry_in: std::time::Duration::from_secs(2),
        reason: "daemon /run/switchboard/console.sock: connection refused".into(),
    };
    insta::assert_snapshot!("attached_daemon_down_120x40", screen(&m, (120, 40)));
    let text = screen(&m, (120, 40));
    assert!(text.contains("STALE") && text.contains("Down"), "{text}");
}

/// With several PBXs the History says whose CDRs it shows: the first PBX
/// by default, the one `pbx:NAME` asks for, and that PBX goes in the
/// request.
#[test]
fn history_of_several_pbxs_names_its_pbx() {
    let mut m = sized(two_pbxs(), (120, 30));
    let DbRequest::Page { filter, .. } = request(&mut m, KeyCode::F(3)) else {
        panic!("F3 asks for a page");
    };
    assert_eq!(filter.pbx, None, "the service picks the first PBX");
    assert!(screen(&m, (120, 30)).contains("History of paris"));
    press(&mut m, KeyCode::Char('/'));
    for c in "today pbx:lyon".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    let DbRequest::Page { filter, .. } = request(&mut m, KeyCode::Enter) else {
        panic!("Enter runs the query");
    };
    assert_eq!(filter.pbx.as_deref(), Some("lyon"));
    assert!(screen(&m, (120, 30)).contains("History of lyon"));
}

/// A team lead: pause and members in `sales` only, hang up anywhere; the
/// PBX's manager user may not send transfers (`write = call` missing).
fn team_lead(size: (u16, u16)) -> Model {
    use switchboard::access::ActKind;
    use switchboard::access::roles::{Grant, Rights};
    let mut m = sized(model(), size);
    let sales = Some(vec!["sales".to_string()]);
    m.supervise.rights = Rights {
        grants: vec![
            Grant {
                kind: ActKind::Pause,
                queues: sales.clone(),
            },
            Grant {
                kind: ActKind::Members,
                queues: sales,
            },
            Grant {
                kind: ActKind::Hangup,
                queues: None,
            },
            Grant {
                kind: ActKind::Transfer,
                queues: None,
            },
        ],
    };
    m.supervise.pause_reasons = vec!["Break".into(), "Lunch".into()];
    m.supervise.unavailable = vec![switchboard::supervise::privileges::Unavailable {
        pbx: "default".into(),
        kind: ActKind::Transfer,
        why: "PBX default: its AMI user may not send Redirect; add `call` to that user's write = line in manager.conf".into(),
    }];
    m
}

fn act_of(o: Outcome) -> Option<switchboard::supervise::Act> {
    match o {
        Outcome::Act(switchboard::service::supervise::ActRequest::Run { act, .. }) => Some(act),
        _ => None,
    }
}

fn key_outcome(m: &mut Model, code: KeyCode) -> Outcome {
    update(
        m,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        &keymap(),
    )
}

#[test]
fn the_action_menu_offers_what_the_role_allows_and_a_pause_asks_why() {
    check("action_menu_queue", |s| {
        let mut m = team_lead(s);
        press(&mut m, KeyCode::Char('2'));
        press(&mut m, KeyCode::Char('a'));
        m
    });
    check("action_menu_reasons", |s| {
        let mut m = team_lead(s);
        press(&mut m, KeyCode::Char('2'));
        press(&mut m, KeyCode::Char('a'));
        press(&mut m, KeyCode::Enter);
        m
    });
    // The Queues pane's first row is sales: its first member's pause, for
    // Lunch.
    let mut m = team_lead((120, 40));
    press(&mut m, KeyCode::Char('2'));
    press(&mut m, KeyCode::Char('a'));
    let switchboard::ui::model::Mode::Menu(menu) = &m.mode else {
        panic!("no menu: {:?}", m.notice);
    };
    assert!(
        menu.items.iter().all(|i| !i.label.contains("Hang up")),
        "a queue's menu has no call to hang up"
    );
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Down);
    let act = act_of(key_outcome(&mut m, KeyCode::Enter));
    assert!(
        matches!(&act, Some(switchboard::supervise::Act::Pause { queue: Some(q), reason, .. }) if q == "sales" && reason == "Lunch"),
        "{act:?}"
    );
}

#[test]
fn a_queue_outside_the_role_offers_nothing_and_says_why() {
    let mut m = team_lead((120, 40));
    m.supervise.rights.grants.retain(|g| g.queues.is_some());
    press(&mut m, KeyCode::Char('2'));
    // The second queue is support: outside the role.
    press(&mut m, KeyCode::Down);
    let o = key_outcome(&mut m, KeyCode::Char('a'));
    assert!(act_of(o).is_none());
    assert!(
        matches!(&m.mode, switchboard::ui::model::Mode::Normal),
        "{:?}",
        m.mode
    );
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|(t, err)| *err && t.contains("no action you may take")),
        "{:?}",
        m.notice
    );
}

#[test]
fn hanging_up_asks_first_and_a_blocked_transfer_names_the_privilege() {
    check("action_question", |s| {
        let mut m = team_lead(s);
        press(&mut m, KeyCode::Char('3'));
        press(&mut m, KeyCode::Char('a'));
        press(&mut m, KeyCode::Enter);
        m
    });
    check("action_menu_blocked", |s| {
        let mut m = team_lead(s);
        press(&mut m, KeyCode::Char('3'));
        press(&mut m, KeyCode::Char('a'));
        press(&mut m, KeyCode::Down);
        m
    });
    let mut m = team_lead((120, 40));
    press(&mut m, KeyCode::Char('3'));
    press(&mut m, KeyCode::Char('a'));
    press(&mut m, KeyCode::Enter);
    assert!(act_of(key_outcome(&mut m, KeyCode::Char('n'))).is_none());
    press(&mut m, KeyCode::Char('a'));
    press(&mut m, KeyCode::Enter);
    let act = act_of(key_outcome(&mut m, KeyCode::Char('y')));
    assert!(
        matches!(&act, Some(switchboard::supervise::Act::Hangup { .. })),
        "{act:?}"
    );
    // The transfer is shown but greyed: choosing it sends nothing and
    // says which privilege is missing.
    press(&mut m, KeyCode::Char('a'));
    press(&mut m, KeyCode::Down);
    assert!(act_of(key_outcome(&mut m, KeyCode::Enter)).is_none());
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|(t, _)| t.contains("add `call`")),
        "{:?}",
        m.notice
    );
}

#[test]
fn audit_screen() {
    use switchboard::dialer::store::AuditRow;
    let row =
        |id: i64, login: &str, action: &str, target: &str, result: &str, answer: &str| AuditRow {
            id,
            at: 1_796_040_000_000 + id * 61_000,
            login: login.into(),
            pbx: "default".into(),
            action: action.into(),
            target: target.into(),
            detail: if action == "pause" {
                "Lunch".into()
            } else {
                String::new()
            },
            result: result.into(),
            answer: answer.into(),
        };
    check("audit", |s| {
        let mut m = sized(model(), s);
        let o = key_outcome(&mut m, KeyCode::Char('A'));
        let Outcome::App(AppRequest::Audit { id, .. }) = o else {
            panic!("{o:?}");
        };
        reply_app(
            &mut m,
            AppReply::Audit {
                id,
                rows: vec![
                    row(
                        1,
                        "alice",
                        "pause",
                        "PJSIP/301 in sales",
                        "ok",
                        "Interface paused successfully",
                    ),
                    row(
                        2,
                        "bob",
                        "hangup",
                        "PJSIP/302-0000002a",
                        "refused",
                        "`bob` may not hangup: none of their roles grants it",
                    ),
                    row(
                        3,
                        "alice",
                        "transfer",
                        "PJSIP/301-0000002b to queue support",
                        "failed",
                        "Asterisk refused: No such channel",
                    ),
                ],
            },
        );
        m
    });
}

fn reply_app(m: &mut Model, r: AppReply) {
    update(m, Msg::App(r), &keymap());
}

#[test]
fn an_agent_on_a_call_can_be_listened_to_from_the_users_phone() {
    use switchboard::access::roles::Rights;
    let admin = |s| {
        let mut m = sized(model(), s);
        m.supervise.rights = Rights::all();
        m.supervise.phone = Some("PJSIP/305".into());
        // Extensions, first row: desk 301, on a call.
        press(&mut m, KeyCode::Char('1'));
        m
    };
    check("action_menu_spy", |s| {
        let mut m = admin(s);
        press(&mut m, KeyCode::Char('a'));
        m
    });
    let mut m = admin((120, 40));
    press(&mut m, KeyCode::Char('a'));
    let switchboard::ui::model::Mode::Menu(menu) = &m.mode else {
        panic!("no menu: {:?}", m.notice);
    };
    let at = menu
        .items
        .iter()
        .position(|i| i.label.starts_with("Listen to"))
        .unwrap_or_else(|| panic!("{menu:?}"));
    for _ in 0..at {
        press(&mut m, KeyCode::Down);
    }
    let act = act_of(key_outcome(&mut m, KeyCode::Enter));
    assert_eq!(
        act,
        Some(switchboard::supervise::Act::Spy {
            interface: "PJSIP/301".into(),
            mode: switchboard::supervise::SpyMode::Listen
        })
    );
}
