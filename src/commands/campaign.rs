//! `campaign …`: campaigns and leads from the shell, for scripts. The work
//! is the campaigns service's (`service::campaigns`), the daemon's when
//! attached: the right to change campaigns and the audit rows are its.

use super::services::{self, DirectOptions, Services, Target};
use anyhow::Context;
use std::path::PathBuf;
use switchboard::dialer::campaign::CampaignDef;
use switchboard::dialer::store::EngineRow;
use switchboard::sanitize;
use switchboard::service::campaigns::{AppReply, AppRequest, CampaignStatus};
use switchboard::setup::Config;

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
    /// Change the pacing, running or not (the engine takes it within a
    /// second): the values given replace the campaign's `[pacing]` ones.
    Pace {
        /// Campaign name.
        name: String,
        /// Progressive, power or predictive.
        #[arg(long, value_enum)]
        mode: Option<SimMode>,
        /// Power: calls in flight per available agent (1.0 to 5.0).
        #[arg(long)]
        ratio: Option<f64>,
        /// The abandon cap, percent of live answers (at most 3.0).
        #[arg(long)]
        max_abandon_percent: Option<f64>,
    },
    /// Add numbers to the do-not-call list (every campaign).
    Dnc {
        /// Numbers.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
    /// Run a campaign file's pacing against a simulated floor (no database,
    /// no PBX): abandon rates, occupancy, connects per hour.
    Simulate(SimulateArgs),
}

/// `campaign simulate`.
#[derive(clap::Args, Debug)]
pub(crate) struct SimulateArgs {
    /// Campaign definition (its [pacing], max_concurrent, ring_timeout_s).
    file: PathBuf,
    /// Agents on duty through each shift.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=2000))]
    agents: u32,
    /// Mean handle time (talk and wrap-up), seconds. Optional with
    /// --fit (then the fitted talk time plus --wrapup).
    #[arg(long, required_unless_present = "fit")]
    aht: Option<f64>,
    /// Share of dials a person answers, 0 to 1 (0.3 for 30 %). Optional
    /// with --fit.
    #[arg(long, required_unless_present = "fit")]
    answer_rate: Option<f64>,
    /// Fit the answer rate, ring time and talk time from this campaign's
    /// attempts of the last 30 days in the app database (a figure given
    /// on the command line wins over its fit).
    #[arg(long, value_name = "CAMPAIGN")]
    fit: Option<String>,
    /// A person answers after a ring uniform in MIN-MAX seconds (default
    /// 3-15; with --fit, around the fitted mean).
    #[arg(long, value_name = "MIN-MAX", value_parser = ring_range)]
    ring: Option<(f64, f64)>,
    /// Share of answers an answering machine gives, 0 to 1 (default 0).
    /// With AMD (the file's [amd], or --amd-s) they are left out of the
    /// abandon rates; without, they count as people.
    #[arg(long, default_value_t = 0.0)]
    machine_rate: f64,
    /// How long AMD listens to each answer, seconds (default 3 when the
    /// file has [amd]; giving it turns AMD on).
    #[arg(long)]
    amd_s: Option<f64>,
    /// With --fit: seconds of wrap-up added to the fitted talk time (the
    /// queue's wrapuptime), since attempts record talk only.
    #[arg(long, default_value_t = 0.0, requires = "fit")]
    wrapup: f64,
    /// Shift length, hours.
    #[arg(long, default_value_t = 8.0)]
    hours: f64,
    /// Days simulated (the worst 30-day window needs 30 or more).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    days: u32,
    /// Seed: the same seed gives the same figures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Try another mode than the file's.
    #[arg(long, value_enum)]
    mode: Option<SimMode>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ReadFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum SimMode {
    /// One call in flight per available agent.
    Progressive,
    /// The file's ratio of calls per available agent.
    Power,
    /// Adapted to the statistics, within the abandon target.
    Predictive,
}

/// `--ring MIN-MAX`: seconds, 0 ≤ MIN ≤ MAX ≤ 300.
fn ring_range(v: &str) -> Result<(f64, f64), String> {
    let parsed = v
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
    match parsed {
        Some((lo, hi)) if (0.0..=hi).contains(&lo) && hi <= 300.0 => Ok((lo, hi)),
        _ => Err(format!(
            "`{v}`: use MIN-MAX seconds, like 3-15 (0 to 300, MIN at most MAX)"
        )),
    }
}

/// The figures `campaign simulate --fit NAME` reads from the app
/// database (through the daemon when attached): `None` without --fit.
///
/// Errors: the campaign does not exist, the database fails, or it holds
/// too few attempts to fit (the message says how many and what to give
/// instead).
async fn fitted(
    config: &Config,
    target: &Target,
    direct: &DirectOptions<'_>,
    a: &SimulateArgs,
) -> anyhow::Result<Option<switchboard::dialer::pacing::Stats>> {
    let Some(name) = a.fit.clone() else {
        return Ok(None);
    };
    let mut s = services::open(config, target, direct).await?;
    match s.ask_app(AppRequest::Fit { id: 1, name }).await? {
        AppReply::Fitted {
            name,
            dials,
            stats: Some(st),
            ..
        } => {
            eprintln!(
                "fitted from {dials} dials of `{}` (30 days): answer rate {:.1} %, ring {:.1} s, talk {:.1} s",
                sanitize::escape(&name),
                st.answer_rate * 100.0,
                st.ring_to_answer_s,
                st.handle_s
            );
            Ok(Some(st))
        }
        AppReply::Fitted { name, dials, .. } => anyhow::bail!(
            "--fit {}: {dials} dials in 30 days, or none an agent took: too few to fit (at least {}); give --aht and --answer-rate instead",
            sanitize::escape(&name),
            switchboard::dialer::pacing::stats::MIN_DIALS
        ),
        _ => anyhow::bail!("the campaigns service answered something else"),
    }
}

impl SimMode {
    /// The pacing mode it names.
    fn mode(self) -> switchboard::dialer::pacing::Mode {
        use switchboard::dialer::pacing::Mode;
        match self {
            SimMode::Progressive => Mode::Progressive,
            SimMode::Power => Mode::Power,
            SimMode::Predictive => Mode::Predictive,
        }
    }
}

/// Runs `campaign simulate`, with `fit` (from [`fitted`]) filling the
/// figures not given.
///
/// Errors: the file cannot be read or is not a valid campaign, or a figure
/// is out of range (the message names it).
fn simulate(
    a: SimulateArgs,
    fit: Option<switchboard::dialer::pacing::Stats>,
) -> anyhow::Result<()> {
    use switchboard::dialer::simulate::{Model, run};
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let mut def =
        CampaignDef::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    if !(a.wrapup.is_finite() && (0.0..=3600.0).contains(&a.wrapup)) {
        anyhow::bail!("--wrapup {}: use 0 to 3600 seconds", a.wrapup);
    }
    // clap makes --aht and --answer-rate required without --fit.
    let aht = a.aht.or(fit.map(|f| f.handle_s + a.wrapup)).unwrap_or(0.0);
    let answer_rate = a.answer_rate.or(fit.map(|f| f.answer_rate)).unwrap_or(0.0);
    if !(aht.is_finite() && (1.0..=7200.0).contains(&aht)) {
        anyhow::bail!("--aht {aht}: use 1 to 7200 seconds");
    }
    if !(answer_rate > 0.0 && answer_rate <= 1.0) {
        anyhow::bail!("--answer-rate {answer_rate}: use more than 0 and at most 1 (0.3 for 30 %)");
    }
    // A fitted mean ring time m: rings uniform in m/2 to 3m/2.
    let ring_s = a.ring.unwrap_or_else(|| {
        fit.map(|f| f.ring_to_answer_s.max(0.5))
            .map_or((3.0, 15.0), |m| (m / 2.0, m * 1.5))
    });
    if !(0.0..=1.0).contains(&a.machine_rate) {
        anyhow::bail!(
            "--machine-rate {}: use 0 to 1 (0.2 for 20 %)",
            a.machine_rate
        );
    }
    let amd_s = a.amd_s.or(def.amd.as_ref().map(|_| 3.0));
    if let Some(s) = amd_s
        && !(0.5..=10.0).contains(&s)
    {
        anyhow::bail!("--amd-s {s}: use 0.5 to 10 seconds");
    }
    if !(a.hours > 0.0 && a.hours <= 24.0) {
        anyhow::bail!("--hours {}: use more than 0 and at most 24", a.hours);
    }
    if let Some(m) = a.mode {
        def.pacing.mode = m.mode();
    }
    let model = Model {
        agents: a.agents,
        aht_s: aht,
        answer_rate,
        ring_s,
        hours: a.hours,
        days: a.days,
        seed: a.seed,
        machine_rate: a.machine_rate,
        amd_s,
    };
    let r = run(&def.pacing, def.max_concurrent, def.ring_timeout_s, &model);
    match a.format {
        ReadFormat::Json => println!("{}", serde_json::to_string(&r)?),
        ReadFormat::Text => {
            println!(
                "{:?}, {} agents, {} days of {} h (seed {})",
                r.mode, r.agents, r.days, a.hours, a.seed
            );
            println!(
                "abandon rate {:.2} % (worst 24 h {:.2} %, worst 30 days {:.2} %; cap {} %)",
                r.abandon_percent,
                r.worst_24h_percent,
                r.worst_30_day_percent,
                def.pacing.max_abandon_percent
            );
            println!(
                "occupancy {:.1} %, idle {:.0} s per agent-hour",
                r.occupancy_percent, r.idle_s_per_agent_hour
            );
            println!(
                "{:.0} dials and {:.0} connects per hour, {:.2} connects per agent-hour",
                r.dials_per_hour, r.connects_per_hour, r.connects_per_agent_hour
            );
            println!(
                "{} dials, {} live answers, {} connects, {} drops, {} machines",
                r.dials, r.live_answers, r.connects, r.drops, r.machines
            );
        }
    }
    Ok(())
}

fn summary(cs: &CampaignStatus) -> serde_json::Value {
    let (c, p) = (&cs.row, &cs.progress);
    serde_json::json!({
        "name": c.name,
        "status": c.status,
        "acked_status": c.acked_status,
        "acked_by": c.acked_by,
        "acked_at": c.acked_at,
        "progress": p,
        "answer_rate": p.answer_rate(),
        "abandons": cs.abandons,
        "abandon_percent": cs.abandons.and_then(|a| a.percent()),
    })
}

fn text_line(cs: &CampaignStatus) -> String {
    let (c, p) = (&cs.row, &cs.progress);
    let ack = if c.acked_status == c.status {
        String::new()
    } else {
        format!(" (engine: {})", c.acked_status)
    };
    // The regulator's figure: drops over live answers in its window.
    let window = match c.def.pacing.regime.window_s() / 3600 {
        24 => "24 h".to_string(),
        h => format!("{} days", h / 24),
    };
    let abandoned = match cs.abandons {
        Some(a) => match a.percent() {
            Some(pct) => format!(
                " abandoned {pct:.1} % ({} of {} live answers, {window})",
                a.drops, a.answers
            ),
            None => format!(" abandoned - (no live answer in {window})"),
        },
        None => String::new(),
    };
    // AMD's machines, left out of the rate above.
    let machines = match (cs.abandons, &c.def.amd) {
        (Some(a), Some(amd)) => match a.machine_percent() {
            Some(pct) if amd.false_positive_percent > 0.0 => format!(
                " machines {pct:.1} % ({} of {} answers; {:.1} % of them counted as abandoned people)",
                a.machines,
                a.machines + a.answers,
                amd.false_positive_percent
            ),
            Some(pct) => format!(
                " machines {pct:.1} % ({} of {} answers)",
                a.machines,
                a.machines + a.answers
            ),
            None => " machines -".into(),
        },
        _ => String::new(),
    };
    format!(
        "{:<24} {:<8}{ack} total {} pending {} dialing {} answered {} failed {} dnc {} exhausted {} unknown {} live {}{abandoned}{machines}",
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

/// Runs `campaign …` on `target`'s services; returns the process exit
/// code (1 when an import found bad rows).
pub(crate) async fn run(config: &Config, target: &Target, a: CampaignArgs) -> anyhow::Result<u8> {
    let direct = DirectOptions {
        db_url: a.db_url.as_deref(),
        ..DirectOptions::default()
    };
    let command = match a.command {
        // The simulator needs neither the app database nor a login,
        // unless it fits its figures from past attempts.
        CampaignCommand::Simulate(s) => {
            let fit = fitted(config, target, &direct, &s).await?;
            simulate(s, fit)?;
            return Ok(0);
        }
        command => command,
    };
    let mut s = services::open(config, target, &direct).await?;
    let id = 1;
    match command {
        CampaignCommand::Simulate(_) => {}
        CampaignCommand::Apply { file } => {
            let text = String::from_utf8(services::read(&file)?)
                .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", file.display()))?;
            let source = file.display().to_string();
            if let AppReply::Applied {
                name,
                created,
                note,
                ..
            } = s.ask_app(AppRequest::Apply { id, source, text }).await?
            {
                if let Some(note) = note {
                    eprintln!("note: {}", sanitize::escape(&note));
                }
                let what = if created {
                    "created (stopped)"
                } else {
                    "updated"
                };
                eprintln!("campaign `{}` {what}", sanitize::escape(&name));
            }
        }
        CampaignCommand::Import { name, file } => {
            let csv = services::read(&file)?.into();
            let source = file.display().to_string();
            let req = AppRequest::Import {
                id,
                name,
                source,
                csv,
            };
            match s.ask_app(req).await? {
                AppReply::Imported { message, .. } => println!("{}", sanitize::escape(&message)),
                AppReply::ImportRejected {
                    source,
                    errors,
                    count,
                    ..
                } => {
                    for e in &errors {
                        eprintln!("{}", sanitize::escape(&format!("{source}: {e}")));
                    }
                    let listed = if count > errors.len() {
                        format!(" (the first {} listed)", errors.len())
                    } else {
                        String::new()
                    };
                    eprintln!(
                        "{}: {count} bad rows{listed}; nothing was imported (fix them and import again)",
                        sanitize::escape(&source)
                    );
                    return Ok(1);
                }
                _ => {}
            }
        }
        CampaignCommand::List { format } => {
            for c in snapshot(&mut s).await?.0 {
                match format {
                    ReadFormat::Json => println!("{}", summary(&c)),
                    ReadFormat::Text => {
                        println!("{}", sanitize::escape(&text_line(&c)))
                    }
                }
            }
        }
        CampaignCommand::Status { name, format } => {
            let (campaigns, engines) = snapshot(&mut s).await?;
            let c = campaigns
                .iter()
                .find(|c| c.row.name == name)
                .ok_or_else(|| {
                    anyhow::anyhow!("no campaign `{name}`; `switchboard campaign list` shows them")
                })?;
            match format {
                ReadFormat::Json => {
                    let mut v = summary(c);
                    v["engines"] = serde_json::to_value(&engines)?;
                    println!("{v}");
                }
                ReadFormat::Text => {
                    println!("{}", sanitize::escape(&text_line(c)));
                    let now = chrono::Utc::now().timestamp_millis();
                    for e in engines {
                        let line = format!(
                            "engine {}: {} (heartbeat {} s ago)",
                            e.id,
                            e.state,
                            (now - e.heartbeat_at) / 1000
                        );
                        println!("{}", sanitize::escape(&line));
                    }
                }
            }
        }
        CampaignCommand::Start { name } => set(&mut s, name, "running").await?,
        CampaignCommand::Pause { name } => set(&mut s, name, "paused").await?,
        CampaignCommand::Stop { name } => set(&mut s, name, "stopped").await?,
        CampaignCommand::Pace {
            name,
            mode,
            ratio,
            max_abandon_percent,
        } => {
            let change = switchboard::dialer::pacing::PaceChange {
                mode: mode.map(SimMode::mode),
                ratio,
                max_abandon_percent,
            };
            if let AppReply::Applied { name, note, .. } =
                s.ask_app(AppRequest::Pace { id, name, change }).await?
            {
                if let Some(note) = note {
                    eprintln!("note: {}", sanitize::escape(&note));
                }
                eprintln!("campaign `{}`: pacing changed", sanitize::escape(&name));
            }
        }
        CampaignCommand::Dnc { numbers } => {
            if let AppReply::DncAdded { count, .. } =
                s.ask_app(AppRequest::Dnc { id, numbers }).await?
            {
                eprintln!("{count} numbers on the do-not-call list");
            }
        }
    }
    Ok(0)
}

/// Every campaign with its progress, and the engines.
async fn snapshot(s: &mut Services) -> anyhow::Result<(Vec<CampaignStatus>, Vec<EngineRow>)> {
    match s.ask_app(AppRequest::Refresh { id: 1 }).await? {
        AppReply::Snapshot {
            campaigns, engines, ..
        } => Ok((campaigns, engines)),
        _ => anyhow::bail!("the campaigns service answered something else"),
    }
}

async fn set(s: &mut Services, name: String, status: &str) -> anyhow::Result<()> {
    let req = AppRequest::SetStatus {
        id: 1,
        name,
        status: status.into(),
    };
    if let AppReply::Asked { name, status, .. } = s.ask_app(req).await? {
        eprintln!(
            "campaign `{}`: {} requested; the engine acknowledges within a second",
            sanitize::escape(&name),
            sanitize::escape(&status)
        );
    }
    Ok(())
}
