//! The Campaigns screen's state and the command line's campaign commands.

use crate::dialer::store::EngineRow;
use crate::service::campaigns::CampaignStatus;
use crate::ui::table::TableState;

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
    /// The last change asked for (campaign, status), until the engine
    /// acknowledges it.
    pub asked: Option<(String, String)>,
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

/// A command typed after `:`.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `:campaign start|pause|stop NAME`: the status asked for.
    Status {
        /// `running`, `paused` or `stopped`.
        status: &'static str,
        /// Campaign.
        name: String,
    },
    /// `:campaign pace NAME MODE [RATIO]`: the pacing while it runs.
    Pace {
        /// Campaign.
        name: String,
        /// The new mode.
        mode: crate::dialer::pacing::Mode,
        /// The new power ratio.
        ratio: Option<f64>,
    },
    /// `:campaign import NAME FILE.csv`.
    Import {
        /// Campaign.
        name: String,
        /// CSV file (the console's working folder for a relative path).
        file: String,
    },
}

/// Parses a command line.
///
/// Errors: what to type instead.
pub fn parse_command(text: &str) -> Result<Command, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "use :campaign start|pause|stop NAME, :campaign pace NAME progressive|power|predictive [RATIO] or :campaign import NAME FILE.csv";
    match words.as_slice() {
        ["campaign", "pace", name, mode, rest @ ..] if rest.len() <= 1 => {
            let mode = crate::dialer::pacing::Mode::parse(mode)
                .ok_or_else(|| format!("`{mode}`: use progressive, power or predictive"))?;
            let ratio = match rest.first() {
                Some(r) => Some(
                    r.parse::<f64>()
                        .map_err(|_| format!("`{r}`: a ratio is a number, like 1.5"))?,
                ),
                None => None,
            };
            Ok(Command::Pace {
                name: (*name).to_string(),
                mode,
                ratio,
            })
        }
        ["campaign", "import", name, file] => Ok(Command::Import {
            name: (*name).to_string(),
            file: (*file).to_string(),
        }),
        ["campaign", verb, name] => {
            let status = match *verb {
                "start" | "resume" => "running",
                "pause" => "paused",
                "stop" => "stopped",
                _ => return Err(format!("`{verb}`: {usage}")),
            };
            Ok(Command::Status {
                status,
                name: (*name).to_string(),
            })
        }
        [] => Err(usage.to_string()),
        _ => Err(format!("`{}`: {usage}", text.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_commands_parse() {
        use crate::dialer::pacing::Mode;
        assert_eq!(
            parse_command("campaign pace spring power 1.5"),
            Ok(Command::Pace {
                name: "spring".into(),
                mode: Mode::Power,
                ratio: Some(1.5)
            })
        );
        assert_eq!(
            parse_command("campaign pace spring predictive"),
            Ok(Command::Pace {
                name: "spring".into(),
                mode: Mode::Predictive,
                ratio: None
            })
        );
        assert!(parse_command("campaign pace spring turbo").is_err_and(|e| e.contains("`turbo`")));
        assert!(parse_command("campaign pace spring power x").is_err_and(|e| e.contains("`x`")));
    }

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse_command("campaign start spring"),
            Ok(Command::Status {
                status: "running",
                name: "spring".into()
            })
        );
        assert_eq!(
            parse_command(" campaign stop  spring "),
            Ok(Command::Status {
                status: "stopped",
                name: "spring".into()
            })
        );
        assert_eq!(
            parse_command("campaign import spring leads.csv"),
            Ok(Command::Import {
                name: "spring".into(),
                file: "leads.csv".into()
            })
        );
        assert!(parse_command("campaign launch spring").is_err_and(|e| e.starts_with("`launch`")));
        assert!(parse_command("dial 5551234").is_err());
    }
}
