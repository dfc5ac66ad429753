//! `act` and `audit`: a supervisor action from the command line (the
//! console's `:` grammar, for scripts and runbooks), and the audit trail
//! exported as CSV or JSON lines. Attached, the daemon checks the
//! kernel-verified user's roles and acts with its AMI link; direct, this
//! process opens its own link (its rights are then a courtesy).

use super::services::{self, DirectOptions, Target};
use std::sync::Arc;
use std::time::Duration;
use switchboard::ami::{AmiMsg, ConnectionState};
use switchboard::service::campaigns::{AppReply, AppRequest};
use switchboard::service::supervise::{self, ActLink, ActReply, ActRequest};
use switchboard::setup::Config;

/// `switchboard act WORDS…`.
#[derive(clap::Args, Debug)]
pub(crate) struct ActArgs {
    /// The action as typed after `:` in the console, e.g. `pause PJSIP/301
    /// in sales Lunch`, `unpause PJSIP/301`, `add PJSIP/305 to support
    /// penalty 2`, `remove PJSIP/305 from support`, `penalty PJSIP/301 in
    /// sales 3`, `logoff PJSIP/301`, `hangup PJSIP/301-0000002a`,
    /// `transfer PJSIP/301-0000002a to queue:support`; `pbx:NAME` picks the
    /// PBX.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    words: Vec<String>,
}

/// Longest wait for a direct link to log in.
const LOGIN_DEADLINE: Duration = Duration::from_secs(15);

/// Runs one action; prints what Asterisk answered.
///
/// Errors: the words do not parse, the daemon or Asterisk cannot be
/// reached, or the action is refused or fails (its words).
pub(crate) async fn act(config: &Config, target: &Target, a: ActArgs) -> anyhow::Result<()> {
    let text = a.words.join(" ");
    let (mut worker, default_pbx) = match target {
        Target::Daemon(socket) => {
            let s = switchboard::serve::attach::services(socket).await?;
            let first = s.site.seen_pbxs.first().or(s.site.pbxs.first()).cloned();
            (Worker::Attached(Box::new(s)), first.unwrap_or_default())
        }
        Target::Direct => {
            let (link, first) = direct(config).await?;
            (Worker::Direct(link), first)
        }
    };
    let link = worker.link();
    let (pbx, act) = switchboard::supervise::command::parse(&text, &default_pbx)
        .map_err(|e| anyhow::anyhow!("act {}: {e}", switchboard::sanitize::escape(&text)))?;
    link.requests
        .send(ActRequest::Run { id: 1, pbx, act })
        .await
        .map_err(|_| anyhow::anyhow!("the actions service stopped before answering"))?;
    // The worker's own waits are bounded; this only guards a lost worker.
    let reply = tokio::time::timeout(supervise::ACT_DEADLINE * 4, link.replies.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no answer from the actions service"))?;
    match reply {
        Some(ActReply::Done { message, .. }) => {
            println!("{}", switchboard::sanitize::escape(&message));
            Ok(())
        }
        Some(ActReply::Refused { message, .. } | ActReply::Failed { message, .. }) => {
            anyhow::bail!("{}", switchboard::sanitize::escape(&message))
        }
        Some(ActReply::Privileges { .. }) | None => {
            anyhow::bail!("the actions service stopped before answering")
        }
    }
}

/// Where the act runs. Attached, every channel of the daemon's link is
/// kept open (the link ends when one of them closes).
enum Worker {
    Attached(Box<switchboard::serve::attach::Services>),
    Direct(ActLink),
}

impl Worker {
    fn link(&mut self) -> &mut ActLink {
        match self {
            Worker::Attached(s) => &mut s.act,
            Worker::Direct(link) => link,
        }
    }
}

/// A direct run's worker: this process's own AMI links, logged in.
async fn direct(config: &Config) -> anyhow::Result<(ActLink, String)> {
    let d = config.direct_console(&switchboard::ui::ConsoleOptions::default())?;
    let links = config.pbx_links(&[])?;
    let names: Vec<String> = links.iter().map(|(n, _)| n.clone()).collect();
    let mut started =
        switchboard::ami::fan_in::spawn_links(links.into_iter().map(|(_, s)| s).collect());
    let mut ready = vec![false; names.len()];
    let deadline = tokio::time::Instant::now() + LOGIN_DEADLINE;
    while ready.iter().any(|r| !r) {
        match tokio::time::timeout_at(deadline, started.ami.recv()).await {
            Ok(Some((i, AmiMsg::State(ConnectionState::Ready)))) => ready[i] = true,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                let down: Vec<&str> = names
                    .iter()
                    .zip(&ready)
                    .filter(|(_, r)| !**r)
                    .map(|(n, _)| n.as_str())
                    .collect();
                anyhow::bail!(
                    "AMI of {} not logged in within {LOGIN_DEADLINE:?}; `switchboard check-config` tests the link",
                    down.join(", ")
                );
            }
        }
    }
    // Keep the links' events flowing (nothing reads them here); the links
    // and this run until the process ends.
    let mut ami = started.ami;
    tokio::spawn(async move { while ami.recv().await.is_some() {} });
    let floor = supervise::Floor {
        links: names.iter().cloned().zip(started.handles).collect(),
        live: None,
        rule: d.extension_rule.clone(),
        actions: config.actions.clone(),
        audit_db: d.app_db.clone(),
        slot: Default::default(),
        privileges: Default::default(),
    };
    let who = supervise::Supervisor {
        login: d.login,
        rights: d.rights,
        visibility: d.visibility,
        pbx_scope: d.pbx_scope,
        phone: d.phone,
    };
    let first = names.first().cloned().unwrap_or_default();
    Ok((supervise::spawn(Arc::new(floor), who), first))
}

/// Output of `switchboard audit`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub(crate) enum AuditFormat {
    /// CSV with a header row.
    #[default]
    Csv,
    /// One JSON object per line.
    Json,
}

/// `switchboard audit`.
#[derive(clap::Args, Debug)]
pub(crate) struct AuditArgs {
    /// First day, YYYY-MM-DD in the PBX's time zone (default: every day).
    #[arg(long)]
    from: Option<String>,
    /// Last day included, YYYY-MM-DD.
    #[arg(long)]
    to: Option<String>,
    /// Only this user's rows (admins; others always get their own).
    #[arg(long)]
    user: Option<String>,
    /// Only this action (pause, unpause, add, remove, penalty, logoff,
    /// hangup, transfer, running, paused, stopped, apply, import, dnc…).
    #[arg(long)]
    action: Option<String>,
    /// At most this many rows, the newest.
    #[arg(long, default_value_t = 100_000)]
    limit: u32,
    /// csv or json.
    #[arg(long, value_enum, default_value_t)]
    format: AuditFormat,
}

/// Prints the audit trail's rows, oldest first.
///
/// Errors: a bad date, no app database, or a non-admin asking for another
/// user's rows.
pub(crate) async fn audit(config: &Config, target: &Target, a: AuditArgs) -> anyhow::Result<()> {
    let mut s = services::open(config, target, &DirectOptions::default()).await?;
    let start_of = |flag: &str, v: &str, plus_days: i64| -> anyhow::Result<i64> {
        let day = super::history::day(flag, v)? + chrono::Duration::days(plus_days);
        let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        Ok(switchboard::clock::local_to_utc(s.tz, local).timestamp_millis())
    };
    let query = switchboard::dialer::store::AuditQuery {
        from_ms: a
            .from
            .as_deref()
            .map(|v| start_of("--from", v, 0))
            .transpose()?,
        to_ms: a
            .to
            .as_deref()
            .map(|v| start_of("--to", v, 1))
            .transpose()?,
        login: a.user,
        action: a.action,
        limit: a.limit,
    };
    let AppReply::Audit { rows, .. } = s.ask_app(AppRequest::Audit { id: 1, query }).await? else {
        anyhow::bail!(
            "the app database answered something else; run the same version as the daemon"
        );
    };
    match a.format {
        AuditFormat::Json => {
            for r in &rows {
                println!("{}", switchboard::sanitize::json(r)?);
            }
        }
        AuditFormat::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "id", "at_utc", "login", "pbx", "action", "target", "detail", "result", "answer",
            ])?;
            for r in &rows {
                let at = chrono::DateTime::from_timestamp_millis(r.at)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                // Stored texts may come from Asterisk: cleaned for a terminal.
                let clean = |t: &str| switchboard::sanitize::clean(t).into_owned();
                out.write_record([
                    r.id.to_string(),
                    at,
                    clean(&r.login),
                    clean(&r.pbx),
                    clean(&r.action),
                    clean(&r.target),
                    clean(&r.detail),
                    clean(&r.result),
                    clean(&r.answer),
                ])?;
            }
            out.flush()?;
        }
    }
    Ok(())
}
