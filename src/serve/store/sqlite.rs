//! [`SqliteStore`]: bundled SQLite behind a mutex, WAL so readers of other
//! processes are not blocked. One replica: proposals need no cross-process
//! lock, and recovery closes every in-flight plan this process does not own.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::row::{self, Cell};
use super::{AuditEvent, Error, Filter, Lease, PlanRecord, Recovered, RepoLock, Status, Store};

pub(crate) const MIGRATION_1: &str = "CREATE TABLE plans (
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
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;";

/// SQLite behind a mutex.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: std::path::PathBuf,
    lease: Lease,
}

/// A shared statement with SQLite's `?N` placeholders.
fn sql(statement: &str) -> String {
    statement.replace('$', "?")
}

impl row::Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<String>, Error> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> Result<Option<i64>, Error> {
        Ok(self.get(i)?)
    }
}

impl SqliteStore {
    /// Opens (creating) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        SqliteStore::open_with(path, Lease::new(None, std::time::Duration::from_secs(60)))
    }

    /// [`SqliteStore::open`] with this process's lease.
    pub fn open_with(path: &Path, lease: Lease) -> Result<SqliteStore, Error> {
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
            path: path.to_path_buf(),
            lease,
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (statements are atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lease(&self) -> &Lease {
        &self.lease
    }
}

fn migrate(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_ms INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| {
        r.get(0)
    })?;
    let known = super::MIGRATIONS.len() as i64;
    if current > known {
        return Err(Error::TooNew {
            found: current,
            known,
        });
    }
    for (i, migration) in super::MIGRATIONS.iter().enumerate().skip(current as usize) {
        // IMMEDIATE: the write lock first, so two processes cannot both migrate.
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        let again: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| {
            r.get(0)
        })?;
        if again > i as i64 {
            continue;
        }
        tx.execute_batch(migration.sqlite)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_ms) VALUES (?1, ?2)",
            rusqlite::params![i as i64 + 1, super::now_ms()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn exec(conn: &Connection, statement: &str, cells: Vec<Cell>) -> Result<usize, Error> {
    Ok(conn.execute(&sql(statement), params_from_iter(cells))?)
}

/// A no-op: one SQLite replica serialises proposals with its in-process lock.
struct NoLock;
impl RepoLock for NoLock {}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        super::Location::Sqlite(self.path.clone()).redacted()
    }

    fn insert_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        exec(
            &self.conn(),
            row::INSERT,
            row::insert_cells(p, self.lease.owner(), self.lease.until_ms()),
        )?;
        if p.status.in_flight() {
            self.lease.hold(&p.id);
        }
        Ok(())
    }

    fn update_plan(&self, p: &PlanRecord) -> Result<(), Error> {
        exec(&self.conn(), row::UPDATE, row::update_cells(p))?;
        if !p.status.in_flight() {
            self.lease.release(&p.id);
        }
        Ok(())
    }

    fn create(&self, p: &PlanRecord, event: &AuditEvent) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        exec(
            &tx,
            row::INSERT,
            row::insert_cells(p, self.lease.owner(), self.lease.until_ms()),
        )?;
        exec(&tx, row::APPEND, row::audit_cells(event))?;
        tx.commit()?;
        if p.status.in_flight() {
            self.lease.hold(&p.id);
        }
        Ok(())
    }

    fn save(&self, p: &PlanRecord, event: &AuditEvent) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        exec(&tx, row::UPDATE, row::update_cells(p))?;
        exec(&tx, row::APPEND, row::audit_cells(event))?;
        tx.commit()?;
        if !p.status.in_flight() {
            self.lease.release(&p.id);
        }
        Ok(())
    }

    fn get_plan(&self, id: &str) -> Result<Option<PlanRecord>, Error> {
        let conn = self.conn();
        let found = conn
            .query_row(&sql(&row::select(row::GET)), [id], |r| Ok(row::decode_plan(r)))
            .optional()?;
        found.transpose()
    }

    fn list_plans(&self, f: &Filter) -> Result<Vec<PlanRecord>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql(&row::select(row::LIST)))?;
        let rows = stmt.query_map(params_from_iter(row::list_cells(f)), |r| Ok(row::decode_plan(r)))?;
        row::keep_allowed(f, rows.map(|r| r.map_err(Error::from).and_then(|plan| plan)))
    }

    fn transition(&self, id: &str, from: Status, to: Status) -> Result<bool, Error> {
        let cells = row::transition_cells(&self.lease, id, from, to);
        let n = exec(&self.conn(), row::TRANSITION, cells)?;
        self.lease.track(id, to, n == 1);
        Ok(n == 1)
    }

    fn recover_interrupted(&self) -> Result<Vec<Recovered>, Error> {
        let mut conn = self.conn();
        let tx = rusqlite::Transaction::new(&mut conn, rusqlite::TransactionBehavior::Immediate)?;
        let found = {
            let mut stmt = tx.prepare(
                "SELECT id, status, owner FROM plans WHERE status IN ('pending', 'proposing')
                 AND (owner IS NULL OR owner <> ?1 OR lease_until_ms IS NULL OR lease_until_ms < ?2)",
            )?;
            let rows = stmt.query_map(rusqlite::params![self.lease.owner(), super::now_ms()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::new();
        for (id, from, owner) in found {
            let from = Status::parse(&from).ok_or_else(|| Error::Corrupt(id.clone()))?;
            let cells = row::recover_cells(&id, from);
            if exec(&tx, row::RECOVER, cells)? == 1 {
                let event = row::recovered_event(&id, from, owner.as_deref(), self.lease.owner());
                exec(&tx, row::APPEND, row::audit_cells(&event))?;
                out.push(Recovered { id, from, owner });
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn renew_leases(&self) -> Result<usize, Error> {
        let conn = self.conn();
        let until = self.lease.until_ms();
        let mut renewed = 0;
        for id in self.lease.held() {
            renewed += exec(&conn, row::RENEW, row::renew_cells(&self.lease, &id, until))?;
        }
        Ok(renewed)
    }

    fn forget(&self, id: &str) {
        self.lease.release(id);
    }

    fn lock_repo(&self, _repo: &str) -> Result<Box<dyn RepoLock>, Error> {
        Ok(Box::new(NoLock))
    }

    fn append_audit(&self, e: &AuditEvent) -> Result<(), Error> {
        exec(&self.conn(), row::APPEND, row::audit_cells(e))?;
        Ok(())
    }

    fn audit(&self, plan_id: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql(row::AUDIT))?;
        let rows = stmt.query_map([plan_id], |r| Ok(row::decode_audit(r)))?;
        let mut out = Vec::new();
        for event in rows {
            out.push(event??);
        }
        Ok(out)
    }

    fn ping(&self) -> Result<(), Error> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
