//! The console's own tables of the config file: `[ui]` (theme, keymap,
//! frame rate) and `[time_in_state]` (colour ramps).

use crate::config::ConfigError;
use serde::Deserialize;

/// `[ui]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Theme name: built-in (`dark`, `light`, `high-contrast`) or a file
    /// `<config>/themes/<name>.toml`.
    pub theme: String,
    /// Keymap name: built-in (`default`, `vim`) or `<config>/keymaps/<name>.toml`.
    pub keymap: String,
    /// Most frames per second (1-60).
    pub fps: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "dark".into(),
            keymap: "default".into(),
            fps: 30,
        }
    }
}

/// A colour ramp: normal below `warn_s`, warning from `warn_s`, critical from
/// `crit_s` (seconds in state).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Seconds from which the warning colour is used.
    pub warn_s: u32,
    /// Seconds from which the critical colour is used.
    pub crit_s: u32,
}

/// `[time_in_state]`: one ramp per extension state worth watching.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TimeInState {
    /// Ringing unanswered.
    pub ringing: Ramp,
    /// In a call (long calls).
    pub in_call: Ramp,
    /// Holding a caller.
    pub on_hold: Ramp,
    /// Paused.
    pub paused: Ramp,
    /// A caller waiting in a queue.
    pub waiting: Ramp,
}

impl Default for TimeInState {
    fn default() -> Self {
        TimeInState {
            ringing: Ramp {
                warn_s: 15,
                crit_s: 30,
            },
            in_call: Ramp {
                warn_s: 300,
                crit_s: 900,
            },
            on_hold: Ramp {
                warn_s: 60,
                crit_s: 180,
            },
            paused: Ramp {
                warn_s: 900,
                crit_s: 1800,
            },
            waiting: Ramp {
                warn_s: 30,
                crit_s: 90,
            },
        }
    }
}

impl UiConfig {
    /// Checks what serde cannot.
    ///
    /// Errors: `ui.fps` outside 1-60.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=60).contains(&self.fps) {
            return Err(ConfigError::new(
                "ui.fps",
                format!("{} is out of range 1-60", self.fps),
            ));
        }
        Ok(())
    }
}

impl TimeInState {
    /// Checks each ramp's order.
    ///
    /// Errors: a ramp whose `warn_s` exceeds its `crit_s`, named
    /// (`time_in_state.ringing`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ramps = [
            ("ringing", self.ringing),
            ("in_call", self.in_call),
            ("on_hold", self.on_hold),
            ("paused", self.paused),
            ("waiting", self.waiting),
        ];
        for (name, r) in ramps {
            if r.warn_s > r.crit_s {
                return Err(ConfigError::new(
                    &format!("time_in_state.{name}"),
                    format!(
                        "warn_s ({}) must not exceed crit_s ({})",
                        r.warn_s, r.crit_s
                    ),
                ));
            }
        }
        Ok(())
    }
}
