//! Access: who sees what and who may do what, for every front-end. `[acl]`
//! read for a login ([`acl`]: the Unix login, its [`Visibility`], admin and
//! campaign rights), the live panes' rule over it ([`LiveAccess`]) and what
//! a user may do to the floor ([`roles`]: action × scope). The
//! daemon, the direct console, the CDR and campaigns services and the
//! commands all ask here; none writes a rule of its own.

pub mod acl;
mod live;
pub mod roles;
mod visibility;

pub use live::LiveAccess;
pub use roles::{ActKind, Rights};
pub use visibility::Visibility;
