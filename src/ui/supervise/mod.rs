//! Supervisor actions in the console: the action menu on the selected row
//! ([`menu`] builds it, [`state`] is what the model holds), the `:pause …` command line (`supervise::command`), the yes/no
//! question and the worker's answers ([`update`]), and the menu's popup
//! ([`view`]). The worker (`service::supervise`) runs the act; in the
//! daemon it checks the user's roles again.

pub mod menu;
pub mod state;
pub mod update;
pub mod view;

use crate::access::{ActKind, Rights};
use crate::supervise::privileges::Unavailable;

/// What the console knows of the user's actions.
#[derive(Clone, Debug, Default)]
pub struct SuperviseView {
    /// What the user may do (the menu offers only these).
    pub rights: Rights,
    /// `[actions] pause_reasons`.
    pub pause_reasons: Vec<String>,
    /// What each PBX's manager user may not send (the menu shows these
    /// greyed, with the `write =` class to add).
    pub unavailable: Vec<Unavailable>,
    /// The user's own phone (listen, whisper, barge).
    pub phone: Option<String>,
    /// The act asked for and not answered yet.
    pub pending: Option<u64>,
}

impl SuperviseView {
    /// Why `kind` cannot be sent on `pbx`, if the PBX's manager user may
    /// not.
    pub fn blocked(&self, pbx: &str, kind: ActKind) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|u| u.pbx == pbx && u.kind == kind)
            .map(|u| u.why.as_str())
    }
}
