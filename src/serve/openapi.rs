//! The OpenAPI 3.1 document served at `/openapi.json`.
//!
//! Hand-written as JSON (the pipeline types are serde types, not utoipa
//! schemas) and parsed into `utoipa::openapi::OpenApi`, so a structural
//! mistake fails the tests rather than reaching clients. A test in
//! `tests/serve.rs` checks that every route of [`super::route_table`] is
//! documented with its methods and that every documented operation is routed.

use serde_json::{json, Value};
use utoipa::openapi::OpenApi;

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

fn raw() -> Value {
    let mut doc = document_body();
    // Added here: one `json!` this large reaches the macro recursion limit.
    doc["components"]["schemas"]["Operation"] = json!({ "type": "object",
        "description": "What one day-2 change (update, delete) of an existing workload did",
        "properties": {
            "operation": { "type": "string", "enum": ["update", "delete"] },
            "target": { "type": "string", "description": "Kind/name" },
            "namespace": { "type": "string" },
            "paths": { "type": "array", "items": { "type": "string" } },
            "reach": { "type": "array", "items": { "type": "string" },
                       "description": "Environments whose build the changed files are part of" } } });
    doc["components"]["schemas"]["Plan"]["properties"]["operations"] =
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Operation" } });
    doc
}

fn document_body() -> Value {
    let secured = json!([{ "bearer": [] }]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gitintent",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Plain-language intents to validated Kubernetes manifests on a GitOps branch.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "paths": {
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
            }},
            "/v1/plans": {
                "post": {
                    "operationId": "createPlan", "summary": "Plan an intent",
                    "description": "Plans, renders and validates an intent against a configured repository. With `Prefer: respond-async` the plan runs in the background: 202 and a Location to poll.",
                    "security": secured,
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
                    "security": secured,
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
                "security": secured,
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": {
                    "200": json_response("The plan", "Plan"),
                    "401": error_response("Missing or unknown token"),
                    "404": error_response("No such plan (or not readable with this token)")
                }
            }},
            "/v1/plans/{id}/proposal": { "post": {
                "operationId": "proposePlan", "summary": "Propose a plan: branch, commit, push (and pull request)",
                "security": secured,
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
            }},
            "/v1/drift": { "get": {
                "operationId": "getDrift", "summary": "Drift of one environment: the repository's base branch against the live cluster",
                "description": "Reads the repository at its base branch from git objects and compares the fields it declares for the environment with the live objects, through the repository's [repository.cluster] settings. The same report as `gitintent drift --format json`. Needs the plan right for the repository and environment. A 403 from RBAC on one kind is an `unreadable` entry, not an error.",
                "security": secured,
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
            }},
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
            }},
            "/v1/validate": { "post": {
                "operationId": "validate", "summary": "Validate manifests: strict schemas and the built-in policies",
                "security": secured,
                "requestBody": { "required": true, "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/ValidateRequest" } } } },
                "responses": {
                    "200": json_response("Findings and the per-resource report", "ValidateResult"),
                    "400": error_response("Malformed body or empty manifests"),
                    "401": error_response("Missing or unknown token"),
                    "413": error_response("Body larger than the limit")
                }
            }}
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "A token from `gitintent token create`; the service stores only its SHA-256." } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                    "type": "object", "required": ["code", "message", "details"],
                    "properties": {
                        "code": { "type": "string", "example": "plan_has_errors" },
                        "message": { "type": "string" },
                        "details": { "type": ["object", "null"], "description": "Extra data (error_id for 5xx, plan_id, retry_after_seconds, …) or null" }
                    } } } },
                "Status": { "type": "string", "enum": ["pending", "planned", "failed", "proposing", "proposed"] },
                "CreatePlan": { "type": "object", "required": ["intent", "repo"], "additionalProperties": false,
                    "properties": {
                        "intent": { "type": "string", "maxLength": 4096 },
                        "repo": { "type": "string", "description": "A configured repository name" },
                        "environment": { "type": ["string", "null"] },
                        "target_path": { "type": ["string", "null"], "description": "A file or directory of the repository holding the workload to change, when its name alone is ambiguous (e.g. deploy/webapp)" },
                        "planner": { "type": ["string", "null"], "enum": ["builtin", "openai", null] }
                    } },
                "Accepted": { "type": "object", "properties": {
                    "id": { "type": "string" }, "status": { "$ref": "#/components/schemas/Status" },
                    "location": { "type": "string" } } },
                "Finding": { "type": "object", "properties": {
                    "severity": { "type": "string", "enum": ["error", "warning", "info"] },
                    "rule": { "type": "string" }, "resource": { "type": "string" }, "path": { "type": "string" },
                    "message": { "type": "string" }, "file": { "type": "string" } } },
                "File": { "type": "object", "properties": { "path": { "type": "string" }, "content": { "type": "string" } } },
                "Change": { "type": "object", "properties": {
                    "path": { "type": "string" },
                    "status": { "type": "string", "enum": ["added", "modified", "unchanged", "deleted"] },
                    "diff": { "type": "string", "description": "Unified diff against the base" },
                    "resources": { "type": "array", "items": { "type": "object" },
                                   "description": "Per-resource status and field changes" },
                    "reason": { "type": "string", "description": "Why a file the plan did not render changes (wiring)" } } },
                "Plan": { "type": "object",
                    "description": "The `gitintent plan --format json` contract plus service fields.",
                    "properties": {
                        "id": { "type": "string" }, "status": { "$ref": "#/components/schemas/Status" },
                        "repo": { "type": "string" }, "environment": { "type": ["string", "null"] },
                        "requester": { "type": "string" },
                        "intent": { "type": "string", "description": "Credential-looking values redacted" },
                        "planner": { "type": ["string", "null"] }, "model": { "type": ["string", "null"] },
                        "prompt_version": { "type": ["string", "null"] },
                        "spec": { "type": ["object", "null"], "description": "The typed spec (schemas/spec.schema.json), null until planned" },
                        "files": { "type": "array", "items": { "$ref": "#/components/schemas/File" } },
                        "findings": { "type": "array", "items": { "$ref": "#/components/schemas/Finding" } },
                        "usage": { "type": "object", "description": "Token sums; null when a model reply reported none", "properties": {
                            "input_tokens": { "type": ["integer", "null"] }, "output_tokens": { "type": ["integer", "null"] },
                            "unreported_calls": { "type": "integer", "description": "Model calls without token counts; absent when 0" } } },
                        "attempts": { "type": "integer" },
                        "base": { "type": ["object", "null"], "description": "{ref, commit} the plan was diffed against" },
                        "changes": { "type": "array", "items": { "$ref": "#/components/schemas/Change" } },
                        "has_errors": { "type": "boolean" },
                        "proposal": { "type": ["object", "null"], "description": "branch, commit, pushed, pr_url; null until proposed" },
                        "error": { "type": ["object", "null"], "description": "code and message when the plan failed" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "updated_at": { "type": "string", "format": "date-time" }
                    } },
                "PlanList": { "type": "object", "properties": { "plans": { "type": "array", "items": { "type": "object" } } } },
                "ProposalResult": { "type": "object", "properties": {
                    "id": { "type": "string" }, "status": { "type": "string" },
                    "proposal": { "type": "object", "properties": {
                        "branch": { "type": "string" }, "commit": { "type": "string" }, "base": { "type": "string" },
                        "status": { "type": "string", "enum": ["created", "updated", "unchanged"] },
                        "base_commit": { "type": "string" }, "stats": { "type": "object" },
                        "pushed": { "type": "boolean" },
                        "pull_request": { "type": ["object", "null"] },
                        "pr_url": { "type": ["string", "null"] } } } } },
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
                "ValidateRequest": { "type": "object", "required": ["manifests"], "additionalProperties": false,
                    "properties": {
                        "manifests": { "type": "string", "description": "YAML or JSON, multi-document allowed" },
                        "environment": { "type": ["string", "null"] },
                        "ignore_missing_schemas": { "type": "boolean", "default": false },
                        "skip": { "type": "array", "items": { "type": "string" } }
                    } },
                "ValidateResult": { "type": "object", "properties": {
                    "valid": { "type": "boolean" },
                    "summary": { "type": "object" },
                    "findings": { "type": "array", "items": { "$ref": "#/components/schemas/Finding" } },
                    "report": { "type": "object" } } }
            }
        }
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
}
