//! Who sees what on the live panes: one rule, used by the daemon (which
//! drops what a console's user may not see before anything is sent) and by
//! a direct console (which hides it before drawing). The CDR side of the
//! same rule is [`Visibility`]'s SQL in `cdr::filter`.

use super::Visibility;
use crate::endpoints::ExtensionRule;
use crate::pbx::{Call, Extension, Queue, State};

/// A user's live rights: their [`Visibility`] (`[acl]`) read with the
/// site's [`ExtensionRule`] (`[kpi.extensions]`).
#[derive(Clone, Copy, Debug)]
pub struct LiveAccess<'a> {
    /// What the user may see.
    pub visibility: &'a Visibility,
    /// What counts as an extension.
    pub rule: &'a ExtensionRule,
}

impl LiveAccess<'_> {
    /// The user may see queue `name`: its members, callers and figures.
    pub fn sees_queue(&self, name: &str) -> bool {
        self.visibility.allows_queue(name)
    }

    /// The user may see extension `exten` (`301`).
    pub fn sees_extension(&self, exten: &str) -> bool {
        self.visibility.allows_extension(exten)
    }

    /// `e` is one of the PBX's extensions by the rule (a phone or a queue
    /// member's interface, not a trunk or a custom device state) and the
    /// user may see it: what the Extensions pane and the header's Phones
    /// count list.
    pub fn shows_extension(&self, e: &Extension) -> bool {
        self.rule.extension_of(&e.device).is_some() && self.sees_extension(&e.exten)
    }

    /// The user may see a live call: an allowed extension is on one of its
    /// channels (`PJSIP/301-…`, `Local/301@…`), or one of its channels
    /// waits in an allowed queue or belongs to a member of one. The same
    /// rule as the CDR queries (see `cdr::filter::Visibility`).
    pub fn sees_call(&self, state: &State, call: &Call<'_>) -> bool {
        if *self.visibility == Visibility::All {
            return true;
        }
        let queues: Vec<&Queue> = state
            .queues
            .values()
            .filter(|q| self.sees_queue(&q.name))
            .collect();
        self.sees_call_in(&queues, call)
    }

    /// [`Self::sees_call`] with the allowed queues already picked (a caller
    /// checking many calls picks them once).
    pub fn sees_call_in(&self, allowed_queues: &[&Queue], call: &Call<'_>) -> bool {
        if *self.visibility == Visibility::All {
            return true;
        }
        call.channels.iter().any(|c| {
            self.rule
                .extension_of(&c.name)
                .is_some_and(|e| self.sees_extension(e))
                || allowed_queues.iter().any(|q| {
                    q.callers.iter().any(|k| k.uniqueid == c.uniqueid)
                        || q.members
                            .values()
                            .any(|m| interface_of(&c.name) == m.interface.trim_end_matches("/n"))
                })
        })
    }
}

/// The interface a channel belongs to: `PJSIP/301-0000002a` → `PJSIP/301`,
/// `Local/201@agents-00000001;2` → `Local/201@agents` (a queue member's
/// interface, less any `/n`).
fn interface_of(channel: &str) -> &str {
    let base = channel.split(';').next().unwrap_or(channel);
    base.rsplit_once('-').map_or(base, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_of_channels() {
        assert_eq!(interface_of("PJSIP/301-0000002a"), "PJSIP/301");
        assert_eq!(
            interface_of("Local/201@agents-00000001;2"),
            "Local/201@agents"
        );
    }
}
