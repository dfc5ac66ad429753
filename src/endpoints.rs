//! Which channels are the PBX's own extensions: one rule for the KPIs, the
//! History's "Answered by", the live panes and the ACL (`[kpi]` in the
//! config, docs/kpi.md "Extensions").
//!
//! An extension is a phone's endpoint: a channel of a phone technology
//! (`PJSIP/301-0000002a`, `SIP/301-…`, `IAX2/301-…`, `DAHDI/1-1`) whose
//! resource is a number of at most `max_digits` digits, or a queue member's
//! `Local/201@from-queue-…;1` in one of the member contexts. Trunks
//! (`PJSIP/provider-…`) and the dialer's or a trunk's customers
//! (`Local/5551234@customers-…`) are never extensions.

use serde::Deserialize;

/// The rule (`[kpi]` keys `technologies`, `member_contexts`, `max_digits`).
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ExtensionRule {
    /// Channel technologies of phones, as written in channel names.
    /// Default PJSIP, SIP, IAX2, DAHDI.
    pub technologies: Vec<String>,
    /// Dialplan contexts of queue members' `Local/` interfaces (FreePBX and
    /// Issabel: `from-queue`). A `Local/` channel in any other context is a
    /// route, not an extension.
    pub member_contexts: Vec<String>,
    /// Longest extension number, digits (default 6): a longer number on a
    /// phone technology is a trunk's or a customer's.
    pub max_digits: usize,
}

impl Default for ExtensionRule {
    /// PJSIP, SIP, IAX2 and DAHDI phones of up to 6 digits; queue members in
    /// `from-queue`.
    fn default() -> Self {
        ExtensionRule {
            technologies: ["PJSIP", "SIP", "IAX2", "DAHDI"].map(String::from).to_vec(),
            member_contexts: vec!["from-queue".into()],
            max_digits: 6,
        }
    }
}

impl ExtensionRule {
    /// The extension on a channel (`PJSIP/301-0000002a` → `301`,
    /// `Local/201@from-queue-00000001;1` → `201`) or on a device or queue
    /// member interface (`PJSIP/301`, `Local/201@from-queue/n`); `None`
    /// when the channel is not one of the PBX's extensions.
    pub fn extension_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        let (tech, rest) = channel.split_once('/')?;
        let ext = if tech == "Local" {
            let (ext, context) = rest.split_once('@')?;
            // A channel: `ctx-0000002a;1` (Asterisk's 8-hex-digit sequence);
            // an interface: `ctx/n` or `ctx`.
            let context = match context.split_once(';') {
                Some((c, _)) => c
                    .rsplit_once('-')
                    .filter(|(_, n)| n.len() == 8 && n.bytes().all(|b| b.is_ascii_hexdigit()))
                    .map_or(c, |(c, _)| c),
                None => context.split('/').next().unwrap_or(context),
            };
            if !self.member_contexts.iter().any(|m| m == context) {
                return None;
            }
            ext
        } else if self.technologies.iter().any(|t| t == tech) {
            // A channel's name ends in `-<sequence>`; a device has none.
            rest.rsplit_once('-').map_or(rest, |(e, _)| e)
        } else {
            return None;
        };
        self.is_number(ext).then_some(ext)
    }

    /// `text` looks like an extension number: 1 to `max_digits` ASCII
    /// digits.
    pub fn is_number(&self, text: &str) -> bool {
        !text.is_empty()
            && text.len() <= self.max_digits
            && text.bytes().all(|b| b.is_ascii_digit())
    }

    /// Channel-name prefixes that carry `extension`: `PJSIP/301-` for each
    /// technology and `Local/301@from-queue-` for each member context. A
    /// channel starts with one of these exactly when
    /// [`Self::extension_of`] gives `extension` (for channel names, which
    /// carry a sequence suffix).
    pub fn channel_prefixes(&self, extension: &str) -> Vec<String> {
        let techs = self
            .technologies
            .iter()
            .map(|t| format!("{t}/{extension}-"));
        let locals = self
            .member_contexts
            .iter()
            .map(|c| format!("Local/{extension}@{c}-"));
        techs.chain(locals).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_members_are_extensions_trunks_and_customers_are_not() {
        let r = ExtensionRule {
            member_contexts: vec!["from-queue".into(), "agents".into()],
            ..ExtensionRule::default()
        };
        for (channel, ext) in [
            ("PJSIP/301-0000002a", Some("301")),
            ("SIP/301-0001", Some("301")),
            ("IAX2/4001-1234", Some("4001")),
            ("DAHDI/1-1", Some("1")),
            ("PJSIP/301", Some("301")),
            ("Local/201@agents-00000001;1", Some("201")),
            ("Local/201@agents-00000001;2", Some("201")),
            ("Local/201@ext-add-0000abcd;1", None),
            ("Local/201@from-queue/n", Some("201")),
            ("Local/201@agents", Some("201")),
            // A trunk, a customer, a number too long for an extension.
            ("PJSIP/provider-00000001", None),
            ("Local/5552787@callers-support-000004f2;2", None),
            ("Local/5550001@customers-00000001;1", None),
            ("PJSIP/5551234567-0001", None),
            ("SCCP/301-1", None),
            ("Message/ast_msg_queue", None),
            ("", None),
        ] {
            assert_eq!(r.extension_of(channel), ext, "{channel}");
        }
        // The default rule has FreePBX's member context only.
        assert_eq!(
            ExtensionRule::default().extension_of("Local/201@agents-00000001;1"),
            None
        );
    }

    #[test]
    fn prefixes_match_exactly_the_channels_of_the_extension() {
        let r = ExtensionRule::default();
        let prefixes = r.channel_prefixes("301");
        for channel in [
            "PJSIP/301-0001",
            "DAHDI/301-1",
            "Local/301@from-queue-0000000a;1",
        ] {
            assert!(prefixes.iter().any(|p| channel.starts_with(p.as_str())));
            assert_eq!(r.extension_of(channel), Some("301"));
        }
        for channel in [
            "PJSIP/3010-0001",
            "Local/301@customers-0000000a;1",
            "SCCP/301-1",
        ] {
            assert!(!prefixes.iter().any(|p| channel.starts_with(p.as_str())));
        }
    }
}
