//! Typed views: the JSON every front end shows of a plan and a proposal.
//!
//! The service's REST API (`/v1/plans…`), the Slack backend, the MCP tools'
//! `structuredContent` and the `plan --server` client all build or read these
//! types, and the store keeps the same types in its JSON columns, so the
//! contract is written once. Each type is `Serialize + Deserialize +
//! utoipa::ToSchema`: the OpenAPI document's components are generated from
//! them (`serve::openapi`).
//!
//! The field names and shapes are the REST contract as it was when it was
//! built by hand (`plan --format json` plus the service's fields); they must
//! not change without a new API version. Where a library type already
//! serialises as the contract says ([`Finding`], [`File`], [`Applied`],
//! [`Usage`], [`Spec`]) the view holds it as is; where it does not
//! deserialise or belongs to a stage that may change its own serialisation
//! (the diff's `changes`, the proposal), the view has its own type and a
//! `From` conversion.
//!
//! What this module does not do: HTTP (no axum here), storage, redaction
//! (values are redacted before they become views), and the `Spec` schema
//! itself: a spec is documented as an object here and in full by
//! `schemas/spec.schema.json`.

mod proposal;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use crate::plan::PlannerName;
pub use proposal::{BranchStatus, DiffStatsView, ProposalResultView, ProposalView, PullRequestView};

use crate::change::Applied;
use crate::finding::Finding;
use crate::manifest::File;
use crate::plan::Usage;
use crate::spec::Spec;

/// Where a plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

    /// Work in flight: owned by a replica under a lease.
    pub fn in_flight(self) -> bool {
        matches!(self, Status::Pending | Status::Proposing)
    }
}

/// The full view of a stored plan (`GET /v1/plans/{id}`, the `201` of
/// `POST /v1/plans`, the MCP `plan` tool): the `plan --format json` fields
/// plus id, status, repo, requester, base, changes, proposal, error and
/// timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Plan, description = "The `gitintent plan --format json` contract plus service fields.")]
pub struct PlanView {
    pub id: String,
    pub status: Status,
    pub repo: String,
    /// The requested environment, then the planned one.
    pub environment: Option<String>,
    /// Token name or Slack user.
    pub requester: String,
    /// Credential-looking values redacted.
    pub intent: String,
    pub planner: Option<PlannerName>,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    /// The typed spec (schemas/spec.schema.json), null until planned.
    #[schema(value_type = Option<Object>)]
    pub spec: Option<Spec>,
    pub files: Vec<File>,
    pub findings: Vec<Finding>,
    /// Token sums; null when a model reply reported none.
    #[schema(value_type = UsageSchema)]
    pub usage: Usage,
    pub attempts: u32,
    /// `{ref, commit}` the plan was diffed against.
    pub base: Option<BaseView>,
    pub changes: Vec<ChangeView>,
    /// What each day-2 change (update, delete, promote) of an existing workload did.
    #[serde(default)]
    pub operations: Vec<Applied>,
    pub has_errors: bool,
    /// Null until proposed.
    pub proposal: Option<ProposalView>,
    /// Code and message when the plan failed.
    pub error: Option<ErrorView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The short view of a plan in `GET /v1/plans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = PlanSummary)]
pub struct PlanSummaryView {
    pub id: String,
    pub status: Status,
    pub repo: String,
    pub environment: Option<String>,
    pub requester: String,
    pub intent: String,
    pub planner: Option<PlannerName>,
    pub has_errors: bool,
    pub proposal: Option<ProposalView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /v1/plans`: plans the token may read, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = PlanList)]
pub struct PlanListView {
    pub plans: Vec<PlanSummaryView>,
}

/// The `202` of `POST /v1/plans` with `Prefer: respond-async`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Accepted)]
pub struct AcceptedView {
    pub id: String,
    pub status: Status,
    /// Where to poll the plan.
    pub location: String,
}

/// The base a plan was diffed against: the repository's one `Base` type.
pub use crate::repo::Base as BaseView;

/// Why a plan failed, as stored: the HTTP status and code the failure was
/// answered with, the message and any details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = PlanError)]
pub struct ErrorView {
    /// Absent on plans a replica left unfinished (`interrupted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
    /// Extra data, or null; absent when the failure had none recorded.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// A field that is present deserialises to `Some`, even when it is `null`,
/// so a stored `"details": null` is written back as it was.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// What happens to a file or a resource, against the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Modified,
    Unchanged,
    Deleted,
}

impl From<crate::repo::Status> for ChangeStatus {
    fn from(s: crate::repo::Status) -> ChangeStatus {
        use crate::repo::Status as S;
        match s {
            S::Added => ChangeStatus::Added,
            S::Modified => ChangeStatus::Modified,
            S::Unchanged => ChangeStatus::Unchanged,
            S::Deleted => ChangeStatus::Deleted,
        }
    }
}

/// One file of the plan against the base (an entry of `changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Change)]
pub struct ChangeView {
    pub path: String,
    pub status: ChangeStatus,
    /// Unified diff against the base (empty when unchanged).
    pub diff: String,
    /// Per-resource status and field changes.
    pub resources: Vec<ResourceChangeView>,
    /// Why a file the plan did not render changes (`wiring`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What happens to one resource of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ResourceChange)]
pub struct ResourceChangeView {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub status: ChangeStatus,
    /// Empty unless `modified`.
    pub fields: Vec<FieldChangeView>,
}

/// One value that changes inside a resource: `old` and `new` are any JSON
/// value, `old` null when the field is new, `new` null when it goes away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = FieldChange)]
pub struct FieldChangeView {
    /// JSON pointer, e.g. `/spec/replicas`.
    pub path: String,
    /// Null when the field is new.
    #[schema(schema_with = any_value)]
    pub old: Option<Value>,
    /// Null when the field goes away.
    #[schema(schema_with = any_value)]
    pub new: Option<Value>,
}

/// Any JSON value, spelled as every type: `utoipa` does not read `{}` back.
fn any_value() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    let every = [
        Type::String,
        Type::Number,
        Type::Integer,
        Type::Boolean,
        Type::Object,
        Type::Array,
        Type::Null,
    ];
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(every))
        .build()
}

impl From<&crate::repo::Change> for ChangeView {
    fn from(c: &crate::repo::Change) -> ChangeView {
        ChangeView {
            path: c.path.clone(),
            status: c.status.into(),
            diff: c.diff.clone(),
            resources: c
                .resources
                .iter()
                .map(|r| ResourceChangeView {
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                    status: r.status.into(),
                    fields: r
                        .fields
                        .iter()
                        .map(|f| FieldChangeView {
                            path: f.path.clone(),
                            old: f.old.clone(),
                            new: f.new.clone(),
                        })
                        .collect(),
                })
                .collect(),
            reason: c.reason.map(str::to_string),
        }
    }
}

/// The `changes` of a changeset.
pub fn changes(set: &crate::repo::Changeset) -> Vec<ChangeView> {
    set.changes.iter().map(ChangeView::from).collect()
}

/// What a planned plan keeps for its proposal (stored, not shown): the
/// changeset's files and deletions, and what each day-2 change did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitFiles {
    pub files: Vec<File>,
    pub delete: Vec<String>,
    /// Absent in plans stored before operations were kept.
    #[serde(default)]
    pub operations: Vec<Applied>,
}

// The JSON form of [`Usage`], for the schema only: `Usage` serialises
// itself this way (`plan::UsageJson`).
/// Token sums over a plan's model calls.
#[derive(ToSchema)]
#[schema(as = Usage)]
#[allow(dead_code)]
pub(crate) struct UsageSchema {
    /// Null when a model call reported no token counts.
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    /// Model calls without token counts; absent when 0.
    #[schema(required = false)]
    unreported_calls: u32,
}

/// `2026-11-30T01:02:03.456Z` from Unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The views' schemas (and everything they refer to), by component name.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(PlanView, PlanListView, AcceptedView, ProposalResultView)))]
struct Schemas;

/// The component schemas of the views, as the OpenAPI document holds them
/// (references are `#/components/schemas/NAME`).
pub fn components() -> serde_json::Map<String, Value> {
    use utoipa::OpenApi as _;
    let mut out = serde_json::Map::new();
    if let Some(components) = Schemas::openapi().components {
        for (name, schema) in components.schemas {
            out.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
        }
    }
    out
}

/// View `name` (`Plan`, `ProposalResult`, …) as a self-contained JSON Schema
/// (2020-12): the component at the root, every component it may refer to
/// under `$defs`. For MCP tools' output schemas. `None` for an unknown name.
pub fn json_schema(name: &str) -> Option<Value> {
    let defs = Value::Object(components());
    let text = defs.to_string().replace("#/components/schemas/", "#/$defs/");
    let defs: Value = serde_json::from_str(&text).ok()?;
    let mut root = defs.get(name)?.clone();
    root["$defs"] = defs;
    Some(root)
}

impl PlanView {
    /// The `pipeline::Plan` this view shows (what `plan --server` prints as
    /// a local plan would be printed). `None` until the plan is planned
    /// (no spec or planner yet).
    pub fn to_plan(&self) -> Option<crate::pipeline::Plan> {
        Some(crate::pipeline::Plan {
            intent: self.intent.clone(),
            planner: self.planner?,
            model: self.model.clone(),
            prompt_version: self.prompt_version.clone(),
            spec: self.spec.clone()?,
            files: self.files.clone(),
            operations: self.operations.clone(),
            in_place: Default::default(),
            findings: self.findings.clone(),
            usage: self.usage,
            attempts: self.attempts,
            raw_reply: None,
        })
    }
}
