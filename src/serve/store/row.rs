//! What both backends share: the SQL statements (written with `$N`
//! placeholders; SQLite runs them as `?N`), the values bound to them
//! ([`Cell`], which both drivers accept) and the decoding of a plan row.

use tokio_postgres::types::{IsNull, ToSql as PgToSql, Type};

use super::{AuditEvent, Error, Filter, Lease, PlanRecord, Status};

pub(crate) const COLUMNS: &str = "id, repo, environment, status, requester, intent, planner, model, \
     prompt_version, raw_reply, spec, files, findings, changes, usage, attempts, error, proposal, \
     created_ms, updated_ms, base, commit_files";

/// The columns of [`UPDATE`] in its order (`$1` to `$18`), then those a
/// plan never changes, then its lease.
pub(crate) const INSERT: &str = "INSERT INTO plans (id, environment, status, planner, model, \
     prompt_version, raw_reply, spec, files, findings, changes, usage, attempts, error, proposal, \
     updated_ms, base, commit_files, repo, requester, intent, created_ms, owner, lease_until_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
     $21, $22, $23, $24)";

pub(crate) const UPDATE: &str = "UPDATE plans SET environment = $2, status = $3, planner = $4, model = $5, \
     prompt_version = $6, raw_reply = $7, spec = $8, files = $9, findings = $10, changes = $11, \
     usage = $12, attempts = $13, error = $14, proposal = $15, updated_ms = $16, base = $17, \
     commit_files = $18 WHERE id = $1";

pub(crate) const GET: &str = "WHERE id = $1";

pub(crate) const LIST: &str = "WHERE (CAST($1 AS TEXT) IS NULL OR repo = $1) \
     AND (CAST($2 AS TEXT) IS NULL OR status = $2) ORDER BY created_ms DESC, id DESC LIMIT $3";

pub(crate) const TRANSITION: &str = "UPDATE plans SET status = $3, updated_ms = $4, owner = $5, \
     lease_until_ms = $6 WHERE id = $1 AND status = $2";

pub(crate) const RENEW: &str = "UPDATE plans SET lease_until_ms = $3 \
     WHERE id = $1 AND owner = $2 AND status IN ('pending', 'proposing')";

/// Closing one recovered plan: `$1` id, `$2` from, `$3` to, `$4` error JSON, `$5` now.
pub(crate) const RECOVER: &str = "UPDATE plans SET status = $3, error = COALESCE($4, error), \
     updated_ms = $5, owner = NULL, lease_until_ms = NULL WHERE id = $1 AND status = $2";

pub(crate) const APPEND: &str =
    "INSERT INTO audit (event, actor, plan_id, detail, at_ms) VALUES ($1, $2, $3, $4, $5)";

pub(crate) const AUDIT: &str = "SELECT event, actor, plan_id, detail, at_ms FROM audit \
     WHERE (CAST($1 AS TEXT) IS NULL OR plan_id = $1) ORDER BY seq";

/// `SELECT … FROM plans` plus a condition.
pub(crate) fn select(condition: &str) -> String {
    format!("SELECT {COLUMNS} FROM plans {condition}")
}

/// One bound value: text or an integer, possibly NULL.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(Some(s.to_string()))
    }
}
impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::Text(Some(s.clone()))
    }
}
impl From<&Option<String>> for Cell {
    fn from(s: &Option<String>) -> Cell {
        Cell::Text(s.clone())
    }
}
impl From<Option<&str>> for Cell {
    fn from(s: Option<&str>) -> Cell {
        Cell::Text(s.map(str::to_string))
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(Some(n))
    }
}
impl Cell {
    /// A JSON column: the value serialised, or NULL. The stored types
    /// (views, specs, findings) have string keys only and cannot fail to
    /// serialise; if one ever did, the log says so rather than nothing.
    fn json<T: serde::Serialize>(v: &Option<T>) -> Cell {
        Cell::Text(v.as_ref().and_then(|v| match serde_json::to_string(v) {
            Ok(text) => Some(text),
            Err(e) => {
                tracing::error!("a plan column does not serialise and is stored as NULL: {e}");
                None
            }
        }))
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Cell::Text(v) => rusqlite::ToSql::to_sql(v),
            Cell::Int(v) => rusqlite::ToSql::to_sql(v),
        }
    }
}

impl PgToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Text(v) => v.to_sql(ty, out),
            Cell::Int(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <Option<String> as PgToSql>::accepts(ty) || <Option<i64> as PgToSql>::accepts(ty)
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Text(v) => v.to_sql_checked(ty, out),
            Cell::Int(v) => v.to_sql_checked(ty, out),
        }
    }
}

/// The values of [`INSERT`], owned by `owner` until `lease_until_ms`:
/// those of [`UPDATE`], then the columns a plan never changes and the lease.
pub(crate) fn insert_cells(p: &PlanRecord, owner: &str, lease_until_ms: i64) -> Vec<Cell> {
    let mut cells = update_cells(p);
    cells.extend([
        Cell::from(&p.repo),
        Cell::from(&p.requester),
        Cell::from(&p.intent),
        Cell::from(p.created_ms),
    ]);
    let in_flight = p.status.in_flight();
    cells.push(Cell::Text(in_flight.then(|| owner.to_string())));
    cells.push(Cell::Int(in_flight.then_some(lease_until_ms)));
    cells
}

/// The values of [`UPDATE`]: the id, then everything planning and proposing change.
pub(crate) fn update_cells(p: &PlanRecord) -> Vec<Cell> {
    vec![
        Cell::from(&p.id),
        Cell::from(&p.environment),
        Cell::from(p.status.as_str()),
        Cell::from(p.planner.map(|p| p.as_str())),
        Cell::from(&p.model),
        Cell::from(&p.prompt_version),
        Cell::from(&p.raw_reply),
        Cell::json(&p.spec),
        Cell::json(&p.files),
        Cell::json(&p.findings),
        Cell::json(&p.changes),
        Cell::json(&p.usage),
        Cell::from(i64::from(p.attempts)),
        Cell::json(&p.error),
        Cell::json(&p.proposal),
        Cell::from(p.updated_ms),
        Cell::json(&p.base),
        Cell::json(&p.commit_files),
    ]
}

/// The query values of [`LIST`]: repository, status and how many rows to
/// read (all of them when the rows are filtered by [`Filter::repos_allowed`]
/// afterwards, see [`keep_allowed`]).
pub(crate) fn list_cells(f: &Filter) -> Vec<Cell> {
    let limit = if f.repos_allowed.is_some() {
        i64::MAX
    } else {
        f.limit as i64
    };
    vec![
        Cell::Text(f.repo.clone()),
        Cell::from(f.status.map(Status::as_str)),
        Cell::from(limit),
    ]
}

/// True when the filter's repository allow-list admits `plan`.
fn allowed(f: &Filter, plan: &PlanRecord) -> bool {
    f.repos_allowed
        .as_ref()
        .is_none_or(|allowed| allowed.iter().any(|r| r == "*" || *r == plan.repo))
}

/// The first [`Filter::limit`] plans of `rows` in the filter's repositories.
pub(crate) fn keep_allowed(
    f: &Filter,
    rows: impl IntoIterator<Item = Result<PlanRecord, Error>>,
) -> Result<Vec<PlanRecord>, Error> {
    let mut out = Vec::new();
    for plan in rows {
        let plan = plan?;
        if allowed(f, &plan) {
            out.push(plan);
        }
        if out.len() >= f.limit {
            break;
        }
    }
    Ok(out)
}

/// The values of [`APPEND`].
pub(crate) fn audit_cells(e: &AuditEvent) -> Vec<Cell> {
    vec![
        Cell::from(&e.event),
        Cell::from(&e.actor),
        Cell::from(&e.plan_id),
        Cell::from(&e.detail),
        Cell::from(e.at_ms),
    ]
}

/// Column access both drivers' rows give.
pub(crate) trait Row {
    fn text(&self, i: usize) -> Result<Option<String>, Error>;
    fn int(&self, i: usize) -> Result<Option<i64>, Error>;
}

/// A plan from a row of `SELECT {COLUMNS}`.
pub(crate) fn decode_plan(row: &impl Row) -> Result<PlanRecord, Error> {
    let id = row.text(0)?.unwrap_or_default();
    let corrupt = || Error::Corrupt(id.clone());
    let text = |i: usize| -> Result<String, Error> { row.text(i)?.ok_or_else(corrupt) };
    let int = |i: usize| -> Result<i64, Error> { row.int(i)?.ok_or_else(corrupt) };
    fn json<T: serde::de::DeserializeOwned>(
        row: &impl Row,
        i: usize,
        corrupt: &dyn Fn() -> Error,
    ) -> Result<Option<T>, Error> {
        row.text(i)?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|_| corrupt())
    }
    let planner = row
        .text(6)?
        .map(|p| serde_json::from_value(serde_json::Value::String(p)))
        .transpose()
        .map_err(|_| corrupt())?;
    let status = Status::parse(&text(3)?).ok_or_else(corrupt)?;
    Ok(PlanRecord {
        repo: text(1)?,
        environment: row.text(2)?,
        status,
        requester: text(4)?,
        intent: text(5)?,
        planner,
        model: row.text(7)?,
        prompt_version: row.text(8)?,
        raw_reply: row.text(9)?,
        spec: json(row, 10, &corrupt)?,
        files: json(row, 11, &corrupt)?,
        findings: json(row, 12, &corrupt)?,
        changes: json(row, 13, &corrupt)?,
        usage: json(row, 14, &corrupt)?,
        attempts: u32::try_from(int(15)?).map_err(|_| corrupt())?,
        error: json(row, 16, &corrupt)?,
        proposal: json(row, 17, &corrupt)?,
        created_ms: int(18)?,
        updated_ms: int(19)?,
        base: json(row, 20, &corrupt)?,
        commit_files: json(row, 21, &corrupt)?,
        id: id.clone(),
    })
}

/// An event from a row of [`AUDIT`].
pub(crate) fn decode_audit(row: &impl Row) -> Result<AuditEvent, Error> {
    let corrupt = || Error::Corrupt("audit".into());
    Ok(AuditEvent {
        event: row.text(0)?.ok_or_else(corrupt)?,
        actor: row.text(1)?.ok_or_else(corrupt)?,
        plan_id: row.text(2)?,
        detail: row.text(3)?.ok_or_else(corrupt)?,
        at_ms: row.int(4)?.ok_or_else(corrupt)?,
    })
}

/// The error stored on a plan closed as interrupted.
pub(crate) fn interrupted_error() -> String {
    serde_json::json!({
        "code": "interrupted",
        "message": "the replica planning this stopped before it finished; plan it again"
    })
    .to_string()
}

/// What recovery does with an in-flight plan: the new status and error.
pub(crate) fn recovery(from: Status) -> (Status, Option<String>) {
    match from {
        Status::Pending => (Status::Failed, Some(interrupted_error())),
        _ => (Status::Planned, None),
    }
}

/// The values of [`RECOVER`] for plan `id`, found in flight in `from`.
pub(crate) fn recover_cells(id: &str, from: Status) -> Vec<Cell> {
    let (to, error) = recovery(from);
    vec![
        Cell::from(id),
        Cell::from(from.as_str()),
        Cell::from(to.as_str()),
        Cell::Text(error),
        Cell::from(super::now_ms()),
    ]
}

/// The `plan.recovered` event for a plan another replica (or a crash) left.
pub(crate) fn recovered_event(id: &str, from: Status, owner: Option<&str>, by: &str) -> AuditEvent {
    let (to, _) = recovery(from);
    AuditEvent {
        event: "plan.recovered".into(),
        actor: format!("gitintent:{by}"),
        plan_id: Some(id.to_string()),
        detail: serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "owner": owner }).to_string(),
        at_ms: super::now_ms(),
    }
}

/// The values of `row::TRANSITION`: into an in-flight status under our lease.
pub(crate) fn transition_cells(lease: &Lease, id: &str, from: Status, to: Status) -> Vec<Cell> {
    let in_flight = to.in_flight();
    vec![
        Cell::from(id),
        Cell::from(from.as_str()),
        Cell::from(to.as_str()),
        Cell::from(super::now_ms()),
        Cell::Text(in_flight.then(|| lease.owner().to_string())),
        Cell::Int(in_flight.then(|| lease.until_ms())),
    ]
}

/// The values of `row::RENEW`.
pub(crate) fn renew_cells(lease: &Lease, id: &str, until: i64) -> Vec<Cell> {
    vec![Cell::from(id), Cell::from(lease.owner()), Cell::from(until)]
}
