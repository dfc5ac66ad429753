//! The engine's side of answering-machine detection (see
//! [`crate::dialer::amd`]): an answered call of a campaign with `[amd]`
//! goes to the AMD context first; its verdict, back in the Stasis app,
//! sends a person on to the destination (the safe-harbour timer restarting
//! at the end of the greeting) and a machine to its hangup or message.

use super::Engine;
use super::writer::{Write, Writer};
use crate::clock::now_ms;
use crate::dialer::amd::{AmdStatus, OnMachine};
use crate::dialer::campaign::CampaignDef;
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest AMD may listen before its verdict is back: Asterisk's
/// `total_analysis_time` (5 s by default; keep it at most that) and a
/// second for the dialplan. The safe-harbour timer started at the answer
/// runs this much longer, so a verdict that never comes (the context
/// missing, Asterisk stalled) still ends in the message.
pub(super) const LONGEST: Duration = Duration::from_secs(6);

/// The channel variables a campaign with `[amd]` needs on its originate:
/// `SB_APP` (the Stasis app the AMD context returns the call to) and
/// `SB_MACHINE_MESSAGE` (the message left on a machine, if any).
pub(super) fn variables(def: &CampaignDef, app: &str, vars: &mut BTreeMap<String, String>) {
    let Some(amd) = &def.amd else {
        return;
    };
    vars.insert("SB_APP".into(), app.to_string());
    if let Some(m) = &amd.message {
        vars.insert("SB_MACHINE_MESSAGE".into(), m.clone());
    }
}

impl Engine {
    /// Sends answered `channel` to the AMD context if its campaign has
    /// `[amd]` and AMD has not heard it yet; false if it does not go there
    /// (and is to be sent on to its destination).
    pub(super) fn listen(&mut self, channel: &str) -> bool {
        let Some(live) = self.live.get_mut(channel) else {
            return false;
        };
        let has_amd = self
            .campaigns
            .get(&live.campaign_id)
            .is_some_and(|c| c.def.amd.is_some());
        if !has_amd || live.listening || live.amd.is_some() {
            return false;
        }
        live.listening = true;
        live.sent_on = Some(tokio::time::Instant::now());
        let context = self.s.amd_context.clone();
        self.continue_in(channel, context, "s".into());
        true
    }

    /// AMD's verdict `status` (`AMDSTATUS`) on `channel`, back in the
    /// Stasis app: recorded; a machine is hung up or sent to the machine
    /// context, anyone else is sent on with the safe-harbour timer
    /// restarted.
    pub(super) fn heard(&mut self, channel: &str, status: &str, writer: &Writer) {
        let status = AmdStatus::parse(status);
        let Some(live) = self.live.get_mut(channel) else {
            return;
        };
        live.listening = false;
        live.amd = Some(status);
        let campaign = live.campaign_id;
        writer.send(Write::Amd {
            attempt: channel.to_string(),
            status: status.as_str().to_string(),
            at: now_ms(),
        });
        if status != AmdStatus::Machine {
            self.start_drop_timer(channel, Duration::ZERO);
            self.send_on(channel);
            return;
        }
        let on_machine = self
            .campaigns
            .get(&campaign)
            .and_then(|c| c.def.amd.as_ref())
            .map_or(OnMachine::Hangup, |a| a.machine);
        match on_machine {
            OnMachine::Message => {
                let context = self.s.machine_context.clone();
                self.continue_in(channel, context, "s".into());
            }
            OnMachine::Hangup => self.hang_up(channel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_amd_campaigns_carry_the_app_and_message() {
        let text = r#"
name = "c"
dial = "Local/{number}@customers"
caller_id = "x"
destination = { queue = "sales" }
"#;
        let mut def = CampaignDef::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let mut vars = BTreeMap::new();
        variables(&def, "switchboard", &mut vars);
        assert!(vars.is_empty());
        def.amd = Some(crate::dialer::amd::AmdDef {
            machine: OnMachine::Message,
            message: Some("custom/call-us".into()),
            false_positive_percent: 0.0,
        });
        variables(&def, "switchboard", &mut vars);
        assert_eq!(vars.get("SB_APP").map(String::as_str), Some("switchboard"));
        assert_eq!(
            vars.get("SB_MACHINE_MESSAGE").map(String::as_str),
            Some("custom/call-us")
        );
    }
}
