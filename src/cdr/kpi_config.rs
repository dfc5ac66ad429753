//! The `[kpi]` table: what counts as an extension, service-level variants
//! and targets per queue, agents' names, wrap-up pause reasons.

use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[kpi]`.
///
/// ```toml
/// [kpi]
/// sl = "offered"                  # sl, sl2 or offered (docs/kpi.md)
/// [kpi.extensions]                # the one rule for what an extension is
/// technologies = ["PJSIP", "SIP", "IAX2", "DAHDI"]
/// member_contexts = ["from-queue"]
/// max_digits = 6
/// [kpi.queues.sales]
/// sl = "offered"
/// sl_seconds = 30
/// wrapup_s = 10
/// [kpi.agents]                    # queue_log member name → extension
/// "Alice Martin" = "201"
/// ```
///
/// `wrapup_pause_reasons = ["wrapup", "acw"]` (in `[kpi]`) names the pause
/// reasons that are after-call work.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct KpiConfig {
    /// The default service-level variant.
    pub sl: crate::service_level::SlVariant,
    /// What counts as an extension.
    pub extensions: crate::endpoints::ExtensionRule,
    /// Per-queue service-level variant, T and wrap-up.
    pub queues: BTreeMap<String, crate::service_level::QueueTarget>,
    /// Queue members' names, as queue_log writes them, to their extensions
    /// (for members whose name is not their interface).
    pub agents: BTreeMap<String, String>,
    /// Pause reasons that are after-call work (any case): time paused with
    /// them counts as wrap-up, not as pause. Default `wrapup`, `acw`.
    pub wrapup_pause_reasons: Vec<String>,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig {
            sl: crate::service_level::SlVariant::default(),
            extensions: crate::endpoints::ExtensionRule::default(),
            queues: BTreeMap::new(),
            agents: BTreeMap::new(),
            wrapup_pause_reasons: super::queue_log::QueueKpiSettings::default()
                .wrapup_pause_reasons,
        }
    }
}

impl KpiConfig {
    /// The service-level targets of every queue.
    pub fn targets(&self) -> crate::service_level::Targets {
        crate::service_level::Targets {
            sl: self.sl,
            queues: self.queues.clone(),
        }
    }

    /// The queue_log KPI settings these keys give (thresholds and the
    /// staffing window keep their defaults).
    pub fn queue_kpi_settings(&self) -> super::queue_log::QueueKpiSettings {
        super::queue_log::QueueKpiSettings {
            targets: self.targets(),
            wrapup_pause_reasons: self.wrapup_pause_reasons.clone(),
            agent_names: super::queue_log::AgentNames {
                rule: self.extensions.clone(),
                names: self.agents.clone(),
            },
            ..super::queue_log::QueueKpiSettings::default()
        }
    }
}

impl KpiConfig {
    /// Checks the extension rule's values.
    ///
    /// Errors: `kpi.extensions.max_digits` out of 1-20, or a technology or
    /// context name that is not one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let rule = &self.extensions;
        if !(1..=20).contains(&rule.max_digits) {
            return Err(ConfigError::new(
                "kpi.extensions.max_digits",
                "must be 1 to 20 (the longest extension number on this PBX)",
            ));
        }
        let names = rule.technologies.iter().chain(&rule.member_contexts);
        if let Some(bad) = names.into_iter().find(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        }) {
            return Err(ConfigError::new(
                "kpi.extensions",
                format!(
                    "`{}` is not a channel technology or a dialplan context (letters, digits and - _ . only: `PJSIP`, `from-queue`)",
                    crate::sanitize::escape(bad)
                ),
            ));
        }
        Ok(())
    }
}
