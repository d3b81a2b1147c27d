//! The `gitintent` binary as a service and as a client: restarts keep
//! plans, secrets stay out of the store and the logs, and `plan --server`
//! prints exactly what local `plan` prints.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::util::fake_llm::{FakeLlm, Reply as Llm};
use crate::util::service::{client, send, token_blocks, web_spec, Gitops, Service, ADMIN, PLANNER};

/// `gitintent serve` as a child process, its stderr captured (also used by `hostile.rs`).
pub(crate) struct Process {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Process {
    /// Starts `gitintent serve --config FILE` and waits for "listening on".
    pub(crate) async fn start(config: PathBuf) -> Process {
        tokio::task::spawn_blocking(move || Process::start_blocking(&config))
            .await
            .unwrap()
    }

    fn start_blocking(config: &Path) -> Process {
        let mut child = crate::util::bin::gitintent()
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("GITINTENT_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let crate::util::bin::Log {
            text: log,
            listening: rx,
            reader,
        } = crate::util::bin::watch(child.stderr.take().unwrap());
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the service did not start: {}", log.lock().unwrap()));
        Process {
            child,
            base,
            log,
            reader: Some(reader),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, wait for a clean exit, return everything it logged.
    pub(crate) async fn stop(mut self) -> String {
        tokio::task::spawn_blocking(move || {
            let pid = self.child.id().to_string();
            let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(killed.success());
            let status = self.child.wait().unwrap();
            assert!(status.success(), "the service exited with {status}");
            if let Some(r) = self.reader.take() {
                r.join().unwrap();
            }
            let log = self.log.lock().unwrap().clone();
            log
        })
        .await
        .unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("gitintent.toml");
    let store = dir.join("state/gitintent.db");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\nstore = {:?}\n{body}",
            store.display().to_string()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_before_a_restart_is_read_and_proposed_after_it() {
    let gitops = Gitops::new();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("{}{}", gitops.repository_block(), token_blocks()),
    );
    let first = Process::start(config.clone()).await;
    let made = send(
        client()
            .post(first.url("/v1/plans"))
            .bearer_auth(PLANNER)
            .json(&json!({ "intent": "Deploy memcached in staging", "repo": "gitops" })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap().to_string();
    first.stop().await;

    let second = Process::start(config).await;
    assert_ne!(second.base, "", "a new process on a new port");
    let read = send(
        client()
            .get(second.url(&format!("/v1/plans/{id}")))
            .bearer_auth(PLANNER),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json, made.json);
    let proposed = send(
        client()
            .post(second.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(PLANNER),
    )
    .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let branch = proposed.json["proposal"]["branch"].as_str().unwrap();
    assert!(gitops.remote_branches().contains(&branch.to_string()));
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_tokens_never_reach_the_store_or_the_logs() {
    const PASSWORD: &str = "Sup3rS3cretValue42";
    let gitops = Gitops::new();
    // The model echoes the password back as a plain env value.
    let llm = FakeLlm::start([Llm::spec(&web_spec(json!([
        { "name": "DB_PASSWORD", "value": PASSWORD },
        { "name": "LOG_LEVEL", "value": "info" }
    ])))])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\n{}{}",
            llm.base_url(),
            gitops.repository_block(),
            token_blocks()
        ),
    );
    let service = Process::start(config).await;
    let intent =
        format!("Run the shop api in staging with DB_PASSWORD={PASSWORD} and the password {PASSWORD}");
    let made = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&json!({ "intent": intent, "repo": "gitops" })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert!(!made.text.contains(PASSWORD), "{}", made.text);
    let id = made.json["id"].as_str().unwrap();
    let proposed = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let unauthorized = send(
        client()
            .get(service.url("/v1/plans"))
            .bearer_auth("gi_not_a_real_token"),
    )
    .await;
    assert_eq!(unauthorized.status, 401);
    let log = service.stop().await;
    assert!(log.contains("plan finished"), "the log was captured: {log}");

    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("state")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(stored.len() > 4096, "the store was written");
    {
        use gitintent::serve::Store as _;
        let store = gitintent::serve::SqliteStore::open(&dir.path().join("state/gitintent.db")).unwrap();
        let record = store.get_plan(id).unwrap().unwrap();
        let raw = record.raw_reply.expect("the raw model reply is kept");
        assert!(raw.contains("LOG_LEVEL") && raw.contains("[redacted]"), "{raw}");
        assert!(record.intent.contains("[redacted]"), "{}", record.intent);
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("[redacted]"), "the redacted intent is stored");
    for secret in [PASSWORD, ADMIN, "gi_not_a_real_token"] {
        assert!(!stored.contains(secret), "{secret} is in the store");
        assert!(!log.contains(secret), "{secret} is in the logs:\n{log}");
    }
    // Nor in the proposed commit.
    let remote = git2::Repository::open_bare(gitops.remote()).unwrap();
    let branch = proposed.json["proposal"]["branch"].as_str().unwrap();
    let commit = remote
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert!(!commit.message().unwrap().contains(PASSWORD));
}

/// Runs the binary (blocking, off the runtime).
async fn gitintent(args: Vec<String>, env: Vec<(&'static str, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = crate::util::bin::gitintent();
        cmd.args(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_with_server_prints_what_local_plan_prints() {
    let gitops = Gitops::new();
    let service = Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await;
    let work = gitops.work().display().to_string();
    let cases = [
        (
            "Deploy redis with 3 replicas and automatic failover in production",
            "json",
        ),
        (
            "Deploy redis with 3 replicas and automatic failover in production",
            "text",
        ),
        ("Deploy memcached", "text"),
        ("make it better", "json"),
        ("make it better", "text"),
    ];
    for (intent, format) in cases {
        let local = gitintent(
            vec![
                "plan".into(),
                intent.into(),
                "--repo".into(),
                work.clone(),
                "--format".into(),
                format.into(),
            ],
            vec![],
        )
        .await;
        let remote = gitintent(
            vec![
                "plan".into(),
                intent.into(),
                "--repo".into(),
                "gitops".into(),
                "--format".into(),
                format.into(),
            ],
            vec![
                ("GITINTENT_SERVER", service.base.clone()),
                ("GITINTENT_TOKEN", ADMIN.to_string()),
            ],
        )
        .await;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(
            local.status.code(),
            remote.status.code(),
            "{intent} ({format}): {}",
            text(&remote.stderr)
        );
        assert_eq!(text(&local.stdout), text(&remote.stdout), "{intent} ({format})");
        assert_eq!(text(&local.stderr), text(&remote.stderr), "{intent} ({format})");
    }
    // Without a token the service refuses, and the client says why (exit 2).
    let refused = gitintent(
        vec![
            "plan".into(),
            "Deploy memcached".into(),
            "--repo".into(),
            "gitops".into(),
            "--server".into(),
            service.base.clone(),
        ],
        vec![],
    )
    .await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("missing bearer token"));
    // An unreachable service is a failure (exit 3).
    let down = gitintent(
        vec![
            "plan".into(),
            "Deploy memcached".into(),
            "--repo".into(),
            "gitops".into(),
            "--server".into(),
            "http://127.0.0.1:9".into(),
        ],
        vec![("GITINTENT_TOKEN", ADMIN.to_string())],
    )
    .await;
    assert_eq!(down.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_token_once_and_a_block_with_its_hash() {
    let out = gitintent(
        vec![
            "token".into(),
            "create".into(),
            "--name".into(),
            "ci".into(),
            "--repos".into(),
            "gitops".into(),
            "--propose".into(),
        ],
        vec![],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout
        .split_whitespace()
        .find(|w| w.starts_with("gi_"))
        .expect("a token")
        .to_string();
    assert_eq!(stdout.matches(&token).count(), 1, "the token is printed once");
    let block = &stdout[stdout.find("[[token]]").unwrap()..];
    assert!(block.contains(&gitintent::serve::auth::hash(&token)));
    // The block is a working config.
    let gitops = Gitops::new();
    let service = Service::start(&format!("{}{block}", gitops.repository_block())).await;
    let r = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(&token)
            .json(&json!({ "intent": "Deploy memcached in staging", "repo": "gitops" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["requester"], "ci");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_bad_config_and_public_insecure_mode() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "colour = \"blue\"\n");
    let bad = gitintent(
        vec!["serve".into(), "--config".into(), config.display().to_string()],
        vec![],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("colour"));
    let public = gitintent(
        vec![
            "serve".into(),
            "--listen".into(),
            "0.0.0.0:0".into(),
            "--insecure-no-auth".into(),
        ],
        vec![("GITINTENT_STORE", dir.path().join("x.db").display().to_string())],
    )
    .await;
    assert_eq!(public.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&public.stderr).contains("loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propose_with_server_prints_what_local_propose_prints() {
    let local_repo = Gitops::new();
    let served_repo = Gitops::new();
    let service = Service::start(&format!("{}{}", served_repo.repository_block(), token_blocks())).await;
    let work = local_repo.work().display().to_string();
    let author = vec![
        ("GITINTENT_AUTHOR_NAME", "Test".to_string()),
        ("GITINTENT_AUTHOR_EMAIL", "test@example.com".to_string()),
    ];
    let remote_env = || {
        vec![
            ("GITINTENT_SERVER", service.base.clone()),
            ("GITINTENT_TOKEN", ADMIN.to_string()),
        ]
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    // Proposed: the same branch, status, base name, stats and push; commits differ
    // only because the two repositories' histories do.
    let intent = "Deploy memcached in staging";
    let args = |repo: &str| -> Vec<String> {
        ["propose", intent, "--repo", repo, "--format", "json"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut local_args = args(&work);
    local_args.push("--push".into());
    let local = gitintent(local_args, author.clone()).await;
    let remote = gitintent(args("gitops"), remote_env()).await;
    assert_eq!(local.status.code(), Some(0), "{}", text(&local.stderr));
    assert_eq!(remote.status.code(), Some(0), "{}", text(&remote.stderr));
    let mask = |out: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(out).unwrap();
        v["commit"] = json!("<commit>");
        v["base_commit"] = json!("<base>");
        v
    };
    assert_eq!(mask(&local.stdout), mask(&remote.stdout));
    let branch = mask(&remote.stdout)["branch"].as_str().unwrap().to_string();
    assert!(served_repo.remote_branches().contains(&branch));
    // Refusals: error findings and intents that are not understood, same output and code.
    for (intent, format) in [
        ("Deploy memcached in dev", "text"),
        ("Deploy memcached in dev", "json"),
        ("make it better", "text"),
    ] {
        let a = |repo: &str| -> Vec<String> {
            ["propose", intent, "--repo", repo, "--format", format]
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        let local = gitintent(a(&work), author.clone()).await;
        let remote = gitintent(a("gitops"), remote_env()).await;
        assert_eq!(
            local.status.code(),
            remote.status.code(),
            "{intent}: {}",
            text(&remote.stderr)
        );
        assert_ne!(local.status.code(), Some(0));
        assert_eq!(text(&local.stdout), text(&remote.stdout), "{intent} ({format})");
        assert_eq!(text(&local.stderr), text(&remote.stderr), "{intent} ({format})");
    }
}
