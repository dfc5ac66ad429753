//! Snapshot tests of real screens: the shipped lab recording replayed into a
//! model, drawn with ratatui's TestBackend at 120x40 and 80x24, compared with
//! insta. The clock is fixed to the recording's end so the text is stable.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use switchboard::ami::ConnectionState;
use switchboard::capture::{Capture, headless};
use switchboard::config::TimeInState;
use switchboard::pbx::HealthThresholds;
use switchboard::ui::keymap::Keymap;
use switchboard::ui::model::{Model, Source};
use switchboard::ui::update::{Msg, update};
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
    m.pbx = state;
    m.conn = ConnectionState::Ready;
    m
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
        m.conn = ConnectionState::Down {
            retry_in: Duration::from_secs(4),
            reason: "connect to pbx.example:5038: Connection refused".into(),
        };
        m.conn_since_ms = m.now_ms;
        m
    });
}

#[test]
fn hostile_caller_names_never_reach_the_terminal_raw() {
    let mut m = sized(model(), (120, 40));
    if let Some(q) = m.pbx.queues.get_mut("sales")
        && let Some(c) = q.callers.first_mut()
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
        ] {
            let mut m = sized(model(), (w, h));
            for k in keys {
                press(&mut m, *k);
            }
            let _ = screen(&m, (w, h));
        }
    }
}
