//! The PostgreSQL text of migration 1 and the migration run: one
//! transaction under `pg_advisory_xact_lock`, so replicas starting together
//! apply each migration once; a schema newer than this build is refused.

use deadpool_postgres::Object;

use super::super::Error;

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
        attempts BIGINT NOT NULL DEFAULT 0,
        error TEXT,
        proposal TEXT,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
     );
     CREATE INDEX plans_repo_created ON plans (repo, created_ms);
     CREATE INDEX plans_status ON plans (status);
     CREATE TABLE audit (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event TEXT NOT NULL,
        actor TEXT NOT NULL,
        plan_id TEXT,
        detail TEXT NOT NULL,
        at_ms BIGINT NOT NULL
     );
     CREATE INDEX audit_plan ON audit (plan_id);
     CREATE FUNCTION gitintent_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END
     $body$;
     CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION gitintent_audit_append_only();
     CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION gitintent_audit_append_only();";

/// The advisory lock migrations run under ("gitinten" in ASCII).
const MIGRATION_LOCK: i64 = 0x6769_7469_6e74_656e;

pub(super) async fn migrate(client: &mut Object) -> Result<Result<(), Error>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL lock_timeout = '60s'").await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_ms BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_version",
            &[],
        )
        .await?
        .get(0);
    let known = super::super::MIGRATIONS.len() as i64;
    if current > known {
        return Ok(Err(Error::TooNew {
            found: current,
            known,
        }));
    }
    for (i, migration) in super::super::MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(migration.postgres).await?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_ms) VALUES ($1, $2)",
            &[&(i as i64 + 1), &super::super::now_ms()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}
