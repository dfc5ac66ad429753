//! Claim latency with 1,000,000 pending leads in each backend: one claim of
//! 10 leads (select, mark dialing, insert attempts, commit), median and 99th
//! percentile of 300. Run: scripts/bench-dialer (it creates the databases
//! and sets BENCH_DB_URLS).

use std::time::Instant;
use switchboard::dialer::campaign::CampaignDef;
use switchboard::dialer::store::AppDb;

const LEADS: u32 = 1_000_000;

/// Fills campaign 1 with `LEADS` pending leads in one statement.
async fn fill(url: &str) {
    use sqlx::Executor;
    let q = |sql: String| sqlx::AssertSqlSafe(sql);
    let cols = "INSERT INTO leads (campaign_id, number, data, state, attempts, next_attempt_at, updated_at)";
    if url.starts_with("sqlite:") {
        let p = sqlx::SqlitePool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        p.execute(q(format!(
            "{cols} WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {LEADS}) \
             SELECT 1, '555' || printf('%07d', i), '{{}}', 'pending', 0, 0, 0 FROM s"
        )))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    } else if url.starts_with("mysql:") {
        let p = sqlx::MySqlPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        p.execute(q(format!(
            "{cols} SELECT 1, CONCAT('555', LPAD(seq, 7, '0')), '{{}}', 'pending', 0, 0, 0 FROM seq_1_to_{LEADS}"
        )))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    } else {
        let p = sqlx::PgPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        p.execute(q(format!(
            "{cols} SELECT 1, '555' || lpad(i::text, 7, '0'), '{{}}', 'pending', 0, 0, 0 FROM generate_series(1, {LEADS}) i; ANALYZE leads"
        )))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::main]
async fn main() {
    let Ok(urls) = std::env::var("BENCH_DB_URLS") else {
        eprintln!("claim bench: run it through scripts/bench-dialer (needs the lab's databases)");
        return;
    };
    for url in urls.split_whitespace() {
        let backend = url.split(':').next().unwrap_or("?");
        let db = AppDb::open(url).await.unwrap_or_else(|e| panic!("{e}"));
        let def = CampaignDef::parse(
            "name = \"claims\"\ndial = \"Local/{number}@customers\"\ncaller_id = \"x\"\ndestination = { queue = \"sales\" }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        db.apply(&def, "bench")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let id = db
            .campaign("claims")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .id;
        let start = Instant::now();
        fill(url).await;
        let filled = start.elapsed();
        let now = chrono::Utc::now().timestamp_millis();
        let mut t = Vec::new();
        for _ in 0..300 {
            let s = Instant::now();
            let got = db
                .claim(id, "bench", 10, now)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            t.push(s.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(got.len(), 10);
        }
        t.sort_by(f64::total_cmp);
        println!(
            "claim 10 of {LEADS} leads, {backend}: median {:.2} ms, p99 {:.2} ms (filled in {:.1} s)",
            t[t.len() / 2],
            t[t.len() * 99 / 100],
            filled.as_secs_f64()
        );
    }
}
