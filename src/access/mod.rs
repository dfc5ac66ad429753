//! Access: who sees what and who may do what, for every front-end. `[acl]`
//! read for a login ([`acl`]: the Unix login, its [`Visibility`], admin and
//! campaign rights) and the live panes' rule over it ([`LiveAccess`]). The
//! daemon, the direct console, the CDR and campaigns services and the
//! commands all ask here; none writes a rule of its own.

pub mod acl;
mod live;
mod visibility;

pub use live::LiveAccess;
pub use visibility::Visibility;
