//! Who is on the other end of the socket, as the kernel says (`SO_PEERCRED`):
//! no password, nothing the console could forge.

use tokio::net::UnixStream;

/// A console's user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The peer process's uid.
    pub uid: u32,
    /// Its account name (`/etc/passwd` or NSS), the login `[acl]` knows.
    pub login: String,
    /// Its process id, when the kernel gives it.
    pub pid: Option<i32>,
}

/// The peer of `stream`.
///
/// Errors: the kernel gives no credentials (not a Unix socket peer), or the
/// uid has no account name (the message names the uid).
pub fn peer(stream: &UnixStream) -> Result<Peer, String> {
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("the socket's peer credentials: {e}"))?;
    let uid = cred.uid();
    let login = uzers::get_user_by_uid(uid)
        .and_then(|u| u.name().to_str().map(str::to_string))
        .ok_or_else(|| format!("uid {uid} has no account name; connect as a named user"))?;
    Ok(Peer {
        uid,
        login,
        pid: cred.pid(),
    })
}
