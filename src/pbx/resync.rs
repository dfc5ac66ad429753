//! The snapshot lists the state needs after every (re)connect.

use crate::ami::{Action, ActionError};

/// Actions run after login, in order: channels, queues (params, members,
/// callers), device states, hint states, bridges, PJSIP endpoints.
///
/// Each list ends with a `...Complete` event that [`super::State`] uses to
/// prune what the snapshot did not mention. `PJSIPShowEndpoints` needs the
/// `system` write class; when refused, extensions still come from device
/// states and hints.
pub fn actions() -> Result<Vec<Action>, ActionError> {
    [
        "CoreShowChannels",
        "QueueStatus",
        "DeviceStateList",
        "ExtensionStateList",
        "BridgeList",
        "PJSIPShowEndpoints",
    ]
    .into_iter()
    .map(Action::new)
    .collect()
}
