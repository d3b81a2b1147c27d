//! The OpenAPI 3.1 document served at `/openapi.json`.
//!
//! The paths are written here as JSON; the component schemas of plans,
//! proposals and request bodies are generated from the types that produce
//! and read that JSON (`crate::view`, `super::api`'s request bodies) with
//! `utoipa::ToSchema`, so the document cannot drift from the contract. The
//! error body, the drift report and the validation result are still written
//! by hand. The whole is parsed into `utoipa::openapi::OpenApi`, so a
//! structural mistake fails the tests rather than reaching clients. A test in
//! `tests/serve.rs` checks that every route of [`super::route_table`] is
//! documented with its methods and that every documented operation is routed.

use serde_json::{json, Value};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use super::api;
use crate::view;

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

/// The security requirement of the token-protected operations.
fn secured() -> Value {
    json!([{ "bearer": [] }])
}

/// The request bodies' schemas (`super::api`), with everything they refer to.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(api::CreatePlan, api::ValidateRequest)))]
struct Requests;

/// The hand-written paths and schemas plus the generated ones: the views'
/// (`crate::view::components`) and the request bodies'.
fn raw() -> Value {
    let mut doc = document_body();
    let mut generated = view::components();
    if let Some(components) = Requests::openapi().components {
        for (name, schema) in components.schemas {
            generated.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
        }
    }
    for (name, schema) in generated {
        doc["components"]["schemas"][name] = schema;
    }
    doc
}

/// The document without the generated components: the header, every path
/// group and the hand-written schemas.
fn document_body() -> Value {
    let mut paths = serde_json::Map::new();
    for group in [
        probe_paths(),
        plan_paths(),
        proposal_paths(),
        drift_paths(),
        slack_paths(),
        validate_paths(),
    ] {
        if let Value::Object(group) = group {
            paths.extend(group);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gitintent",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Plain-language intents to validated Kubernetes manifests on a GitOps branch.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "A token from `gitintent token create`; the service stores only its SHA-256." } },
            "schemas": hand_written_schemas()
        }
    })
}

/// Liveness, readiness, metrics and this document: no token needed.
fn probe_paths() -> Value {
    json!({
        "/healthz": { "get": {
            "operationId": "healthz", "summary": "Liveness",
            "responses": { "200": { "description": "The process is up" } }
        }},
        "/readyz": { "get": {
            "operationId": "readyz", "summary": "Readiness: store and repositories reachable",
            "responses": {
                "200": { "description": "Ready" },
                "503": error_response("A dependency is unavailable (details.checks)")
            }
        }},
        "/metrics": { "get": {
            "operationId": "metrics", "summary": "Prometheus metrics (text exposition format)",
            "responses": { "200": { "description": "Metrics", "content": { "text/plain": { "schema": { "type": "string" } } } } }
        }},
        "/openapi.json": { "get": {
            "operationId": "openapi", "summary": "This document",
            "responses": { "200": { "description": "OpenAPI 3.1 document" } }
        }}
    })
}

/// `/v1/plans` and `/v1/plans/{id}`: create, list and read plans.
fn plan_paths() -> Value {
    json!({
        "/v1/plans": {
            "post": {
                "operationId": "createPlan", "summary": "Plan an intent",
                "description": "Plans, renders and validates an intent against a configured repository. With `Prefer: respond-async` the plan runs in the background: 202 and a Location to poll.",
                "security": secured(),
                "parameters": [{ "name": "Prefer", "in": "header", "required": false,
                                 "schema": { "type": "string", "example": "respond-async" } }],
                "requestBody": { "required": true, "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/CreatePlan" } } } },
                "responses": {
                    "201": json_response("The plan", "Plan"),
                    "202": json_response("Accepted; poll the Location", "Accepted"),
                    "400": error_response("Malformed body or unknown planner"),
                    "401": error_response("Missing or unknown token"),
                    "403": error_response("The token may not plan for this repository or environment"),
                    "404": error_response("Unknown repository"),
                    "413": error_response("Body larger than the limit"),
                    "422": error_response("The intent is empty, too long, not understood or refused"),
                    "429": error_response("At capacity; see Retry-After"),
                    "502": error_response("The model failed"),
                    "504": error_response("The model timed out")
                }
            },
            "get": {
                "operationId": "listPlans", "summary": "List plans, newest first",
                "security": secured(),
                "parameters": [
                    { "name": "repo", "in": "query", "required": false, "schema": { "type": "string" } },
                    { "name": "status", "in": "query", "required": false, "schema": { "$ref": "#/components/schemas/Status" } },
                    { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 20 } }
                ],
                "responses": {
                    "200": json_response("Plans the token may read", "PlanList"),
                    "400": error_response("Bad query"),
                    "401": error_response("Missing or unknown token")
                }
            }
        },
        "/v1/plans/{id}": { "get": {
            "operationId": "getPlan", "summary": "Read a plan",
            "security": secured(),
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
                "200": json_response("The plan", "Plan"),
                "401": error_response("Missing or unknown token"),
                "404": error_response("No such plan (or not readable with this token)")
            }
        }}
    })
}

/// `/v1/plans/{id}/proposal`: branch, commit, push and pull request.
fn proposal_paths() -> Value {
    json!({
        "/v1/plans/{id}/proposal": { "post": {
            "operationId": "proposePlan", "summary": "Propose a plan: branch, commit, push (and pull request)",
            "security": secured(),
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
                "201": json_response("Proposed", "ProposalResult"),
                "401": error_response("Missing or unknown token"),
                "403": error_response("The token may not propose to this environment"),
                "404": error_response("No such plan"),
                "409": error_response("Pending, failed, has error findings, nothing to change, already proposed, refused by git, or a forge configuration error (checked before anything is written)"),
                "502": error_response("Git or forge failure"),
                "503": error_response("The forge is rate-limiting the token for longer than gitintent waits; the message says when to retry")
            }
        }}
    })
}

/// `/v1/drift`: the base branch against the live cluster.
fn drift_paths() -> Value {
    json!({
        "/v1/drift": { "get": {
            "operationId": "getDrift", "summary": "Drift of one environment: the repository's base branch against the live cluster",
            "description": "Reads the repository at its base branch from git objects and compares the fields it declares for the environment with the live objects, through the repository's [repository.cluster] settings. The same report as `gitintent drift --format json`. Needs the plan right for the repository and environment. A 403 from RBAC on one kind is an `unreadable` entry, not an error.",
            "security": secured(),
            "parameters": [
                { "name": "repo", "in": "query", "required": true, "schema": { "type": "string" } },
                { "name": "env", "in": "query", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,63}$" } }
            ],
            "responses": {
                "200": json_response("The drift report", "DriftReport"),
                "400": error_response("Missing or malformed repo or env"),
                "401": error_response("Missing or unknown token"),
                "403": error_response("The token may not plan for this repository or environment"),
                "404": error_response("Unknown repository"),
                "409": error_response("No cluster is configured for this repository (drift_not_configured)"),
                "422": error_response("The repository declares nothing for this environment, or its files do not parse"),
                "500": error_response("The service's cluster settings are unusable (cluster_misconfigured)"),
                "502": error_response("The Kubernetes API server could not be reached (cluster_unreachable)"),
                "504": error_response("The Kubernetes API server did not answer in time (cluster_timeout)")
            }
        }}
    })
}

/// The Slack endpoints, signed by Slack rather than by a token.
fn slack_paths() -> Value {
    json!({
        "/slack/commands": { "post": {
            "operationId": "slackCommand", "summary": "Slack slash command `/gitintent` (signed by Slack)",
            "description": "Verified with the signing secret (HMAC-SHA256 of v0:timestamp:body, 5-minute window). Answers at once; the plan is posted to response_url as Block Kit.",
            "requestBody": { "required": true, "content": { "application/x-www-form-urlencoded": {
                "schema": { "type": "object" } } } },
            "responses": {
                "200": { "description": "Ephemeral acknowledgement" },
                "401": { "description": "Bad, missing, stale or replayed signature" }
            }
        }},
        "/slack/interactions": { "post": {
            "operationId": "slackInteraction", "summary": "Slack buttons (Propose, Discard), signed by Slack",
            "requestBody": { "required": true, "content": { "application/x-www-form-urlencoded": {
                "schema": { "type": "object" } } } },
            "responses": {
                "200": { "description": "Acknowledged; the result is posted to response_url" },
                "401": { "description": "Bad, missing, stale or replayed signature" }
            }
        }}
    })
}

/// `/v1/validate`: manifests checked without a repository.
fn validate_paths() -> Value {
    json!({
        "/v1/validate": { "post": {
            "operationId": "validate", "summary": "Validate manifests: strict schemas and the built-in policies",
            "security": secured(),
            "requestBody": { "required": true, "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/ValidateRequest" } } } },
            "responses": {
                "200": json_response("Findings and the per-resource report", "ValidateResult"),
                "400": error_response("Malformed body or empty manifests"),
                "401": error_response("Missing or unknown token"),
                "413": error_response("Body larger than the limit")
            }
        }}
    })
}

/// The schemas written by hand: the error body, the drift report and the
/// validation result.
fn hand_written_schemas() -> Value {
    json!({
        "Error": { "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {
                "code": { "type": "string", "example": "plan_has_errors" },
                "message": { "type": "string" },
                "details": { "type": ["object", "null"], "description": "Extra data (error_id for 5xx, plan_id, retry_after_seconds, …) or null" }
            } } } },
        "DriftReport": { "type": "object",
            "description": "The `gitintent drift --format json` contract (without `proposal`).",
            "required": ["environment", "server", "selector", "resources", "summary", "score", "warnings"],
            "properties": {
                "environment": { "type": "string" },
                "base": { "type": ["object", "null"], "description": "{ref, commit} the repository was read at",
                    "properties": { "ref": { "type": "string" }, "commit": { "type": "string" } } },
                "server": { "type": "string", "description": "The API server URL" },
                "selector": { "type": "string", "description": "Label selector of Git-tracked objects (extra detection)" },
                "resources": { "type": "array", "items": { "$ref": "#/components/schemas/DriftEntry" } },
                "summary": { "type": "object", "properties": {
                    "in_sync": { "type": "integer" }, "drifted": { "type": "integer" }, "missing": { "type": "integer" },
                    "extra": { "type": "integer" }, "unreadable": { "type": "integer" } } },
                "score": { "type": "integer", "description": "Sum of the entries' scores" },
                "warnings": { "type": "array", "items": { "type": "string" } }
            } },
        "DriftEntry": { "type": "object", "properties": {
            "api_version": { "type": "string" }, "kind": { "type": "string" },
            "namespace": { "type": ["string", "null"] }, "name": { "type": "string" },
            "file": { "type": ["string", "null"], "description": "The file declaring it (null for extra objects)" },
            "status": { "type": "string", "enum": ["in-sync", "drifted", "missing", "extra", "unreadable"] },
            "differences": { "type": "array", "items": { "type": "object", "properties": {
                "path": { "type": "string" }, "git": {}, "live": {}, "weight": { "type": "integer" } } } },
            "dependents": { "type": "array", "items": { "type": "string" } },
            "score": { "type": "integer" },
            "message": { "type": "string", "description": "Why it is unreadable (e.g. 403 from RBAC)" } } },
        "ValidateResult": { "type": "object", "properties": {
            "valid": { "type": "boolean" },
            "summary": { "type": "object" },
            "findings": { "type": "array", "items": { "$ref": "#/components/schemas/Finding" } },
            "report": { "type": "object" } } }
    })
}

/// The document as a typed `utoipa` value.
pub fn document() -> Result<OpenApi, serde_json::Error> {
    serde_json::from_value(raw())
}

/// The document as served (round-tripped through the typed value when it parses).
pub fn document_json() -> Value {
    document()
        .ok()
        .and_then(|d| serde_json::to_value(d).ok())
        .unwrap_or_else(raw)
}

/// `(path, method)` of every documented operation, methods lowercase.
pub fn operations() -> Vec<(String, String)> {
    let doc = document_json();
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                if item.get(method).is_some() {
                    out.push((path.clone(), method.to_string()));
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_a_valid_openapi_value() {
        let doc = super::document().expect("the hand-written document parses as OpenAPI");
        assert!(doc.paths.paths.contains_key("/v1/plans/{id}/proposal"));
        assert!(super::operations().len() >= 9);
    }

    /// The components the document must hold: generated from the views and
    /// request bodies, and written by hand.
    const COMPONENTS: &[&str] = &[
        "Plan",
        "PlanSummary",
        "PlanList",
        "Accepted",
        "Status",
        "Planner",
        "Base",
        "PlanError",
        "Change",
        "ResourceChange",
        "FieldChange",
        "ChangeStatus",
        "Operation",
        "OperationKind",
        "Finding",
        "Severity",
        "File",
        "Usage",
        "Proposal",
        "ProposalResult",
        "PullRequest",
        "DiffStats",
        "BranchStatus",
        "CreatePlan",
        "PlannerChoice",
        "ValidateRequest",
        "Error",
        "DriftReport",
        "DriftEntry",
        "ValidateResult",
    ];

    /// The names in a schema's `required` list.
    fn required(schema: &serde_json::Value) -> Vec<&str> {
        schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect()
    }

    #[test]
    fn the_plan_components_are_generated_from_the_views() {
        let doc = super::document_json();
        let schemas = &doc["components"]["schemas"];
        for name in COMPONENTS {
            assert!(schemas[name].is_object(), "component {name} is missing");
        }
        let plan = &schemas["Plan"];
        assert_eq!(
            plan["properties"]["operations"]["items"]["$ref"],
            "#/components/schemas/Operation"
        );
        assert_eq!(
            plan["properties"]["changes"]["items"]["$ref"],
            "#/components/schemas/Change"
        );
        let required = required(plan);
        for field in [
            "id",
            "status",
            "files",
            "findings",
            "changes",
            "has_errors",
            "created_at",
        ] {
            assert!(required.contains(&field), "Plan requires {field}");
        }
        assert_eq!(
            schemas["Planner"]["enum"],
            serde_json::json!(["builtin", "openai", "spec", "drift"])
        );
        assert_eq!(
            schemas["PlannerChoice"]["enum"],
            serde_json::json!(["builtin", "openai"])
        );
        assert_eq!(schemas["CreatePlan"]["additionalProperties"], false);
        // Every reference resolves.
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(schemas[name].is_object(), "dangling $ref to {name}");
        }
    }
}
