//! The same day-2 change through the HTTP API: planned, stored, proposed
//! and pushed; the pushed commit removes the app and unwires it.

use serde_json::json;

use super::{change_spec, MEMCACHED};
use crate::util::fake_llm::{FakeLlm, Reply};
use crate::util::service::{client, plan, send, token_blocks, Gitops, Service, ADMIN};

/// Commits memcached into the example repository's staging apps on `main`.
pub(super) fn with_memcached(gitops: &Gitops) {
    let work = gitops.work();
    let dir = work.join("clusters/staging/apps/memcached");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("deployment.yaml"), MEMCACHED).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n  - deployment.yaml\n",
    )
    .unwrap();
    let parent = work.join("clusters/staging/kustomization.yaml");
    let text = std::fs::read_to_string(&parent).unwrap();
    assert!(text.contains("resources: []\n"), "{text}");
    std::fs::write(
        &parent,
        text.replace("resources: []\n", "resources:\n  - apps/memcached\n"),
    )
    .unwrap();
    crate::util::tree::commit_all(&git2::Repository::open(&work).unwrap(), "memcached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_planned_over_http_is_proposed_and_pushed() {
    let gitops = Gitops::new();
    with_memcached(&gitops);
    let delete = change_spec(
        "staging",
        json!([{"operation": "delete", "target": "memcached", "kind": null, "set": null}]),
    );
    let llm = FakeLlm::start([Reply::spec(&delete)]).await;
    let provider = format!(
        "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\ndeadline-secs = 10\nmax-attempts = 3\n",
        llm.base_url()
    );
    let service = Service::start(&format!(
        "{provider}{}{}",
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": "remove memcached from staging", "repo": "gitops", "planner": "openai" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(&service, "Plan", &r.json).await;
    let deleted: Vec<&str> = r.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "deleted")
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        deleted,
        [
            "clusters/staging/apps/memcached/deployment.yaml",
            "clusters/staging/apps/memcached/kustomization.yaml"
        ]
    );
    let id = r.json["id"].as_str().unwrap();
    let made = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    conforms(&service, "ProposalResult", &made.json).await;
    let read = send(
        client()
            .get(service.url(&format!("/v1/plans/{id}")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(read.json["proposal"], made.json["proposal"]);
    conforms(&service, "Plan", &read.json).await;
    let list = send(client().get(service.url("/v1/plans")).bearer_auth(ADMIN)).await;
    conforms(&service, "PlanList", &list.json).await;
    let branch = made.json["proposal"]["branch"].as_str().unwrap();
    let remote = git2::Repository::open_bare(gitops.remote()).unwrap();
    let tree = remote
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_tree()
        .unwrap();
    assert!(tree
        .get_path(std::path::Path::new("clusters/staging/apps/memcached"))
        .is_err());
    let blob = tree
        .get_path(std::path::Path::new("clusters/staging/kustomization.yaml"))
        .unwrap()
        .to_object(&remote)
        .unwrap()
        .peel_to_blob()
        .unwrap();
    assert!(!std::str::from_utf8(blob.content()).unwrap().contains("memcached"));
}

/// `value` is valid against component `name` of the service's own
/// `/openapi.json` (whose component schemas are generated from the views).
async fn conforms(service: &Service, name: &str, value: &serde_json::Value) {
    let doc = send(client().get(service.url("/openapi.json"))).await.json;
    assert!(
        doc["components"]["schemas"][name].is_object(),
        "no component {name}"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{value:#}");
    // The schema has teeth: a status outside the enum does not pass.
    if value.get("status").is_some() {
        let mut wrong = value.clone();
        wrong["status"] = json!("nearly");
        assert!(!validator.is_valid(&wrong), "{name} accepts any status");
    }
}

/// A day-2 plan is the same plan whichever front end asks: the local CLI,
/// `POST /v1/plans`, and `plan --server` give the same `operations`,
/// `changes` and `files` (the service and client mode used to lose `operations`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day2_plan_is_the_same_from_the_cli_the_api_and_client_mode() {
    let gitops = Gitops::new();
    with_memcached(&gitops);
    let intent = "scale memcached to 3 replicas in staging";
    let service = Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await;
    let api = plan(
        &service,
        ADMIN,
        json!({ "intent": intent, "repo": "gitops", "planner": "builtin" }),
    )
    .await;
    assert_eq!(api.status, 201, "{}", api.text);
    conforms(&service, "Plan", &api.json).await;

    let work = gitops.work().display().to_string();
    let base = service.url("");
    let (local, remote) = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str], envs: &[(&str, &str)]| {
            let mut cmd = crate::util::bin::gitintent();
            cmd.args(args).envs(envs.iter().copied());
            let out = cmd.output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        let common = [
            "plan",
            intent,
            "--planner",
            "builtin",
            "--format",
            "json",
            "--repo",
        ];
        let local = run(&[&common[..], &[work.as_str()]].concat(), &[]);
        let remote = run(
            &[&common[..], &["gitops", "--server", base.trim_end_matches('/')]].concat(),
            &[("GITINTENT_TOKEN", ADMIN)],
        );
        (local, remote)
    })
    .await
    .unwrap();

    let operations = &local["operations"];
    assert_eq!(operations[0]["operation"], "update", "{local}");
    assert_eq!(operations[0]["target"], "Deployment/memcached", "{local}");
    assert_eq!(operations[0]["reach"], json!(["staging"]), "{local}");
    for (front, view) in [("POST /v1/plans", &api.json), ("plan --server", &remote)] {
        for field in ["operations", "files", "spec"] {
            assert_eq!(view[field], local[field], "{front}: {field}");
        }
        let paths = |v: &serde_json::Value| -> Vec<(String, String)> {
            v["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["path"].as_str().unwrap().into(),
                        c["status"].as_str().unwrap().into(),
                    )
                })
                .collect()
        };
        assert_eq!(paths(view), paths(&local), "{front}: changes");
    }
}

/// `target_path` in `POST /v1/plans` picks one of two workloads of the same
/// name; a path outside the repository is a 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_path_picks_one_of_two_workloads_of_the_same_name() {
    let gitops = Gitops::new();
    with_memcached(&gitops);
    let work = gitops.work();
    let copy = work.join("clusters/staging/legacy/memcached");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::write(copy.join("deployment.yaml"), MEMCACHED).unwrap();
    crate::util::tree::commit_all(&git2::Repository::open(&work).unwrap(), "a second memcached");
    let service = Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await;
    let body = |target: Option<&str>| {
        json!({ "intent": "scale memcached to 2 in staging", "repo": "gitops", "planner": "builtin",
                "target_path": target })
    };
    let r = plan(&service, ADMIN, body(None)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("set target_path to one of: ")
            && r.text.contains("clusters/staging/legacy/memcached")
            && !r.text.contains("--target"),
        "{}",
        r.text
    );
    let r = plan(&service, ADMIN, body(Some("clusters/staging/legacy/memcached"))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let modified: Vec<&str> = r.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(modified, ["clusters/staging/legacy/memcached/deployment.yaml"]);
    let r = plan(&service, ADMIN, body(Some("../outside"))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("not a path inside the repository"), "{}", r.text);
}
