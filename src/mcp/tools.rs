//! Tool definitions: names, descriptions, input schemas (from the input
//! types), output schemas and hints. Which tools a caller sees is decided by
//! the handler (`propose` only with the right).

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

/// `plan` arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanInput {
    /// What to deploy or change, in plain language, e.g. "Deploy nginx:1.27 as web with 2 replicas in staging".
    pub(crate) intent: String,
    /// The environment, overriding what the intent says.
    pub(crate) environment: Option<String>,
    /// The repository to plan against: one of the service's repository names
    /// (optional when there is only one, and over stdio).
    pub(crate) target: Option<String>,
    /// A file or directory of the repository that holds the workload to
    /// change, when its name alone is ambiguous, e.g. "deploy/webapp".
    pub(crate) target_path: Option<String>,
}

/// `validate` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidateInput {
    /// Kubernetes manifests as YAML or JSON text; multi-document streams allowed.
    pub(crate) manifests: String,
    /// The environment the policies apply for (production turns on availability rules).
    pub(crate) environment: Option<String>,
}

/// `list_workloads` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListInput {
    /// Only the workloads deployed to this environment.
    pub(crate) environment: Option<String>,
    /// The repository (optional when there is only one, and over stdio).
    pub(crate) target: Option<String>,
}

/// `drift` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DriftInput {
    /// The environment to compare with its cluster.
    pub(crate) environment: String,
    /// The repository (optional when there is only one, and over stdio).
    pub(crate) target: Option<String>,
}

/// `propose` arguments: a stored plan's id, or an intent to plan and propose.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProposeInput {
    /// The id of a plan returned by `plan` (`pl_…`).
    pub(crate) plan_id: Option<String>,
    /// Or: an intent to plan and propose in one step.
    pub(crate) intent: Option<String>,
    /// With `intent`: the environment.
    pub(crate) environment: Option<String>,
    /// With `intent`: the repository (optional when there is only one).
    pub(crate) target: Option<String>,
}

fn schema<T: JsonSchema>() -> Arc<JsonObject> {
    let value = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({}));
    Arc::new(object(value))
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The `/v1/plans` view of a plan (`plan --format json` plus id, status and
/// changes): `crate::view::PlanView`'s schema.
fn plan_output() -> Value {
    view_schema("Plan")
}

/// A view's generated schema (`crate::view::json_schema`); the view names
/// used here exist (`tools::tests`), so the fallback is never served.
fn view_schema(name: &str) -> Value {
    crate::view::json_schema(name).unwrap_or_else(|| json!({"type": "object"}))
}

fn validate_output() -> Value {
    json!({
        "type": "object",
        "required": ["valid", "findings"],
        "properties": {
            "valid": {"type": "boolean"},
            "summary": {"type": "object"},
            "findings": {"type": "array", "items": {"type": "object"}},
            "report": {"type": "object"}
        }
    })
}

fn workloads_output() -> Value {
    json!({
        "type": "object",
        "required": ["repo", "environments", "workloads"],
        "properties": {
            "repo": {"type": "string"},
            "environment": {"type": ["string", "null"]},
            "environments": {"type": "array", "items": {"type": "string"}},
            "workloads": {"type": "array", "items": {
                "type": "object",
                "required": ["kind", "name", "namespace", "environments", "path"],
                "properties": {
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "namespace": {"type": "string"},
                    "environments": {"type": "array", "items": {"type": "string"}},
                    "path": {"type": "string"},
                    "images": {"type": "array", "items": {"type": "string"}},
                    "replicas": {"type": ["integer", "null"]}
                }
            }}
        }
    })
}

fn drift_output() -> Value {
    json!({"type": "object", "description": "The `gitintent drift --format json` report."})
}

/// `crate::view::ProposalResultView`'s schema.
fn propose_output() -> Value {
    view_schema("ProposalResult")
}

fn read_only(title: &str) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(true)
        .destructive(false)
        .open_world(false)
}

/// The tools, `propose` included only when `propose` is true.
pub(crate) fn list(propose: bool) -> Vec<Tool> {
    let mut tools = vec![
        Tool::new(
            "plan",
            "Plan an infrastructure intent against the GitOps repository: the typed spec, the rendered \
             Kubernetes files, their diff against the base branch, policy findings and open questions. \
             Writes nothing; the plan is stored so `propose` can turn it into a pull request.",
            schema::<PlanInput>(),
        )
        .with_raw_output_schema(Arc::new(object(plan_output())))
        .with_annotations(read_only("Plan an intent")),
        Tool::new(
            "validate",
            "Validate Kubernetes manifests (YAML text): strict schema and policy findings.",
            schema::<ValidateInput>(),
        )
        .with_raw_output_schema(Arc::new(object(validate_output())))
        .with_annotations(read_only("Validate manifests")),
        Tool::new(
            "list_workloads",
            "The workloads the repository declares (kind, name, namespace, environments, path, images, \
             replicas), so changes can name their target exactly.",
            schema::<ListInput>(),
        )
        .with_raw_output_schema(Arc::new(object(workloads_output())))
        .with_annotations(read_only("List workloads")),
        Tool::new(
            "drift",
            "Compare what the repository declares for an environment with its live cluster.",
            schema::<DriftInput>(),
        )
        .with_raw_output_schema(Arc::new(object(drift_output())))
        .with_annotations(read_only("Read drift").open_world(true)),
    ];
    if propose {
        tools.push(
            Tool::new(
                "propose",
                "Turn a plan (by plan_id, or a new intent) into a gitintent/ branch, a commit, a push and \
                 a pull request for review. Refused when the plan has error findings. Nothing is applied \
                 to a cluster.",
                schema::<ProposeInput>(),
            )
            .with_raw_output_schema(Arc::new(object(propose_output())))
            .with_annotations(
                ToolAnnotations::with_title("Propose a pull request")
                    .read_only(false)
                    .destructive(false)
                    .idempotent(true)
                    .open_world(true),
            ),
        );
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propose_is_listed_only_with_the_right() {
        let names = |p| {
            list(p)
                .into_iter()
                .map(|t| t.name.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(false), ["plan", "validate", "list_workloads", "drift"]);
        assert_eq!(names(true).last().map(String::as_str), Some("propose"));
    }

    #[test]
    fn plan_and_propose_outputs_are_the_views_schemas() {
        for name in ["Plan", "ProposalResult"] {
            let schema = crate::view::json_schema(name).expect("a view schema");
            assert_eq!(schema["type"], "object", "{name}");
            assert!(schema["$defs"][name].is_object(), "{name}");
            assert!(
                !schema.to_string().contains("#/components/"),
                "{name}: refs point into $defs"
            );
            jsonschema::validator_for(&schema).expect("the schema compiles");
        }
        let tools = list(true);
        assert_eq!(
            *tools[0].output_schema.as_ref().unwrap().as_ref(),
            object(plan_output())
        );
        assert!(tools[0].output_schema.as_ref().unwrap()["properties"]["operations"].is_object());
    }

    #[test]
    fn input_schemas_name_their_fields() {
        let plan = &list(false)[0];
        let props = &plan.input_schema["properties"];
        assert!(props["intent"].is_object(), "{props}");
        assert!(props["environment"].is_object());
        assert_eq!(plan.input_schema["required"], json!(["intent"]));
        let hints = plan.annotations.as_ref().and_then(|a| a.read_only_hint);
        assert_eq!(hints, Some(true));
    }
}
