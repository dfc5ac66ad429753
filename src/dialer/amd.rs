//! Answering-machine detection: a campaign's `[amd]` table, and what
//! Asterisk's `AMD()` said about a call.
//!
//! With `[amd]`, the engine sends a customer who answers through the
//! dialplan context `[dialer] amd_context` (extension `s`), which runs
//! `AMD()` and comes back to the engine's Stasis app with the arguments
//! `amd,${AMDSTATUS},${AMDCAUSE}`. A person (or AMD unsure) is then sent
//! on to the campaign's destination, and the 2-second clock of the abandon
//! rules starts there: the regulators time it from the end of the
//! greeting, which is what AMD waits for. A machine is hung up or left the
//! campaign's message, and is left out of the abandon ledger.

use serde::{Deserialize, Serialize};

/// What a call AMD took for a machine gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMachine {
    /// Hung up at once (the default).
    #[default]
    Hangup,
    /// Sent to `[dialer] machine_context`, which waits for the beep, plays
    /// `amd.message` (`SB_MACHINE_MESSAGE`) and hangs up.
    Message,
}

/// A campaign's `[amd]` table: answering-machine detection on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmdDef {
    /// What a machine gets (default `hangup`).
    #[serde(default)]
    pub machine: OnMachine,
    /// The message left on a machine with `machine = "message"`: an
    /// Asterisk sound name (`custom/call-us-back`); unset, the context
    /// plays its own.
    #[serde(default)]
    pub message: Option<String>,
    /// The share of machines that were in fact people (AMD's false
    /// positives), percent, 0 to 100 (default 0). UK practice asks for a
    /// reasoned estimate of them and counts them as abandoned calls: this
    /// share of the machines is added to both sides of the abandon rate.
    #[serde(default)]
    pub false_positive_percent: f64,
}

/// The verdict of `AMD()` (`AMDSTATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmdStatus {
    /// A person: a short greeting, then silence.
    Human,
    /// An answering machine (a long greeting, too many words…).
    Machine,
    /// AMD could not tell within its time: treated as a person.
    NotSure,
    /// The call hung up during detection.
    Hangup,
}

impl AmdStatus {
    /// The status named `s` (`AMDSTATUS`: `HUMAN`, `MACHINE`, `NOTSURE`,
    /// `HANGUP`); anything else (an empty value: the context did not run
    /// `AMD()`) is `NotSure`, so the call is treated as a person.
    pub fn parse(s: &str) -> Self {
        match s {
            "HUMAN" => AmdStatus::Human,
            "MACHINE" => AmdStatus::Machine,
            "HANGUP" => AmdStatus::Hangup,
            _ => AmdStatus::NotSure,
        }
    }

    /// The name kept in the attempt row (`amd_status`).
    pub fn as_str(self) -> &'static str {
        match self {
            AmdStatus::Human => "HUMAN",
            AmdStatus::Machine => "MACHINE",
            AmdStatus::NotSure => "NOTSURE",
            AmdStatus::Hangup => "HANGUP",
        }
    }
}

impl AmdDef {
    /// Checks the values.
    ///
    /// Errors: the first wrong key, named, with what to write.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(m) = &self.message
            && !super::sound::is_sound_name(m)
        {
            return Err(format!(
                "amd.message `{}`: an Asterisk sound name (letters, digits, / _ -, at most 80), e.g. custom/call-us-back",
                crate::sanitize::escape(m)
            ));
        }
        if self.message.is_some() && self.machine != OnMachine::Message {
            return Err(
                "amd.message is played only with amd.machine = \"message\"; add that or remove the message".into(),
            );
        }
        if !(0.0..=100.0).contains(&self.false_positive_percent) {
            return Err(format!(
                "amd.false_positive_percent {}: use 0 to 100",
                self.false_positive_percent
            ));
        }
        Ok(())
    }
}

/// What a supervisor applying a campaign with `amd` under `regime`
/// should know: where the calls go, and (UK) that AMD's false positives
/// count as abandoned calls.
pub fn note(amd: &AmdDef, regime: super::pacing::Regime) -> String {
    let machine = match amd.machine {
        OnMachine::Hangup => "hung up",
        OnMachine::Message => "left the message",
    };
    let mut note = format!(
        "[amd] answers go through the dialplan's AMD context ([dialer] amd_context) first; machines are {machine} and left out of the abandon rate, and the 2 s for a person run from the end of the greeting"
    );
    if regime == super::pacing::Regime::Uk && amd.false_positive_percent == 0.0 {
        note.push_str(
            "; UK practice counts people AMD took for machines as abandoned calls: set amd.false_positive_percent to your estimate",
        );
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer::pacing::Regime;

    #[test]
    fn statuses_and_checks() {
        assert_eq!(AmdStatus::parse("MACHINE"), AmdStatus::Machine);
        assert_eq!(AmdStatus::parse("HUMAN"), AmdStatus::Human);
        // The context did not run AMD(): a person, never a machine.
        assert_eq!(AmdStatus::parse(""), AmdStatus::NotSure);
        for s in [AmdStatus::Human, AmdStatus::Machine, AmdStatus::Hangup] {
            assert_eq!(AmdStatus::parse(s.as_str()), s);
        }
        let mut d = AmdDef::default();
        assert!(d.validate().is_ok());
        d.message = Some("custom/call-us-back".into());
        assert!(d.validate().is_err_and(|e| e.contains("amd.machine")));
        d.machine = OnMachine::Message;
        assert!(d.validate().is_ok());
        d.message = Some("../etc/passwd".into());
        assert!(d.validate().is_err_and(|e| e.contains("amd.message")));
        d.message = None;
        d.machine = OnMachine::Hangup;
        // UK practice wants an estimate of AMD's false positives.
        let asks = |d: &AmdDef, r| note(d, r).contains("amd.false_positive_percent");
        assert!(asks(&d, Regime::Uk));
        assert!(!asks(&d, Regime::Us));
        d.false_positive_percent = 2.0;
        assert!(!asks(&d, Regime::Uk));
        d.false_positive_percent = 120.0;
        assert!(
            d.validate()
                .is_err_and(|e| e.contains("amd.false_positive_percent"))
        );
    }
}
