//! The PBXs a console or the daemon follows: each with its name, its own
//! [`State`] and its AMI link's condition. A uniqueid, a queue name or a
//! device is unique only within one Asterisk, so every PBX keeps its own
//! state and nothing is keyed across them.

use super::State;
use crate::ami::connection::LinkHealth;
use crate::ami::{AmiMsg, ConnectionState};

/// A single `[ami]` (no `[[pbx]]` tables) is the PBX of this name.
pub const DEFAULT_PBX: &str = "default";

/// One AMI link's condition as the header shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The connection's state (`AmiMsg::State`).
    pub conn: ConnectionState,
    /// When `conn` last changed, ms since epoch (UTC).
    pub since_ms: i64,
    /// Freshness as the link's actor last published it.
    pub health: LinkHealth,
    /// `health.dropped` when the link last reported Ready: more drops since
    /// mean events are missing until the resync that follows.
    pub dropped_at_ready: u64,
}

impl Link {
    /// A link not connected yet, at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Link {
            conn: ConnectionState::Connecting { attempt: 1 },
            since_ms: now_ms,
            health: LinkHealth::default(),
            dropped_at_ready: 0,
        }
    }

    /// Records a new connection state at `now_ms`; true when it changed.
    pub fn set_conn(&mut self, conn: &ConnectionState, now_ms: i64) -> bool {
        if *conn == self.conn {
            return false;
        }
        self.conn = conn.clone();
        self.since_ms = now_ms;
        if self.conn == ConnectionState::Ready {
            self.dropped_at_ready = self.health.dropped;
        }
        true
    }

    /// The data from this link may be out of date: not Ready, events
    /// dropped since the last Ready, or a Ping overdue (a half-dead link).
    pub fn is_stale(&self) -> bool {
        self.conn != ConnectionState::Ready
            || self.health.ping_overdue
            || self.health.dropped > self.dropped_at_ready
    }
}

/// One PBX: its name (`[[pbx]] name`), its state and its link.
#[derive(Clone, Debug)]
pub struct Pbx {
    /// Name from the config (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// The live state its AMI events build.
    pub state: State,
    /// Its AMI link.
    pub link: Link,
}

impl Pbx {
    /// An empty PBX named `name`, its link connecting since `now_ms`.
    pub fn new(name: &str, now_ms: i64) -> Self {
        Pbx {
            name: name.to_string(),
            state: State::new(),
            link: Link::new(now_ms),
        }
    }

    /// Applies one message of its link at `now_ms`; true when the state or
    /// the link's state changed.
    pub fn handle(&mut self, msg: &AmiMsg, now_ms: i64) -> bool {
        let link = match msg {
            AmiMsg::State(s) => self.link.set_conn(s, now_ms),
            AmiMsg::Event(_) => false,
        };
        self.state.handle(msg) | link
    }
}

/// The PBXs followed, in config order; indexes are stable for a run (a
/// link's messages and the daemon's frames name a PBX by its index).
#[derive(Clone, Debug, Default)]
pub struct Pbxs(pub Vec<Pbx>);

impl Pbxs {
    /// PBXs named `names`, in that order, links connecting since `now_ms`.
    pub fn named<S: AsRef<str>>(names: &[S], now_ms: i64) -> Self {
        Pbxs(names.iter().map(|n| Pbx::new(n.as_ref(), now_ms)).collect())
    }

    /// More than one PBX: panes show a PBX column, the header one link each.
    pub fn is_many(&self) -> bool {
        self.0.len() > 1
    }

    /// The PBXs, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Pbx> {
        self.0.iter()
    }

    /// PBX number `i`, if there is one.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Pbx> {
        self.0.get_mut(i)
    }

    /// The PBX named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Pbx> {
        self.0.iter().find(|p| p.name == name)
    }

    /// Some link's data may be out of date.
    pub fn any_stale(&self) -> bool {
        self.0.iter().any(|p| p.link.is_stale())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_stale_until_ready_and_again_after_a_drop() {
        let mut p = Pbx::new("paris", 0);
        assert!(p.link.is_stale());
        assert!(p.handle(&AmiMsg::State(ConnectionState::Ready), 5));
        assert_eq!(p.link.since_ms, 5);
        assert!(!p.link.is_stale());
        p.link.health.dropped = 1;
        assert!(p.link.is_stale(), "events were lost since Ready");
        assert!(!p.handle(&AmiMsg::State(ConnectionState::Ready), 9));
        assert!(p.link.is_stale(), "the same state is no new Ready");
    }
}
