//! Several `gitintent serve` processes on one PostgreSQL database: a plan
//! made on one is read, listed and proposed on the other; the same plan
//! proposed on both at once is proposed once; a replica killed mid-plan is
//! recovered by the other, which carries on; every step leaves audit rows.
//! Each test has its own database; without `GITINTENT_TEST_POSTGRES_URL`
//! they are skipped with a note (`.ci/run` always sets it). `faults.rs`:
//! start-up and mid-request store faults; `commits.rs`: who service commits
//! are by and why a proposal was not pushed.

mod commits;
mod faults;
mod process;

use std::time::Duration;

use gitintent::serve::Store as _;
use serde_json::{json, Value};

use crate::util::fake_llm::{FakeLlm, Reply as Llm};
use crate::util::service::{client, send, web_spec, Gitops, Reply, ADMIN, PLANNER};
use process::{config, Db, Replica};

async fn plan(replica: &Replica, intent: &str) -> Reply {
    send(
        client()
            .post(replica.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&json!({ "intent": intent, "repo": "gitops" })),
    )
    .await
}

async fn get(replica: &Replica, path: &str) -> Reply {
    send(client().get(replica.url(path)).bearer_auth(ADMIN)).await
}

async fn propose(replica: &Replica, id: &str) -> Reply {
    send(
        client()
            .post(replica.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(PLANNER),
    )
    .await
}

fn events(db: &Db, id: &str) -> Vec<String> {
    db.with_store(|store| {
        store
            .audit(Some(id))
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect()
    })
}

/// Two replicas of one service on `db`, planning with the builtin planner.
async fn two(db: &Db, gitops: &Gitops, dir: &std::path::Path) -> (Replica, Replica) {
    let a = Replica::start(config(dir, "a", &db.url, &gitops.repository_block()));
    let b = Replica::start(config(dir, "b", &db.url, &gitops.repository_block()));
    tokio::join!(a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_on_one_replica_is_read_listed_and_proposed_on_the_other() {
    let Some(db) = Db::create("a_plan_made_on_one_replica_is_read_listed_and_proposed_on_the_other") else {
        return;
    };
    let gitops = Gitops::new();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two(&db, &gitops, dir.path()).await;
    let made = plan(&a, "Deploy memcached in staging").await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap().to_string();
    let read = get(&b, &format!("/v1/plans/{id}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json, made.json);
    let listed = get(&b, "/v1/plans").await;
    assert_eq!(listed.json["plans"][0]["id"], id.as_str(), "{}", listed.text);
    let proposed = propose(&b, &id).await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let branch = proposed.json["proposal"]["branch"].as_str().unwrap();
    assert!(gitops.remote_branches().contains(&branch.to_string()));
    assert!(proposed.json["proposal"]["pushed"].as_bool().unwrap());
    // A sees B's proposal.
    let after = get(&a, &format!("/v1/plans/{id}")).await;
    assert_eq!(after.json["status"], "proposed");
    assert_eq!(
        events(&db, &id),
        ["plan.requested", "plan.completed", "proposal.created"]
    );
    // No password in the start-up line, which names the store and the repositories.
    assert!(a.logged("serving").await);
    let log = a.log();
    let line = log
        .lines()
        .find(|l| l.contains("serving"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("postgres postgres://postgres:***@127.0.0.1"),
        "{line}"
    );
    assert!(line.contains("gitops"), "{line}");
    assert!(!log.contains(db.url.split('@').next().unwrap()), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_plan_proposed_on_two_replicas_at_once_is_proposed_once() {
    let Some(db) = Db::create("the_same_plan_proposed_on_two_replicas_at_once_is_proposed_once") else {
        return;
    };
    let gitops = Gitops::new();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two(&db, &gitops, dir.path()).await;
    for round in 0..3 {
        let made = plan(&a, &format!("Deploy nginx:1.27.{round} as web{round} in staging")).await;
        assert_eq!(made.status, 201, "{}", made.text);
        let id = made.json["id"].as_str().unwrap().to_string();
        let (x, y) = tokio::join!(propose(&a, &id), propose(&b, &id));
        let mut statuses = [x.status, y.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{} / {}", x.text, y.text);
        let refused = if x.status == 409 { &x } else { &y };
        assert_eq!(
            refused.json["error"]["code"], "already_proposed",
            "{}",
            refused.text
        );
        let events = events(&db, &id);
        assert_eq!(
            events.iter().filter(|e| *e == "proposal.created").count(),
            1,
            "{events:?}"
        );
    }
    // Three proposals on one repository from two replicas: three branches, none lost.
    assert_eq!(
        gitops
            .remote_branches()
            .iter()
            .filter(|b| b.starts_with("gitintent/"))
            .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_spread_over_two_replicas_are_listed_from_either() {
    let Some(db) = Db::create("plans_spread_over_two_replicas_are_listed_from_either") else {
        return;
    };
    let gitops = Gitops::new();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two(&db, &gitops, dir.path()).await;
    let mut made = Vec::new();
    for i in 0..20 {
        let replica = if i % 2 == 0 { &a } else { &b };
        let reply = plan(replica, &format!("Deploy nginx:1.27.{i} as web{i} in staging")).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        made.push(reply.json["id"].as_str().unwrap().to_string());
    }
    made.sort();
    for replica in [&a, &b] {
        let listed = get(replica, "/v1/plans?limit=50").await;
        let mut ids: Vec<String> = listed.json["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        assert_eq!(ids, made);
    }
    let requested = db.with_store(|store| {
        let trail = store.audit(None).unwrap();
        trail.into_iter().filter(|e| e.event == "plan.requested").count()
    });
    assert_eq!(requested, 20);
}

/// Polls `id` on `replica` until its status is `want` (bounded).
async fn wait_for(replica: &Replica, id: &str, want: &str) -> Value {
    for _ in 0..100 {
        let read = get(replica, &format!("/v1/plans/{id}")).await;
        if read.json["status"] == want {
            return read.json;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("plan {id} never became {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_plan_is_recovered_by_the_other_which_carries_on() {
    let Some(db) = Db::create("a_replica_killed_mid_plan_is_recovered_by_the_other") else {
        return;
    };
    let gitops = Gitops::new();
    // A's model: one slow answer (longer than the 3 s lease, renewed every second), then silence.
    let slow = Llm::spec(&web_spec(json!([]))).after(Duration::from_secs(5));
    let llm = FakeLlm::start([slow, Llm::Hang]).await;
    let dir = tempfile::tempdir().unwrap();
    let provider = format!(
        "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\n{}",
        llm.base_url(),
        gitops.repository_block()
    );
    let a = Replica::start(config(dir.path(), "a", &db.url, &provider)).await;
    let b = Replica::start(config(dir.path(), "b", &db.url, &gitops.repository_block())).await;
    // A live replica renews its lease: B leaves A's slow plan alone.
    let slow_plan = plan(&a, "Run the shop api in staging").await;
    assert_eq!(slow_plan.status, 201, "{}", slow_plan.text);
    assert_eq!(slow_plan.json["status"], "planned", "{}", slow_plan.text);
    // Now A dies while its model is thinking.
    let pending = send(
        client()
            .post(a.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .header("Prefer", "respond-async")
            .json(&json!({ "intent": "Run the shop api in staging", "repo": "gitops" })),
    )
    .await;
    assert_eq!(pending.status, 202, "{}", pending.text);
    let id = pending.json["id"].as_str().unwrap().to_string();
    while llm.request_count() < 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill();
    let failed = wait_for(&b, &id, "failed").await;
    assert_eq!(failed["error"]["code"], "interrupted", "{failed}");
    let trail = db.with_store(|store| store.audit(Some(&id)).unwrap());
    let recovered = trail.last().unwrap();
    assert_eq!(recovered.event, "plan.recovered");
    let detail: Value = serde_json::from_str(&recovered.detail).unwrap();
    assert_eq!(detail["from"], "pending");
    assert!(recovered.actor.starts_with("gitintent:"), "{}", recovered.actor);
    assert_ne!(
        detail["owner"].as_str().map(|o| format!("gitintent:{o}")),
        Some(recovered.actor.clone()),
        "recovered by the other replica"
    );
    assert!(b.logged("recovered a plan whose replica stopped").await);
    // B carries on.
    let next = plan(&b, "Deploy memcached in staging").await;
    assert_eq!(next.status, 201, "{}", next.text);
    let proposed = propose(&b, next.json["id"].as_str().unwrap()).await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    // The slow plan A finished is still there, proposable from B.
    let slow_id = slow_plan.json["id"].as_str().unwrap();
    assert_eq!(events(&db, slow_id), ["plan.requested", "plan.completed"]);
}
