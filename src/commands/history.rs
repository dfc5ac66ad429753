//! `cdr export` and `kpi`: the history commands, from parsed arguments to
//! output. The work is the CDR service's (`service::cdr`), the daemon's
//! when attached, this process's otherwise.

use super::services::{self, DirectOptions, Target};
use std::path::PathBuf;
use switchboard::access::Visibility;
use switchboard::cdr::filter::CdrFilter;
use switchboard::sanitize;
use switchboard::service::cdr::{DbReply, DbRequest};
use switchboard::setup::Config;

/// The days, the user and the database every history command takes.
#[derive(clap::Args, Debug)]
pub(crate) struct HistoryArgs {
    /// First day, YYYY-MM-DD in the PBX's time zone (default: today).
    #[arg(long)]
    from: Option<String>,
    /// Last day included, YYYY-MM-DD (default: the --from day).
    #[arg(long)]
    to: Option<String>,
    /// Look as this user (admins only; default: the Unix login running it).
    #[arg(long)]
    as_user: Option<String>,
    /// CDR database URL (mysql://, mariadb://, postgres://, sqlite://).
    #[arg(long, env = "SWITCHBOARD_CDR_URL", hide_env_values = true)]
    cdr_url: Option<String>,
    /// The PBX's time zone (IANA name).
    #[arg(long, env = "SWITCHBOARD_TZ")]
    tz: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormat,
    /// With several [[pbx]]: whose CDRs (and queue_log); default: the
    /// first PBX you may see.
    #[arg(long, value_name = "NAME")]
    pbx: Option<String>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    history: HistoryArgs,
    /// Source number or extension.
    #[arg(long)]
    src: Option<String>,
    /// Destination number or extension.
    #[arg(long)]
    dst: Option<String>,
    /// ANSWERED, NO-ANSWER, BUSY, FAILED or CONGESTION.
    #[arg(long)]
    disposition: Option<String>,
    /// Free text over src, dst, clid, uniqueid, channel, dstchannel.
    #[arg(long)]
    search: Option<String>,
    /// Start CSV with a UTF-8 byte-order mark (for spreadsheet programs).
    #[arg(long)]
    bom: bool,
    /// At most this many rows (the first ones in time order).
    #[arg(long)]
    limit: Option<u32>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct KpiArgs {
    #[command(flatten)]
    history: HistoryArgs,
    /// Per extension (from the CDRs, with the queue_log's talk times and
    /// ring-no-answers when there is one), per queue or per agent (from
    /// queue_log).
    #[arg(long, value_enum, default_value = "extension")]
    by: KpiBy,
    /// queue_log file (default: cdr.queue_log, else /var/log/asterisk/queue_log).
    #[arg(long)]
    queue_log: Option<PathBuf>,
    /// Service-level threshold T, seconds, for queues without their own
    /// `[kpi.queues.NAME] sl_seconds`.
    #[arg(long, default_value_t = 20)]
    sl_seconds: u32,
    /// Abandons shorter than this are counted as short, seconds.
    #[arg(long, default_value_t = 5)]
    short_abandon_seconds: u32,
    /// Staffing advice (Erlang C, `--by queue`): the goal, percent of calls
    /// answered within --sl-seconds.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=99))]
    sl_goal_percent: u8,
    /// `--by extension`: compute every day of the range again and keep the
    /// new figures (kept days that had settled are otherwise final: after
    /// CDRs were imported or deleted).
    #[arg(long)]
    recompute: bool,
    /// Staffing advice from the arrivals and talk times of this many
    /// minutes before the range's end (or now, if sooner).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    staffing_window_minutes: u32,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KpiBy {
    /// One row per extension: calls rung, answered, missed, placed, talk,
    /// wrap-up, AHT, first/last call.
    Extension,
    /// One row per queue: offered, answered, abandoned, exits, SL in three
    /// variants, ASA, waits, staffing advice.
    Queue,
    /// One row per queue member: rung, answered, missed, talk, wrap-up,
    /// AHT, pause time by reason, logged-in time, occupancy.
    Agent,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

pub(crate) fn day(flag: &str, value: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{flag} `{value}`: use a date like 2026-11-21"))
}

/// What every history command works from.
pub(crate) struct History {
    /// First instant included, PBX local time.
    from: chrono::NaiveDateTime,
    /// First instant excluded, PBX local time.
    to: chrono::NaiveDateTime,
    format: ExportFormat,
    /// Whose CDRs (`None`: the first PBX the user sees).
    pbx: Option<String>,
}

impl HistoryArgs {
    /// What a direct run takes from these arguments.
    fn direct(&self) -> DirectOptions<'_> {
        DirectOptions {
            cdr_url: self.cdr_url.as_deref(),
            tz: self.tz.as_deref(),
            as_user: self.as_user.as_deref(),
            ..DirectOptions::default()
        }
    }
}

impl History {
    /// The days asked for, in the PBX's zone `tz`.
    ///
    /// Errors: a date that is not YYYY-MM-DD, or `--to` before `--from`.
    fn new(tz: chrono_tz::Tz, a: &HistoryArgs) -> anyhow::Result<Self> {
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let from = a
            .from
            .as_deref()
            .map(|d| day("--from", d))
            .transpose()?
            .unwrap_or(today);
        let to =
            a.to.as_deref()
                .map(|d| day("--to", d))
                .transpose()?
                .unwrap_or(from);
        anyhow::ensure!(to >= from, "--to {to} is before --from {from}");
        Ok(History {
            from: from.and_hms_opt(0, 0, 0).unwrap_or_default(),
            to: to
                .succ_opt()
                .unwrap_or(to)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
            format: a.format,
            pbx: a.pbx.clone(),
        })
    }

    /// The window and the PBX; the service puts in the user's rights and
    /// the site's extension rule.
    fn filter(&self) -> CdrFilter {
        let mut f = CdrFilter::window(self.from, self.to, Visibility::All);
        f.pbx = self.pbx.clone();
        f
    }
}

/// Runs `cdr export` on `target`'s services; `None` when the reader closed
/// the output early.
pub(crate) async fn cdr_export(
    config: &Config,
    target: &Target,
    a: ExportArgs,
) -> anyhow::Result<Option<u64>> {
    use std::io::Write;
    use switchboard::cdr::export::Format;
    use switchboard::cdr::filter::Disposition;
    let disposition = match a.disposition.as_deref() {
        Some(d) => Some(Disposition::parse(d).ok_or_else(|| {
            anyhow::anyhow!(
                "--disposition `{d}`: use ANSWERED, NO-ANSWER, BUSY, FAILED or CONGESTION"
            )
        })?),
        None => None,
    };
    let mut services = services::open(config, target, &a.history.direct()).await?;
    let h = History::new(services.tz, &a.history)?;
    let mut filter = h.filter();
    filter.disposition = disposition;
    filter.src = a.src;
    filter.dst = a.dst;
    filter.search = a.search;
    filter.limit = a.limit;
    let format = match h.format {
        ExportFormat::Csv => Format::Csv { bom: a.bom },
        ExportFormat::Json => Format::JsonLines,
    };
    services
        .ask_db(DbRequest::Stream {
            id: 1,
            filter,
            format,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    let closed = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Ok(None),
        _ => Err(anyhow::anyhow!("cannot write the export: {e}")),
    };
    loop {
        match services.next_db().await? {
            DbReply::Chunk { bytes, .. } => {
                if let Err(e) = out.write_all(&bytes) {
                    return closed(e);
                }
            }
            DbReply::Streamed { rows, .. } => {
                return match out.flush() {
                    Ok(()) => Ok(Some(rows)),
                    Err(e) => closed(e),
                };
            }
            _ => {}
        }
    }
}

/// Prints rows of serialisable KPI structs as JSON lines or CSV.
pub(crate) fn print_rows<T: serde::Serialize>(
    rows: &[T],
    format: ExportFormat,
) -> anyhow::Result<()> {
    let out = std::io::stdout().lock();
    match format {
        ExportFormat::Json => {
            let mut out = std::io::BufWriter::new(out);
            for r in rows {
                serde_json::to_writer(&mut out, r)?;
                std::io::Write::write_all(&mut out, b"\n")?;
            }
            std::io::Write::flush(&mut out)?;
        }
        ExportFormat::Csv => switchboard::cdr::export::kpi_csv(out, rows)?,
    }
    Ok(())
}

/// Runs `kpi` on `target`'s services.
pub(crate) async fn kpi(config: &Config, target: &Target, a: KpiArgs) -> anyhow::Result<()> {
    use switchboard::service::cdr::{KpiOptions, KpiTuning};
    // A queue_log named here or in this config must be read; the default
    // one may be missing (a PBX whose queue_log is elsewhere, or none).
    // The queue_log of the PBX asked for (the first by default).
    let asked = a
        .history
        .pbx
        .clone()
        .or_else(|| config.pbx_names().into_iter().next());
    let configured = asked
        .as_deref()
        .and_then(|p| config.cdr_of(p))
        .is_some_and(|c| c.queue_log.is_some());
    let explicit = a.queue_log.is_some() || (matches!(target, Target::Direct) && configured);
    let direct = DirectOptions {
        queue_log: a.queue_log.as_deref(),
        ..a.history.direct()
    };
    let mut services = services::open(config, target, &direct).await?;
    let h = History::new(services.tz, &a.history)?;
    let options = KpiOptions {
        queue_log_only: a.by != KpiBy::Extension,
        tuning: Some(KpiTuning {
            service_level_s: a.sl_seconds,
            short_abandon_s: a.short_abandon_seconds,
            staffing_window_s: a.staffing_window_minutes * 60,
            sl_goal_percent: a.sl_goal_percent,
        }),
        recompute: a.recompute,
        pbx: h.pbx.clone(),
    };
    services
        .ask_db(DbRequest::Kpi {
            id: 1,
            from: h.from,
            to: h.to,
            options,
        })
        .await?;
    let (extensions, queues, agents, skipped) = loop {
        if let DbReply::Kpi {
            extensions,
            queues,
            agents,
            skipped_lines,
            ..
        } = services.next_db().await?
        {
            break (extensions, queues, agents, skipped_lines);
        }
    };
    if skipped > 0 {
        eprintln!("queue_log: {skipped} lines are not queue_log lines and were skipped");
    }
    match (a.by, queues) {
        (KpiBy::Extension, queues) => {
            if let Err(e) = queues {
                if explicit {
                    anyhow::bail!("{e}");
                }
                eprintln!(
                    "{e}: queue calls' talk is their CDR billsec (queue wait included)",
                    e = sanitize::escape(&e)
                );
            }
            print_rows(&extensions, h.format)
        }
        (_, Err(e)) => anyhow::bail!("{e}"),
        (KpiBy::Queue, Ok(queues)) => print_rows(&queues, h.format),
        (KpiBy::Agent, Ok(_)) => print_rows(&agents, h.format),
    }
}
