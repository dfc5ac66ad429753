//! `switchboard`: the console (default) and its one-shot commands.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use switchboard::capture::{self, Capture};
use switchboard::config::Config;
use switchboard::logging;
use switchboard::pbx::{self, snapshot::Snapshot};
use switchboard::ui;

/// A terminal console for Asterisk call-centre supervisors.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Config file (default: the platform config folder's switchboard/config.toml).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Theme for this run (overrides ui.theme).
    #[arg(long, global = true)]
    theme: Option<String>,
    /// Keymap for this run (overrides ui.keymap).
    #[arg(long, global = true)]
    keymap: Option<String>,
    /// Print every key binding of the keymap, per context, and exit.
    #[arg(long)]
    print_keymap: bool,
    /// Print every theme item with its description and current value, and exit.
    #[arg(long)]
    print_theme_items: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the config file, the secret, the theme and the keymap; name the key that is wrong.
    CheckConfig,
    /// Record a live AMI stream (snapshot included) to FILE for N seconds.
    Record {
        /// How long to record, seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Capture file to write.
        file: PathBuf,
    },
    /// CDR history from the command line.
    Cdr {
        #[command(subcommand)]
        command: CdrCommand,
    },
    /// KPI figures per extension or per queue (definitions: docs/kpi.md).
    Kpi(KpiArgs),
    /// Replay a capture into the console, or headless.
    Replay {
        /// Capture file (from `switchboard record`, or a raw AMI stream).
        file: PathBuf,
        /// Playback speed: a factor (1 = real time, 10 = ten times faster) or `max`.
        #[arg(long, default_value = "1")]
        speed: String,
        /// No screen: decode and reduce, then print what was asked.
        #[arg(long)]
        headless: bool,
        /// With --headless: print {events, bytes, seconds, events_per_second} as JSON.
        #[arg(long)]
        stats: bool,
        /// With --headless: print the final PBX state as JSON.
        #[arg(long)]
        dump_state: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CdrCommand {
    /// Stream CDR rows as CSV or JSON lines (constant memory).
    Export(ExportArgs),
}

/// The days, the user and the database every history command takes.
#[derive(clap::Args, Debug)]
struct HistoryArgs {
    /// First day, YYYY-MM-DD in the PBX's time zone (default: today).
    #[arg(long)]
    from: Option<String>,
    /// Last day included, YYYY-MM-DD (default: the --from day).
    #[arg(long)]
    to: Option<String>,
    /// What this user may see (default: the Unix login running it).
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
struct ExportArgs {
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
struct KpiArgs {
    #[command(flatten)]
    history: HistoryArgs,
    /// Per extension (from the CDRs) or per queue (from queue_log).
    #[arg(long, value_enum, default_value = "extension")]
    by: KpiBy,
    /// queue_log file (default: cdr.queue_log, else /var/log/asterisk/queue_log).
    #[arg(long)]
    queue_log: Option<PathBuf>,
    /// Service-level threshold, seconds.
    #[arg(long, default_value_t = 20)]
    sl_seconds: u32,
    /// Abandons shorter than this are left out of the service level, seconds.
    #[arg(long, default_value_t = 5)]
    short_abandon_seconds: u32,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum KpiBy {
    /// One row per extension: THT, AHT, answered, missed, first/last call.
    Extension,
    /// One row per queue: offered, answered, abandoned, SL, ASA, waits.
    Queue,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(t) = &cli.theme {
        config.ui.theme = t.clone();
    }
    if let Some(k) = &cli.keymap {
        config.ui.keymap = k.clone();
    }
    Ok(config)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let console = matches!(
        cli.command,
        None | Some(Command::Replay {
            headless: false,
            ..
        })
    );
    let _log_guard = if console {
        logging::to_file()
    } else {
        logging::to_stderr();
        None
    };
    let config = load_config(&cli)?;
    if cli.print_keymap {
        print!(
            "{}",
            ui::keymap::Keymap::load(&config.ui.keymap)?.describe()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if cli.print_theme_items {
        print!("{}", ui::theme::Theme::load(&config.ui.theme)?.describe());
        return Ok(ExitCode::SUCCESS);
    }
    match cli.command {
        Some(Command::CheckConfig) => check_config(&config),
        Some(Command::Record { seconds, file }) => {
            let settings = config.ami_settings(pbx::resync::actions()?)?;
            let rt = runtime()?;
            let done = rt.block_on(capture::record::record(
                settings,
                Duration::from_secs(seconds),
                &file,
            ))?;
            eprintln!(
                "recorded {} bytes in {} reads to {}",
                done.bytes,
                done.records,
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Cdr {
            command: CdrCommand::Export(args),
        }) => {
            let rt = runtime()?;
            if let Some(rows) = rt.block_on(cdr_export(&config, args))? {
                eprintln!("exported {rows} rows");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Kpi(args)) => {
            let rt = runtime()?;
            rt.block_on(kpi(&config, args))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Replay {
            file,
            speed,
            headless,
            stats,
            dump_state,
        }) => {
            let data = std::fs::read(&file)
                .with_context(|| format!("cannot read capture {}", file.display()))?;
            let cap =
                Capture::parse(&data).with_context(|| format!("capture {}", file.display()))?;
            if headless {
                let (state, s) = capture::headless::run(&cap);
                if stats {
                    println!("{}", serde_json::to_string(&s)?);
                }
                if dump_state {
                    println!("{}", serde_json::to_string_pretty(&Snapshot::of(&state))?);
                }
                return Ok(ExitCode::SUCCESS);
            }
            let speed = ui::Speed::parse(&speed)?;
            let rt = runtime()?;
            let name = file.display().to_string();
            rt.block_on(ui::run_replay(config, data, speed, name))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let settings = config.ami_settings(pbx::resync::actions()?)?;
            let rt = runtime()?;
            rt.block_on(ui::run_live(config, settings))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn check_config(config: &Config) -> anyhow::Result<ExitCode> {
    config.ami_settings(Vec::new())?;
    ui::theme::Theme::load(&config.ui.theme)?;
    ui::keymap::Keymap::load(&config.ui.keymap)?;
    let tz = config.time_zone(None)?;
    // The CDR database is optional for the live console: check it only when
    // one is configured.
    let cdr = if config.cdr.url_file.is_some() || std::env::var_os("SWITCHBOARD_CDR_URL").is_some()
    {
        config.cdr_url(None)?;
        "CDR database configured"
    } else {
        "no CDR database (history commands need --cdr-url)"
    };
    println!(
        "config OK: AMI {}@{}:{}, theme {}, keymap {}, PBX time zone {tz}, {cdr}, {} ACL user(s)",
        config.ami.username,
        config.ami.host,
        config.ami.port,
        config.ui.theme,
        config.ui.keymap,
        config.acl.users.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn day(flag: &str, value: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{flag} `{value}`: use a date like 2026-11-21"))
}

/// What every history command works from.
struct History {
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
        let login = a
            .as_user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_default();
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
        Ok(switchboard::cdr::filter::CdrFilter {
            from: self.from,
            to: self.to,
            src: None,
            dst: None,
            disposition: None,
            search: None,
            visibility: switchboard::cdr::acl::visibility(&config.acl, &self.login)?,
            limit: None,
        })
    }

    /// `t` (PBX local) as seconds since the Unix epoch.
    fn epoch(&self, t: chrono::NaiveDateTime) -> i64 {
        use chrono::TimeZone;
        self.tz
            .from_local_datetime(&t)
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| t.and_utc().timestamp())
    }
}

async fn connect(
    config: &Config,
    a: &HistoryArgs,
) -> anyhow::Result<switchboard::cdr::store::CdrStore> {
    let url = config.cdr_url(a.cdr_url.as_deref())?;
    Ok(switchboard::cdr::store::CdrStore::connect(
        url.expose(),
        &config.cdr.table,
        &config.cdr.columns,
    )
    .await?)
}

/// Runs `cdr export`; `None` when the reader closed the output early.
async fn cdr_export(config: &Config, a: ExportArgs) -> anyhow::Result<Option<u64>> {
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
fn print_rows<T: serde::Serialize>(rows: &[T], format: ExportFormat) -> anyhow::Result<()> {
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
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for r in rows {
                w.serialize(r)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

async fn kpi(config: &Config, a: KpiArgs) -> anyhow::Result<()> {
    use switchboard::cdr::kpi::ExtensionKpis;
    use switchboard::cdr::queue_log::{QueueKpiSettings, queue_kpis};
    let h = History::new(config, &a.history)?;
    let filter = h.filter(config)?;
    match a.by {
        KpiBy::Extension => {
            let store = connect(config, &a.history).await?;
            let mut acc = ExtensionKpis::default();
            store
                .for_each(&filter, &switchboard::cdr::kpi::FIELDS, |rec| {
                    acc.add(&rec);
                    Ok(())
                })
                .await?;
            let only = match &filter.visibility {
                switchboard::cdr::filter::Visibility::All => None,
                switchboard::cdr::filter::Visibility::Extensions(e) => Some(e.as_slice()),
            };
            print_rows(&acc.finish(only), h.format)
        }
        KpiBy::Queue => {
            let path = a
                .queue_log
                .or_else(|| config.cdr.queue_log.clone())
                .unwrap_or_else(|| PathBuf::from("/var/log/asterisk/queue_log"));
            let file = std::fs::File::open(&path).with_context(|| {
                format!(
                    "cannot read queue_log {} (set --queue-log or cdr.queue_log)",
                    path.display()
                )
            })?;
            let queues = switchboard::cdr::acl::queues(&config.acl, &h.login)?;
            let settings = QueueKpiSettings {
                service_level_s: a.sl_seconds,
                short_abandon_s: a.short_abandon_seconds,
            };
            let (rows, skipped) = queue_kpis(
                std::io::BufReader::new(file),
                h.epoch(h.from),
                h.epoch(h.to),
                queues.as_deref(),
                settings,
            )?;
            if skipped > 0 {
                eprintln!(
                    "{}: {skipped} lines are not queue_log lines and were skipped",
                    path.display()
                );
            }
            print_rows(&rows, h.format)
        }
    }
}
