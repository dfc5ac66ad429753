//! The Campaigns screen: each campaign's status, the engine's
//! acknowledgement and progress; start, pause and stop from the keyboard or
//! the `:` command line.

pub mod rows;
pub mod state;
pub mod update;
pub mod view;

pub use state::CampaignsView;

use crate::ui::keymap::{Action, Context};

/// The footer's key hints, in order.
pub const HINTS: [(Context, Action, &str); 7] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::ShowLive, "live"),
    (Context::Campaigns, Action::CampaignStart, "start"),
    (Context::Campaigns, Action::CampaignPause, "pause"),
    (Context::Campaigns, Action::CampaignStop, "stop"),
    (Context::Global, Action::Command, "command"),
    (Context::Global, Action::Quit, "quit"),
];
