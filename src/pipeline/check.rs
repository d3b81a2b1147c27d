//! The gate every proposal passes: [`check_files`] (strict schemas, then the
//! context's policies), and [`gate`], which picks what of a review it checks
//! and leaves to the repository what was already so before the change.
//!
//! It reads manifests only; `kustomization.yaml` files are not checked here.

use crate::change;
use crate::finding::{Finding, Severity};
use crate::manifest::File;
use crate::{render, validate};

use super::Context;

/// The gate every proposal passes: strict schemas, then the context's
/// policies with `environment`'s settings. `files` are manifests (no
/// `kustomization.yaml`); findings are sorted, errors first.
pub fn check_files(files: &[File], ctx: &Context, environment: &str) -> Vec<Finding> {
    // The data-store operators' resources we render have no schema in the
    // bundle: the operator's CRD checks them in the cluster.
    let options = validate::Options {
        skip: render::stores::rendered_kinds()
            .map(|(api_version, kind)| format!("{api_version}/{kind}"))
            .collect(),
        ..Default::default()
    };
    // One parse for schema validation and the policies.
    let manifests = validate::Manifests::parse(files);
    let mut findings = manifests.validate(&options).findings();
    let settings = crate::policy::Settings::for_repo(&ctx.config, environment);
    findings.extend(ctx.policies.check_parsed(&manifests, &settings));
    crate::finding::sort(&mut findings);
    findings
}

/// Checks what a review produces: the rendered manifests, the manifests the
/// changes edit (overlay patches as the workload they make: the base merged
/// with the patch). A finding the repository already had before the change
/// is downgraded to info.
pub(super) fn gate(
    rendered: &[File],
    outcome: &change::Outcome,
    ctx: &Context,
    environment: &str,
) -> Vec<Finding> {
    let mut manifests: Vec<File> = rendered.iter().filter(|f| is_manifest(f)).cloned().collect();
    let edited: Vec<File> = outcome
        .files
        .iter()
        .filter(|f| is_manifest(f))
        .filter(|f| !outcome.patches.contains(&f.path))
        .cloned()
        .collect();
    manifests.extend(edited.iter().cloned());
    manifests.extend(outcome.merged.iter().map(|(_, after)| after.clone()));
    let mut checked = check_files(&manifests, ctx, environment);
    if !edited.is_empty() || !outcome.merged.is_empty() {
        let old = check_files(&before(&edited, outcome, ctx), ctx, environment);
        not_introduced(&mut checked, &old);
    }
    checked
}

/// Whether `file` is a manifest to check: YAML, and not a kustomization.
fn is_manifest(file: &File) -> bool {
    let name = file.path.rsplit('/').next().unwrap_or(&file.path);
    !matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization")
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// The repository's own version of the `edited` files and of the bases the
/// overlay patches merge into.
fn before(edited: &[File], outcome: &change::Outcome, ctx: &Context) -> Vec<File> {
    let mut before: Vec<File> = edited
        .iter()
        .filter_map(|f| {
            Some(File {
                path: f.path.clone(),
                content: ctx.inventory.text(&f.path)?.to_string(),
            })
        })
        .collect();
    before.extend(outcome.merged.iter().map(|(before, _)| before.clone()));
    before
}

/// What the repository already had (`old`) is not this change's doing: each
/// such warning or error in `checked` becomes info, and says so.
fn not_introduced(checked: &mut [Finding], old: &[Finding]) {
    for f in checked.iter_mut().filter(|f| f.severity > Severity::Info) {
        if old
            .iter()
            .any(|o| o.rule == f.rule && o.resource == f.resource && o.path == f.path)
        {
            f.severity = Severity::Info;
            f.message
                .push_str(" (already so in the repository; not introduced by this change)");
        }
    }
}
