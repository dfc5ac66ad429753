//! Call-centre state reduced from AMI events: channels and calls, extensions,
//! queues with members and callers, live queue figures. Pure data: no I/O, no
//! SQL, no screen.

pub mod callers;
pub mod channel;
pub mod device;
pub mod extension;
pub mod queue;
pub mod resync;
pub mod site;
pub mod snapshot;
pub mod spyee;
pub mod state;

pub use callers::Callers;
pub use callers::QueueCaller;
pub use channel::{Bridge, Call, Channel, calls};
pub use device::DeviceState;
pub use extension::{Extension, ExtensionState};
pub use queue::{
    Health, HealthThresholds, Queue, QueueFigures, QueueMember, RecentLoad, RecentMark, RecentSince,
};
pub use site::{Link, Pbx, Pbxs};
pub use state::State;
