//! The engine's eyes on the agents: its own AMI link (the console's
//! connection actor, with the same resync rules) folded into a
//! `pbx::State`, read at each step for the floors of the queues its
//! campaigns send calls to. While the link is not Ready, or Asterisk stopped
//! answering its pings, the agents are unknown and no queue campaign dials.

use crate::ami::AmiMsg;
use crate::ami::connection::{self, ConnectionState, LinkHealth, Settings};
use crate::dialer::pacing::floor::{self, QueueFloor};
use crate::pbx::State;
use crate::service_level::Targets;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// What the link shows, shared by the follower task and the engine.
struct Seen {
    state: State,
    /// The link's state (only `Ready` means the agents are known).
    conn: ConnectionState,
    /// Whether the manager user may send `Redirect` (its `write` has
    /// `call`), as `ListCommands` said after the last login; `None` until
    /// it answered.
    may_redirect: Option<bool>,
}

/// A handle on the follower: the floors of the queues asked for.
pub struct Agents {
    seen: Arc<Mutex<Seen>>,
    /// Each queue's wrap-up (`[kpi.queues.NAME] wrapup_s`).
    queues: Targets,
    health: watch::Receiver<LinkHealth>,
    /// The link, for the actions the engine sends (the safe-harbour
    /// `Redirect`).
    link: connection::Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Agents {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts following Asterisk's queues over AMI with `settings`; `queues`
/// gives each queue's wrap-up after a call.
pub fn follow(settings: Settings, queues: Targets) -> Agents {
    let (tx, mut rx) = mpsc::channel(crate::ami::connection::AMI_QUEUE);
    let (handle, link) = connection::spawn(settings, tx, None);
    let health = handle.health();
    let link_handle = handle.clone();
    let seen = Arc::new(Mutex::new(Seen {
        state: State::new(),
        conn: ConnectionState::Connecting { attempt: 1 },
        may_redirect: None,
    }));
    let shared = seen.clone();
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(256);
        while rx.recv_many(&mut batch, 256).await > 0 {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            for msg in batch.drain(..) {
                if let AmiMsg::State(c) = &msg {
                    // Each login: ask again what the user may send (the
                    // admin may have changed manager.conf).
                    if *c == ConnectionState::Ready && s.conn != ConnectionState::Ready {
                        tokio::spawn(probe(handle.clone(), shared.clone()));
                    }
                    s.conn = c.clone();
                }
                s.state.handle(&msg);
            }
        }
        link.abort();
    });
    Agents {
        seen,
        queues,
        health,
        link: link_handle,
        task,
    }
}

/// Longest wait for `ListCommands`' answer.
const PROBE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Asks Asterisk which actions the engine's manager user may send
/// (`ListCommands` lists only those) and keeps whether `Redirect` is one;
/// says so once in the log when it is not.
async fn probe(link: connection::Handle, seen: Arc<Mutex<Seen>>) {
    let action = crate::ami::Action::new("ListCommands");
    let Ok(action) = action else { return };
    let reply = tokio::time::timeout(PROBE_DEADLINE, link.request(action)).await;
    let Ok(Ok(reply)) = reply else {
        // No answer: nothing known, the safe harbour tries anyway.
        return;
    };
    let may = reply.response.get("Redirect").is_some();
    if !may {
        tracing::warn!("{NO_REDIRECT}");
    }
    seen.lock().unwrap_or_else(|e| e.into_inner()).may_redirect = Some(may);
}

/// What the engine says when its manager user may not send `Redirect`.
pub const NO_REDIRECT: &str = "the AMI user may not send Redirect (add `call` to its write = line in manager.conf): calls no agent takes within drop_s cannot be given the safe-harbour message";

impl Agents {
    /// Whether the manager user may send `Redirect` (`None`: not known
    /// yet).
    pub fn may_redirect(&self) -> Option<bool> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .may_redirect
    }

    /// The AMI link, to send an action on.
    pub fn link(&self) -> connection::Handle {
        self.link.clone()
    }

    /// The floors of `queues` at `now_ms` (ms since the epoch, UTC); `Err`
    /// says why the agents are unknown (the link down, resyncing or
    /// silent). A queue Asterisk does not list has an empty floor.
    pub fn floors<'a>(
        &self,
        queues: impl Iterator<Item = &'a str>,
        now_ms: i64,
    ) -> Result<HashMap<String, QueueFloor>, String> {
        if self.health.borrow().ping_overdue {
            return Err("Asterisk stopped answering AMI pings".into());
        }
        let s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match &s.conn {
            ConnectionState::Ready => {}
            ConnectionState::Down { reason, .. } => {
                return Err(format!("AMI down ({})", crate::sanitize::escape(reason)));
            }
            ConnectionState::Connecting { .. } => return Err("AMI connecting".into()),
            ConnectionState::Resyncing => return Err("AMI reading Asterisk's state".into()),
        }
        Ok(queues
            .map(|q| {
                let f = s
                    .state
                    .queues
                    .get(q)
                    .map(|queue| floor::of_queue(queue, now_ms, self.queues.wrapup_s(q)))
                    .unwrap_or_default();
                (q.to_string(), f)
            })
            .collect())
    }
}
