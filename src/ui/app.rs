//! The console loop: one `select!` over terminal input, AMI messages, a
//! one-second tick and signals. Messages are drained before drawing, and a
//! frame is drawn only when something changed, at most `fps` times a second:
//! an event storm costs one frame, not one frame per event.

use super::keymap::Keymap;
use super::model::Model;
use super::terminal;
use super::theme::Theme;
use super::update::{Msg, Outcome, update};
use super::view::{self, ViewCtx};
use crate::ami::AmiMsg;
use crate::ami::connection::LinkHealth;
use crate::ami::fan_in::FanIn;
use crate::clock::now_ms;
use crate::service::campaigns::AppLink;
use crate::service::cdr::DbLink;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// Longest time spent applying queued AMI messages before the loop looks at
/// the keyboard, the clock and the screen again: an event storm never
/// starves a key press for longer than this plus one frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(20);

/// The console's "now": the wall clock live, the capture's clock in a replay
/// (so durations computed from Asterisk's own timestamps, like a member's
/// last call, read as they did when recorded).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Capture time minus wall time, ms; 0 live. Set by the replay feeder.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Now, ms since epoch (UTC), on this clock.
    pub fn now(&self) -> i64 {
        now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Makes `at_ms` be "now" (the replay calls this as it sends events).
    pub fn follow(&self, at_ms: i64) {
        self.offset_ms.store(at_ms - now_ms(), Ordering::Relaxed);
    }
}

/// Everything the loop needs besides the model.
pub struct Setup {
    /// Where "now" comes from.
    pub clock: Clock,
    /// Key bindings.
    pub keymap: Keymap,
    /// Colours.
    pub theme: Theme,
    /// Frame rate cap.
    pub fps: u32,
}

/// Where the console's data comes from: each PBX's AMI link (or a
/// replay's) messages, and for a console attached to the daemon, the
/// daemon's live deltas (`ami` then carries only the links' states).
pub struct Feeds {
    /// AMI messages (events and link state), per PBX.
    pub ami: FanIn,
    /// The links' freshness, by PBX index (none for a replay).
    pub health: Option<mpsc::Receiver<(usize, LinkHealth)>>,
    /// Live deltas from the daemon.
    pub live: Option<mpsc::Receiver<crate::serve::live::LiveDelta>>,
    /// CDR requests and replies.
    pub db: DbLink,
    /// Campaign requests and replies.
    pub app: AppLink,
    /// Supervisor actions and their answers.
    pub act: crate::service::supervise::ActLink,
}

/// Runs the console until quit or a signal; restores the terminal always.
pub async fn run(model: Model, feeds: Feeds, setup: Setup) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the console needs a terminal, and stdout is not one; for scripts use \
             `switchboard replay FILE --headless` or `switchboard record`"
        );
    }
    let mut term = terminal::init()?;
    let result = event_loop(&mut term, model, feeds, &setup).await;
    terminal::restore();
    result
}

async fn event_loop(
    term: &mut DefaultTerminal,
    mut model: Model,
    feeds: Feeds,
    setup: &Setup,
) -> anyhow::Result<()> {
    let Feeds {
        mut ami,
        mut health,
        mut live,
        mut db,
        mut app,
        mut act,
    } = feeds;
    let size = term.size()?;
    model.size = Rect::new(0, 0, size.width, size.height);
    let ctx = ViewCtx {
        theme: &setup.theme,
        keymap: &setup.keymap,
    };
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let frame = Duration::from_secs(1) / setup.fps.max(1);
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut ami_open = true;
    loop {
        if dirty && last_draw.is_none_or(|t| t.elapsed() >= frame) {
            term.draw(|f| view::draw(f, &model, &ctx))?;
            dirty = false;
            last_draw = Some(Instant::now());
        }
        let wake = last_draw.filter(|_| dirty).map(|t| t + frame);
        let msg = tokio::select! {
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Mouse(m))) => Msg::Mouse(m),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            msg = ami.recv(), if ami_open => match msg {
                Some((pbx, msg)) => {
                    let now = setup.clock.now();
                    let until = Instant::now() + DRAIN_BUDGET;
                    // A link (re)logged in: its manager privileges may have changed.
                    let mut ready = logged_in(&msg);
                    dirty |= apply(&mut model, pbx, msg, now, &setup.keymap);
                    while Instant::now() < until {
                        match ami.try_recv() {
                            Some((pbx, msg)) => {
                                ready |= logged_in(&msg);
                                dirty |= apply(&mut model, pbx, msg, now, &setup.keymap);
                            }
                            None => break,
                        }
                    }
                    if !ready {
                        continue;
                    }
                    let req = crate::ui::supervise::update::privileges_request(&mut model);
                    if act.requests.send(req).await.is_err() {
                        anyhow::bail!("the actions worker stopped");
                    }
                    continue;
                }
                None => {
                    ami_open = false;
                    Msg::SourceEnded
                }
            },
            changed = async {
                match health.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => match changed {
                Some((pbx, h)) => Msg::Link(pbx, h),
                None => {
                    health = None;
                    continue;
                }
            },
            delta = async {
                match live.as_mut() {
                    Some(l) => l.recv().await,
                    None => std::future::pending().await,
                }
            } => match delta {
                Some(d) => Msg::Live(Box::new(d)),
                None => {
                    live = None;
                    continue;
                }
            },
            Some(reply) = db.replies.recv() => Msg::Db(reply),
            Some(reply) = app.replies.recv() => Msg::App(reply),
            Some(reply) = act.replies.recv() => Msg::Act(reply),
            _ = tick.tick() => Msg::Tick(setup.clock.now()),
            _ = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => continue,
        };
        match update(&mut model, msg, &setup.keymap) {
            Outcome::Quit => return Ok(()),
            Outcome::Continue { dirty: d } => dirty |= d,
            Outcome::Request(req) => {
                dirty = true;
                if db.requests.send(*req).await.is_err() {
                    anyhow::bail!("the CDR worker stopped");
                }
            }
            Outcome::App(req) => {
                dirty = true;
                if app.requests.send(req).await.is_err() {
                    anyhow::bail!("the app database worker stopped");
                }
            }
            Outcome::Act(req) => {
                dirty = true;
                if act.requests.send(req).await.is_err() {
                    anyhow::bail!("the actions worker stopped");
                }
            }
        }
    }
}

/// `msg` says a link has logged in (or the daemon's link is back).
fn logged_in(msg: &AmiMsg) -> bool {
    matches!(msg, AmiMsg::State(crate::ami::ConnectionState::Ready))
}

fn apply(model: &mut Model, pbx: usize, msg: AmiMsg, now_ms: i64, keymap: &Keymap) -> bool {
    matches!(
        update(model, Msg::Ami { pbx, msg, now_ms }, keymap),
        Outcome::Continue { dirty: true }
    )
}
