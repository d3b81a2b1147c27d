//! A hostile model echoes secrets (issue 13, must-fix 7): through the
//! service and through the CLI, against the loopback fake model.

use serde_json::{json, Value};

use super::{gitintent_async, stderr};
use crate::util::fake_llm::{FakeLlm, Reply as Llm};
use crate::util::service::{client, send, token_blocks, web_spec, Gitops, Service, ADMIN};

/// The intent's password: not credential-shaped, known only because the intent names it.
const PASSWORD: &str = "Tr0ub4dor-77";
/// A key the model invents (or got from elsewhere): credential-shaped.
const MODEL_KEY: &str = "sk-proj0123456789abcdefXYZ";
/// A password the model writes in prose.
const PROSE: &str = "hunter2pass";

fn intent() -> String {
    format!("Run the shop api (ghcr.io/acme/api:1.4.2) in staging with DB_PASSWORD={PASSWORD}")
}

/// The hostile reply: the intent's password moved into `CONFIG`, a key in the
/// assumptions, a password in the questions.
fn hostile_spec() -> Value {
    let mut spec = web_spec(json!([
        { "name": "CONFIG", "value": format!("db=main;pw={PASSWORD}") },
        { "name": "LOG_LEVEL", "value": "info" }
    ]));
    spec["assumptions"] = json!([format!("Used the key {MODEL_KEY} as the model API key.")]);
    spec["questions"] = json!([format!("Should the password {PROSE} be rotated?")]);
    spec
}

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, MODEL_KEY, PROSE] {
        assert!(!text.contains(secret), "{secret} in {what}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_stores_and_returns_no_echoed_secret() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start([Llm::spec(&hostile_spec())]).await;
    let service = Service::start(&format!(
        "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\ndeadline-secs = 10\n{}{}",
        llm.base_url(),
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let made = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&json!({ "intent": intent(), "repo": "gitops" })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_clean("the 201 response", &made.text);
    // The moved value is still a secret: a finding and a Secret reference.
    let findings = made.json["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "plaintext-secret" && f["path"] == "/components/api/env/CONFIG"),
        "{findings:?}"
    );
    let component = &made.json["spec"]["components"][0];
    assert_eq!(component["secret_refs"][0]["env"], "CONFIG", "{component}");
    // The provider was sent the redacted intent.
    let sent = llm.requests()[0].body.to_string();
    assert!(
        !sent.contains(PASSWORD),
        "the intent reached the provider: {sent}"
    );
    assert!(sent.contains("DB_PASSWORD=[redacted]"), "{sent}");
    // Proposed, then the store's bytes: nothing there either.
    let id = made.json["id"].as_str().unwrap();
    let proposed = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(service.store.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.to_string_lossy().contains("gitintent.db") {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(stored.len() > 4096, "the store was written");
    assert_clean("the store", &String::from_utf8_lossy(&stored));
    let branch = proposed.json["proposal"]["branch"].as_str().unwrap();
    assert_clean("the commit", &committed_text(&gitops.remote(), branch));
}

/// Every blob and the message of `branch`'s tip in the bare repository at `remote`.
fn committed_text(remote: &std::path::Path, branch: &str) -> String {
    let repo = git2::Repository::open_bare(remote).unwrap();
    let commit = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut text = commit.message().unwrap_or_default().to_string();
    commit
        .tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            if let Ok(blob) = entry.to_object(&repo).and_then(|o| o.peel_to_blob()) {
                text.push_str(&String::from_utf8_lossy(blob.content()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    text
}

#[tokio::test]
async fn the_cli_prints_and_writes_no_echoed_secret() {
    let llm = FakeLlm::start([Llm::spec(&hostile_spec()), Llm::spec(&hostile_spec())]).await;
    let envs = vec![
        ("GITINTENT_LLM_BASE_URL".to_string(), llm.base_url()),
        ("GITINTENT_LLM_MODEL".to_string(), "gpt-test".to_string()),
    ];
    for format in ["json", "text"] {
        let args = ["plan", &intent(), "--planner", "openai", "--format", format].map(String::from);
        let out = gitintent_async(args.to_vec(), envs.clone()).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_clean(&format!("plan --format {format}"), &stdout);
        assert_clean("stderr", &stderr(&out));
        assert!(stdout.contains("/components/api/env/CONFIG"), "{stdout}");
    }
    for request in llm.requests() {
        assert!(
            !request.body.to_string().contains(PASSWORD),
            "sent to the provider"
        );
    }
}
