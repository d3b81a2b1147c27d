//! `gitintent serve` replicas as child processes on one PostgreSQL database,
//! and a throwaway database per test.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gitintent::serve::store::{Lease, PostgresOptions};
use gitintent::serve::PostgresStore;

use crate::util::service::token_blocks;

/// A database of its own in the cluster `GITINTENT_TEST_POSTGRES_URL` names.
pub(crate) struct Db {
    admin: String,
    name: String,
    pub(crate) url: String,
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let cut = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..cut]),
        None => format!("{}/{name}", &base[..cut]),
    }
}

/// Runs SQL on `url` (its own runtime: callable from sync and async code via a thread).
pub(crate) fn sql(url: &str, statements: &str) {
    let (url, statements) = (url.to_string(), statements.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let task = tokio::spawn(conn);
            client.batch_execute(&statements).await.unwrap();
            drop(client);
            let _ = task.await;
        });
    })
    .join()
    .unwrap();
}

impl Db {
    /// A fresh database, or `None` (saying why on stderr) without a cluster.
    pub(crate) fn create(test: &str) -> Option<Db> {
        let Ok(admin) = std::env::var("GITINTENT_TEST_POSTGRES_URL") else {
            eprintln!("skipped {test}: GITINTENT_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL cluster and sets it)");
            return None;
        };
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!("gi_it_{}", hex::encode(bytes));
        sql(&admin, &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin, &name);
        Some(Db { admin, name, url })
    }

    /// Closes every session on the database and refuses new ones (`false`),
    /// or lets them in again (`true`): the database "goes away".
    pub(crate) fn accept_connections(&self, accept: bool) {
        let mut statements = format!("ALTER DATABASE {} ALLOW_CONNECTIONS {accept};", self.name);
        if !accept {
            statements.push_str(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}';",
                self.name
            ));
        }
        sql(&self.admin, &statements);
    }

    /// Runs `f` on the store as a third party sees it (for audit rows), on
    /// a thread of its own: the store is blocking and tests are async.
    pub(crate) fn with_store<T: Send>(&self, f: impl FnOnce(&PostgresStore) -> T + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                let lease = Lease::new(Some("test-reader"), Duration::from_secs(60));
                let store = PostgresStore::open(&self.url, lease, PostgresOptions::default()).unwrap();
                f(&store)
            })
            .join()
            .unwrap()
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A config file for a replica: loopback, `store`, its own data dir, short leases.
pub(crate) fn config(dir: &Path, name: &str, store: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let data = dir.join(format!("data-{name}"));
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\nstore = {store:?}\ndata-dir = {:?}\n{body}{}\n[limits]\nplan-lease-secs = 3\n",
            data.display().to_string(),
            token_blocks()
        ),
    )
    .unwrap();
    path
}

/// One `gitintent serve` process, stderr captured.
pub(crate) struct Replica {
    child: Child,
    pub(crate) base: String,
    log: Arc<Mutex<String>>,
}

/// Runs `gitintent serve --config FILE` with `env`; `None` when it exits
/// before listening (its exit code and log are then in the `Err`).
fn spawn(config: &Path, env: &[(&str, &str)]) -> Result<Replica, (Option<i32>, String)> {
    let home = config.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = crate::util::bin::gitintent();
    cmd.arg("serve")
        .arg("--config")
        .arg(config)
        .current_dir(config.parent().unwrap())
        .env("GITINTENT_LOG", "info")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let crate::util::bin::Log {
        text: log,
        listening: rx,
        ..
    } = crate::util::bin::watch(child.stderr.take().unwrap());
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(base) => Ok(Replica { child, base, log }),
        Err(_) => {
            let status = child.wait().unwrap();
            std::thread::sleep(Duration::from_millis(100));
            let log = log.lock().unwrap().clone();
            Err((status.code(), log))
        }
    }
}

impl Replica {
    pub(crate) async fn start(config: PathBuf) -> Replica {
        tokio::task::spawn_blocking(move || spawn(&config, &[]))
            .await
            .unwrap()
            .unwrap_or_else(|(code, log)| panic!("the replica did not start ({code:?}): {log}"))
    }

    /// Starts a process that must fail: its exit code and log.
    pub(crate) async fn fail(config: PathBuf, env: Vec<(&'static str, String)>) -> (Option<i32>, String) {
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            match spawn(&config, &env) {
                Ok(r) => panic!("the service started: {}", r.log()),
                Err(failed) => failed,
            }
        })
        .await
        .unwrap()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the log shows `needle` within a few seconds (stderr is read
    /// by a thread of its own, so a line may lag the response).
    pub(crate) async fn logged(&self, needle: &str) -> bool {
        for _ in 0..50 {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// `kill -9`: no drain, no clean-up.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
