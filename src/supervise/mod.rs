//! Supervisor actions on the floor: pause and unpause agents, add, remove
//! and re-rank queue members, log agents off, hang up and transfer calls,
//! listen, whisper and barge from one's own phone.
//! [`act`] is what a supervisor asks for (checked before any of it reaches
//! Asterisk), [`command`] its typed form (the console's `:` line and
//! `switchboard act`), [`plan`] the AMI actions each becomes, [`privileges`] what
//! the PBX's manager user may send, [`config`] the `[actions]` table. Who
//! may do what is `access::roles`; the worker that runs an act for a user
//! (rights, then Asterisk, then the audit trail) is `service::supervise`.

pub mod act;
pub mod command;
pub mod config;
pub mod plan;
pub mod privileges;

pub use act::{Act, Destination, SpyMode};
