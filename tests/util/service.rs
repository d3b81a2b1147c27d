//! Helpers for the service tests: a GitOps repository with a bare remote,
//! the service in-process on `127.0.0.1:0` or as the real binary, and a
//! small HTTP client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gitintent::serve::{Config, Overrides, Server};
use serde_json::{json, Value};

/// Tokens the tests configure: (name, token, TOML block after name/sha256).
pub(crate) const ADMIN: &str = "gi_admin_token_for_tests_0123456789abcdef";
pub(crate) const PLANNER: &str = "gi_planner_token_for_tests_0123456789abcd";
pub(crate) const OUTSIDER: &str = "gi_outsider_token_for_tests_0123456789abc";

/// `[[token]]` blocks: admin (everything), planner (plans anywhere in
/// `gitops`, proposes only to staging), outsider (another repository).
pub(crate) fn token_blocks() -> String {
    let hash = gitintent::serve::auth::hash;
    format!(
        r#"
[[token]]
name = "admin"
sha256 = "{}"
rights = ["plan", "propose"]

[[token]]
name = "planner"
sha256 = "{}"
repos = ["gitops"]
envs = ["staging", "production"]
rights = ["plan", "propose"]
propose-envs = ["staging"]

[[token]]
name = "outsider"
sha256 = "{}"
repos = ["elsewhere"]
rights = ["plan", "propose"]
"#,
        hash(ADMIN),
        hash(PLANNER),
        hash(OUTSIDER)
    )
}

/// A working repository (the example GitOps tree committed on `main`) whose
/// `origin` is a bare repository, as a team's clone of its GitOps remote.
pub(crate) struct Gitops {
    pub(crate) dir: tempfile::TempDir,
}

impl Gitops {
    pub(crate) fn new() -> Gitops {
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().join("remote.git");
        git2::Repository::init_bare(&remote).unwrap();
        let work = dir.path().join("work");
        let repo =
            git2::Repository::init_opts(&work, git2::RepositoryInitOptions::new().initial_head("main"))
                .unwrap();
        crate::util::tree::copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops"),
            &work,
        );
        let mut index = repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("test", "test@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "initial GitOps tree", &tree, &[])
            .unwrap();
        repo.remote("origin", remote.to_str().unwrap()).unwrap();
        repo.find_remote("origin")
            .unwrap()
            .push(&["refs/heads/main:refs/heads/main"], None)
            .unwrap();
        Gitops { dir }
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub(crate) fn remote(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    /// Branch names on the bare remote.
    pub(crate) fn remote_branches(&self) -> Vec<String> {
        let repo = git2::Repository::open_bare(self.remote()).unwrap();
        let mut names: Vec<String> = repo
            .branches(Some(git2::BranchType::Local))
            .unwrap()
            .map(|b| b.unwrap().0.name().unwrap().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    /// The `[[repository]]` block for this repo as a local path.
    pub(crate) fn repository_block(&self) -> String {
        format!(
            "[[repository]]\nname = \"gitops\"\npath = {:?}\n",
            self.work().display().to_string()
        )
    }
}

/// A service running in this process; stops (gracefully) when dropped or on [`Service::stop`].
pub(crate) struct Service {
    pub(crate) base: String,
    pub(crate) store: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts with `toml` (listen and store are filled in) and a fresh store.
    pub(crate) async fn start(toml: &str) -> Service {
        Service::start_with(toml, Overrides::default()).await
    }

    pub(crate) async fn start_with(toml: &str, overrides: Overrides) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("gitintent.db");
        let path = dir.path().join("gitintent.toml");
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:0\"\nstore = {:?}\n{toml}",
                store.display().to_string()
            ),
        )
        .unwrap();
        let config = Config::load(Some(&path), |_| None, overrides).expect("a valid test config");
        let server = Server::bind(config).await.expect("the service binds");
        let addr: SocketAddr = server.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = rx.await;
                })
                .await
                .expect("the service runs");
        });
        Service {
            base: format!("http://{addr}"),
            store,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Signals shutdown and waits until the server has drained.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("the service drains within 20 s")
                .unwrap();
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A response: status, headers, body as JSON (or `{"text": ...}`).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) json: Value,
    pub(crate) text: String,
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> Reply {
    let response = req.send().await.expect("the service answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
    Reply {
        status,
        headers,
        json,
        text,
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// `POST /v1/plans` with `token`.
pub(crate) async fn plan(service: &Service, token: &str, body: Value) -> Reply {
    send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

/// `POST /v1/plans` with `Prefer: respond-async`: a 202 and a Location while
/// the plan runs in the background.
pub(crate) async fn plan_async(service: &Service, token: &str, body: &Value) -> Reply {
    send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(token)
            .header("Prefer", "respond-async")
            .json(body),
    )
    .await
}

/// Asserts the API's error shape and returns the code.
pub(crate) fn error_code(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}", reply.text);
    let error = &reply.json["error"];
    assert!(error.is_object(), "no error object: {}", reply.text);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        reply.text
    );
    assert!(error.get("details").is_some(), "{}", reply.text);
    error["code"].as_str().expect("a code").to_string()
}

/// A web service spec as a model would send it, with an env var.
pub(crate) fn web_spec(env: Value) -> Value {
    json!({
        "environment": "staging",
        "namespace": "shop",
        "components": [{
            "name": "api",
            "archetype": "web_service",
            "image": "ghcr.io/acme/api:1.4.2",
            "replicas": 2,
            "ports": [],
            "resources": null,
            "storage": null,
            "exposure": null,
            "autoscaling": null,
            "health_check": null,
            "env": env,
            "secret_refs": [],
            "schedule": null,
            "high_availability": null
        }],
        "assumptions": ["Namespace shop chosen from the intent."],
        "questions": [], "changes": []
    })
}
