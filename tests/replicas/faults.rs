//! The store at start-up and mid-request: an unknown URL scheme, a database
//! that is down, a wrong password, a schema from a newer release, and a
//! database that goes away while serving.

use serde_json::json;

use super::process::{config, sql, Db, Replica};
use crate::util::service::{client, send, Gitops, ADMIN};
use gitintent::serve::Store as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_store_scheme_or_a_database_that_is_down_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let gitops = Gitops::new();
    let unknown = config(
        dir.path(),
        "u",
        "mysql://gi@db/gitintent",
        &gitops.repository_block(),
    );
    let (code, log) = Replica::fail(unknown, vec![]).await;
    assert_eq!(code, Some(2), "{log}");
    assert!(
        log.contains("\"mysql\" is not supported") && log.contains("postgres://"),
        "{log}"
    );
    // Nothing listens on port 9: a clear error and exit 3 after the bounded wait,
    // and no local SQLite file under a directory named `postgres:` (the old behaviour).
    let down = "postgres://gi:pw@127.0.0.1:9/gitintent?connect_timeout=1";
    let cfg = config(dir.path(), "d", down, &gitops.repository_block());
    let started = std::time::Instant::now();
    let (code, log) = Replica::fail(cfg.clone(), vec![]).await;
    assert_eq!(code, Some(3), "{log}");
    assert!(log.contains("is unavailable"), "{log}");
    assert!(log.contains("postgres://gi:***@127.0.0.1:9"), "{log}");
    assert!(!log.contains(":pw@"), "{log}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(!dir.path().join("postgres:").exists());
    // GITINTENT_STORE chooses the backend too.
    let sqlite = dir.path().join("env.db").display().to_string();
    let (code, log) = Replica::fail(cfg, vec![("GITINTENT_STORE", format!("redis://{sqlite}"))]).await;
    assert_eq!(code, Some(2), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_a_newer_schema_stops_start_up() {
    let Some(db) = Db::create("a_wrong_password_or_a_newer_schema_stops_start_up") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let gitops = Gitops::new();
    let wrong = db.url.replacen("://postgres:", "://postgres:wrong-", 1);
    let (code, log) = Replica::fail(
        config(dir.path(), "w", &wrong, &gitops.repository_block()),
        vec![],
    )
    .await;
    assert_eq!(code, Some(3), "{log}");
    assert!(
        log.contains("refused the credentials of user \"postgres\""),
        "{log}"
    );
    assert!(!log.contains("wrong-"), "{log}");
    // A newer release migrated this database.
    db.with_store(|_| ());
    sql(&db.url, "INSERT INTO schema_version VALUES (42, 0)");
    let (code, log) = Replica::fail(
        config(dir.path(), "n", &db.url, &gitops.repository_block()),
        vec![],
    )
    .await;
    assert_eq!(code, Some(3), "{log}");
    assert!(log.contains("version 42, newer than this build's"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_mid_request_is_a_503_with_an_error_id_and_nothing_half_written() {
    let Some(db) = Db::create("a_database_that_goes_away_mid_request") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let gitops = Gitops::new();
    let replica = Replica::start(config(dir.path(), "a", &db.url, &gitops.repository_block())).await;
    db.accept_connections(false);
    let body = json!({ "intent": "Deploy memcached in staging", "repo": "gitops" });
    let refused = send(
        client()
            .post(replica.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&body),
    )
    .await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.json["error"]["code"], "store_unavailable");
    let error_id = refused.json["error"]["details"]["error_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        replica.logged(&error_id).await,
        "the cause is logged under the id"
    );
    let ready = send(client().get(replica.url("/readyz"))).await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    db.accept_connections(true);
    // Nothing was half-written, and the service works again.
    let (plans, trail) = db.with_store(|store| {
        let filter = gitintent::serve::store::Filter {
            limit: 10,
            ..Default::default()
        };
        (store.list_plans(&filter).unwrap(), store.audit(None).unwrap())
    });
    assert!(plans.is_empty() && trail.is_empty(), "{plans:?} {trail:?}");
    let made = send(
        client()
            .post(replica.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&body),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
}
