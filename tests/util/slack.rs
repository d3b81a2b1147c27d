//! A Slack test bench: the real router on `127.0.0.1:0`, a backend that
//! really plans (builtin planner, `pipeline::run`) and really commits to a
//! temporary git repository, a loopback receiver standing in for Slack's
//! `response_url`, and a client that signs requests the way Slack does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::Router;
use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::Planner;
use gitintent::slack::{
    self, BackendError, ChangeStatus, PlanSummary, ProposalSummary, Requester, SlackBackend, SlackConfig,
};
use gitintent::Intent;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

pub(crate) const SECRET: &str = "test-signing-secret";
/// Where the test backend says pull requests live.
pub(crate) const FORGE: &str = "https://forge.example/acme/platform";

/// The rights every bench starts with.
pub(crate) const ACCESS: &str = r#"
default-repo = "platform"
[users.UPLAT]
repos = ["platform", "broken"]
envs = ["staging", "dev", "sandbox"]
propose = true
[users.UVIEW]
repos = ["platform"]
envs = ["*"]
[channels.CTEAM]
repos = ["platform"]
envs = ["production"]
"#;

/// One call to `plan`: requester, intent, repo, env.
pub(crate) type Asked = (Requester, String, String, Option<String>);

/// A plan as the backend keeps it.
struct Stored {
    summary: PlanSummary,
    plan: Plan,
}

/// A backend over one real git repository named `platform`; `broken` fails
/// the way a broken store would.
pub(crate) struct TestBackend {
    repo: tempfile::TempDir,
    plans: Mutex<HashMap<String, Stored>>,
    pub(crate) plan_calls: AtomicUsize,
    pub(crate) propose_calls: AtomicUsize,
    pub(crate) status_calls: AtomicUsize,
    /// What `plan` was asked, in order.
    pub(crate) asked: Mutex<Vec<Asked>>,
    held: AtomicBool,
    release: Notify,
}

impl TestBackend {
    fn new() -> TestBackend {
        let repo = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(repo.path()).unwrap();
        let config = "environments: [dev, staging, production]\ndefault-environment: staging\n";
        std::fs::write(repo.path().join(".gitintent.yaml"), config).unwrap();
        let mut index = git.index().unwrap();
        index.add_path(Path::new(".gitintent.yaml")).unwrap();
        let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
        git.commit(Some("HEAD"), &sig(), &sig(), "init", &tree, &[])
            .unwrap();
        TestBackend {
            repo,
            plans: Mutex::new(HashMap::new()),
            plan_calls: AtomicUsize::new(0),
            propose_calls: AtomicUsize::new(0),
            status_calls: AtomicUsize::new(0),
            asked: Mutex::new(Vec::new()),
            held: AtomicBool::new(false),
            release: Notify::new(),
        }
    }

    /// Makes the next `plan` wait for [`TestBackend::release`].
    pub(crate) fn hold(&self) {
        self.held.store(true, Ordering::SeqCst);
    }

    pub(crate) fn release(&self) {
        self.held.store(false, Ordering::SeqCst);
        self.release.notify_one();
    }

    pub(crate) fn calls(&self) -> (usize, usize, usize) {
        (
            self.plan_calls.load(Ordering::SeqCst),
            self.propose_calls.load(Ordering::SeqCst),
            self.status_calls.load(Ordering::SeqCst),
        )
    }

    pub(crate) fn git(&self) -> git2::Repository {
        git2::Repository::open(self.repo.path()).unwrap()
    }

    fn change_status(&self, path: &str, content: &str) -> ChangeStatus {
        let git = self.git();
        let tree = git.head().unwrap().peel_to_tree().unwrap();
        match tree.get_path(Path::new(path)) {
            Err(_) => ChangeStatus::Added,
            Ok(entry) => {
                let blob = git.find_blob(entry.id()).unwrap();
                if blob.content() == content.as_bytes() {
                    ChangeStatus::Unchanged
                } else {
                    ChangeStatus::Modified
                }
            }
        }
    }

    /// Commits the plan's files on top of HEAD on `branch`, without touching HEAD.
    fn commit(&self, branch: &str, plan: &Plan) -> Result<String, git2::Error> {
        let git = self.git();
        let base = git.head()?.peel_to_commit()?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for file in &plan.files {
            let blob = git.blob(file.content.as_bytes())?;
            update.upsert(file.path.as_str(), blob, git2::FileMode::Blob);
        }
        let tree = git.find_tree(update.create_updated(&git, &base.tree()?)?)?;
        let message = format!("gitintent: {}", plan.intent);
        let oid = git.commit(
            Some(&format!("refs/heads/{branch}")),
            &sig(),
            &sig(),
            &message,
            &tree,
            &[&base],
        )?;
        Ok(oid.to_string())
    }
}

fn sig() -> git2::Signature<'static> {
    git2::Signature::new(
        "gitintent",
        "gitintent@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap()
}

fn new_id() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

impl SlackBackend for TestBackend {
    async fn plan(
        &self,
        requester: Requester,
        intent: String,
        repo: String,
        env: Option<String>,
    ) -> Result<PlanSummary, BackendError> {
        self.plan_calls.fetch_add(1, Ordering::SeqCst);
        self.asked
            .lock()
            .unwrap()
            .push((requester, intent.clone(), repo.clone(), env.clone()));
        if self.held.load(Ordering::SeqCst) {
            self.release.notified().await;
        }
        if repo == "broken" {
            return Err(BackendError::Internal(
                "store: disk I/O error at /var/lib/gitintent/store.db".into(),
            ));
        }
        if repo != "platform" {
            return Err(BackendError::Invalid(format!("unknown repository {repo:?}")));
        }
        let intent =
            Intent::new(&intent, env.as_deref()).map_err(|e| BackendError::Invalid(e.to_string()))?;
        let ctx = Context::load(self.repo.path()).map_err(|e| BackendError::Internal(e.to_string()))?;
        let plan = pipeline::run(&intent, &Planner::Builtin, &ctx)
            .await
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        let id = new_id();
        let mut summary = PlanSummary::from_plan(&id, &repo, &plan);
        for (change, file) in summary.files.iter_mut().zip(&plan.files) {
            change.status = self.change_status(&file.path, &file.content);
        }
        self.plans.lock().unwrap().insert(
            id,
            Stored {
                summary: summary.clone(),
                plan,
            },
        );
        Ok(summary)
    }

    async fn propose(&self, _requester: Requester, plan_id: String) -> Result<ProposalSummary, BackendError> {
        self.propose_calls.fetch_add(1, Ordering::SeqCst);
        let mut plans = self.plans.lock().unwrap();
        let stored = plans
            .get_mut(&plan_id)
            .ok_or_else(|| BackendError::NotFound(plan_id.clone()))?;
        if stored.summary.proposal.is_some() {
            return Err(BackendError::Refused("the plan was already proposed".into()));
        }
        let name = &stored.plan.spec.components[0].name;
        let branch = format!("gitintent/{name}-{plan_id}");
        let commit = self
            .commit(&branch, &stored.plan)
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        let done = ProposalSummary {
            pr_url: Some(format!("{FORGE}/pull/new/{branch}")),
            branch,
            commit,
        };
        stored.summary.proposal = Some(done.clone());
        Ok(done)
    }

    async fn status(&self, plan_id: String) -> Result<PlanSummary, BackendError> {
        self.status_calls.fetch_add(1, Ordering::SeqCst);
        self.plans
            .lock()
            .unwrap()
            .get(&plan_id)
            .map(|s| s.summary.clone())
            .ok_or(BackendError::NotFound(plan_id))
    }
}

/// One post received by the loopback `response_url`.
#[derive(Debug)]
pub(crate) struct Post {
    pub(crate) path: String,
    pub(crate) body: Value,
}

/// Router, backend, receiver and a signing client.
pub(crate) struct Bench {
    pub(crate) url: String,
    /// The receiver's base URL (the configured `response-url-prefix`).
    pub(crate) hooks: String,
    pub(crate) backend: Arc<TestBackend>,
    posts: tokio::sync::Mutex<mpsc::UnboundedReceiver<Post>>,
    pub(crate) client: reqwest::Client,
    /// Makes every request unique, as Slack's trigger ids and action timestamps do.
    serial: AtomicUsize,
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

async fn receive(State(tx): State<mpsc::UnboundedSender<Post>>, uri: Uri, body: Bytes) -> &'static str {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = tx.send(Post {
        path: uri.path().to_string(),
        body,
    });
    "ok"
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

impl Bench {
    /// The router with [`ACCESS`], a fresh backend and receiver.
    pub(crate) async fn start() -> Bench {
        Bench::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(adjust: impl FnOnce(&mut SlackConfig)) -> Bench {
        let (tx, rx) = mpsc::unbounded_channel();
        let hooks = serve(Router::new().fallback(receive).with_state(tx)).await;
        let mut config: SlackConfig = toml::from_str(ACCESS).unwrap();
        config.signing_secret = SECRET.into();
        config.response_url_prefix = hooks.clone();
        adjust(&mut config);
        let backend = Arc::new(TestBackend::new());
        let url = serve(slack::router(backend.clone(), config)).await;
        Bench {
            url,
            hooks,
            backend,
            posts: tokio::sync::Mutex::new(rx),
            client: reqwest::Client::new(),
            serial: AtomicUsize::new(0),
        }
    }

    /// Posts `body` to `path` with the given headers (none added).
    pub(crate) async fn raw(&self, path: &str, headers: &[(&str, String)], body: &str) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Posts `body` signed with `secret` at `ts`.
    pub(crate) async fn signed(&self, path: &str, secret: &str, ts: u64, body: &str) -> (u16, Value) {
        let sig = slack::verify::sign(secret, ts, body.as_bytes());
        let headers = [
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", sig),
        ];
        self.raw(path, &headers, body).await
    }

    /// The form Slack sends for `/gitintent <text>`.
    pub(crate) fn command_body(&self, user: &str, channel: &str, text: &str) -> String {
        form(&[
            ("token", "legacy-verification-token"),
            ("team_id", "T0001"),
            ("team_domain", "acme"),
            ("channel_id", channel),
            ("channel_name", "platform"),
            ("user_id", user),
            ("user_name", &user.to_lowercase()),
            ("command", "/gitintent"),
            ("text", text),
            ("api_app_id", "A0001"),
            ("response_url", &format!("{}commands/T0001/1/abc", self.hooks)),
            ("trigger_id", &self.trigger_id()),
        ])
    }

    fn trigger_id(&self) -> String {
        format!(
            "13345224609.738474920.{:08x}",
            self.serial.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// Sends `/gitintent <text>` as `user` in `channel`, properly signed.
    pub(crate) async fn command(&self, user: &str, channel: &str, text: &str) -> (u16, Value) {
        let body = self.command_body(user, channel, text);
        self.signed("slack/commands", SECRET, now(), &body).await
    }

    /// The form Slack sends when `user` clicks button `action_id` with `value`.
    pub(crate) fn click_body(&self, user: &str, channel: &str, action_id: &str, value: &str) -> String {
        let payload = serde_json::json!({
            "type": "block_actions",
            "user": { "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T0001" },
            "api_app_id": "A0001",
            "token": "legacy-verification-token",
            "container": { "type": "message", "message_ts": "1700000000.000100", "channel_id": channel, "is_ephemeral": true },
            "trigger_id": self.trigger_id(),
            "team": { "id": "T0001", "domain": "acme" },
            "channel": { "id": channel, "name": "platform" },
            "response_url": format!("{}actions/T0001/2/def", self.hooks),
            "actions": [{
                "action_id": action_id, "block_id": "gitintent_plan",
                "text": { "type": "plain_text", "text": "Propose" },
                "value": value, "type": "button", "action_ts": format!("1700000001.{:06}", self.serial.fetch_add(1, Ordering::SeqCst))
            }]
        });
        form(&[("payload", &payload.to_string())])
    }

    pub(crate) async fn click(
        &self,
        user: &str,
        channel: &str,
        action_id: &str,
        value: &str,
    ) -> (u16, Value) {
        let body = self.click_body(user, channel, action_id, value);
        self.signed("slack/interactions", SECRET, now(), &body).await
    }

    /// The next post to the receiver; fails after 20 s.
    pub(crate) async fn next_post(&self) -> Post {
        let mut rx = self.posts.lock().await;
        tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("a post to response_url within 20 s")
            .expect("receiver open")
    }

    /// Asserts nothing was posted within `ms` milliseconds.
    pub(crate) async fn no_post(&self, ms: u64) {
        let mut rx = self.posts.lock().await;
        if let Ok(Some(post)) = tokio::time::timeout(Duration::from_millis(ms), rx.recv()).await {
            panic!("unexpected post to response_url: {post:?}");
        }
    }

    /// Plans `text` as UPLAT and returns the posted plan message and its id.
    pub(crate) async fn plan(&self, text: &str) -> (Value, String) {
        let (status, _) = self.command("UPLAT", "C0001", text).await;
        assert_eq!(status, 200);
        let post = self.next_post().await;
        let id = plan_id(&post.body);
        (post.body, id)
    }
}

/// The plan id on a plan message's buttons.
pub(crate) fn plan_id(message: &Value) -> String {
    let blocks = message["blocks"].as_array().expect("a Block Kit message");
    let actions = blocks.last().expect("blocks");
    actions["elements"][0]["value"]
        .as_str()
        .expect("a button value")
        .to_string()
}

/// `application/x-www-form-urlencoded`.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `value` with every occurrence of each `(from, to)` replaced, for snapshots.
pub(crate) fn redact(value: &Value, pairs: &[(&str, &str)]) -> Value {
    let mut text = value.to_string();
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}
