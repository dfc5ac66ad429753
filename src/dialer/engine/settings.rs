//! What the engine needs besides its database and ARI.

use std::path::PathBuf;
use std::time::Duration;

/// The engine's settings, from `[dialer]`.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// This engine's id (in attempt rows, heartbeats and its lease).
    pub id: String,
    /// Dialplan context for `{ queue = … }` destinations.
    pub queue_context: String,
    /// Dialplan context for `{ extension = … }` destinations.
    pub extension_context: String,
    /// Dialplan context (extension `s`) playing the safe-harbour message
    /// to a dropped call, then hanging up.
    pub drop_context: String,
    /// Dialplan context (extension `s`) running `AMD()` for campaigns with
    /// `[amd]`, then `Stasis(${SB_APP},amd,…)`.
    pub amd_context: String,
    /// Dialplan context (extension `s`) leaving a message on a machine.
    pub machine_context: String,
    /// On shutdown, wait at most this long for live calls and for the
    /// writes still queued.
    pub drain: Duration,
    /// How often campaigns are read and leads claimed (±20 % jitter).
    pub tick: Duration,
    /// An engine whose heartbeat is older than this is dead: another engine
    /// reconciles its attempts.
    pub stale_after: Duration,
    /// The spool of writes not yet landed (see [`super::writer`]); `None`
    /// keeps them in memory only.
    pub spool: Option<PathBuf>,
    /// The AMI link through which the engine sees the queues' agents
    /// (`[ami]`); `None`: queue campaigns do not dial.
    pub ami: Option<crate::ami::connection::Settings>,
    /// Per-queue settings (`[kpi.queues]`): the wrap-up an agent takes
    /// after a call, which Asterisk does not report.
    pub queues: crate::service_level::Targets,
}

impl EngineSettings {
    /// Settings from the `[dialer]` table and the queues' targets (their
    /// wrap-up, from `[kpi.queues]`); the id defaults to the host name, the
    /// spool to `engine-<id>.spool` in `spool_dir` or the state folder.
    pub fn new(
        d: &crate::dialer::config::DialerConfig,
        queues: crate::service_level::Targets,
    ) -> Self {
        let id = d.engine_id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "engine".into())
        });
        let dir = d.spool_dir.clone().or_else(crate::config::paths::state_dir);
        EngineSettings {
            spool: dir.map(|d| d.join(spool_name(&id))),
            id,
            queue_context: d.queue_context.clone(),
            extension_context: d.extension_context.clone(),
            drop_context: d.drop_context.clone(),
            amd_context: d.amd_context.clone(),
            machine_context: d.machine_context.clone(),
            drain: Duration::from_secs(u64::from(d.drain_s)),
            tick: Duration::from_millis(250),
            stale_after: Duration::from_secs(15),
            ami: None,
            queues,
        }
    }
}

/// `engine-<id>.spool`, the id reduced to letters, digits, `-` and `_` (an
/// id is free text; a file name must not climb out of its folder).
fn spool_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("engine-{safe}.spool")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_spool_name_never_leaves_its_folder() {
        assert_eq!(super::spool_name("../../etc/x"), "engine-______etc_x.spool");
        assert_eq!(
            super::spool_name("lab-engine_1"),
            "engine-lab-engine_1.spool"
        );
    }
}
