//! Extensions (phones): a device with a derived, supervisor-facing state.

use super::device::DeviceState;
use serde::{Deserialize, Serialize};

/// What a supervisor sees for an extension. Derived from the device state and
/// the queue memberships of the device, in this order of precedence:
/// Offline, then Ringing / In call / On hold / Busy, then Paused, then Idle.
/// A paused agent who is still on a call shows In call; the pause shows as
/// soon as the call ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum ExtensionState {
    /// Unreachable (`UNAVAILABLE`, `INVALID`): not registered.
    Offline,
    /// Reachable and free.
    Idle,
    /// Ringing (also ringing while already in use).
    Ringing,
    /// In a call.
    InCall,
    /// Holding a call.
    OnHold,
    /// `BUSY` (e.g. DND or all lines busy).
    Busy,
    /// Free but paused in at least one queue; the pause reason (may be empty).
    Paused(String),
    /// Asterisk does not know (`UNKNOWN`).
    Unknown,
}

impl ExtensionState {
    /// Derives the state from the device state and the pause reason, if the
    /// device is paused in any queue.
    pub fn derive(device: DeviceState, paused: Option<&str>) -> Self {
        match device {
            DeviceState::Unavailable | DeviceState::Invalid => Self::Offline,
            DeviceState::Ringing | DeviceState::RingInUse => Self::Ringing,
            DeviceState::InUse => Self::InCall,
            DeviceState::OnHold => Self::OnHold,
            DeviceState::Busy => Self::Busy,
            DeviceState::NotInUse | DeviceState::Unknown => match paused {
                Some(reason) => Self::Paused(reason.to_string()),
                None if device == DeviceState::Unknown => Self::Unknown,
                None => Self::Idle,
            },
        }
    }

    /// Label for the screen and for CSV/JSON.
    pub fn label(&self) -> &str {
        match self {
            Self::Offline => "Offline",
            Self::Idle => "Idle",
            Self::Ringing => "Ringing",
            Self::InCall => "In call",
            Self::OnHold => "On hold",
            Self::Busy => "Busy",
            Self::Paused(_) => "Paused",
            Self::Unknown => "Unknown",
        }
    }
}

/// A phone or other device shown in the Extensions pane.
///
/// Sources: dialplan hints (`ExtensionStatus`: `Exten`, `Context`, `Hint`),
/// PJSIP endpoints (`EndpointList`: `ObjectName`, `DeviceState`), and
/// `DeviceStateChange` for the device. Keyed by device name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Device, e.g. `PJSIP/301` (the hint's first device).
    pub device: String,
    /// Dialable extension (hint `Exten`, else the endpoint name).
    pub exten: String,
    /// Hint context, empty when known only as an endpoint.
    pub context: String,
    /// Display name: endpoint caller ID name or queue member name, may be empty.
    pub name: String,
    /// Last device state reported.
    pub device_state: DeviceState,
    /// Reason of a queue pause on this device, when paused.
    pub paused_reason: Option<String>,
    /// Derived state.
    #[serde(flatten)]
    pub state: ExtensionState,
    /// When `state` last changed, ms since the Unix epoch (UTC), from the time
    /// the event was received.
    pub since_ms: i64,
    #[serde(skip)]
    pub(crate) seen: u64,
}

impl Extension {
    /// A new extension in Unknown state.
    pub fn new(device: &str, at_ms: i64) -> Self {
        Extension {
            device: device.to_string(),
            exten: device.rsplit('/').next().unwrap_or(device).to_string(),
            context: String::new(),
            name: String::new(),
            device_state: DeviceState::Unknown,
            paused_reason: None,
            state: ExtensionState::Unknown,
            since_ms: at_ms,
            seen: 0,
        }
    }

    /// Recomputes the derived state; restarts the time in state when it changed.
    pub fn refresh(&mut self, at_ms: i64) {
        let next = ExtensionState::derive(self.device_state, self.paused_reason.as_deref());
        if next != self.state {
            self.state = next;
            self.since_ms = at_ms;
        }
    }

    /// Seconds in the current state at `now_ms` (never negative).
    pub fn seconds_in_state(&self, now_ms: i64) -> i64 {
        ((now_ms - self.since_ms) / 1000).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        use DeviceState as D;
        use ExtensionState as E;
        assert_eq!(E::derive(D::Unavailable, Some("Lunch")), E::Offline);
        assert_eq!(E::derive(D::InUse, Some("Lunch")), E::InCall);
        assert_eq!(
            E::derive(D::NotInUse, Some("Lunch")),
            E::Paused("Lunch".into())
        );
        assert_eq!(E::derive(D::NotInUse, None), E::Idle);
        assert_eq!(E::derive(D::RingInUse, None), E::Ringing);
        assert_eq!(E::derive(D::Unknown, None), E::Unknown);
    }

    #[test]
    fn time_in_state_restarts_only_on_change() {
        let mut e = Extension::new("PJSIP/301", 0);
        e.device_state = DeviceState::NotInUse;
        e.refresh(1_000);
        assert_eq!(e.since_ms, 1_000);
        e.refresh(5_000);
        assert_eq!(e.seconds_in_state(9_000), 8);
        e.device_state = DeviceState::InUse;
        e.refresh(10_000);
        assert_eq!(e.seconds_in_state(12_500), 2);
    }
}
