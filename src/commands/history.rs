//! `cdr export` and `kpi`: the history commands, from parsed arguments to
//! output. The CDR work itself is in the library's `cdr` module.

use anyhow::Context;
use std::path::PathBuf;
use switchboard::config::Config;

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
    tz: chrono_tz::Tz,
    /// First instant included, PBX local time.
    from: chrono::NaiveDateTime,
    /// First instant excluded, PBX local time.
    to: chrono::NaiveDateTime,
    login: String,
    format: ExportFormat,
}

impl History {
    fn new(config: &Config, a: &HistoryArgs) -> anyhow::Result<Self> {
        let tz = config.time_zone(a.tz.as_deref())?;
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
        let login = switchboard::cdr::acl::login(&config.acl, a.as_user.as_deref())?;
        Ok(History {
            tz,
            from: from.and_hms_opt(0, 0, 0).unwrap_or_default(),
            to: to
                .succ_opt()
                .unwrap_or(to)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
            login,
            format: a.format,
        })
    }

    fn filter(&self, config: &Config) -> anyhow::Result<switchboard::cdr::filter::CdrFilter> {
        Ok(switchboard::cdr::filter::CdrFilter::window(
            self.from,
            self.to,
            switchboard::cdr::acl::visibility(&config.acl, &self.login)?,
        )
        .with_extension_rule(config.kpi.extensions.clone()))
    }

    /// `t` (PBX local) as seconds since the Unix epoch.
    fn epoch(&self, t: chrono::NaiveDateTime) -> i64 {
        switchboard::clock::local_to_utc(self.tz, t).timestamp()
    }
}

pub(crate) async fn connect(
    config: &Config,
    a: &HistoryArgs,
) -> anyhow::Result<switchboard::cdr::store::CdrStore> {
    let url = config.cdr_url(a.cdr_url.as_deref())?;
    Ok(switchboard::cdr::store::CdrStore::connect(
        url.expose(),
        &config.cdr.table,
        &config.cdr.columns,
    )
    .await?
    .with_deadline(std::time::Duration::from_secs(config.cdr.query_timeout_s)))
}

/// Runs `cdr export`; `None` when the reader closed the output early.
pub(crate) async fn cdr_export(config: &Config, a: ExportArgs) -> anyhow::Result<Option<u64>> {
    use switchboard::cdr::CdrError;
    use switchboard::cdr::export::{Format, Writer};
    use switchboard::cdr::filter::Disposition;
    let h = History::new(config, &a.history)?;
    let mut filter = h.filter(config)?;
    filter.disposition = match a.disposition.as_deref() {
        Some(d) => Some(Disposition::parse(d).ok_or_else(|| {
            anyhow::anyhow!(
                "--disposition `{d}`: use ANSWERED, NO-ANSWER, BUSY, FAILED or CONGESTION"
            )
        })?),
        None => None,
    };
    filter.src = a.src;
    filter.dst = a.dst;
    filter.search = a.search;
    filter.limit = a.limit;
    let store = connect(config, &a.history).await?;
    let format = match h.format {
        ExportFormat::Csv => Format::Csv { bom: a.bom },
        ExportFormat::Json => Format::JsonLines,
    };
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut writer = Writer::new(out, format, store.columns(), h.tz)?;
    let fields: Vec<switchboard::cdr::columns::Field> = store.columns().fields().collect();
    match store
        .for_each(&filter, &fields, |rec| writer.write(&rec))
        .await
    {
        Ok(rows) => match writer.finish() {
            Ok(()) => Ok(Some(rows)),
            Err(CdrError::OutputClosed) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Err(CdrError::OutputClosed) => Ok(None),
        Err(e) => Err(e.into()),
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

pub(crate) async fn kpi(config: &Config, a: KpiArgs) -> anyhow::Result<()> {
    use switchboard::cdr::kpi_cache::{KpiSources, extension_kpis_by_day, open_kept_days};
    let h = History::new(config, &a.history)?;
    let filter = h.filter(config)?;
    let settings = switchboard::cdr::queue_log::QueueKpiSettings {
        service_level_s: a.sl_seconds,
        short_abandon_s: a.short_abandon_seconds,
        staffing_window_s: a.staffing_window_minutes * 60,
        now: Some(chrono::Utc::now().timestamp()),
        sl_goal_percent: a.sl_goal_percent,
        ..config.kpi.queue_kpi_settings()
    };
    let explicit = a.queue_log.is_some() || config.cdr.queue_log.is_some();
    let path = a
        .queue_log
        .or_else(|| config.cdr.queue_log.clone())
        .unwrap_or_else(|| PathBuf::from("/var/log/asterisk/queue_log"));
    let read = || -> anyhow::Result<switchboard::cdr::queue_log::QueueLog> {
        let file = std::fs::File::open(&path).with_context(|| {
            format!(
                "cannot read queue_log {} (set --queue-log or cdr.queue_log)",
                path.display()
            )
        })?;
        let log = switchboard::cdr::queue_log::read(
            std::io::BufReader::new(file),
            h.epoch(h.from),
            h.epoch(h.to),
            &filter.visibility,
            &settings,
        )?;
        if log.skipped > 0 {
            eprintln!(
                "{}: {} lines are not queue_log lines and were skipped",
                path.display(),
                log.skipped
            );
        }
        Ok(log)
    };
    match a.by {
        KpiBy::Extension => {
            // The queue_log refines queue calls; without one (a PBX whose
            // queue_log is elsewhere, or none) the CDRs alone still answer.
            let readable = std::fs::File::open(&path).map(drop);
            match &readable {
                Err(e) if explicit => anyhow::bail!(
                    "cannot read queue_log {} ({e}); set --queue-log or cdr.queue_log",
                    path.display()
                ),
                Err(_) => eprintln!(
                    "no queue_log at {}: queue calls' talk is their CDR billsec (queue wait included); set --queue-log or cdr.queue_log",
                    path.display()
                ),
                Ok(()) => {}
            }
            let store = connect(config, &a.history).await?;
            // Closed days are kept in the app database; without one, every
            // day is computed.
            let url = config.db_url(None).map_err(|e| e.to_string());
            let cache = open_kept_days(url.as_ref().map_err(Clone::clone)).await;
            let sources = KpiSources {
                store: &store,
                queue_log: readable.is_ok().then_some(path.as_path()),
                read: None,
                settings: &settings,
                tz: h.tz,
                cache: cache.as_ref(),
                recompute: a.recompute,
            };
            let today = chrono::Utc::now().with_timezone(&h.tz).date_naive();
            let rows = extension_kpis_by_day(&sources, &filter, today).await?;
            print_rows(&rows, h.format)
        }
        KpiBy::Queue => print_rows(&read()?.queues, h.format),
        KpiBy::Agent => print_rows(&read()?.agents, h.format),
    }
}
