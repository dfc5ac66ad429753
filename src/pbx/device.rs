//! Device states, as Asterisk names them (`AST_DEVICE_*`).

use serde::{Deserialize, Serialize};

/// State of a device (`PJSIP/301`, `Local/201@agents`...).
///
/// Sources: `DeviceStateChange` `State` (`NOT_INUSE`...), a queue member's
/// numeric `Status` (0-8), `EndpointList` `DeviceState` (`Not in use`...), and
/// `ExtensionStatus` `StatusText` (`Idle`, `InUse`...).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// `UNKNOWN` (0): Asterisk cannot tell.
    #[default]
    Unknown,
    /// `NOT_INUSE` (1): idle and reachable.
    NotInUse,
    /// `INUSE` (2).
    InUse,
    /// `BUSY` (3).
    Busy,
    /// `INVALID` (4): no such device.
    Invalid,
    /// `UNAVAILABLE` (5): not registered / unreachable.
    Unavailable,
    /// `RINGING` (6).
    Ringing,
    /// `RINGINUSE` (7): in use and ringing again.
    RingInUse,
    /// `ONHOLD` (8).
    OnHold,
}

impl DeviceState {
    /// From a queue member's numeric `Status` (app_queue uses `AST_DEVICE_*`).
    pub fn from_code(code: &str) -> Self {
        match code.trim() {
            "1" => Self::NotInUse,
            "2" => Self::InUse,
            "3" => Self::Busy,
            "4" => Self::Invalid,
            "5" => Self::Unavailable,
            "6" => Self::Ringing,
            "7" => Self::RingInUse,
            "8" => Self::OnHold,
            _ => Self::Unknown,
        }
    }

    /// From any of the textual spellings Asterisk uses: `NOT_INUSE`,
    /// `Not in use`, `Idle`, `InUse&Ringing`...
    pub fn from_text(text: &str) -> Self {
        let norm: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '&')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match norm.as_str() {
            "notinuse" | "idle" => Self::NotInUse,
            "inuse" => Self::InUse,
            "busy" => Self::Busy,
            "invalid" => Self::Invalid,
            "unavailable" => Self::Unavailable,
            "ringing" => Self::Ringing,
            "ringinuse" | "inuse&ringing" => Self::RingInUse,
            "onhold" | "hold" | "inuse&onhold" => Self::OnHold,
            _ => Self::Unknown,
        }
    }

    /// Reachable: registered or otherwise able to take a call.
    pub fn is_reachable(self) -> bool {
        !matches!(self, Self::Unavailable | Self::Invalid | Self::Unknown)
    }

    /// Short label for the screen.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::NotInUse => "Not in use",
            Self::InUse => "In use",
            Self::Busy => "Busy",
            Self::Invalid => "Invalid",
            Self::Unavailable => "Unavailable",
            Self::Ringing => "Ringing",
            Self::RingInUse => "Ring+in use",
            Self::OnHold => "On hold",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_agree() {
        assert_eq!(DeviceState::from_text("NOT_INUSE"), DeviceState::NotInUse);
        assert_eq!(DeviceState::from_text("Not in use"), DeviceState::NotInUse);
        assert_eq!(DeviceState::from_text("Idle"), DeviceState::NotInUse);
        assert_eq!(
            DeviceState::from_text("InUse&Ringing"),
            DeviceState::RingInUse
        );
        assert_eq!(
            DeviceState::from_text("UNAVAILABLE"),
            DeviceState::Unavailable
        );
        assert_eq!(DeviceState::from_code("6"), DeviceState::Ringing);
        assert_eq!(DeviceState::from_code("x"), DeviceState::Unknown);
        assert!(!DeviceState::Unavailable.is_reachable());
        assert!(DeviceState::InUse.is_reachable());
    }
}
