//! The plan and audit store: [`Store`] (so a PostgreSQL backend can follow)
//! and [`SqliteStore`] (bundled SQLite, WAL, versioned migrations).
//!
//! Plans are rows that move `pending → planned | failed → proposed`; the
//! audit table is append-only (no update or delete statement touches it).
//! Everything stored has already been redacted by the caller: the intent by
//! the pipeline, the raw model reply by [`super::redact`]. Tokens are never
//! passed in; only token names are.
//!
//! Calls are blocking: the service runs them on `spawn_blocking`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Store faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the store directory {}", path.display())]
    Directory {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store database")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store record {0} is corrupt")]
    Corrupt(String),
    #[error("the store schema is version {found}, newer than this binary's {known}")]
    TooNew { found: i64, known: i64 },
}

/// Where a plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted; planning in the background.
    Pending,
    /// Planned (possibly with error findings).
    Planned,
    /// Planning failed; see `error`.
    Failed,
    /// A proposal is being made.
    Proposing,
    /// Branch pushed (and PR opened when a forge is configured).
    Proposed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Planned => "planned",
            Status::Failed => "failed",
            Status::Proposing => "proposing",
            Status::Proposed => "proposed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "planned" => Status::Planned,
            "failed" => Status::Failed,
            "proposing" => Status::Proposing,
            "proposed" => Status::Proposed,
            _ => return None,
        })
    }
}

/// One plan as stored. JSON columns hold the pipeline's serialised values.
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
    pub planner: Option<String>,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    /// The model's last reply, redacted.
    pub raw_reply: Option<String>,
    pub spec: Option<serde_json::Value>,
    pub files: Option<serde_json::Value>,
    pub findings: Option<serde_json::Value>,
    pub changes: Option<serde_json::Value>,
    pub usage: Option<serde_json::Value>,
    pub attempts: u32,
    /// `{code, message}` when planning or proposing failed.
    pub error: Option<serde_json::Value>,
    pub proposal: Option<serde_json::Value>,
    /// `{ref, commit}` of the base the plan was diffed against.
    pub base: Option<serde_json::Value>,
    /// What a proposal commits: `{files: [{path, content}], delete: [path]}`
    /// (the changeset: planned files plus wiring edits).
    pub commit_files: Option<serde_json::Value>,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub updated_ms: i64,
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

/// Plans and the audit trail. Implementations are blocking and thread-safe.
pub trait Store: Send + Sync {
    fn insert_plan(&self, plan: &PlanRecord) -> Result<(), Error>;
    /// Replaces a plan's mutable fields (everything but id and created).
    fn update_plan(&self, plan: &PlanRecord) -> Result<(), Error>;
    fn get_plan(&self, id: &str) -> Result<Option<PlanRecord>, Error>;
    /// Newest first.
    fn list_plans(&self, filter: &Filter) -> Result<Vec<PlanRecord>, Error>;
    /// Atomically moves a plan from `from` to `to`; false when it was not in `from`.
    fn transition(&self, id: &str, from: Status, to: Status) -> Result<bool, Error>;
    /// Marks plans left `pending`/`proposing` by a previous process as failed/planned.
    fn recover_interrupted(&self) -> Result<usize, Error>;
    fn append_audit(&self, event: &AuditEvent) -> Result<(), Error>;
    /// Events for one plan (or all), oldest first.
    fn audit(&self, plan_id: Option<&str>) -> Result<Vec<AuditEvent>, Error>;
    /// Cheap readiness check.
    fn ping(&self) -> Result<(), Error>;
}

/// Migrations, applied in order; `schema_version` records the last one.
const MIGRATIONS: &[&str] = &[
    // 1: plans and the audit trail
    "CREATE TABLE plans (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        environment TEXT,
        status TEXT NOT NULL,
        requester TEXT NOT NULL,
        intent TEXT NOT NULL,
        planner TEXT,
        model TEXT,
        prompt_version TEXT,
        raw_reply TEXT,
        spec TEXT,
        files TEXT,
        findings TEXT,
        changes TEXT,
        usage TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        proposal TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
     );
     CREATE INDEX plans_repo_created ON plans (repo, created_ms);
     CREATE INDEX plans_status ON plans (status);
     CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event TEXT NOT NULL,
        actor TEXT NOT NULL,
        plan_id TEXT,
        detail TEXT NOT NULL,
        at_ms INTEGER NOT NULL
     );
     CREATE INDEX audit_plan ON audit (plan_id);
     CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
     CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    // 2: the base a plan was diffed against and what its proposal commits
    "ALTER TABLE plans ADD COLUMN base TEXT;
     ALTER TABLE plans ADD COLUMN commit_files TEXT;",
];

/// SQLite behind a mutex; WAL so readers of other processes are not blocked.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Directory {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (statements are atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn migrate(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_ms INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| {
        r.get(0)
    })?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(Error::TooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_ms) VALUES (?1, ?2)",
            params![i as i64 + 1, now_ms()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

const COLUMNS: &str = "id, repo, environment, status, requester, intent, planner, model, prompt_version, \
     raw_reply, spec, files, findings, changes, usage, attempts, error, proposal, created_ms, updated_ms, \
     base, commit_files";

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

fn row_to_plan(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<PlanRecord, Error>> {
    let id: String = row.get(0)?;
    let json = |i: usize| -> rusqlite::Result<Result<Option<serde_json::Value>, Error>> {
        let text: Option<String> = row.get(i)?;
        Ok(text
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|_| Error::Corrupt(id.clone())))
    };
    let status: String = row.get(3)?;
    let Some(status) = Status::parse(&status) else {
        return Ok(Err(Error::Corrupt(id)));
    };
    let (spec, files, findings, changes, usage, error, proposal) = match (
        json(10)?,
        json(11)?,
        json(12)?,
        json(13)?,
        json(14)?,
        json(16)?,
        json(17)?,
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f), Ok(g)) => (a, b, c, d, e, f, g),
        _ => return Ok(Err(Error::Corrupt(id))),
    };
    let (base, commit_files) = match (json(20)?, json(21)?) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Ok(Err(Error::Corrupt(id))),
    };
    Ok(Ok(PlanRecord {
        repo: row.get(1)?,
        environment: row.get(2)?,
        status,
        requester: row.get(4)?,
        intent: row.get(5)?,
        planner: row.get(6)?,
        model: row.get(7)?,
        prompt_version: row.get(8)?,
        raw_reply: row.get(9)?,
        spec,
        files,
        findings,
        changes,
        usage,
        attempts: row.get(15)?,
        error,
        proposal,
        created_ms: row.get(18)?,
        updated_ms: row.get(19)?,
        base,
        commit_files,
        id,
    }))
}

impl Store for SqliteStore {
    fn insert_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        self.conn().execute(
            &format!("INSERT INTO plans ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"),
            params![
                p.id, p.repo, p.environment, p.status.as_str(), p.requester, p.intent, p.planner,
                p.model, p.prompt_version, p.raw_reply, json_text(&p.spec), json_text(&p.files),
                json_text(&p.findings), json_text(&p.changes), json_text(&p.usage), p.attempts,
                json_text(&p.error), json_text(&p.proposal), p.created_ms, p.updated_ms,
                json_text(&p.base), json_text(&p.commit_files)
            ],
        )?;
        Ok(())
    }

    fn update_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE plans SET environment = ?2, status = ?3, planner = ?4, model = ?5, prompt_version = ?6,
                raw_reply = ?7, spec = ?8, files = ?9, findings = ?10, changes = ?11, usage = ?12,
                attempts = ?13, error = ?14, proposal = ?15, updated_ms = ?16, base = ?17,
                commit_files = ?18
             WHERE id = ?1",
            params![
                p.id,
                p.environment,
                p.status.as_str(),
                p.planner,
                p.model,
                p.prompt_version,
                p.raw_reply,
                json_text(&p.spec),
                json_text(&p.files),
                json_text(&p.findings),
                json_text(&p.changes),
                json_text(&p.usage),
                p.attempts,
                json_text(&p.error),
                json_text(&p.proposal),
                p.updated_ms,
                json_text(&p.base),
                json_text(&p.commit_files)
            ],
        )?;
        Ok(())
    }

    fn get_plan(&self, id: &str) -> Result<Option<PlanRecord>, Error> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM plans WHERE id = ?1"),
                [id],
                row_to_plan,
            )
            .optional()?;
        found.transpose()
    }

    fn list_plans(&self, f: &Filter) -> Result<Vec<PlanRecord>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM plans
             WHERE (?1 IS NULL OR repo = ?1) AND (?2 IS NULL OR status = ?2)
             ORDER BY created_ms DESC, id DESC"
        ))?;
        let rows = stmt.query_map(params![f.repo, f.status.map(Status::as_str)], row_to_plan)?;
        let mut out = Vec::new();
        for row in rows {
            let plan = row??;
            if f.repos_allowed
                .as_ref()
                .is_some_and(|allowed| !allowed.iter().any(|r| r == "*" || *r == plan.repo))
            {
                continue;
            }
            out.push(plan);
            if out.len() >= f.limit {
                break;
            }
        }
        Ok(out)
    }

    fn transition(&self, id: &str, from: Status, to: Status) -> Result<bool, Error> {
        let n = self.conn().execute(
            "UPDATE plans SET status = ?3, updated_ms = ?4 WHERE id = ?1 AND status = ?2",
            params![id, from.as_str(), to.as_str(), now_ms()],
        )?;
        Ok(n == 1)
    }

    fn recover_interrupted(&self) -> Result<usize, Error> {
        let conn = self.conn();
        let error = serde_json::json!({
            "code": "interrupted",
            "message": "the service restarted before this plan finished; plan it again"
        })
        .to_string();
        let failed = conn.execute(
            "UPDATE plans SET status = 'failed', error = ?1, updated_ms = ?2 WHERE status = 'pending'",
            params![error, now_ms()],
        )?;
        let reset = conn.execute(
            "UPDATE plans SET status = 'planned', updated_ms = ?1 WHERE status = 'proposing'",
            params![now_ms()],
        )?;
        Ok(failed + reset)
    }

    fn append_audit(&self, e: &AuditEvent) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO audit (event, actor, plan_id, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.event, e.actor, e.plan_id, e.detail, e.at_ms],
        )?;
        Ok(())
    }

    fn audit(&self, plan_id: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT event, actor, plan_id, detail, at_ms FROM audit
             WHERE (?1 IS NULL OR plan_id = ?1) ORDER BY seq",
        )?;
        let rows = stmt.query_map([plan_id], |r| {
            Ok(AuditEvent {
                event: r.get(0)?,
                actor: r.get(1)?,
                plan_id: r.get(2)?,
                detail: r.get(3)?,
                at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn ping(&self) -> Result<(), Error> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, repo: &str, created: i64) -> PlanRecord {
        PlanRecord {
            id: id.into(),
            repo: repo.into(),
            environment: Some("staging".into()),
            status: Status::Pending,
            requester: "ci".into(),
            intent: "deploy redis".into(),
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
            created_ms: created,
            updated_ms: created,
            base: None,
            commit_files: None,
        }
    }

    /// A store in its own temporary directory (removed on drop). Tests run in
    /// parallel in one process, so the directory must be unique per call.
    fn temp_db() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("sub/gitintent.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn plans_round_trip_and_filter() {
        let (dir, store) = temp_db();
        store.insert_plan(&record("a", "platform", 1)).unwrap();
        store.insert_plan(&record("b", "other", 2)).unwrap();
        let mut a = store.get_plan("a").unwrap().unwrap();
        a.status = Status::Planned;
        a.spec = Some(serde_json::json!({"namespace": "cache"}));
        a.attempts = 2;
        store.update_plan(&a).unwrap();
        assert_eq!(store.get_plan("a").unwrap().unwrap(), a);
        assert!(store.get_plan("zzz").unwrap().is_none());
        let all = store
            .list_plans(&Filter {
                limit: 10,
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(all.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        let planned = store
            .list_plans(&Filter {
                status: Some(Status::Planned),
                limit: 10,
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(planned.len(), 1);
        let mine = store
            .list_plans(&Filter {
                repos_allowed: Some(vec!["other".into()]),
                limit: 10,
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(mine[0].id, "b");
        assert!(store.transition("a", Status::Planned, Status::Proposing).unwrap());
        assert!(!store.transition("a", Status::Planned, Status::Proposing).unwrap());
        drop(dir);
    }

    #[test]
    fn the_audit_trail_is_append_only_and_migrations_are_recorded_once() {
        let (dir, store) = temp_db();
        let e = AuditEvent {
            event: "plan.requested".into(),
            actor: "ci".into(),
            plan_id: Some("a".into()),
            detail: "{}".into(),
            at_ms: 5,
        };
        store.append_audit(&e).unwrap();
        assert_eq!(store.audit(Some("a")).unwrap(), vec![e]);
        let conn = store.conn();
        assert!(conn.execute("DELETE FROM audit", []).is_err());
        assert!(conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
        drop(conn);
        drop(store);
        let again = SqliteStore::open(&dir.path().join("sub/gitintent.db")).unwrap();
        let versions: i64 = again
            .conn()
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, MIGRATIONS.len() as i64);
        drop(dir);
    }
}
