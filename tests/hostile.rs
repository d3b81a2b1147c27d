//! One small request must never take the service down (issue 13): inputs
//! nested past the depth limit, alias bombs, made-up HTTP methods, and
//! connections that never send a request — each against the real binary or
//! a real server on loopback, and each reproducing the reported attack.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::serve_process::{write_config, Process};
use crate::util::service::{client, send, token_blocks, Gitops, Service, ADMIN, PLANNER};

const TOO_DEEP: &str = gitintent::limits::TOO_DEEP;
const ALIAS_BOMB: &str = gitintent::limits::ALIAS_BOMB;

/// `data: {a: [[[…]]]}`, `depth` levels of mappings and sequences in all.
fn deep_flow(depth: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {{a: {}{}}}\n",
        "[".repeat(depth - 2),
        "]".repeat(depth - 2)
    )
}

/// `- - - … x`: compact nested sequences, `depth` levels.
fn deep_compact(depth: usize) -> String {
    format!("{}x\n", "- ".repeat(depth))
}

/// The 534-byte "billion laughs": nine levels of nine aliases each.
fn billion_laughs() -> String {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    text.push_str("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("  {}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    text
}

fn gitintent(args: &[&str]) -> std::process::Output {
    crate::util::bin::gitintent()
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `gitintent validate FILE` on `text`: (exit code, stdout).
fn validate_cli(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.yaml");
    std::fs::write(&path, text).unwrap();
    let out = gitintent(&["validate", path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn validate_refuses_30000_levels_with_a_finding_instead_of_aborting() {
    for text in [deep_flow(30_000), deep_compact(30_000)] {
        let (code, stdout) = validate_cli(&text);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains(TOO_DEEP), "{stdout}");
    }
}

#[test]
fn validate_accepts_a_document_at_the_depth_limit() {
    let (code, stdout) = validate_cli(&deep_flow(128));
    assert!(!stdout.contains(TOO_DEEP), "{stdout}");
    // A ConfigMap's data values must be strings: a schema finding, not a parse error.
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("/data/a"), "{stdout}");
}

#[test]
fn validate_refuses_a_billion_laughs() {
    let text = billion_laughs();
    assert!(text.len() < 600, "{} bytes", text.len());
    let (code, stdout) = validate_cli(&text);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains(ALIAS_BOMB), "{stdout}");
}

/// Commits `path` with `text` on `main` of the Gitops working repository.
fn commit_file(gitops: &Gitops, path: &str, text: &str) {
    let work = gitops.work();
    let file = work.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    let repo = git2::Repository::open(&work).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(path)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let sig = git2::Signature::now("mallory", "mallory@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "a hostile file", &tree, &[&parent])
        .unwrap();
}

const HOSTILE_PATH: &str = "clusters/staging/apps/evil/deep.yaml";

fn limit_findings(findings: &Value) -> Vec<Value> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "input-limit")
        .cloned()
        .collect()
}

#[test]
fn plan_repo_survives_a_committed_file_nested_10000_deep() {
    let gitops = Gitops::new();
    commit_file(&gitops, HOSTILE_PATH, &deep_compact(10_000));
    let work = gitops.work();
    let out = gitintent(&[
        "plan",
        "Deploy memcached in staging",
        "--repo",
        work.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    let refused = limit_findings(&plan["findings"]);
    assert_eq!(refused.len(), 1, "{}", plan["findings"]);
    assert_eq!(refused[0]["file"], HOSTILE_PATH);
    assert_eq!(refused[0]["severity"], "warning");
    assert!(refused[0]["message"].as_str().unwrap().contains(TOO_DEEP));
}

/// `POST /v1/validate` with `manifests`.
async fn validate_api(base: &str, manifests: &str) -> crate::util::service::Reply {
    send(
        client()
            .post(format!("{base}/v1/validate"))
            .bearer_auth(PLANNER)
            .json(&json!({ "manifests": manifests })),
    )
    .await
}

fn messages(reply: &crate::util::service::Reply) -> String {
    reply.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_survives_deep_bodies_alias_bombs_and_a_hostile_repository() {
    let gitops = Gitops::new();
    commit_file(&gitops, HOSTILE_PATH, &deep_compact(10_000));
    // A resource exactly at the limit is indexed like any other.
    commit_file(
        &gitops,
        "clusters/staging/apps/edge/at-limit.yaml",
        &deep_flow(128),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("{}{}", gitops.repository_block(), token_blocks()),
    );
    let service = Process::start(config).await;
    let base = service.url("");

    // 8,000 levels in a 16 KB body: a finding, not a dead service.
    let body = deep_flow(8_000);
    assert!(body.len() < 17_000);
    let reply = validate_api(&base, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["valid"], false);
    assert!(messages(&reply).contains(TOO_DEEP), "{}", reply.text);

    // At the limit: parsed, schema-checked and policy-checked on a blocking thread (2 MiB).
    let reply = validate_api(&base, &deep_flow(128)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!messages(&reply).contains(TOO_DEEP), "{}", reply.text);
    assert!(reply.text.contains("\"path\":\"/data/a\""), "{}", reply.text);

    let reply = validate_api(&base, &billion_laughs()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["valid"], false);
    assert!(messages(&reply).contains(ALIAS_BOMB), "{}", reply.text);

    // Planning reads the hostile file every time; every plan still succeeds.
    for _ in 0..2 {
        let made = send(
            client()
                .post(service.url("/v1/plans"))
                .bearer_auth(ADMIN)
                .json(&json!({ "intent": "Deploy memcached in staging", "repo": "gitops" })),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.text);
        let refused = limit_findings(&made.json["findings"]);
        assert_eq!(refused.len(), 1, "{}", made.text);
        assert_eq!(refused[0]["file"], HOSTILE_PATH);
    }
    let health = send(client().get(service.url("/healthz"))).await;
    assert_eq!(health.status, 200);
    let log = service.stop().await;
    assert!(!log.contains("overflow"), "{log}");
}

/// Sends `request` on a fresh connection and reads until the server closes it.
async fn raw(addr: &str, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_do_not_grow_the_metrics() {
    let service = Service::start(&token_blocks()).await;
    let addr = service.base.trim_start_matches("http://").to_string();
    for i in 0..300 {
        let reply = raw(
            &addr,
            &format!("MADEUP{i} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
    }
    let metrics = send(client().get(service.url("/metrics"))).await;
    assert_eq!(metrics.status, 200);
    assert!(!metrics.text.contains("MADEUP"), "{}", metrics.text);
    assert!(
        metrics.text.contains(
            "gitintent_http_requests_total{route=\"unmatched\",method=\"other\",status=\"405\"} 300"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics.text.len() < 20_000, "{} bytes", metrics.text.len());
}

/// Reads from `stream` until EOF or `within`; true when the server closed it.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_capped_and_timed_out() {
    let limits = "[limits]\nmax-connections = 8\nheader-read-timeout-secs = 1\nidle-timeout-secs = 1\n";
    let service = Service::start(&format!("{}{limits}", token_blocks())).await;
    let addr = service.base.trim_start_matches("http://").to_string();
    // Twice the cap: connections that send nothing, or half a request head.
    let mut silent = Vec::new();
    for i in 0..16 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 1 {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        silent.push(stream);
    }
    // The service still answers: idle connections close and free their slots.
    let health = send(client().get(service.url("/healthz"))).await;
    assert_eq!(health.status, 200);
    // Each of the first eight (accepted) is closed by the server after its timeout.
    for stream in silent.iter_mut().take(8) {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
    // A connection that sent a whole request and keeps quiet after the answer is closed too.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
}

/// `gitintent serve` under `ulimit -n {fds}`: (child, base URL, stderr lines so far).
fn serve_with_fd_limit(
    config: &Path,
    fds: u32,
) -> (
    std::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    use std::io::BufRead;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {fds} && exec \"$0\" serve --config \"$1\""))
        .arg(env!("CARGO_BIN_EXE_gitintent"))
        .arg(config)
        .env_remove("GITINTENT_LISTEN")
        .env_remove("GITINTENT_STORE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = tx.send(addr.trim().to_string());
            }
            sink.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the service starts");
    (child, base, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accept_loop_survives_running_out_of_file_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("{}[limits]\nheader-read-timeout-secs = 1\n", token_blocks()),
    );
    let (mut child, base, log) = serve_with_fd_limit(&config, 48);
    let addr = base.trim_start_matches("http://").to_string();
    // More silent connections than file descriptors: accept fails with EMFILE.
    let mut silent = Vec::new();
    for _ in 0..80 {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // They time out, descriptors come back, and the loop accepts again.
    let health = send(client().get(format!("{base}/healthz"))).await;
    assert_eq!(health.status, 200);
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "{}", log.lock().unwrap());
    assert!(
        log.lock().unwrap().contains("cannot accept a connection"),
        "{}",
        log.lock().unwrap()
    );
}
