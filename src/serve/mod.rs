//! `switchboard serve`: one daemon per host holds the AMI link, the PBX
//! state, the CDR and queue_log sources and the app database, and serves
//! consoles over a Unix socket. The kernel names each console's user
//! (`SO_PEERCRED`); the daemon applies that user's `[acl]` rights before
//! anything leaves it, and runs History, KPI and campaign requests with its
//! own credentials, so an attached console holds none.
//!
//! - [`protocol`]: frames, handshake, messages.
//! - [`live`]: a console's filtered copy of the live state and its deltas.
//! - [`peer`]: the socket peer's login.
//! - [`daemon`]: the listener and one task per console.
//! - [`hub`]: the one owner of the PBX state, fanning it out per rights.
//! - [`attach`]: the console's side, reattaching by itself.
//! - [`status`]: `switchboard serve status`.

pub mod attach;
pub mod daemon;
pub mod hub;
pub mod live;
pub mod peer;
pub mod protocol;
pub mod status;

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where the daemon listens unless `[serve] socket` says otherwise: inside
/// the systemd unit's `RuntimeDirectory`.
pub const DEFAULT_SOCKET: &str = "/run/switchboard/console.sock";

/// `[serve]`.
///
/// ```toml
/// [serve]
/// socket = "/run/switchboard/console.sock"
/// group = "switchboard"     # the socket's group (mode 0660); default: the daemon's
/// ```
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// The daemon's socket; default [`DEFAULT_SOCKET`].
    pub socket: Option<PathBuf>,
    /// Group that owns the socket (its members may attach); default the
    /// daemon's own group (the unit's `Group=`).
    pub group: Option<String>,
}

impl ServeConfig {
    /// The socket path: `--connect` first, then `[serve] socket`, then
    /// [`DEFAULT_SOCKET`].
    pub fn socket_path(&self, connect: Option<&Path>) -> PathBuf {
        connect
            .map(Path::to_path_buf)
            .or_else(|| self.socket.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
    }
}
