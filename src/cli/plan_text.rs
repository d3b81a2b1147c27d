//! The text and JSON output of `gitintent plan` (local and client mode
//! print the same): the spec (components, changes), assumptions, questions,
//! what is not done, the files, the repository's changes, the findings and
//! the verdict. It prints only; it decides nothing.

use gitintent::change::Applied;
use gitintent::pipeline::Plan;
use gitintent::spec::{Change, Component, Exposure, Resources, Spec};
use gitintent::{Finding, Severity};

use super::changes;
use super::common::Format;
use super::output::Style;

/// Prints a plan and, when there is a repository, its base and changes.
pub(crate) fn report(
    format: Format,
    plan: &Plan,
    repo: Option<(serde_json::Value, serde_json::Value)>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(plan)?;
            if let (Some((base, changes)), Some(map)) = (&repo, value.as_object_mut()) {
                map.insert("base".into(), base.clone());
                map.insert("changes".into(), changes.clone());
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => print_text(plan, repo.as_ref(), Style::stdout()),
    }
    Ok(())
}

/// The whole text output.
fn print_text(plan: &Plan, repo: Option<&(serde_json::Value, serde_json::Value)>, s: Style) {
    print_spec(plan, s);
    print_notes(&plan.spec, s);
    println!("\n{} ({})", s.bold("Files"), plan.files.len());
    for f in &plan.files {
        println!("  {}", f.path);
    }
    if let Some((base, changes)) = repo {
        changes::print(base, changes, s);
    }
    print_findings(&plan.findings, s);
    print_verdict(plan, s);
}

/// The header and the Spec section: environments, namespace, one line per
/// component and per change.
fn print_spec(plan: &Plan, s: Style) {
    let spec = &plan.spec;
    let model = plan
        .model
        .as_deref()
        .map(|m| format!(", model {m}"))
        .unwrap_or_default();
    println!(
        "{} {:?} {}",
        s.bold("Plan for"),
        plan.intent,
        s.dim(&format!("(planner {}{model})", plan.planner))
    );
    println!();
    println!("{}", s.bold("Spec"));
    println!("  environment  {}", spec.environment);
    if spec.environments.len() > 1 {
        println!("  environments {}", spec.environments.join(", "));
    }
    println!("  namespace    {}", spec.namespace);
    for c in &spec.components {
        println!("  {:<12} {}", c.name, component_parts(c).join(" · "));
    }
    for (change, applied) in spec
        .changes
        .iter()
        .zip(plan.operations.iter().map(Some).chain(std::iter::repeat(None)))
    {
        let target = applied.map_or(change.target.clone(), |a| a.target.clone());
        println!(
            "  {:<12} {target} {}",
            change.operation.as_str(),
            change_parts(change, applied).join(" · ")
        );
    }
}

/// A component's line: archetype, image, replicas or autoscaling, storage,
/// URL, schedule, high availability.
fn component_parts(c: &Component) -> Vec<String> {
    let mut parts = vec![c.archetype.to_string()];
    parts.push(
        c.image
            .clone()
            .or_else(|| c.archetype.defaults().image.map(String::from))
            .unwrap_or_default(),
    );
    if let Some(a) = &c.autoscaling {
        parts.push(format!(
            "{}-{} replicas at {}% CPU",
            a.min_replicas, a.max_replicas, a.cpu_target_percent
        ));
    } else if let Some(r) = c.replicas {
        parts.push(format!("{r} replicas"));
    }
    if let Some(st) = &c.storage {
        parts.push(format!("storage {}", st.size));
    }
    if let Some(e) = &c.exposure {
        parts.push(url(e));
    }
    if let Some(sched) = &c.schedule {
        parts.push(format!("schedule {sched:?}"));
    }
    if let Some(ha) = &c.high_availability {
        let mut ha_parts = Vec::new();
        ha.pod_disruption_budget.then(|| ha_parts.push("PDB"));
        ha.spread.then(|| ha_parts.push("spread"));
        ha.failover.then(|| ha_parts.push("failover"));
        parts.push(format!("HA ({})", ha_parts.join(", ")));
    }
    parts
}

/// A change's line: what it sets (replicas, image, resources, URL) and the
/// environments it reaches.
fn change_parts(change: &Change, applied: Option<&Applied>) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(set) = &change.set {
        if let Some(r) = set.replicas {
            parts.push(format!("{r} replicas"));
        }
        if let Some(image) = &set.image {
            parts.push(format!("image {image}"));
        }
        if let Some(r) = &set.resources {
            parts.extend(resources_parts(r));
        }
        if let Some(e) = &set.exposure {
            parts.push(url(e));
        }
    }
    if let Some(a) = applied.filter(|a| !a.reach.is_empty()) {
        parts.push(format!("reaches {}", a.reach.join(", ")));
    }
    parts
}

/// `requests cpu 100m, memory 128Mi` and `limits …`, each only when set.
fn resources_parts(r: &Resources) -> Vec<String> {
    let mut parts = Vec::new();
    for (what, q) in [("requests", &r.requests), ("limits", &r.limits)] {
        let qs: Vec<String> = [("cpu", &q.cpu), ("memory", &q.memory)]
            .iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n} {v}")))
            .collect();
        if !qs.is_empty() {
            parts.push(format!("{what} {}", qs.join(", ")));
        }
    }
    parts
}

/// `https://host/path` (`*` for no host, `/` for no path).
fn url(e: &Exposure) -> String {
    let scheme = if e.tls { "https" } else { "http" };
    format!(
        "{scheme}://{}{}",
        e.host.as_deref().unwrap_or("*"),
        e.path.as_deref().unwrap_or("/")
    )
}

/// Assumptions, questions and what the spec cannot express, each when any.
fn print_notes(spec: &Spec, s: Style) {
    for (title, items) in [("Assumptions", &spec.assumptions), ("Questions", &spec.questions)] {
        if !items.is_empty() {
            println!("\n{}", s.bold(title));
            for item in items {
                println!("  - {item}");
            }
        }
    }
    if !spec.unsupported.is_empty() {
        println!("\n{}", s.bold("Not done (the spec cannot express it)"));
        for u in &spec.unsupported {
            println!("  - \"{}\": {}", u.phrase, u.reason);
        }
    }
}

/// The Findings section, one line per finding (`none` when there is none).
fn print_findings(findings: &[Finding], s: Style) {
    println!("\n{}", s.bold("Findings"));
    if findings.is_empty() {
        println!("  {}", s.green("none"));
    }
    for f in findings {
        let sev = match f.severity {
            Severity::Error => s.red("error  "),
            Severity::Warning => s.yellow("warning"),
            Severity::Info => s.dim("info   "),
        };
        let path = if f.path.is_empty() {
            String::new()
        } else {
            format!(" {}", f.path)
        };
        println!("  {sev} [{}] {}{}: {}", f.rule, f.resource, path, f.message);
    }
}

/// The last line: how many error findings, or that the plan is valid.
fn print_verdict(plan: &Plan, s: Style) {
    let errors = plan.findings.iter().filter(|f| f.is_error()).count();
    println!();
    if errors > 0 {
        println!(
            "{}",
            s.red(&format!(
                "{errors} error finding(s): fix them before proposing this plan."
            ))
        );
    } else {
        println!(
            "{}",
            s.green("Plan is valid.")
                + " Use --write to write the files, or --format json for the full manifests."
        );
    }
}
