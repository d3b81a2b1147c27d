//! The views against the JSON the service wrote before they existed: a row
//! stored by the hand-built code loads, and its view writes every stored
//! part back unchanged.

use serde_json::{json, Value};

use super::*;
use crate::serve::store::{SqliteStore, Store};

#[test]
fn timestamps_are_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(1_796_000_123_456), "2026-11-30T00:55:23.456Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
}

#[test]
fn planner_names_keep_their_json_and_requests_choose_two() {
    for (name, text) in [
        (PlannerName::Builtin, "builtin"),
        (PlannerName::Openai, "openai"),
        (PlannerName::Spec, "spec"),
        (PlannerName::Drift, "drift"),
    ] {
        assert_eq!(serde_json::to_value(name).unwrap(), json!(text));
        assert_eq!(serde_json::from_value::<PlannerName>(json!(text)).unwrap(), name);
        assert_eq!(name.to_string(), text);
    }
    assert_eq!(PlannerName::parse_choice("openai"), Ok(PlannerName::Openai));
    let refused = PlannerName::parse_choice("spec").unwrap_err();
    assert_eq!(
        refused.to_string(),
        "unknown planner \"spec\"; use \"builtin\" or \"openai\""
    );
    assert!(serde_json::from_value::<PlannerName>(json!("OpenAI")).is_err());
}

/// Stored columns exactly as `work::fill` wrote them before the views
/// (JSON text of the pipeline's values and hand-built objects).
fn old_columns() -> Vec<(&'static str, Value)> {
    vec![
        (
            "spec",
            json!({"environment": "staging", "namespace": "web", "components": [], "changes": [],
            "assumptions": ["kept"], "questions": [], "unsupported": []}),
        ),
        (
            "files",
            json!([{"path": "apps/api/deployment.yaml", "content": "kind: Deployment\n"}]),
        ),
        (
            "findings",
            json!([
            {"severity": "warning", "rule": "probes", "resource": "Deployment/api", "path": "/spec", "message": "m"},
            {"severity": "info", "rule": "wiring", "resource": "apps", "path": "", "message": "n",
             "file": "apps/kustomization.yaml"}]),
        ),
        (
            "changes",
            json!([
            {"path": "apps/api/deployment.yaml", "status": "modified", "diff": "@@ -1 +1 @@\n",
             "resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "web", "name": "api",
                            "status": "modified", "fields": [{"path": "/spec/replicas", "old": 2, "new": 5},
                                                             {"path": "/spec/paused", "old": null, "new": true}]}]},
            {"path": "apps/kustomization.yaml", "status": "modified", "diff": "", "resources": [],
             "reason": "wiring"}]),
        ),
        (
            "usage",
            json!({"input_tokens": null, "output_tokens": null, "unreported_calls": 1}),
        ),
        (
            "error",
            json!({"status": 502, "code": "model_failed", "message": "m", "details": null}),
        ),
        (
            "proposal",
            json!({"branch": "gitintent/x", "commit": "abc", "status": "created", "base": "main",
            "base_commit": "def", "stats": {"files_added": 0, "files_modified": 1, "insertions": 1, "deletions": 1},
            "pushed": false, "pull_request": null, "pr_url": null, "pushed_reason": "local path"}),
        ),
        ("base", json!({"ref": "refs/heads/main", "commit": "def"})),
        // Before operations were kept.
        (
            "commit_files",
            json!({"files": [{"path": "apps/api/deployment.yaml", "content": "kind: Deployment\n"}],
            "delete": []}),
        ),
    ]
}

#[test]
fn a_row_written_before_the_views_loads_and_shows_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO plans (id, repo, environment, status, requester, intent, planner, attempts, \
         created_ms, updated_ms) VALUES ('pl_old', 'gitops', 'staging', 'planned', 'ci', 'scale api', \
         'openai', 2, 0, 1000)",
        [],
    )
    .unwrap();
    for (column, value) in old_columns() {
        conn.execute(
            &format!("UPDATE plans SET {column} = ?1 WHERE id = 'pl_old'"),
            [value.to_string()],
        )
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    let record = store.get_plan("pl_old").unwrap().expect("the old row loads");
    assert_eq!(record.planner, Some(PlannerName::Openai));
    let shown = serde_json::to_value(crate::serve::work::view(&record)).unwrap();
    for (column, mut stored) in old_columns() {
        if column == "spec" {
            // A spec field added since the row was written shows its default.
            stored["environments"] = json!([]);
        }
        if column != "commit_files" {
            assert_eq!(shown[column], stored, "{column} is shown as it was stored");
        }
    }
    assert_eq!(shown["operations"], json!([]));
    assert_eq!(shown["has_errors"], json!(false));
    assert_eq!(shown["updated_at"], json!("1970-01-01T00:00:01.000Z"));
    // The view reads back as itself (what `plan --server` does).
    let back: PlanView = serde_json::from_value(shown.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), shown);
    assert_eq!(back.to_plan().unwrap().planner, PlannerName::Openai);
}

#[test]
fn an_interrupted_error_keeps_its_shape() {
    let stored = json!({"code": "interrupted", "message": "the replica stopped"});
    let view: ErrorView = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(view.status, None);
    assert_eq!(serde_json::to_value(&view).unwrap(), stored);
}

#[test]
fn an_unreadable_column_is_a_corrupt_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO plans (id, repo, status, requester, intent, planner, attempts, created_ms, updated_ms, \
         findings) VALUES ('pl_bad', 'gitops', 'planned', 'ci', 'x', 'builtin', 0, 0, 0, '[{\"severity\": 3}]')",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    let err = store.get_plan("pl_bad").unwrap_err();
    assert_eq!(err.to_string(), "store record pl_bad is corrupt");
}
