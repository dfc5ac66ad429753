//! The Campaigns screen's state and the command line's campaign commands.

use super::appdb::CampaignStatus;
use super::table::TableState;
use crate::dialer::store::EngineRow;

/// An engine whose heartbeat is older than this is shown as not running, ms.
pub const ENGINE_STALE_MS: i64 = 5_000;

/// The Campaigns screen.
#[derive(Clone, Debug, Default)]
pub struct CampaignsView {
    /// Campaigns, by name, as last read.
    pub campaigns: Vec<CampaignStatus>,
    /// Engines, newest heartbeat first.
    pub engines: Vec<EngineRow>,
    /// When they were read, ms since epoch (UTC).
    pub read_ms: Option<i64>,
    /// Selection.
    pub table: TableState,
    /// A refresh or change in flight (its request id).
    pub pending: Option<u64>,
    /// The user may start, pause and stop campaigns.
    pub may_control: bool,
}

impl CampaignsView {
    /// The selected campaign's name.
    pub fn selected(&self) -> Option<&str> {
        let key = self.table.selected.as_deref();
        self.campaigns
            .iter()
            .find(|c| Some(c.row.name.as_str()) == key)
            .or(self.campaigns.first())
            .map(|c| c.row.name.as_str())
    }

    /// Engines with a heartbeat newer than [`ENGINE_STALE_MS`] at `now_ms`.
    pub fn live_engines(&self, now_ms: i64) -> impl Iterator<Item = &EngineRow> {
        self.engines
            .iter()
            .filter(move |e| now_ms - e.heartbeat_at < ENGINE_STALE_MS)
    }
}

/// A parsed `:campaign start|pause|stop NAME`: (status asked, name).
///
/// Errors: what to type instead.
pub fn parse_command(text: &str) -> Result<(&'static str, String), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "use :campaign start NAME, :campaign pause NAME or :campaign stop NAME";
    match words.as_slice() {
        ["campaign", verb, name] => {
            let status = match *verb {
                "start" | "resume" => "running",
                "pause" => "paused",
                "stop" => "stopped",
                _ => return Err(format!("`{verb}`: {usage}")),
            };
            Ok((status, (*name).to_string()))
        }
        [] => Err(usage.to_string()),
        _ => Err(format!("`{}`: {usage}", text.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse_command("campaign start spring"),
            Ok(("running", "spring".into()))
        );
        assert_eq!(
            parse_command(" campaign stop  spring "),
            Ok(("stopped", "spring".into()))
        );
        assert!(parse_command("campaign launch spring").is_err_and(|e| e.starts_with("`launch`")));
        assert!(parse_command("dial 5551234").is_err());
    }
}
