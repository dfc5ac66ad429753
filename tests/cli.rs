//! The binary as a user meets it: check-config, headless replay output, keymap
//! and theme printing, and the error messages for wrong input.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lab-queues.cap");

/// Runs switchboard with its config folder in `home` (never the user's).
fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("HOME", home)
        .env_remove("SWITCHBOARD_AMI_SECRET")
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("SWITCHBOARD_DB_URL")
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .unwrap_or_else(|e| panic!("switchboard: {e}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/")))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn check_config_names_the_wrong_key() {
    let h = home();
    let cfg = h.path().join("c.toml");
    write(&cfg, "[ami]\nhost = \"pbx\"\nprot = 5038\n", 0o644);
    let o = run(
        h.path(),
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("c.toml") && e.contains("prot"), "{e}");
}

/// A second PBX's own CDR source is checked like `[cdr]`'s: a URL file
/// others can read is refused, naming the PBX's key.
#[test]
fn check_config_checks_each_pbxs_cdr_source() {
    let h = home();
    let secret = h.path().join("ami-secret");
    write(&secret, "s3cret\n", 0o600);
    let url = h.path().join("lyon-cdr-url");
    write(&url, "sqlite:///tmp/lyon.db\n", 0o644);
    let cfg = h.path().join("c.toml");
    let text = format!(
        "[[pbx]]\nname = \"paris\"\nami = {{ secret_file = \"{s}\" }}\n[[pbx]]\nname = \"lyon\"\nami = {{ secret_file = \"{s}\" }}\ncdr = {{ url_file = \"{u}\" }}\n",
        s = secret.display(),
        u = url.display()
    );
    write(&cfg, &text, 0o644);
    let check = || {
        run(
            h.path(),
            &["--config", cfg.to_str().unwrap_or(""), "check-config"],
        )
    };
    let o = check();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("pbx.lyon.cdr.url_file"),
        "{}",
        stderr(&o)
    );
    std::fs::set_permissions(&url, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let o = check();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("CDRs of lyon configured"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// `check-config` with an AMI secret file holding `text` with `mode`.
fn check_config_with_secret(home: &Path, text: &str, mode: u32) -> Output {
    let secret = home.join("secret");
    write(&secret, text, mode);
    let cfg = home.join("c.toml");
    write(
        &cfg,
        &format!("[ami]\nsecret_file = \"{}\"\n", secret.display()),
        0o644,
    );
    run(
        home,
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    )
}

#[test]
fn check_config_refuses_a_secret_file_others_can_read() {
    let h = home();
    let o = check_config_with_secret(h.path(), "s3cret\n", 0o644);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains("ami.secret_file") && e.contains("chmod 600"),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "the secret was printed: {e}");
    let o = check_config_with_secret(h.path(), "s3cret\n", 0o600);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("s3cret"));
}

#[test]
fn check_config_without_any_secret_says_where_to_put_one() {
    let fresh = home();
    let o = run(fresh.path(), &["check-config"]);
    assert!(
        stderr(&o).contains("no config file at") && stderr(&o).contains("config.toml"),
        "a fresh account's error says where switchboard looked: {}",
        stderr(&o)
    );
    let h = home();
    let o = run(h.path(), &["check-config"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains("SWITCHBOARD_AMI_SECRET") && e.contains("secret_file"),
        "{e}"
    );
}

#[test]
fn headless_stats_are_one_json_object() {
    let h = home();
    let o = run(
        h.path(),
        &["replay", FIXTURE, "--headless", "--speed", "max", "--stats"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["events"], 2248);
    assert_eq!(v["bytes"], 881_743);
    assert!(v["seconds"].as_f64().is_some_and(|s| s > 0.0));
    assert!(
        v["events_per_second"]
            .as_f64()
            .is_some_and(|r| r > 10_000.0)
    );
}

#[test]
fn dump_state_has_queues_members_callers_channels_and_extensions() {
    let h = home();
    let o = run(h.path(), &["replay", FIXTURE, "--headless", "--dump-state"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    let sales = v["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "sales"))
        .cloned();
    let sales = sales.unwrap_or_else(|| panic!("no sales queue in {v}"));
    let eve = sales["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["interface"] == "Local/205@agents/n"))
        .cloned();
    let eve = eve.unwrap_or_else(|| panic!("no Local/205 member"));
    assert_eq!(eve["name"], "Eve Lindqvist");
    assert_eq!(
        (eve["paused"].clone(), eve["paused_reason"].clone()),
        (true.into(), "Lunch".into())
    );
    assert!(eve["calls_taken"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(sales["callers"][0]["position"], 1);
    assert_eq!(sales["callers"][0]["caller_name"], "José Núñez");
    assert!(v["channel_count"].as_u64().is_some_and(|n| n > 0));
    let offline = v["extensions"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["device"] == "PJSIP/305"))
        .cloned();
    assert_eq!(offline.map(|e| e["state"].clone()), Some("Offline".into()));
}

#[test]
fn printing_keymaps_and_theme_items() {
    let h = home();
    let o = run(h.path(), &["--print-keymap"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[list]") && out.contains("Sort by next column"),
        "{out}"
    );
    let o = run(h.path(), &["--keymap", "vim", "--print-keymap"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("k, ↑"));
    let o = run(h.path(), &["--print-theme-items"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("state.ringing") && out.contains("ramp.crit"),
        "{out}"
    );
}

#[test]
fn a_user_keymap_with_a_duplicate_is_refused_by_name() {
    let h = home();
    let km = h.path().join("config/switchboard/keymaps/mine.toml");
    write(
        &km,
        "inherits = \"default\"\n[list]\nsort_next = [\"p\"]\nbottom = [\"p\"]\n",
        0o644,
    );
    let o = run(h.path(), &["--keymap", "mine", "--print-keymap"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(e.contains("duplicate key binding `p` in [list]"), "{e}");
    let o = run(h.path(), &["--theme", "nope", "--print-theme-items"]);
    assert!(stderr(&o).contains("theme `nope` not found"));
}

#[test]
fn wrong_replay_input_is_explained() {
    let h = home();
    let o = run(h.path(), &["replay", FIXTURE, "--speed", "fast"]);
    assert!(stderr(&o).contains("--speed `fast`"), "{}", stderr(&o));
    let bad = h.path().join("cut.cap");
    write(
        &bad,
        "switchboard-ami-capture 1\nstart_ms 1\n0 999\nEvent: X\n",
        0o644,
    );
    let o = run(
        h.path(),
        &[
            "replay",
            bad.to_str().unwrap_or(""),
            "--headless",
            "--stats",
        ],
    );
    let e = stderr(&o);
    assert!(e.contains("cut.cap") && e.contains("byte 37"), "{e}");
    let o = run(h.path(), &["replay", "/nonexistent.cap", "--headless"]);
    assert!(stderr(&o).contains("/nonexistent.cap"));
}

#[test]
fn check_config_checks_cdr_settings_when_present() {
    let h = home();
    let secret = h.path().join("secret");
    write(&secret, "s3cret\n", 0o600);
    let url = h.path().join("cdr-url");
    write(&url, "mysql://cdr:pw@db/asteriskcdrdb\n", 0o644);
    let cfg = h.path().join("c.toml");
    let text = format!(
        "[ami]\nsecret_file = \"{}\"\n[cdr]\nurl_file = \"{}\"\ntime_zone = \"Mars/Olympus\"\n",
        secret.display(),
        url.display()
    );
    write(&cfg, &text, 0o644);
    let o = run(
        h.path(),
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    );
    assert!(
        stderr(&o).contains("cdr.time_zone") && stderr(&o).contains("Mars/Olympus"),
        "{}",
        stderr(&o)
    );
    write(&cfg, &text.replace("Mars/Olympus", "Europe/Paris"), 0o644);
    let o = run(
        h.path(),
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    );
    let e = stderr(&o);
    assert!(
        e.contains("cdr.url_file") && e.contains("chmod 600") && !e.contains("pw@"),
        "{e}"
    );
    std::fs::set_permissions(&url, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        h.path(),
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Europe/Paris"));
}

#[test]
fn campaigns_from_the_shell_on_the_embedded_database() {
    let h = home();
    let camp = h.path().join("spring.toml");
    write(
        &camp,
        "name = \"spring\"\ndial = \"PJSIP/{number}@trunk\"\ncaller_id = \"\\\"Renewals\\\" <5551000>\"\ndestination = { extension = \"201\" }\n",
        0o644,
    );
    let o = run(
        h.path(),
        &["campaign", "apply", camp.to_str().unwrap_or_default()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        h.path().join("data/switchboard/switchboard.db").exists(),
        "the default app database is a SQLite file in the data folder"
    );
    // Every bad line is named, and nothing is imported.
    let bad = h.path().join("bad.csv");
    write(
        &bad,
        "number,name\n5551230,Ann\n555-CALL,Bob\n12,Cy\n5551231,\"Smith, John\"\n",
        0o644,
    );
    let o = run(
        h.path(),
        &[
            "campaign",
            "import",
            "spring",
            bad.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("line 3: number `555-CALL`"), "{err}");
    assert!(err.contains("line 4: number `12`: too short"), "{err}");
    assert!(err.contains("2 bad rows; nothing was imported"), "{err}");
    let o = run(
        h.path(),
        &["campaign", "status", "spring", "--format", "json"],
    );
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    assert_eq!(v["progress"]["total"], 0, "all or nothing");
    let good = h.path().join("good.csv");
    write(
        &good,
        "Phone,Name\n5551230,Ann\n5551230,Ann\n+1 555 123 9999,Bob\n",
        0o644,
    );
    let o = run(
        h.path(),
        &[
            "campaign",
            "import",
            "spring",
            good.to_str().unwrap_or_default(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("imported 2 leads into `spring`; skipped 1 duplicates"),
        "{}",
        stderr(&o)
    );
    let o = run(h.path(), &["campaign", "start", "spring"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(h.path(), &["campaign", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (v["status"].as_str(), v["acked_status"].as_str()),
        (Some("running"), Some("stopped"))
    );
    // Wrong definitions name the key.
    write(
        &camp,
        "name = \"spring\"\ndial = \"PJSIP/5551234@trunk\"\ncaller_id = \"x\"\ndestination = { extension = \"201\" }\n",
        0o644,
    );
    let o = run(
        h.path(),
        &["campaign", "apply", camp.to_str().unwrap_or_default()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("dial `PJSIP/5551234@trunk`"),
        "{}",
        stderr(&o)
    );
    // A user without campaign rights is refused, naming the config line.
    let me = uzers::get_current_username()
        .and_then(|n| n.into_string().ok())
        .unwrap_or_else(|| panic!("this test's uid has no name"));
    let cfg = h.path().join("config/switchboard/config.toml");
    write(
        &cfg,
        &format!(
            "[acl.users.someone-else]\nrole = \"admin\"\n[acl.users.{me}]\nrole = \"supervisor\"\nextensions = [\"201\"]\n"
        ),
        0o644,
    );
    let o = run(h.path(), &["campaign", "stop", "spring"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("may not change campaigns"),
        "{}",
        stderr(&o)
    );
}

/// `switchboard kpi --by queue` over queue_log `log` for day `from` in zone
/// `tz`, in `format`: its output (the command must succeed).
fn queue_kpis(home: &Path, log: &Path, from: &str, tz: &str, format: &str) -> String {
    let o = run(
        home,
        &[
            "kpi",
            "--by",
            "queue",
            "--queue-log",
            log.to_str().unwrap_or(""),
            "--from",
            from,
            "--tz",
            tz,
            "--format",
            format,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn kpi_csv_cells_are_formula_neutralised() {
    let h = home();
    let log = h.path().join("queue_log");
    write(
        &log,
        "1795253073|c1|=HYPERLINK(\"x\")|NONE|ENTERQUEUE||5550100|1\n\
         1795253075|c1|=HYPERLINK(\"x\")|Desk 301|CONNECT|2|c2|0\n\
         1795253080|c1|=HYPERLINK(\"x\")|Desk 301|COMPLETECALLER|2|5|1\n",
        0o644,
    );
    let out = queue_kpis(h.path(), &log, "2026-11-21", "UTC", "csv");
    assert!(out.contains("'=HYPERLINK"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with('=')), "{out}");
}

/// 2026-09-06 has no local midnight in America/Santiago (clocks go from
/// 00:00 −04 to 01:00 −03): the day starts at its first valid time, 04:00
/// UTC, so a call at 23:30 the evening before is not counted in it.
#[test]
fn a_day_without_a_midnight_starts_at_its_first_valid_time() {
    let h = home();
    let log = h.path().join("queue_log");
    // 09-05 23:30 −04; 09-06 01:30 −03; 09-06 23:30 −03; 09-07 00:30 −03.
    write(
        &log,
        "1788665400|a|sales|NONE|ENTERQUEUE||5550001|1\n\
         1788669000|b|sales|NONE|ENTERQUEUE||5550002|1\n\
         1788748200|c|sales|NONE|ENTERQUEUE||5550003|1\n\
         1788751800|d|sales|NONE|ENTERQUEUE||5550004|1\n",
        0o644,
    );
    let offered = |from: &str| {
        let out = queue_kpis(h.path(), &log, from, "America/Santiago", "json");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        v["offered"].as_u64()
    };
    assert_eq!(offered("2026-09-05"), Some(1));
    assert_eq!(offered("2026-09-06"), Some(2));
    assert_eq!(offered("2026-09-07"), Some(1));
}

#[test]
fn secrets_with_line_breaks_or_blanks_and_absurd_values_are_refused() {
    let h = home();
    for (text, what) in [("abc\ndef\n", "line break"), ("abc  \n", "spaces")] {
        let o = check_config_with_secret(h.path(), text, 0o600);
        let e = stderr(&o);
        assert!(!o.status.success() && e.contains(what), "{text:?}: {e}");
        assert!(!e.contains("abc"), "the secret was printed: {e}");
    }
    let cfg = h.path().join("config.toml");
    write(
        &cfg,
        "[ami]\nping_timeout_s = 18446744073709551615\n",
        0o644,
    );
    let o = run(
        h.path(),
        &["--config", cfg.to_str().unwrap_or(""), "check-config"],
    );
    assert!(stderr(&o).contains("ami.ping_timeout_s"), "{}", stderr(&o));
    let o = run(
        h.path(),
        &["replay", FIXTURE, "--speed", "1e-300", "--headless"],
    );
    assert!(!o.status.success() && stderr(&o).contains("--speed"));
}

#[test]
fn dump_state_never_prints_raw_controls_or_bidi_and_means_the_same() {
    let h = home();
    let cap = h.path().join("hostile.cap");
    let name = "Evil\u{9b}2J\u{202E}gnp.exe\u{200B}";
    write(
        &cap,
        &format!(
            "Event: QueueCallerJoin\r\nQueue: sa\u{202E}les\r\nUniqueid: 1.1\r\nChannel: Local/1@x\r\nPosition: 1\r\nCallerIDName: {name}\r\n\r\n"
        ),
        0o644,
    );
    let o = run(
        h.path(),
        &[
            "replay",
            cap.to_str().unwrap_or(""),
            "--headless",
            "--dump-state",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for bad in ['\u{9b}', '\u{202E}', '\u{200B}', '\x1b'] {
        assert!(!text.contains(bad), "U+{:04X} printed raw", bad as u32);
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["queues"][0]["callers"][0]["caller_name"], name);
}

/// The simulator needs no database: the same seed gives the same figures,
/// progressive never drops, predictive connects more within the cap, and a
/// wrong figure is named.
#[test]
fn campaign_simulate_compares_modes_without_a_database() {
    let h = home();
    let camp = h.path().join("sim.toml");
    write(
        &camp,
        "name = \"sim\"\ndial = \"PJSIP/{number}@trunk\"\ncaller_id = \"5551000\"\ndestination = { queue = \"sales\" }\nmax_concurrent = 200\n[pacing]\nmode = \"predictive\"\n",
        0o644,
    );
    let file = camp.to_str().unwrap_or_default();
    let sim = |extra: &[&str]| {
        let mut args = vec![
            "campaign",
            "simulate",
            file,
            "--agents",
            "20",
            "--aht",
            "180",
            "--answer-rate",
            "0.3",
            "--days",
            "31",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = run(h.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap_or_else(|e| panic!("{e}"))
    };
    let predictive = sim(&["--seed", "5"]);
    assert_eq!(sim(&["--seed", "5"]), predictive, "same seed, same figures");
    // Answering machines heard by AMD are counted apart, not as people.
    let amd = sim(&["--seed", "5", "--machine-rate", "0.3", "--amd-s", "3"]);
    assert!(amd["machines"].as_u64().is_some_and(|m| m > 0), "{amd}");
    assert!(
        amd["live_answers"].as_u64() < predictive["live_answers"].as_u64(),
        "{amd}"
    );
    assert_eq!(predictive["machines"], 0, "{predictive}");
    let progressive = sim(&["--seed", "5", "--mode", "progressive"]);
    assert_eq!(progressive["drops"], 0, "{progressive}");
    let per_hour = |v: &serde_json::Value| v["connects_per_agent_hour"].as_f64().unwrap_or(0.0);
    assert!(
        per_hour(&predictive) > per_hour(&progressive),
        "{predictive} vs {progressive}"
    );
    assert!(
        predictive["worst_30_day_percent"]
            .as_f64()
            .is_some_and(|v| v <= 3.0),
        "{predictive}"
    );
    assert!(
        !h.path().join("data/switchboard/switchboard.db").exists(),
        "no app database was opened"
    );
    let o = run(
        h.path(),
        &[
            "campaign",
            "simulate",
            file,
            "--agents",
            "20",
            "--aht",
            "180",
            "--answer-rate",
            "30",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--answer-rate 30"), "{}", stderr(&o));
}

/// `campaign simulate --fit` takes the answer rate, ring time and talk time
/// from the campaign's attempts in the app database (a real SQLite file):
/// 30 dials, 12 answered after 6 s, 9 of those talked 120 s; a figure on
/// the command line wins over its fit, and a campaign with too few dials
/// is refused with what to give instead.
#[tokio::test]
async fn campaign_simulate_fits_its_figures_from_past_attempts() {
    use switchboard::dialer::outcome::Outcome;
    let h = home();
    let url = format!("sqlite://{}?mode=rwc", h.path().join("app.db").display());
    let db = switchboard::dialer::store::AppDb::open(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let camp = h.path().join("sim.toml");
    let text = "name = \"sim\"\ndial = \"PJSIP/{number}@trunk\"\ncaller_id = \"5551000\"\ndestination = { queue = \"sales\" }\nmax_concurrent = 200\n";
    write(&camp, text, 0o644);
    let def =
        switchboard::dialer::campaign::CampaignDef::parse(text).unwrap_or_else(|e| panic!("{e}"));
    for name in ["sim", "new"] {
        let def = switchboard::dialer::campaign::CampaignDef {
            name: name.into(),
            ..def.clone()
        };
        db.apply(&def, "test")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let csv: String = std::iter::once("number\n".to_string())
        .chain((0..30).map(|i| format!("5551{i:06}\n")))
        .collect();
    let leads =
        switchboard::dialer::import::parse(csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    db.import("sim", leads, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = db
        .campaign("sim")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let t0 = chrono::Utc::now().timestamp_millis() - 600_000;
    let calls = db
        .claim(id, "e", 30, t0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(calls.len(), 30);
    for (i, call) in calls.iter().enumerate() {
        let a = &call.attempt_id;
        let ok =
            |r: Result<(), switchboard::dialer::DialerError>| r.unwrap_or_else(|e| panic!("{e}"));
        ok(db.originated(a, t0).await);
        let end = if i < 12 {
            ok(db.answered(a, t0 + 6_000).await);
            if i < 9 {
                ok(db.agent(a, "Local/201@agents/n", t0 + 6_500).await);
                t0 + 126_500
            } else {
                t0 + 8_000
            }
        } else {
            t0 + 25_000
        };
        let outcome = if i < 12 {
            Outcome::Answered
        } else {
            Outcome::NoAnswer
        };
        ok(db.finish(a, outcome, Some(16), &def, end).await);
    }
    drop(db);
    let file = camp.to_str().unwrap_or_default();
    let sim = |extra: &[&str]| {
        let mut args = vec![
            "campaign", "--db-url", &url, "simulate", file, "--agents", "20", "--days", "2",
            "--format", "json",
        ];
        args.extend_from_slice(extra);
        run(h.path(), &args)
    };
    let o = sim(&["--fit", "sim", "--wrapup", "10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "fitted from 30 dials of `sim` (30 days): answer rate 40.0 %, ring 6.0 s, talk 120.0 s"
        ),
        "{}",
        stderr(&o)
    );
    let fitted: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    // A given figure wins over the fit: fewer answers, fewer connects.
    let o = sim(&["--fit", "sim", "--wrapup", "10", "--answer-rate", "0.1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let given: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    let answers = |v: &serde_json::Value| v["live_answers"].as_u64().unwrap_or(0);
    assert!(
        answers(&given) > 0 && answers(&given) < answers(&fitted),
        "{given} vs {fitted}"
    );
    let o = sim(&["--fit", "new"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--fit new: 0 dials")
            && stderr(&o).contains("give --aht and --answer-rate"),
        "{}",
        stderr(&o)
    );
    // Without --fit the figures are required.
    let o = sim(&[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--aht"), "{}", stderr(&o));
    // The ring time can be set; a backwards range is named.
    let set = sim(&["--aht", "120", "--answer-rate", "0.4", "--ring", "1-2"]);
    assert!(set.status.success(), "{}", stderr(&set));
    let o = sim(&["--aht", "120", "--answer-rate", "0.4", "--ring", "5-2"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("`5-2`: use MIN-MAX"), "{}", stderr(&o));
}

/// `campaign pace` changes a campaign's pacing in the app database (a real
/// SQLite file) while it runs, keeps what it does not name, and refuses a
/// value out of range with the key's name and a change of nothing.
#[tokio::test]
async fn campaign_pace_changes_the_pacing_of_a_running_campaign() {
    use switchboard::dialer::pacing::Mode;
    let h = home();
    let url = format!("sqlite://{}?mode=rwc", h.path().join("app.db").display());
    let db = switchboard::dialer::store::AppDb::open(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let def = switchboard::dialer::campaign::CampaignDef::parse(
        "name = \"spring\"\ndial = \"PJSIP/{number}@trunk\"\ncaller_id = \"5551000\"\ndestination = { queue = \"sales\" }\n[pacing]\nmax_abandon_percent = 2.5\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    db.apply(&def, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.set_status("spring", "running", "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pace = |extra: &[&str]| {
        let mut args = vec!["campaign", "--db-url", &url, "pace", "spring"];
        args.extend_from_slice(extra);
        run(h.path(), &args)
    };
    let o = pace(&["--mode", "power", "--ratio", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("campaign `spring`: pacing changed"),
        "{}",
        stderr(&o)
    );
    let row = db
        .campaign("spring")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            row.def.pacing.mode,
            row.def.pacing.ratio,
            row.def.pacing.max_abandon_percent
        ),
        (Mode::Power, 2.0, 2.5)
    );
    assert_eq!(row.status, "running", "pacing a campaign does not stop it");
    let o = pace(&["--max-abandon-percent", "5"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("pacing.max_abandon_percent 5"),
        "{}",
        stderr(&o)
    );
    let o = pace(&[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothing to change"), "{}", stderr(&o));
}
