//! The daemon's protocol on its Unix socket.
//!
//! **Framing**: each message is one frame, a 4-byte big-endian length then
//! that many bytes (`tokio_util`'s `LengthDelimitedCodec`), at most
//! [`MAX_FRAME`] bytes.
//!
//! **Encoding**: MessagePack (`rmp-serde`) with field names. Chosen over a
//! schema-less positional format (postcard, bincode) because it is
//! self-describing: a side that meets a field it does not know skips it,
//! and a missing field with a default is filled in, so a minor addition
//! does not need a new protocol version; and the types it carries keep the
//! serde attributes their CSV and JSON outputs use (flattened and tagged
//! fields), which positional formats cannot read back. Field names cost
//! bytes; a delta carries only what changed, so that is a few hundred
//! bytes per change, not per screen.
//!
//! **Handshake**: the console's first frame is a [`Hello`], the daemon's
//! first frame an [`Answer`]. These two shapes never change across
//! versions, so a mismatch is always told in words naming both versions.
//! Then the console sends [`ToDaemon`] frames and the daemon
//! [`ToConsole`] frames; the first live frame after the answer is a
//! snapshot ([`LiveDelta::reset`]).

use super::live::LiveDelta;
use crate::ami::ConnectionState;
use crate::ami::connection::LinkHealth;
use crate::service::campaigns::{AppReply, AppRequest};
use crate::service::cdr::{DbReply, DbRequest};
use crate::service::supervise::{ActReply, ActRequest};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio_util::codec::LengthDelimitedCodec;

/// The protocol version this build speaks. Raised when a frame's meaning
/// changes in a way the other side cannot skip.
pub const PROTOCOL: u32 = 4;

/// Largest frame either side accepts, bytes (16 MiB: a snapshot of a very
/// large PBX; a bigger frame is a broken or hostile peer and closes the
/// connection).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// What the console asks the daemon for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Live data, CDR and campaign requests: a console.
    Console,
    /// CDR and campaign requests only, no live data: `cdr export`, `kpi`,
    /// `campaign …` run attached.
    Command,
    /// `switchboard serve status`: the list of attached consoles (admins).
    Status,
}

/// The console's first frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL`] of the console's build.
    pub protocol: u32,
    /// The console's `switchboard` version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// What the connection is for.
    pub purpose: Purpose,
}

impl Hello {
    /// This build's hello.
    pub fn new(purpose: Purpose) -> Self {
        Hello {
            protocol: PROTOCOL,
            version: env!("CARGO_PKG_VERSION").into(),
            purpose,
        }
    }
}

/// The daemon's first frame: who the kernel says the console's user is, or
/// why the console is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// [`PROTOCOL`] of the daemon's build.
    pub protocol: u32,
    /// The daemon's `switchboard` version.
    pub version: String,
    /// The login the daemon serves this connection as (from the socket
    /// peer's uid), when accepted.
    pub login: Option<String>,
    /// Why the connection is refused (a version mismatch, a login the ACL
    /// does not know: the message says what to do); `None` when accepted.
    pub refused: Option<String>,
    /// The PBX the daemon serves (`host:port` of its AMI link).
    pub pbx: String,
}

/// A console's request after the handshake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToDaemon {
    /// A History or KPI request, run with the daemon's CDR credentials and
    /// the user's rights.
    Cdr(Box<DbRequest>),
    /// A Campaigns request, run with the daemon's app database and checked
    /// against the user's campaign right.
    App(AppRequest),
    /// A supervisor action, checked against the user's roles and run on
    /// the daemon's AMI link (protocol 4).
    Act(ActRequest),
}

/// One attached console, as `serve status` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInfo {
    /// The login (from the kernel).
    pub login: String,
    /// The peer's process id, when the kernel gave it.
    pub pid: Option<i32>,
    /// Attached since, ms since epoch (UTC).
    pub since_ms: i64,
    /// Frames queued for it.
    pub frames: u64,
    /// Times it fell behind and was dropped to a fresh snapshot.
    pub dropped: u64,
}

/// The site's settings a console draws with, sent once after the answer:
/// an attached console reads no config of its own for them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// The PBX's time zone (IANA name): "today" and day windows.
    pub tz: String,
    /// The PBXs the daemon follows, in order: [`ToConsole::Link`] and
    /// [`LiveDelta::pbx`] name a PBX by its index here.
    pub pbxs: Vec<String>,
    /// Of those, the ones this user has live rights on (`[acl.users.NAME]
    /// pbxs`); the daemon sends no data of the others.
    #[serde(default)]
    pub seen_pbxs: Vec<String>,
    /// `[kpi]`: the extension rule and service-level variants.
    pub kpi: crate::cdr::kpi_config::KpiConfig,
    /// The user may start, pause and stop campaigns.
    pub may_control_campaigns: bool,
    /// What the user may do to the floor (the console offers only these;
    /// the daemon checks them again).
    #[serde(default)]
    pub rights: crate::access::Rights,
    /// `[actions] pause_reasons`.
    #[serde(default)]
    pub pause_reasons: Vec<String>,
    /// The user's own phone (listen, whisper, barge), if set.
    #[serde(default)]
    pub phone: Option<String>,
}

/// What the daemon sends after the handshake.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToConsole {
    /// The site's settings, right after an accepting [`Answer`].
    Welcome(Site),
    /// One of the daemon's AMI links: its state and freshness.
    Link {
        /// Index of the PBX in [`Site::pbxs`].
        pbx: usize,
        /// Connection state.
        conn: ConnectionState,
        /// Freshness.
        health: LinkHealth,
    },
    /// Live data changes, one per PBX that changed (the first frame holds
    /// every PBX's snapshot).
    Live(Vec<LiveDelta>),
    /// A CDR worker's reply.
    Cdr(DbReply),
    /// An app-database worker's reply.
    App(AppReply),
    /// A supervisor-actions worker's reply.
    Act(ActReply),
    /// The attached consoles (answer to [`Purpose::Status`]).
    Status(Vec<ConsoleInfo>),
    /// Nothing new: the daemon is alive. Sent every [`HEARTBEAT`] to every
    /// console and command, so a side that hears nothing for
    /// [`DAEMON_SILENCE`] knows the daemon is frozen, not quiet.
    Heartbeat,
}

/// How often the daemon says it is alive.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// A daemon silent this long (three heartbeats missed) is frozen or
/// overloaded: the console drops the link and reattaches.
pub const DAEMON_SILENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// The codec both sides frame with.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// Encodes a message for a frame.
///
/// Errors: a value MessagePack cannot hold (a map with non-string keys
/// would be one; none of the protocol's types has such a map).
pub fn encode<T: Serialize>(msg: &T) -> Result<Bytes, rmp_serde::encode::Error> {
    rmp_serde::to_vec_named(msg).map(Bytes::from)
}

/// Decodes a frame.
///
/// Errors: the bytes are not a `T` (a peer of another protocol, or
/// garbage); the message names what did not fit.
pub fn decode<'a, T: Deserialize<'a>>(frame: &'a [u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(frame)
}

/// The words for a version mismatch, the same on both sides.
pub fn mismatch(daemon: (u32, &str), console: (u32, &str)) -> String {
    format!(
        "the daemon speaks protocol {} (switchboard {}) and this console protocol {} (switchboard {}); \
         run the same switchboard version on both sides (restart the daemon after an upgrade)",
        daemon.0, daemon.1, console.0, console.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::{Extension, ExtensionState, Queue, QueueCaller, QueueMember};

    fn round_trip<T: Serialize + for<'a> Deserialize<'a> + PartialEq + std::fmt::Debug>(v: &T) {
        let bytes = encode(v).unwrap_or_else(|e| panic!("{e}"));
        let back: T = decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&back, v);
    }

    #[test]
    fn live_data_survives_the_wire() {
        let mut q = Queue::new("sales");
        q.members.insert(
            "PJSIP/301".into(),
            QueueMember {
                interface: "PJSIP/301".into(),
                paused: true,
                paused_reason: "lunch".into(),
                ..QueueMember::default()
            },
        );
        for (i, id) in ["c1", "c2", "c3"].iter().enumerate() {
            q.callers.join(
                QueueCaller {
                    uniqueid: (*id).into(),
                    joined_ms: i as i64,
                    ..QueueCaller::default()
                },
                0,
            );
        }
        q.recent.arrival(1_000);
        let mut e = Extension::new("PJSIP/301", 5);
        e.state = ExtensionState::Paused("lunch".into());
        round_trip(&LiveDelta {
            reset: true,
            queues: vec![super::super::live::QueueDelta {
                name: q.name.clone(),
                head: Some(q.head()),
                members: q.members.values().cloned().collect(),
                callers: Some(super::super::live::CallersChange::List(
                    q.callers.iter().cloned().collect(),
                )),
                recent: q.recent.since(Default::default()),
                ..Default::default()
            }],
            extensions: vec![e],
            channels_gone: vec!["1.2".into()],
            // Empty fields are left out on the wire and come back empty.
            channels: vec![crate::pbx::Channel {
                uniqueid: "1.3".into(),
                name: "PJSIP/301-00000001".into(),
                caller_name: "José".into(),
                on_hold: true,
                ..crate::pbx::Channel::default()
            }],
            ..LiveDelta::default()
        });
        let bytes = encode(&q).unwrap_or_else(|e| panic!("{e}"));
        let back: Queue = decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let order: Vec<&str> = back.callers.iter().map(|c| c.uniqueid.as_str()).collect();
        assert_eq!(order, ["c1", "c2", "c3"], "callers keep their queue order");
    }

    #[test]
    fn link_state_survives_the_wire() {
        let conn = ConnectionState::Down {
            retry_in: std::time::Duration::from_millis(1500),
            reason: "refused".into(),
        };
        let health = LinkHealth {
            dropped: 3,
            ping_overdue: true,
            last_read_ms: 7,
        };
        let bytes = encode(&ToConsole::Link {
            pbx: 1,
            conn: conn.clone(),
            health,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        match decode::<ToConsole>(&bytes) {
            Ok(ToConsole::Link {
                pbx: 1,
                conn: c,
                health: h,
            }) => {
                assert_eq!((c, h), (conn, health));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hello_from_another_protocol_still_reads() {
        // A newer console with a field this build does not know.
        #[derive(Serialize)]
        struct Newer {
            protocol: u32,
            version: String,
            purpose: Purpose,
            colour: String,
        }
        let bytes = encode(&Newer {
            protocol: 9,
            version: "9.0.0".into(),
            purpose: Purpose::Console,
            colour: "red".into(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let hello: Hello = decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hello.protocol, 9);
        let words = mismatch((PROTOCOL, "0.1.0"), (hello.protocol, &hello.version));
        assert!(words.contains("protocol 9 (switchboard 9.0.0)"), "{words}");
    }
}
