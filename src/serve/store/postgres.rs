//! [`PostgresStore`]: the store on PostgreSQL, for several replicas on one
//! database. tokio-postgres with a bounded deadpool pool, driven by a small
//! runtime of its own (the [`Store`] trait is blocking, so callers stay the
//! same for both backends). TLS per libpq's `sslmode` (`tls.rs`): `disable`,
//! `prefer` (the default), `require`, `verify-ca`, `verify-full`, with `sslrootcert`.
//!
//! Start-up waits a bounded time (`connect_timeout` in the URL, default
//! 10 s) for the database, then migrates under `pg_advisory_xact_lock` so
//! replicas starting together apply each migration once. Proposals on one
//! repository are serialised across replicas by a session advisory lock
//! keyed by the repository name. Every call is bounded too: a database that
//! stops answering is [`Error::Unavailable`], which the API turns into 503.

mod schema;
mod tls;
mod url;

pub(crate) use schema::MIGRATION_1;
use url::libpq_compat;
pub(crate) use url::redact_url;

use std::future::Future;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::row::{self, Cell};
use super::{AuditEvent, Error, Filter, Lease, PlanRecord, Recovered, RepoLock, Status, Store};

/// Pool and wait bounds.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections at most (default 16).
    pub pool_size: usize,
    /// Longest one store call may take, pool wait included (default 30 s).
    pub call_timeout: Duration,
    /// Longest a proposal waits for another replica's repository lock (default 20 s).
    pub lock_wait: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 16,
            call_timeout: Duration::from_secs(30),
            lock_wait: Duration::from_secs(20),
        }
    }
}

/// PostgreSQL through a bounded pool.
pub struct PostgresStore {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
    target: String,
    user: String,
    lease: Lease,
    options: PostgresOptions,
}

impl row::Row for tokio_postgres::Row {
    fn text(&self, i: usize) -> Result<Option<String>, Error> {
        self.try_get(i).map_err(Error::Postgres)
    }
    fn int(&self, i: usize) -> Result<Option<i64>, Error> {
        self.try_get(i).map_err(Error::Postgres)
    }
}

fn refs(cells: &[Cell]) -> Vec<&(dyn ToSql + Sync)> {
    cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect()
}

impl PostgresStore {
    /// Connects (waiting at most the URL's `connect_timeout`, default 10 s)
    /// and applies pending migrations.
    pub fn open(url: &str, lease: Lease, options: PostgresOptions) -> Result<PostgresStore, Error> {
        let target = redact_url(url);
        let (clean, root, verify) = libpq_compat(url);
        let mut config: tokio_postgres::Config = clean
            .parse()
            .map_err(|e| Error::Url(format!("URL {target} is not usable: {e}")))?;
        let wait = *config.get_connect_timeout().unwrap_or(&Duration::from_secs(10));
        config.connect_timeout(wait);
        if config.get_application_name().is_none() {
            config.application_name("gitintent");
        }
        let tls =
            tls::MakeRustls::new(root.as_deref().map(std::path::Path::new), verify).map_err(Error::Url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gitintent-store")
            .enable_all()
            .build()
            .map_err(|e| Error::Unavailable {
                target: target.clone(),
                source: Box::new(e),
            })?;
        let user = config.get_user().unwrap_or("").to_string();
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(options.call_timeout))
            // Connecting (TLS, SCRAM) can be slow under load; the start-up
            // wait for a database that is down is bounded separately.
            .create_timeout(Some(options.call_timeout.max(wait)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| Error::Url(e.to_string()))?;
        let store = PostgresStore {
            pool,
            runtime: Some(runtime),
            target,
            user,
            lease,
            options,
        };
        store.start(wait)?;
        Ok(store)
    }

    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Waits up to `wait` for a first connection, then migrates.
    fn start(&self, wait: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + wait;
        self.runtime()?.block_on(async {
            let mut client = loop {
                match self.pool.get().await {
                    Ok(c) => break c,
                    Err(e) => {
                        let e = self.pool_error(e);
                        if !e.is_unavailable() || Instant::now() >= deadline {
                            return Err(e);
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            };
            schema::migrate(&mut client)
                .await
                .map_err(|e| self.classify(e))??;
            drop(client);
            self.warm().await;
            Ok(())
        })
    }

    /// Opens the whole pool now, so a burst of requests does not wait for
    /// connections (and their TLS and SCRAM) to be made; failures are left
    /// for the calls that need a connection.
    async fn warm(&self) {
        let mut opening = tokio::task::JoinSet::new();
        for _ in 0..self.pool.status().max_size {
            let pool = self.pool.clone();
            opening.spawn(async move { pool.get().await.ok() });
        }
        let opened = opening.join_all().await;
        drop(opened);
    }

    /// The store's runtime; only `Drop` takes it out.
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        self.runtime
            .as_ref()
            .ok_or_else(|| self.unavailable("the store is closed".into()))
    }

    /// Runs `work` on the store's runtime, bounded by the call timeout.
    pub(super) fn block<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        // The timer is made inside the runtime (it needs its clock).
        let limit = self.options.call_timeout;
        match self
            .runtime()?
            .block_on(async { tokio::time::timeout(limit, work).await })
        {
            Ok(result) => result,
            Err(elapsed) => Err(self.unavailable(Box::new(elapsed))),
        }
    }

    pub(super) async fn client(&self) -> Result<Object, Error> {
        self.pool.get().await.map_err(|e| self.pool_error(e))
    }

    fn unavailable(&self, source: Box<dyn std::error::Error + Send + Sync>) -> Error {
        Error::Unavailable {
            target: self.target.clone(),
            source,
        }
    }

    fn pool_error(&self, e: PoolError) -> Error {
        match e {
            // Connecting failed: only refused credentials are not "unavailable"
            // (a database that does not accept connections right now is).
            PoolError::Backend(e) => match self.classify(e) {
                Error::Postgres(e) => self.unavailable(Box::new(e)),
                other => other,
            },
            e => self.unavailable(Box::new(e)),
        }
    }

    /// Credentials refused → [`Error::Auth`]; no answer → [`Error::Unavailable`].
    fn classify(&self, e: tokio_postgres::Error) -> Error {
        let code = e.code().cloned();
        match code {
            Some(c)
                if c == SqlState::INVALID_PASSWORD || c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                Error::Auth {
                    target: self.target.clone(),
                    user: self.user.clone(),
                    source: e,
                }
            }
            Some(c)
                if c == SqlState::ADMIN_SHUTDOWN
                    || c == SqlState::CRASH_SHUTDOWN
                    || c == SqlState::CANNOT_CONNECT_NOW
                    || c == SqlState::TOO_MANY_CONNECTIONS =>
            {
                self.unavailable(Box::new(e))
            }
            Some(_) => Error::Postgres(e),
            None => self.unavailable(Box::new(e)),
        }
    }

    async fn exec(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        sql: &str,
        cells: Vec<Cell>,
    ) -> Result<u64, Error> {
        client
            .execute(sql, &refs(&cells))
            .await
            .map_err(|e| self.classify(e))
    }

    /// Runs `statement` and an audit append in one transaction.
    fn with_audit(&self, statement: &str, cells: Vec<Cell>, event: &AuditEvent) -> Result<(), Error> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(|e| self.classify(e))?;
            self.exec(&tx, statement, cells).await?;
            self.exec(&tx, row::APPEND, row::audit_cells(event)).await?;
            tx.commit().await.map_err(|e| self.classify(e))
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks; the service may drop the store inside
        // its own runtime, where that is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A repository's advisory lock, held on one pooled session.
struct Held {
    client: Option<Object>,
    key: i64,
    handle: tokio::runtime::Handle,
}

impl RepoLock for Held {}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let key = self.key;
        // Never block here: the guard may be dropped on an async thread.
        self.handle.spawn(async move {
            let released = client
                .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                .await
                .is_ok_and(|r| r.get::<_, bool>(0));
            if !released {
                // Closing the session releases whatever it still holds.
                drop(Object::take(client));
            }
        });
    }
}

/// The advisory lock key of a repository.
fn repo_key(repo: &str) -> i64 {
    let digest = Sha256::digest(format!("gitintent.repo:{repo}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        format!("postgres {}", self.target)
    }

    fn insert_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        let cells = row::insert_cells(p, self.lease.owner(), self.lease.until_ms());
        self.block(async {
            let client = self.client().await?;
            self.exec(&client, row::INSERT, cells).await
        })?;
        self.lease.track(&p.id, p.status, true);
        Ok(())
    }

    fn update_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        self.block(async {
            let client = self.client().await?;
            self.exec(&client, row::UPDATE, row::update_cells(p)).await
        })?;
        if !p.status.in_flight() {
            self.lease.release(&p.id);
        }
        Ok(())
    }

    fn create(&self, p: &PlanRecord, event: &AuditEvent) -> Result<(), Error> {
        let cells = row::insert_cells(p, self.lease.owner(), self.lease.until_ms());
        self.with_audit(row::INSERT, cells, event)?;
        self.lease.track(&p.id, p.status, true);
        Ok(())
    }

    fn save(&self, p: &PlanRecord, event: &AuditEvent) -> Result<(), Error> {
        self.with_audit(row::UPDATE, row::update_cells(p), event)?;
        if !p.status.in_flight() {
            self.lease.release(&p.id);
        }
        Ok(())
    }

    fn get_plan(&self, id: &str) -> Result<Option<PlanRecord>, Error> {
        self.block(async {
            let client = self.client().await?;
            let found = client
                .query_opt(&row::select(row::GET), &[&id])
                .await
                .map_err(|e| self.classify(e))?;
            found.map(|r| row::decode_plan(&r)).transpose()
        })
    }

    fn list_plans(&self, f: &Filter) -> Result<Vec<PlanRecord>, Error> {
        let cells = row::list_cells(f);
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(&row::select(row::LIST), &refs(&cells))
                .await
                .map_err(|e| self.classify(e))
        })?;
        row::keep_allowed(f, rows.iter().map(row::decode_plan))
    }

    fn transition(&self, id: &str, from: Status, to: Status) -> Result<bool, Error> {
        let cells = row::transition_cells(&self.lease, id, from, to);
        let n = self.block(async {
            let client = self.client().await?;
            self.exec(&client, row::TRANSITION, cells).await
        })?;
        self.lease.track(id, to, n == 1);
        Ok(n == 1)
    }

    fn recover_interrupted(&self) -> Result<Vec<Recovered>, Error> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(|e| self.classify(e))?;
            // SKIP LOCKED: replicas recovering at once never wait on each other.
            let found = tx
                .query(
                    "SELECT id, status, owner FROM plans WHERE status IN ('pending', 'proposing')
                     AND (owner IS NULL OR lease_until_ms IS NULL OR lease_until_ms < $1)
                     FOR UPDATE SKIP LOCKED",
                    &[&super::now_ms()],
                )
                .await
                .map_err(|e| self.classify(e))?;
            let mut out = Vec::new();
            for r in found {
                let id: String = r.get(0);
                let from = Status::parse(r.get(1)).ok_or_else(|| Error::Corrupt(id.clone()))?;
                let owner: Option<String> = r.get(2);
                let cells = row::recover_cells(&id, from);
                if self.exec(&tx, row::RECOVER, cells).await? == 1 {
                    let event = row::recovered_event(&id, from, owner.as_deref(), self.lease.owner());
                    self.exec(&tx, row::APPEND, row::audit_cells(&event)).await?;
                    out.push(Recovered { id, from, owner });
                }
            }
            tx.commit().await.map_err(|e| self.classify(e))?;
            Ok(out)
        })
    }

    fn renew_leases(&self) -> Result<usize, Error> {
        let held = self.lease.held();
        if held.is_empty() {
            return Ok(0);
        }
        let until = self.lease.until_ms();
        self.block(async {
            let client = self.client().await?;
            let mut renewed = 0;
            for id in &held {
                renewed += self
                    .exec(&client, row::RENEW, row::renew_cells(&self.lease, id, until))
                    .await?;
            }
            Ok(renewed as usize)
        })
    }

    fn forget(&self, id: &str) {
        self.lease.release(id);
    }

    fn lock_repo(&self, repo: &str) -> Result<Box<dyn RepoLock>, Error> {
        let key = repo_key(repo);
        let deadline = Instant::now() + self.options.lock_wait;
        self.block(async {
            let client = self.client().await?;
            loop {
                let got: bool = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await
                    .map_err(|e| self.classify(e))?
                    .get(0);
                if got {
                    return Ok(Box::new(Held {
                        client: Some(client),
                        key,
                        handle: self.runtime()?.handle().clone(),
                    }) as Box<dyn RepoLock>);
                }
                if Instant::now() >= deadline {
                    return Err(Error::Busy {
                        repo: repo.to_string(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }

    fn append_audit(&self, e: &AuditEvent) -> Result<(), Error> {
        self.block(async {
            let client = self.client().await?;
            self.exec(&client, row::APPEND, row::audit_cells(e)).await
        })?;
        Ok(())
    }

    fn audit(&self, plan_id: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(row::AUDIT, &[&plan_id])
                .await
                .map_err(|e| self.classify(e))
        })?;
        rows.iter().map(row::decode_audit).collect()
    }

    fn ping(&self) -> Result<(), Error> {
        self.block(async {
            let client = self.client().await?;
            client
                .simple_query("SELECT 1")
                .await
                .map_err(|e| self.classify(e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_lock_keys_differ_by_name() {
        assert_ne!(repo_key("platform"), repo_key("payments"));
        assert_eq!(repo_key("platform"), repo_key("platform"));
    }
}
