//! `gitintent plan`: intent in, spec + manifests + findings out.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context as _;
use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::Planner;
use gitintent::{Intent, Severity};

use super::changes::{self, Base};
use super::common::{choose_planner, error_chain, exit_code, fail, read_intent, Format, PlannerChoice};
use super::exit;
use super::output::{Spinner, Style};

/// Arguments of `gitintent plan`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// What to deploy, in plain language; `-` reads it from stdin.
    intent: OsString,
    /// The GitOps repository (its `.gitintent.yaml` decides layout and environments).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// With --repo: the ref to diff against (branch, tag or commit); default `main`, else HEAD.
    #[arg(long, requires = "repo")]
    base: Option<String>,
    /// Target environment, overriding what the intent says.
    #[arg(long = "env")]
    environment: Option<String>,
    /// Planner; defaults to openai when an endpoint is configured, else builtin.
    #[arg(long, value_enum)]
    planner: Option<PlannerChoice>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the files into the repository's working tree (refused when there are error findings).
    #[arg(long, requires = "repo")]
    write: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let format = args.format;
    let text = match read_intent(args.intent) {
        Ok(t) => t,
        Err(m) => return Ok(fail(format, exit::BAD_INPUT, m)),
    };
    let intent = match Intent::new(&text, args.environment.as_deref()) {
        Ok(i) => i,
        Err(e) => return Ok(fail(format, exit::BAD_INPUT, e.to_string())),
    };
    // A git repository is read at its base ref; a plain directory as before.
    let opened = match &args.repo {
        Some(root) => Base::open(root, args.base.as_deref()).and_then(|base| match base {
            Some((base, ctx)) => Ok((Some(base), ctx)),
            None => Ok((None, Context::load(root)?)),
        }),
        None => Ok((None, Context::default())),
    };
    let (base, ctx) = match opened {
        Ok(opened) => opened,
        Err(e) => return Ok(fail(format, exit_code(&e), error_chain(&e))),
    };
    let planner = match choose_planner(args.planner) {
        Ok(p) => p,
        Err(e) => return Ok(fail(format, exit::BAD_INPUT, e.to_string())),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let _spinner = (format == Format::Text && matches!(planner, Planner::OpenAi(_)))
            .then(|| Spinner::start("asking the model for a spec…"));
        pipeline::run(&intent, &planner, &ctx).await
    });
    let mut plan = match result {
        Ok(plan) => plan,
        Err(e) => return Ok(fail(format, exit_code(&e), error_chain(&e))),
    };
    let changeset = match &base {
        Some(base) => match gitintent::repo::diff(&base.index, &base.snapshot, &plan.files) {
            Ok(c) => Some(c),
            Err(e) => return Ok(fail(format, exit::FAILURE, error_chain(&e))),
        },
        None => None,
    };
    if let Some(c) = &changeset {
        plan.findings.extend(c.findings.iter().cloned());
        plan.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.resource.cmp(&b.resource))
        });
    }
    let repo_view = base.as_ref().zip(changeset.as_ref());
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(&plan)?;
            if let (Some((base, changes)), Some(map)) = (repo_view, value.as_object_mut()) {
                map.insert("base".into(), base.json());
                map.insert("changes".into(), serde_json::to_value(changes)?);
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => print_text(&plan, repo_view, Style::stdout()),
    }
    if plan.has_errors() {
        if args.write {
            eprintln!("error: not writing files: the plan has error findings");
        }
        return Ok(exit::FINDINGS);
    }
    if args.write {
        let root = args.repo.as_deref().expect("clap requires --repo with --write");
        let mut files = plan.files.clone();
        if let Some((base, changes)) = repo_view {
            files.extend(changes::wiring_to_write(root, base, changes));
        }
        let written =
            gitintent::repo::write_files(root, &files).map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}

fn print_text(plan: &Plan, repo: Option<(&Base, &gitintent::repo::Changeset)>, s: Style) {
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
    println!("  namespace    {}", spec.namespace);
    for c in &spec.components {
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
            let scheme = if e.tls { "https" } else { "http" };
            parts.push(format!(
                "{scheme}://{}{}",
                e.host.as_deref().unwrap_or("*"),
                e.path.as_deref().unwrap_or("/")
            ));
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
        println!("  {:<12} {}", c.name, parts.join(" · "));
    }
    for (title, items) in [("Assumptions", &spec.assumptions), ("Questions", &spec.questions)] {
        if !items.is_empty() {
            println!("\n{}", s.bold(title));
            for item in items {
                println!("  - {item}");
            }
        }
    }
    println!("\n{} ({})", s.bold("Files"), plan.files.len());
    for f in &plan.files {
        println!("  {}", f.path);
    }
    if let Some((base, changes)) = repo {
        changes::print(base, changes, s);
    }
    println!("\n{}", s.bold("Findings"));
    if plan.findings.is_empty() {
        println!("  {}", s.green("none"));
    }
    for f in &plan.findings {
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
