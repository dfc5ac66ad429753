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
    }));
    let shared = seen.clone();
    let task = tokio::spawn(async move {
        // The handle keeps the link's command channel open.
        let _handle = handle;
        let mut batch = Vec::with_capacity(256);
        while rx.recv_many(&mut batch, 256).await > 0 {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            for msg in batch.drain(..) {
                if let AmiMsg::State(c) = &msg {
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

impl Agents {
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
