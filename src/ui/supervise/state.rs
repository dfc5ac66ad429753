//! What the action menu holds in the model: its items and what choosing
//! each does ([`super::menu`] builds them from the selected row).

use crate::supervise::Act;

/// A menu: a title and its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Menu {
    /// What it acts on (`PJSIP/301 (Desk 301)`).
    pub title: String,
    /// The items, in order.
    pub items: Vec<MenuItem>,
    /// The item under the cursor.
    pub selected: usize,
}

/// One item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuItem {
    /// What it says.
    pub label: String,
    /// What choosing it does.
    pub then: Then,
    /// Why it cannot be chosen (the PBX's manager user may not send it).
    pub blocked: Option<String>,
}

/// What choosing an item does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Then {
    /// Run the act.
    Run(String, Act),
    /// Ask yes/no first (hang-ups, removals, log-offs), then run.
    Ask(String, Act, String),
    /// Open the command line with this text, for the value to type.
    Type(String),
    /// Open another menu (a pause's reasons).
    Open(Box<Menu>),
}
