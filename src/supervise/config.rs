//! `[actions]`: the pause reasons a supervisor picks from and where
//! transfers land.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};

/// `[actions]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ActionsConfig {
    /// Reasons offered when pausing a member (Asterisk's `paused_reason`,
    /// also written to queue_log's `PAUSE` line); a supervisor may type
    /// another.
    pub pause_reasons: Vec<String>,
    /// The context a transfer to an extension dials in (FreePBX:
    /// `from-internal`).
    pub extension_context: String,
    /// The context a transfer to a queue dials in, with the queue's name
    /// as the extension (FreePBX's queues are numbers in `from-internal`;
    /// plain Asterisk needs an `exten => _[a-z].,1,Queue(${EXTEN})`).
    pub queue_context: String,
    /// The phone rung to listen, whisper or barge for a user whose
    /// `[acl.users.LOGIN]` names none (a single-supervisor install).
    pub phone: Option<String>,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            pause_reasons: ["Break", "Lunch", "Meeting", "Training"]
                .map(String::from)
                .to_vec(),
            extension_context: "from-internal".into(),
            queue_context: "from-internal".into(),
            phone: None,
        }
    }
}

impl ActionsConfig {
    /// The phone rung for `login`'s listen, whisper and barge: their
    /// `[acl.users.LOGIN] phone`, else `[actions] phone`; `None` when
    /// neither is set.
    pub fn phone_of(&self, acl: &crate::access::acl::AclConfig, login: &str) -> Option<String> {
        acl.users
            .get(login)
            .and_then(|u| u.phone.clone())
            .or_else(|| self.phone.clone())
    }

    /// Checks the reasons and contexts with the rules an act's own texts
    /// pass.
    ///
    /// Errors: a bad reason or context, named (`actions.pause_reasons`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for reason in &self.pause_reasons {
            let probe = super::Act::Pause {
                interface: "PJSIP/0".into(),
                queue: None,
                reason: reason.clone(),
            };
            probe
                .check()
                .map_err(|e| ConfigError::new("actions.pause_reasons", e))?;
        }
        if let Some(phone) = &self.phone {
            check_phone("actions.phone", phone)?;
        }
        for (key, context) in [
            ("actions.extension_context", &self.extension_context),
            ("actions.queue_context", &self.queue_context),
        ] {
            super::Destination::parse(&format!("s@{context}"))
                .map_err(|e| ConfigError::new(key, e))?;
        }
        Ok(())
    }
}

/// Checks a supervisor's phone (`PJSIP/303`) like an interface.
///
/// Errors: not an interface, named by `key`.
pub fn check_phone(key: &str, phone: &str) -> Result<(), ConfigError> {
    let probe = super::Act::Spy {
        interface: phone.to_string(),
        mode: super::SpyMode::Listen,
    };
    probe.check().map_err(|e| ConfigError::new(key, e))
}
