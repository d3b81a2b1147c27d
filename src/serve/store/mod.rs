//! The plan and audit store: the [`Store`] trait and its two backends,
//! chosen by the store URL ([`Location`]): a path or `sqlite://PATH` opens
//! [`SqliteStore`] (bundled SQLite, WAL; one replica), `postgres://…` or
//! `postgresql://…` opens [`PostgresStore`] (a bounded pool, TLS per
//! `sslmode`; any number of replicas on one database). Any other scheme is
//! refused, naming the supported ones.
//!
//! Plans are rows that move `pending → planned | failed → proposed`; the
//! audit table is append-only in both backends (triggers refuse UPDATE and
//! DELETE). Both backends share the statements (`$N` placeholders; SQLite
//! gets them as `?N`), the row codec (`row.rs`) and the numbered
//! migrations ([`MIGRATIONS`], one text per dialect), so a schema version
//! means the same thing in both. A schema newer than this build is refused.
//!
//! Plans in flight (`pending`, `proposing`) carry an owner (this process's
//! [`Lease`] id) and a lease end the owner renews; [`Store::recover_interrupted`]
//! only closes plans whose lease ran out (SQLite, which has one replica,
//! also closes every other owner's), with a `plan.recovered` audit event.
//!
//! Everything stored has already been redacted by the caller: the intent by
//! the pipeline, the raw model reply by `work::redact_reply`. Tokens are
//! never passed in; only token names are. Calls are blocking: the service
//! runs them on `spawn_blocking`.

mod lease;
mod postgres;
mod row;
mod sqlite;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::Serialize;

/// Where a plan is in its life (the view's type, stored as its name).
pub use crate::view::Status;
pub use lease::Lease;
pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::SqliteStore;

use crate::view::{BaseView, ChangeView, CommitFiles, ErrorView, PlannerName, ProposalView};

/// Store faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the store directory {}", path.display())]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store database")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL statement failed (the server answered).
    #[error("store database")]
    Postgres(#[source] tokio_postgres::Error),
    /// The database cannot be reached (down, refused, timed out, pool exhausted).
    #[error("the store database at {target} is unavailable")]
    Unavailable {
        target: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server refused the user name or password.
    #[error("the store database at {target} refused the credentials of user {user:?}")]
    Auth {
        target: String,
        user: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The store URL cannot be used.
    #[error("store {0}")]
    Url(String),
    #[error("store record {0} is corrupt")]
    Corrupt(String),
    #[error("the store schema is version {found}, newer than this build's {known}: upgrade gitintent (a newer release migrated this database)")]
    TooNew { found: i64, known: i64 },
    /// Another replica holds a repository's lock for longer than the wait.
    #[error("repository {repo:?} is locked by another replica; retry")]
    Busy { repo: String },
}

impl Error {
    /// True when the database could not be reached (a 503, not a 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Unavailable { .. } | Error::Busy { .. } => true,
            Error::Postgres(e) => e.is_closed() || e.code().is_none(),
            _ => false,
        }
    }
}

/// Where the store is: parsed from `store` / `GITINTENT_STORE` / `--store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A libpq-style URL (`postgres://user:pass@host:5432/db?sslmode=require`).
    Postgres(String),
}

impl Location {
    /// The schemes a store URL may have.
    pub const SCHEMES: &'static str = "a path, sqlite://PATH, postgres://… or postgresql://…";

    pub fn parse(text: &str) -> Result<Location, Error> {
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(Error::Url(
                    "sqlite:// needs a path, e.g. sqlite:///var/lib/gitintent/gitintent.db".into(),
                ));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_string()));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            let looks_like_scheme = !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
            if looks_like_scheme {
                return Err(Error::Url(format!(
                    "URL scheme {scheme:?} is not supported; use {}",
                    Location::SCHEMES
                )));
            }
        }
        Ok(Location::Sqlite(PathBuf::from(text)))
    }

    /// For logs: the path, or the URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(path) => format!("sqlite {}", path.display()),
            Location::Postgres(url) => format!("postgres {}", postgres::redact_url(url)),
        }
    }
}

/// Opens the store at `location` and applies pending migrations.
pub fn open(location: &Location, lease: Lease, pg: PostgresOptions) -> Result<Box<dyn Store>, Error> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(SqliteStore::open_with(path, lease)?),
        Location::Postgres(url) => Box::new(PostgresStore::open(url, lease, pg)?),
    })
}

/// One plan as stored. JSON columns hold typed values (the views' parts and
/// the pipeline's serialised types); a column that does not decode as its
/// type makes the row [`Error::Corrupt`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    pub id: String,
    pub repo: String,
    /// The requested environment, then the planned one.
    pub environment: Option<String>,
    pub status: Status,
    /// Token name or Slack user.
    pub requester: String,
    /// Redacted intent.
    pub intent: String,
    pub planner: Option<PlannerName>,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    /// The model's last reply, redacted.
    pub raw_reply: Option<String>,
    pub spec: Option<crate::spec::Spec>,
    pub files: Option<Vec<crate::manifest::File>>,
    pub findings: Option<Vec<crate::finding::Finding>>,
    pub changes: Option<Vec<ChangeView>>,
    pub usage: Option<crate::plan::Usage>,
    pub attempts: u32,
    /// Status, code and message when planning failed.
    pub error: Option<ErrorView>,
    pub proposal: Option<ProposalView>,
    /// The base the plan was diffed against.
    pub base: Option<BaseView>,
    /// What a proposal commits (the changeset: planned files plus wiring
    /// edits, deletions) and the day-2 operations.
    pub commit_files: Option<CommitFiles>,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl PlanRecord {
    /// A plan just requested: `pending`, no environment or planner yet, no
    /// results; created and updated at `now_ms`.
    pub fn pending(id: &str, repo: &str, requester: &str, intent: &str, now_ms: i64) -> PlanRecord {
        PlanRecord {
            id: id.into(),
            repo: repo.into(),
            environment: None,
            status: Status::Pending,
            requester: requester.into(),
            intent: intent.into(),
            planner: None,
            model: None,
            prompt_version: None,
            raw_reply: None,
            spec: None,
            files: None,
            findings: None,
            changes: None,
            usage: None,
            attempts: 0,
            error: None,
            proposal: None,
            base: None,
            commit_files: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// e.g. `plan.requested`, `plan.completed`, `proposal.refused`.
    pub event: String,
    pub actor: String,
    pub plan_id: Option<String>,
    pub detail: String,
    pub at_ms: i64,
}

/// Filters for [`Store::list_plans`].
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub repo: Option<String>,
    pub status: Option<Status>,
    /// Only plans for these repositories (the caller's); `None` for all.
    pub repos_allowed: Option<Vec<String>>,
    pub limit: usize,
}

/// A plan [`Store::recover_interrupted`] closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub id: String,
    /// `pending` (now failed) or `proposing` (now planned again).
    pub from: Status,
    /// The replica that owned it.
    pub owner: Option<String>,
}

/// Held while a repository's proposals are serialised across replicas;
/// dropping it releases the lock.
pub trait RepoLock: Send {}

/// Plans and the audit trail. Implementations are blocking and thread-safe.
pub trait Store: Send + Sync {
    /// What the store is, for logs (no password).
    fn describe(&self) -> String;
    fn insert_plan(&self, plan: &PlanRecord) -> Result<(), Error>;
    /// Replaces a plan's mutable fields (everything but id and created).
    fn update_plan(&self, plan: &PlanRecord) -> Result<(), Error>;
    /// Inserts a plan and its first audit event in one transaction.
    fn create(&self, plan: &PlanRecord, event: &AuditEvent) -> Result<(), Error>;
    /// [`Store::update_plan`] and an audit event in one transaction.
    fn save(&self, plan: &PlanRecord, event: &AuditEvent) -> Result<(), Error>;
    fn get_plan(&self, id: &str) -> Result<Option<PlanRecord>, Error>;
    /// Newest first.
    fn list_plans(&self, filter: &Filter) -> Result<Vec<PlanRecord>, Error>;
    /// Atomically moves a plan from `from` to `to`; false when it was not in
    /// `from`. Moving into `proposing` takes the plan under this replica's lease.
    fn transition(&self, id: &str, from: Status, to: Status) -> Result<bool, Error>;
    /// Closes in-flight plans whose owner's lease ran out: `pending` →
    /// `failed` (code `interrupted`), `proposing` → `planned`, each with a
    /// `plan.recovered` audit event in the same transaction.
    fn recover_interrupted(&self) -> Result<Vec<Recovered>, Error>;
    /// Extends the lease of this replica's live plans; returns how many.
    fn renew_leases(&self) -> Result<usize, Error>;
    /// Stops renewing `id`'s lease: this replica gave up on it (the store was
    /// away when it finished), so recovery will close it.
    fn forget(&self, id: &str);
    /// Serialises proposals on `repo` across replicas until the guard drops
    /// (waits a bounded time, then [`Error::Busy`]).
    fn lock_repo(&self, repo: &str) -> Result<Box<dyn RepoLock>, Error>;
    fn append_audit(&self, event: &AuditEvent) -> Result<(), Error>;
    /// Events for one plan (or all), oldest first.
    fn audit(&self, plan_id: Option<&str>) -> Result<Vec<AuditEvent>, Error>;
    /// Cheap readiness check.
    fn ping(&self) -> Result<(), Error>;
}

/// One migration in both dialects; `schema_version` records the last applied.
pub(crate) struct Migration {
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

/// Migrations, applied in order under a lock (SQLite: its write lock;
/// PostgreSQL: an advisory lock), each in its own transaction.
pub(crate) const MIGRATIONS: &[Migration] = &[
    // 1: plans and the audit trail (append-only by trigger)
    Migration {
        sqlite: sqlite::MIGRATION_1,
        postgres: postgres::MIGRATION_1,
    },
    // 2: the base a plan was diffed against and what its proposal commits
    Migration {
        sqlite: "ALTER TABLE plans ADD COLUMN base TEXT;
                 ALTER TABLE plans ADD COLUMN commit_files TEXT;",
        postgres: "ALTER TABLE plans ADD COLUMN base TEXT;
                   ALTER TABLE plans ADD COLUMN commit_files TEXT;",
    },
    // 3: the replica working on an in-flight plan and until when
    Migration {
        sqlite: "ALTER TABLE plans ADD COLUMN owner TEXT;
                 ALTER TABLE plans ADD COLUMN lease_until_ms INTEGER;",
        postgres: "ALTER TABLE plans ADD COLUMN owner TEXT;
                   ALTER TABLE plans ADD COLUMN lease_until_ms BIGINT;",
    },
];

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
