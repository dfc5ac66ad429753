//! `campaign …`: campaigns and leads from the shell, for scripts. The work
//! is in the library's `dialer` module.

use anyhow::Context;
use std::path::PathBuf;
use switchboard::config::Config;
use switchboard::dialer::campaign::CampaignDef;
use switchboard::dialer::store::{AppDb, CampaignRow, Progress};

#[derive(clap::Args, Debug)]
pub(crate) struct CampaignArgs {
    /// App database URL (sqlite://, mysql://, mariadb://, postgres://).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_DB_URL",
        hide_env_values = true
    )]
    db_url: Option<String>,
    #[command(subcommand)]
    command: CampaignCommand,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub(crate) enum ReadFormat {
    /// Aligned text.
    #[default]
    Text,
    /// JSON (one object per campaign).
    Json,
}

#[derive(clap::Subcommand, Debug)]
enum CampaignCommand {
    /// Create or update a campaign from a TOML file (its status is kept).
    Apply {
        /// Campaign definition.
        file: PathBuf,
    },
    /// Import leads from CSV (a `number` column; other columns kept as data): all or nothing.
    Import {
        /// Campaign name.
        name: String,
        /// CSV file with a header row.
        file: PathBuf,
    },
    /// Every campaign with its status and progress.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: ReadFormat,
    },
    /// One campaign: status, acknowledgement, progress, engines.
    Status {
        /// Campaign name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: ReadFormat,
    },
    /// Start (or resume) dialing.
    Start {
        /// Campaign name.
        name: String,
    },
    /// No new dials; live calls go on.
    Pause {
        /// Campaign name.
        name: String,
    },
    /// No new dials; live calls are hung up.
    Stop {
        /// Campaign name.
        name: String,
    },
    /// Add numbers to the do-not-call list (every campaign).
    Dnc {
        /// Numbers.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

/// Opens the app database the config and flags name.
pub(crate) async fn open(config: &Config, cli: Option<&str>) -> anyhow::Result<AppDb> {
    let url = config.db_url(cli)?;
    Ok(AppDb::open(url.expose()).await?)
}

fn summary(c: &CampaignRow, p: &Progress) -> serde_json::Value {
    serde_json::json!({
        "name": c.name,
        "status": c.status,
        "acked_status": c.acked_status,
        "acked_by": c.acked_by,
        "acked_at": c.acked_at,
        "progress": p,
        "answer_rate": p.answer_rate(),
    })
}

fn text_line(c: &CampaignRow, p: &Progress) -> String {
    let ack = if c.acked_status == c.status {
        String::new()
    } else {
        format!(" (engine: {})", c.acked_status)
    };
    format!(
        "{:<24} {:<8}{ack} total {} pending {} dialing {} answered {} failed {} dnc {} exhausted {} unknown {} live {}",
        c.name,
        c.status,
        p.total,
        p.pending,
        p.dialing,
        p.answered,
        p.failed,
        p.dnc,
        p.exhausted,
        p.unknown,
        p.live
    )
}

/// Runs `campaign …`; returns the process exit code (1 when an import
/// found bad rows).
pub(crate) async fn run(config: &Config, a: CampaignArgs) -> anyhow::Result<u8> {
    let login = switchboard::cdr::acl::login(&config.acl, None)?;
    let db = open(config, a.db_url.as_deref()).await?;
    match a.command {
        CampaignCommand::Apply { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let def = CampaignDef::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let created = db.apply(&def, &login).await?;
            eprintln!(
                "campaign `{}` {}",
                def.name,
                if created {
                    "created (stopped)"
                } else {
                    "updated"
                }
            );
        }
        CampaignCommand::Import { name, file } => {
            db.campaign(&name).await?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match switchboard::dialer::import::parse(std::io::BufReader::new(input)) {
                Ok(parsed) => {
                    let r = db.import(&name, parsed, &login).await?;
                    println!(
                        "imported {} leads into `{name}`; skipped {} duplicates and {} on the do-not-call list",
                        r.imported, r.duplicates, r.dnc
                    );
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    eprintln!(
                        "{}: {} bad rows; nothing was imported (fix them and import again)",
                        file.display(),
                        errors.len()
                    );
                    return Ok(1);
                }
            }
        }
        CampaignCommand::List { format } => {
            for c in db.campaigns().await? {
                let p = db.progress(c.id).await?;
                match format {
                    ReadFormat::Json => println!("{}", summary(&c, &p)),
                    ReadFormat::Text => println!("{}", text_line(&c, &p)),
                }
            }
        }
        CampaignCommand::Status { name, format } => {
            let c = db.campaign(&name).await?;
            let p = db.progress(c.id).await?;
            let engines = db.engines().await?;
            match format {
                ReadFormat::Json => {
                    let mut v = summary(&c, &p);
                    v["engines"] = serde_json::to_value(&engines)?;
                    println!("{v}");
                }
                ReadFormat::Text => {
                    println!("{}", text_line(&c, &p));
                    let now = chrono::Utc::now().timestamp_millis();
                    for e in engines {
                        println!(
                            "engine {}: {} (heartbeat {} s ago)",
                            e.id,
                            e.state,
                            (now - e.heartbeat_at) / 1000
                        );
                    }
                }
            }
        }
        CampaignCommand::Start { name } => set(&db, config, &name, "running", &login).await?,
        CampaignCommand::Pause { name } => set(&db, config, &name, "paused", &login).await?,
        CampaignCommand::Stop { name } => set(&db, config, &name, "stopped", &login).await?,
        CampaignCommand::Dnc { numbers } => {
            let mut clean = Vec::new();
            for n in &numbers {
                clean.push(
                    switchboard::dialer::number::normalize(n)
                        .map_err(|e| anyhow::anyhow!("number `{n}`: {e}"))?,
                );
            }
            db.add_dnc(&clean, &login).await?;
            eprintln!("{} numbers on the do-not-call list", clean.len());
        }
    }
    Ok(0)
}

async fn set(
    db: &AppDb,
    config: &Config,
    name: &str,
    status: &str,
    login: &str,
) -> anyhow::Result<()> {
    if !switchboard::cdr::acl::may_control_campaigns(&config.acl, login) {
        anyhow::bail!(
            "`{login}` may not start, pause or stop campaigns; an admin sets campaigns = true in [acl.users.{login}]"
        );
    }
    db.set_status(name, status, login).await?;
    eprintln!("campaign `{name}`: {status} requested; the engine acknowledges within a second");
    Ok(())
}
