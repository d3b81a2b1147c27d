//! The store suite, run against both backends: SQLite in a temporary
//! directory, PostgreSQL in a fresh database of the cluster
//! `GITINTENT_TEST_POSTGRES_URL` names (`.ci/run` starts one; without it the
//! PostgreSQL half is skipped with a note on stderr).

use std::time::Duration;

use super::*;

fn record(id: &str, repo: &str, created: i64) -> PlanRecord {
    PlanRecord {
        environment: Some("staging".into()),
        ..PlanRecord::pending(id, repo, "ci", "deploy redis", created)
    }
}

fn event(name: &str, plan: &str) -> AuditEvent {
    AuditEvent {
        event: name.into(),
        actor: "ci".into(),
        plan_id: Some(plan.into()),
        detail: "{}".into(),
        at_ms: 5,
    }
}

fn lease(name: &str) -> Lease {
    Lease::new(Some(name), Duration::from_secs(60))
}

/// A throwaway database: its URL, raw SQL on it, dropped at the end.
pub(crate) struct PgDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

/// `url` with its database replaced by `name`.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    let cut = base.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs `work` with a client of the database at `url`, on a runtime of its own.
fn on_client<T>(url: &str, work: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        let task = tokio::spawn(conn);
        let out = work(&client).await;
        drop(client);
        let _ = task.await;
        out
    })
}

fn admin_sql(url: &str, sql: &str) {
    on_client(url, async |client| client.batch_execute(sql).await.unwrap());
}

impl PgDb {
    /// A new database, or `None` (with a note) when no cluster is configured.
    pub(crate) fn create(test: &str) -> Option<PgDb> {
        let Ok(admin) = std::env::var("GITINTENT_TEST_POSTGRES_URL") else {
            eprintln!("skipped the PostgreSQL half of {test}: GITINTENT_TEST_POSTGRES_URL is not set (.ci/run sets it)");
            return None;
        };
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!("gi_unit_{}", hex::encode(bytes));
        admin_sql(&admin, &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin, &name);
        Some(PgDb { admin, name, url })
    }

    pub(crate) fn sql(&self, sql: &str) {
        admin_sql(&self.url, sql);
    }

    /// Raw SQL that must fail; its error text.
    fn sql_err(&self, sql: &str) -> String {
        on_client(&self.url, async |client| {
            let e = client.batch_execute(sql).await.expect_err(sql);
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_default()
        })
    }

    /// The integer a one-row query returns.
    fn count(&self, sql: &str) -> i64 {
        on_client(&self.url, async |client| {
            client.query_one(sql, &[]).await.unwrap().get(0)
        })
    }

    fn open(&self, name: &str) -> PostgresStore {
        PostgresStore::open(&self.url, lease(name), PostgresOptions::default()).unwrap()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The suite body for one backend: `open(owner)` opens another handle on
/// the same database; `raw` runs SQL there and returns whether it succeeded.
fn round_trip_and_filter(store: &dyn Store) {
    store.insert_plan(&record("a", "platform", 1)).unwrap();
    store.insert_plan(&record("b", "other", 2)).unwrap();
    let mut a = store.get_plan("a").unwrap().unwrap();
    a.status = Status::Planned;
    a.spec = Some(
        serde_json::from_value(serde_json::json!({"environment": "staging", "namespace": "cache",
            "components": [], "changes": [], "assumptions": [], "questions": []}))
        .unwrap(),
    );
    a.attempts = 2;
    store.update_plan(&a).unwrap();
    assert_eq!(store.get_plan("a").unwrap().unwrap(), a);
    assert!(store.get_plan("zzz").unwrap().is_none());
    let list = |f: Filter| -> Vec<String> {
        store
            .list_plans(&Filter { limit: 10, ..f })
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(list(Filter::default()), ["b", "a"]);
    let planned = list(Filter {
        status: Some(Status::Planned),
        ..Filter::default()
    });
    assert_eq!(planned, ["a"]);
    let repo = list(Filter {
        repo: Some("other".into()),
        ..Filter::default()
    });
    assert_eq!(repo, ["b"]);
    let mine = list(Filter {
        repos_allowed: Some(vec!["other".into()]),
        ..Filter::default()
    });
    assert_eq!(mine, ["b"]);
    let one = store
        .list_plans(&Filter {
            limit: 1,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(store.transition("a", Status::Planned, Status::Proposing).unwrap());
    assert!(!store.transition("a", Status::Planned, Status::Proposing).unwrap());
}

fn create_and_save_write_the_plan_and_its_event_together(store: &dyn Store) {
    store
        .create(&record("c", "platform", 1), &event("plan.requested", "c"))
        .unwrap();
    // A second create of the same id fails whole: no second event either.
    assert!(store
        .create(&record("c", "platform", 1), &event("plan.requested", "c"))
        .is_err());
    let mut c = store.get_plan("c").unwrap().unwrap();
    c.status = Status::Failed;
    store.save(&c, &event("plan.failed", "c")).unwrap();
    let events: Vec<String> = store
        .audit(Some("c"))
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["plan.requested", "plan.failed"]);
    assert_eq!(store.get_plan("c").unwrap().unwrap().status, Status::Failed);
    assert_eq!(store.audit(None).unwrap().len(), 2);
}

#[test]
fn sqlite_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("sub/gitintent.db")).unwrap();
    round_trip_and_filter(&store);
    create_and_save_write_the_plan_and_its_event_together(&store);
    assert!(store.describe().starts_with("sqlite "), "{}", store.describe());
    store.ping().unwrap();
}

#[test]
fn postgres_passes_the_store_suite() {
    let Some(db) = PgDb::create("postgres_passes_the_store_suite") else {
        return;
    };
    let store = db.open("a");
    round_trip_and_filter(&store);
    create_and_save_write_the_plan_and_its_event_together(&store);
    assert!(
        !store.describe().contains("gi-test-"),
        "no password: {}",
        store.describe()
    );
    store.ping().unwrap();
}

#[test]
fn the_sqlite_audit_trail_is_append_only_and_migrations_are_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.db");
    let store = SqliteStore::open(&path).unwrap();
    store.append_audit(&event("plan.requested", "a")).unwrap();
    assert_eq!(
        store.audit(Some("a")).unwrap(),
        vec![event("plan.requested", "a")]
    );
    let conn = store.conn();
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert!(conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
    drop(conn);
    drop(store);
    let again = SqliteStore::open(&path).unwrap();
    let versions: i64 = again
        .conn()
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, MIGRATIONS.len() as i64);
    again
        .conn()
        .execute("INSERT INTO schema_version VALUES (99, 0)", [])
        .unwrap();
    drop(again);
    let newer = SqliteStore::open(&path).err().expect("a newer schema is refused");
    let message = newer.to_string();
    assert!(
        message.contains("99") && message.contains(&MIGRATIONS.len().to_string()),
        "{message}"
    );
}

#[test]
fn the_postgres_audit_trail_is_append_only_and_migrations_are_recorded_once() {
    let Some(db) = PgDb::create("the_postgres_audit_trail_is_append_only") else {
        return;
    };
    let store = db.open("a");
    store.append_audit(&event("plan.requested", "a")).unwrap();
    assert_eq!(
        store.audit(Some("a")).unwrap(),
        vec![event("plan.requested", "a")]
    );
    for sql in [
        "UPDATE audit SET actor = 'x'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        assert_eq!(db.sql_err(sql), "the audit trail is append-only", "{sql}");
    }
    drop(store);
    // Two replicas starting together: the advisory lock lets one migrate.
    let url = db.url.clone();
    let starts: Vec<_> = (0..4)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                PostgresStore::open(&url, lease(&format!("r{i}")), PostgresOptions::default()).map(|_| ())
            })
        })
        .collect();
    for s in starts {
        s.join().unwrap().unwrap();
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM schema_version"),
        MIGRATIONS.len() as i64
    );
    db.sql("INSERT INTO schema_version VALUES (99, 0)");
    let newer = PostgresStore::open(&db.url, lease("b"), PostgresOptions::default())
        .err()
        .expect("a newer schema is refused");
    assert!(matches!(newer, Error::TooNew { found: 99, .. }), "{newer}");
    assert!(newer
        .to_string()
        .contains(&format!("this build's {}", MIGRATIONS.len())));
}

#[test]
fn postgres_recovery_leaves_live_leases_alone_and_audits_what_it_closes() {
    let Some(db) = PgDb::create("postgres_recovery") else {
        return;
    };
    let a = db.open("replica-a");
    let b = db.open("replica-b");
    a.create(&record("live", "platform", 1), &event("plan.requested", "live"))
        .unwrap();
    a.create(&record("dead", "platform", 2), &event("plan.requested", "dead"))
        .unwrap();
    let mut proposing = record("prop", "platform", 3);
    proposing.status = Status::Planned;
    a.insert_plan(&proposing).unwrap();
    assert!(a.transition("prop", Status::Planned, Status::Proposing).unwrap());
    assert_eq!(a.renew_leases().unwrap(), 3);
    assert!(b.recover_interrupted().unwrap().is_empty(), "A's leases are live");
    // A's replica dies: its leases run out (set back in time here).
    db.sql("UPDATE plans SET lease_until_ms = 0 WHERE id IN ('dead', 'prop')");
    let mut recovered = b.recover_interrupted().unwrap();
    recovered.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(recovered.len(), 2);
    assert_eq!(
        (recovered[0].id.as_str(), recovered[0].from),
        ("dead", Status::Pending)
    );
    assert_eq!(recovered[0].owner.as_deref(), Some(a.lease().owner()));
    assert_eq!(b.get_plan("dead").unwrap().unwrap().status, Status::Failed);
    assert_eq!(b.get_plan("prop").unwrap().unwrap().status, Status::Planned);
    assert_eq!(b.get_plan("live").unwrap().unwrap().status, Status::Pending);
    let events = b.audit(Some("dead")).unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event, "plan.recovered");
    assert!(last.actor.contains(b.lease().owner()), "{}", last.actor);
    assert!(b.recover_interrupted().unwrap().is_empty(), "recovered once");
}

#[test]
fn sqlite_recovery_closes_what_a_previous_process_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.db");
    let before = SqliteStore::open_with(&path, lease("before")).unwrap();
    before
        .create(&record("p", "platform", 1), &event("plan.requested", "p"))
        .unwrap();
    drop(before);
    let after = SqliteStore::open_with(&path, lease("after")).unwrap();
    let recovered = after.recover_interrupted().unwrap();
    assert_eq!(recovered.len(), 1);
    let plan = after.get_plan("p").unwrap().unwrap();
    assert_eq!(plan.status, Status::Failed);
    assert_eq!(plan.error.unwrap().code, "interrupted");
    assert_eq!(
        after.audit(Some("p")).unwrap().last().unwrap().event,
        "plan.recovered"
    );
}

#[test]
fn one_replica_at_a_time_holds_a_repository_lock() {
    let Some(db) = PgDb::create("one_replica_at_a_time_holds_a_repository_lock") else {
        return;
    };
    let a = db.open("a");
    let short = PostgresOptions {
        lock_wait: Duration::from_millis(300),
        ..PostgresOptions::default()
    };
    let b = PostgresStore::open(&db.url, lease("b"), short).unwrap();
    let held = a.lock_repo("platform").unwrap();
    assert!(matches!(b.lock_repo("platform"), Err(Error::Busy { .. })));
    let other = b.lock_repo("payments").expect("another repository is free");
    drop(other);
    drop(held);
    // The release runs on A's store runtime; B's bounded wait covers it.
    let again = b.lock_repo("platform").expect("released when dropped");
    drop(again);
    // Two transitions racing from two replicas: exactly one wins.
    let mut p = record("race", "platform", 1);
    p.status = Status::Planned;
    a.insert_plan(&p).unwrap();
    let (x, y) = std::thread::scope(|s| {
        let x = s.spawn(|| a.transition("race", Status::Planned, Status::Proposing).unwrap());
        let y = s.spawn(|| b.transition("race", Status::Planned, Status::Proposing).unwrap());
        (x.join().unwrap(), y.join().unwrap())
    });
    assert!(x ^ y, "one winner: {x} {y}");
}

#[test]
fn postgres_tls_follows_sslmode_and_verifies_the_server() {
    let Some(db) = PgDb::create("postgres_tls_follows_sslmode") else {
        return;
    };
    let Ok(ca) = std::env::var("GITINTENT_TEST_POSTGRES_CA") else {
        eprintln!("skipped postgres_tls_follows_sslmode: GITINTENT_TEST_POSTGRES_CA is not set");
        return;
    };
    let open = |query: &str| {
        PostgresStore::open(
            &format!("{}?{query}", db.url),
            lease("tls"),
            PostgresOptions::default(),
        )
    };
    let ssl_in_use = |store: &PostgresStore| -> bool {
        store
            .block(async {
                let client = store.client().await?;
                let row = client
                    .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
                    .await
                    .map_err(Error::Postgres)?;
                Ok(row.get::<_, bool>(0))
            })
            .unwrap()
    };
    let root = format!("sslrootcert={}", ca.replace('/', "%2F"));
    assert!(
        ssl_in_use(&open("sslmode=prefer").unwrap()),
        "encrypted, as libpq"
    );
    assert!(ssl_in_use(&open("sslmode=require").unwrap()));
    assert!(ssl_in_use(&open(&format!("sslmode=verify-ca&{root}")).unwrap()));
    assert!(ssl_in_use(&open(&format!("sslmode=verify-full&{root}")).unwrap()));
    assert!(!ssl_in_use(&open("sslmode=disable").unwrap()));
    // The system roots do not trust the test CA: verify-full fails, and says why.
    let untrusted = open("sslmode=verify-full&connect_timeout=2")
        .err()
        .expect("an unknown CA is refused");
    let chain = crate::serve::error::chain(&untrusted);
    assert!(chain.contains("certificate"), "{chain}");
}

#[test]
fn a_database_that_is_down_or_refuses_the_password_is_a_clear_error() {
    // Nothing listens on port 9 of loopback: unavailable, within the bound.
    let down = PostgresStore::open(
        "postgres://gi:pw@127.0.0.1:9/gitintent?connect_timeout=1",
        lease("x"),
        PostgresOptions::default(),
    )
    .err()
    .expect("down");
    assert!(down.is_unavailable(), "{down:?}");
    assert!(
        down.to_string()
            .contains("postgres://gi:***@127.0.0.1:9/gitintent"),
        "{down}"
    );
    let Some(db) = PgDb::create("a_database_that_refuses_the_password") else {
        return;
    };
    let wrong = db.url.replacen("://postgres:", "://postgres:wrong-", 1);
    let refused = PostgresStore::open(&wrong, lease("x"), PostgresOptions::default())
        .err()
        .expect("a wrong password is refused");
    assert!(
        matches!(refused, Error::Auth { ref user, .. } if user == "postgres"),
        "{refused:?}"
    );
    assert!(!refused.to_string().contains("wrong-"), "{refused}");
}

#[test]
fn store_urls_choose_the_backend_and_other_schemes_are_refused() {
    use std::path::PathBuf;
    let parse = |s: &str| Location::parse(s);
    assert_eq!(
        parse("/var/lib/gitintent/gitintent.db").unwrap(),
        Location::Sqlite(PathBuf::from("/var/lib/gitintent/gitintent.db"))
    );
    assert_eq!(
        parse("sqlite:///var/lib/g.db").unwrap(),
        Location::Sqlite(PathBuf::from("/var/lib/g.db"))
    );
    assert_eq!(
        parse("sqlite://rel.db").unwrap(),
        Location::Sqlite(PathBuf::from("rel.db"))
    );
    for url in ["postgres://gi@db:5432/gitintent", "postgresql://db/gitintent"] {
        assert_eq!(parse(url).unwrap(), Location::Postgres(url.into()));
    }
    for bad in ["mysql://db/x", "postgre://db/x", "redis://localhost"] {
        let e = parse(bad).expect_err(bad).to_string();
        assert!(e.contains("postgres://") && e.contains("sqlite://"), "{e}");
    }
    assert!(parse("sqlite://").is_err());
    assert_eq!(
        Location::Postgres("postgres://gi:pw@db/x".into()).redacted(),
        "postgres postgres://gi:***@db/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t1"),
        "postgres://u:p@h:1/t1?sslmode=disable"
    );
}
