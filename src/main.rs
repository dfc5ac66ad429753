//! `switchboard`: the console (default) and its one-shot commands.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use switchboard::capture;
use switchboard::logging;
use switchboard::pbx::{self, snapshot::Snapshot};
use switchboard::sanitize;
use switchboard::setup::Config;
use switchboard::ui;

mod commands;

use commands::history::{self, ExportArgs, KpiArgs};

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
    /// Console: CDR database URL for the History and KPI screens.
    #[arg(long, env = "SWITCHBOARD_CDR_URL", hide_env_values = true)]
    cdr_url: Option<String>,
    /// Console: the PBX's time zone (IANA name).
    #[arg(long, env = "SWITCHBOARD_TZ")]
    tz: Option<String>,
    /// Console: look as this user (admins only).
    #[arg(long)]
    as_user: Option<String>,
    /// Run the dialer engine (no screen; for systemd) instead of the console.
    #[arg(long)]
    engine: bool,
    /// Console and the cdr, kpi and campaign commands: attach to the
    /// `switchboard serve` daemon at this socket (default: [serve] socket,
    /// else /run/switchboard/console.sock when it exists).
    #[arg(long, global = true, env = "SWITCHBOARD_CONNECT")]
    connect: Option<PathBuf>,
    /// Console and the cdr, kpi and campaign commands: run direct (own AMI
    /// link and databases) even when a daemon's socket exists.
    #[arg(long, global = true, conflicts_with = "connect")]
    direct: bool,
    /// Console and engine: app database URL (campaigns, leads, attempts).
    #[arg(long, env = "SWITCHBOARD_DB_URL", hide_env_values = true)]
    db_url: Option<String>,
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
    /// Dialer campaigns: apply, import leads, list, status, start, pause, stop.
    Campaign(commands::campaign::CampaignArgs),
    /// A supervisor action, as typed after `:` in the console (`act pause PJSIP/301 in sales Lunch`).
    Act(commands::supervise::ActArgs),
    /// The audit trail of actions and campaign changes, as CSV or JSON lines.
    Audit(commands::supervise::AuditArgs),
    /// The daemon: hold the PBX link and the credentials, serve consoles on a Unix socket.
    Serve {
        #[command(subcommand)]
        command: Option<ServeCommand>,
        /// Serve a capture's events instead of the AMI link (demos, benchmarks).
        #[arg(long)]
        replay: Option<PathBuf>,
        /// With --replay: a factor (1 = real time) or `max`.
        #[arg(long, default_value = "1")]
        speed: String,
    },
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
enum ServeCommand {
    /// List the consoles attached to the daemon (admins).
    Status,
    /// Print what the daemon shows you (queues, extensions, channels) as JSON, once its link is Ready.
    Snapshot {
        /// Longest wait for the daemon's link and data, seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Which PBX (`[[pbx]] name`), when the daemon follows several.
        #[arg(long)]
        pbx: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum CdrCommand {
    /// Stream CDR rows as CSV or JSON lines (constant memory).
    Export(ExportArgs),
}

/// Which config file this run reads, and whether it exists: errors and
/// `check-config` say where switchboard looked.
fn config_origin(cli: &Cli) -> String {
    match cli
        .config
        .clone()
        .or_else(switchboard::config::paths::config_file)
    {
        Some(p) if p.exists() => format!("config file {}", p.display()),
        Some(p) => format!("no config file at {} (defaults used)", p.display()),
        None => "no config folder (defaults used)".into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::private_files();
    exit_on_panic();
    let origin = config_origin(&cli);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors can quote a peer (a login refusal, a database message).
            let mut text = format!("{e:#}");
            if origin.starts_with("no config") {
                text.push_str(&format!(" [{origin}]"));
            }
            eprintln!("switchboard: {}", switchboard::sanitize::escape(&text));
            ExitCode::from(2)
        }
    }
}

/// A panic anywhere, a background task included, ends the process with code
/// 101 after the terminal is restored (the console's own hook runs first) and
/// the panic and its backtrace are logged: a console whose AMI task died must
/// never sit on screen looking Ready and deaf to `q`.
fn exit_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!("panic: {info}\n{backtrace}");
        logging::flush();
        std::process::exit(101);
    }));
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
    let console = !cli.engine
        && matches!(
            cli.command,
            None | Some(Command::Replay {
                headless: false,
                ..
            })
        );
    let daemon = matches!(cli.command, Some(Command::Serve { command: None, .. }));
    if cli.engine || daemon {
        logging::for_engine();
    } else if console {
        logging::to_file();
    } else {
        logging::to_stderr();
    }
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
    let opts = ui::ConsoleOptions {
        cdr_url: cli.cdr_url.clone(),
        tz: cli.tz.clone(),
        as_user: cli.as_user.clone(),
        db_url: cli.db_url.clone(),
    };
    if cli.engine {
        return engine(&config, cli.db_url.as_deref());
    }
    if cli.as_user.is_some() && matches!(cli.command, Some(Command::Cdr { .. } | Command::Kpi(_))) {
        anyhow::bail!(
            "--as-user before the command is the console's; put it after: switchboard cdr export --as-user NAME (or kpi --as-user NAME)"
        );
    }
    // The console and the history and campaign commands attach when a
    // daemon's socket is there (or was named); else they run direct.
    let target = commands::services::Target::choose(
        cli.direct,
        cli.connect.is_some(),
        config.serve.socket_path(cli.connect.as_deref()),
    );
    match cli.command {
        Some(Command::CheckConfig) => {
            println!("{}", sanitize::escape(&config_origin(&cli)));
            check_config(&config)
        }
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
            // A recording that never got past the login holds no PBX data.
            Ok(if done.logged_in {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some(Command::Cdr {
            command: CdrCommand::Export(args),
        }) => {
            let rt = runtime()?;
            if let Some(rows) = rt.block_on(history::cdr_export(&config, &target, args))? {
                eprintln!("exported {rows} rows");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Kpi(args)) => {
            let rt = runtime()?;
            rt.block_on(history::kpi(&config, &target, args))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Act(args)) => {
            let rt = runtime()?;
            rt.block_on(commands::supervise::act(&config, &target, args))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Audit(args)) => {
            let rt = runtime()?;
            rt.block_on(commands::supervise::audit(&config, &target, args))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Campaign(args)) => {
            let rt = runtime()?;
            Ok(ExitCode::from(rt.block_on(commands::campaign::run(
                &config, &target, args,
            ))?))
        }
        Some(Command::Replay {
            file,
            speed,
            headless,
            stats,
            dump_state,
        }) => {
            let speed = capture::Speed::parse(&speed)?;
            let reader = capture::open(&file)?;
            if headless {
                let (state, s, error) =
                    capture::headless::run_replay(capture::Replay::from_reader(reader));
                if stats {
                    println!("{}", sanitize::json(&s)?);
                }
                if dump_state {
                    println!("{}", sanitize::json_pretty(&Snapshot::of(&state))?);
                }
                if let Some(e) = error {
                    anyhow::bail!("capture {}: {e}", file.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let rt = runtime()?;
            let direct = config.direct_console(&opts)?;
            rt.block_on(ui::run_replay(config.console(), direct, file, speed))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve {
            command: None,
            replay,
            speed,
        }) => {
            use switchboard::serve::daemon::Feed;
            let feed = match replay {
                Some(file) => Feed::Replay {
                    file,
                    speed: capture::Speed::parse(&speed)?,
                },
                None => Feed::Live(config.pbx_links(&pbx::resync::actions()?)?),
            };
            let socket = config.serve.socket_path(cli.connect.as_deref());
            let rt = runtime()?;
            rt.block_on(serve(config.daemon()?, feed, socket))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve {
            command: Some(ServeCommand::Status),
            ..
        }) => {
            let socket = config.serve.socket_path(cli.connect.as_deref());
            let rt = runtime()?;
            let list = rt.block_on(switchboard::serve::status::consoles(&socket))?;
            print!("{}", switchboard::serve::status::table(&list));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve {
            command: Some(ServeCommand::Snapshot { timeout, pbx }),
            ..
        }) => {
            let socket = config.serve.socket_path(cli.connect.as_deref());
            let rt = runtime()?;
            let state = rt.block_on(switchboard::serve::status::view(
                &socket,
                Duration::from_secs(timeout),
                pbx.as_deref(),
            ))?;
            println!("{}", sanitize::json_pretty(&Snapshot::of(&state))?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let rt = runtime()?;
            if let commands::services::Target::Daemon(socket) = target {
                rt.block_on(ui::run_attached(config.console(), socket))?;
                return Ok(ExitCode::SUCCESS);
            }
            let links = config.pbx_links(&pbx::resync::actions()?)?;
            let direct = config.direct_console(&opts)?;
            rt.block_on(ui::run_live(config.console(), direct, links))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `serve`: the daemon, until SIGTERM or SIGINT.
async fn serve(
    settings: switchboard::serve::daemon::DaemonSettings,
    feed: switchboard::serve::daemon::Feed,
    socket: PathBuf,
) -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    switchboard::serve::daemon::Daemon {
        settings,
        feed,
        socket,
    }
    .run(shutdown)
    .await
}

/// `--engine`: dials until SIGTERM or SIGINT, then drains.
fn engine(config: &Config, db_url: Option<&str>) -> anyhow::Result<ExitCode> {
    use switchboard::dialer::engine::Engine;
    let mut ari = config.ari_settings()?;
    let mut settings = config.engine_settings();
    // The engine paces queue campaigns by the agents its AMI link shows.
    settings.ami = match config.engine_ami_settings(pbx::resync::actions()?) {
        Ok(ami) => Some(ami),
        Err(e) => {
            tracing::warn!(
                "no AMI link for the engine ({}): queue campaigns will not dial",
                sanitize::escape(&e.to_string())
            );
            None
        }
    };
    // One Stasis app per engine: Asterisk gives an app's events to one
    // WebSocket, so engines sharing a name would lose each other's calls.
    ari.app = format!("{}-{}", ari.app, settings.id);
    let rt = runtime()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let url = config.db_url(db_url)?;
        let waited = tokio::select! {
            db = open_app_db_patiently(url.expose()) => Some(db),
            _ = term.recv() => None,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(db) = waited else {
            return anyhow::Ok(());
        };
        tracing::info!(engine = %settings.id, db = %db.url(), ari = %ari.base, "engine starting");
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        Engine::new(db, ari, settings)?.run(shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the app database, waiting for it as long as it takes: at boot the
/// database may come up after the engine. Each failure is logged (escaped,
/// rate-limited) and shown in systemd's status, and systemd's start timeout
/// is extended while the engine waits.
async fn open_app_db_patiently(url: &str) -> switchboard::dialer::store::AppDb {
    use switchboard::dialer::store::AppDb;
    let mut backoff =
        switchboard::backoff::Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
    let mut said = logging::RateLimit::new(Duration::from_secs(30));
    loop {
        match AppDb::open(url).await {
            Ok(db) => return db,
            Err(e) => {
                let why = sanitize::escape(&e.to_string()).into_owned();
                if let Some(held) = said.allow(std::time::Instant::now()) {
                    tracing::warn!(
                        held_back = held,
                        "app database not reachable, waiting: {why}"
                    );
                }
                let status = format!("waiting for the app database: {why}");
                let wait = backoff.next_delay();
                let _ = sd_notify::notify(&[
                    sd_notify::NotifyState::Status(&status),
                    sd_notify::NotifyState::ExtendTimeoutUsec(
                        u32::try_from((wait + Duration::from_secs(10)).as_micros())
                            .unwrap_or(u32::MAX),
                    ),
                ]);
                tokio::time::sleep(wait).await;
            }
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
    config.pbx_links(&[])?;
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
    // A PBX's own CDR source: its URL file checked like [cdr]'s.
    let mut cdr_of_others = Vec::new();
    for p in &config.pbx {
        if let Some(own) = &p.cdr {
            own.url(None).map_err(|e| {
                switchboard::config::ConfigError::new(
                    &format!("pbx.{}.{}", p.name, e.key),
                    e.message,
                )
            })?;
            cdr_of_others.push(p.name.as_str());
        }
    }
    let cdr = if cdr_of_others.is_empty() {
        cdr.to_string()
    } else {
        format!("{cdr}; CDRs of {} configured", cdr_of_others.join(", "))
    };
    let links: Vec<String> = config
        .pbxs()
        .iter()
        .map(|(name, ami)| {
            let at = format!("{}@{}:{}", ami.username, ami.host, ami.port);
            if config.pbx.is_empty() {
                at
            } else {
                format!("{name} {at}")
            }
        })
        .collect();
    let line = format!(
        "config OK: AMI {}, theme {}, keymap {}, PBX time zone {tz}, {cdr}, {} ACL user(s)",
        links.join(", "),
        config.ui.theme,
        config.ui.keymap,
        config.acl.users.len()
    );
    println!("{}", sanitize::escape(&line));
    // The engine dials through [ari] and paces by one PBX's agents: the two
    // must be the same Asterisk. With several PBXs, an [ari] host that is
    // another PBX's AMI host is a mistake worth saying.
    let engine_pbx = config.engine_pbx();
    let ari_elsewhere = config
        .pbxs()
        .iter()
        .any(|(name, ami)| *name != engine_pbx.0 && ami.host == config.ari.host);
    if ari_elsewhere && engine_pbx.1.host != config.ari.host {
        let warning = format!(
            "warning: the engine dials through [ari] host {} but paces by the agents of PBX {} (AMI host {}); set [dialer] pbx to the PBX [ari] reaches",
            config.ari.host, engine_pbx.0, engine_pbx.1.host
        );
        eprintln!("{}", sanitize::escape(&warning));
    }
    Ok(ExitCode::SUCCESS)
}
