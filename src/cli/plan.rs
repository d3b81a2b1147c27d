//! `gitintent plan`: intent in, spec + manifests + findings out.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context as _;
use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::Planner;
use gitintent::{Intent, Severity};

use super::changes::{self, Base};
use super::common::{
    choose_planner, error_chain, exit_code, exit_for, fail, read_intent, Format, PlannerChoice,
};
use super::exit;
use super::output::{Spinner, Style};

/// Arguments of `gitintent plan`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// What to deploy, in plain language; `-` reads it from stdin.
    #[arg(required_unless_present = "spec")]
    intent: Option<OsString>,
    /// Render this spec (JSON or YAML, e.g. from `gitintent lift`) instead of
    /// planning an intent; it is checked as a model's reply is.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["intent", "server", "planner", "cache"])]
    spec: Option<PathBuf>,
    /// The GitOps repository (its `.gitintent.yaml` decides layout and environments).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// With --repo: the ref to diff against (branch, tag or commit); default `main`, else HEAD.
    #[arg(long, requires = "repo")]
    base: Option<String>,
    /// Target environment, overriding what the intent says.
    #[arg(long = "env")]
    environment: Option<String>,
    /// A file or directory of the repository that holds the workload to
    /// change, when its name alone is ambiguous (e.g. `deploy/webapp`).
    #[arg(long, value_name = "PATH")]
    target: Option<String>,
    /// Planner; defaults to openai when an endpoint is configured, else builtin.
    #[arg(long, value_enum)]
    planner: Option<PlannerChoice>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the files into the repository's working tree (refused when there are error findings).
    #[arg(long, requires = "repo", conflicts_with = "server")]
    write: bool,
    /// Ask a running `gitintent serve` instead of planning in-process; `--repo`
    /// is then the service's repository name. The token is read from GITINTENT_TOKEN.
    #[arg(long, env = "GITINTENT_SERVER", value_name = "URL", conflicts_with = "base")]
    server: Option<String>,
    /// Answer repeated model requests from a response cache (default
    /// ~/.cache/gitintent/responses); an identical intent and context is not paid twice.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    cache: Option<Option<PathBuf>>,
    /// Also dry-run every manifest on the cluster (server-side apply,
    /// `dryRun=All`): admission webhooks and CRDs give findings.
    #[arg(long)]
    cluster: bool,
    /// The kubeconfig context for `--cluster`; default its current context.
    #[arg(long, requires = "cluster")]
    context: Option<String>,
    /// The kubeconfig file for `--cluster`; default `$KUBECONFIG` or `~/.kube/config`, then in-cluster.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    kubeconfig: Option<PathBuf>,
}

pub(crate) fn run(mut args: Args) -> anyhow::Result<u8> {
    let format = args.format;
    let given = match args
        .spec
        .as_deref()
        .map(|p| super::plan_spec::read(p, args.environment.as_deref()))
    {
        Some(Ok(spec)) => Some(spec),
        Some(Err(m)) => return Ok(fail(format, exit::BAD_INPUT, m)),
        None => None,
    };
    let text = match &given {
        Some(_) => String::new(),
        None => match read_intent(args.intent.take().unwrap_or_default()) {
            Ok(t) => t,
            Err(m) => return Ok(fail(format, exit::BAD_INPUT, m)),
        },
    };
    if let Some(server) = &args.server {
        return run_remote(server, &args, &text);
    }
    // A git repository is read at its base ref; a plain directory as before.
    let opened = match &args.repo {
        Some(root) => Base::open(root, args.base.as_deref()).and_then(|base| match base {
            Some(base) => Ok((Some(base), None)),
            None => Ok((None, Some(Context::load(root)?))),
        }),
        None => Ok((None, Some(Context::default()))),
    };
    let (base, loaded) = match opened {
        Ok(opened) => opened,
        Err(e) => return Ok(fail(format, exit_code(&e), error_chain(&e))),
    };
    let directory;
    let ctx = match &base {
        Some(base) => base.workspace.context(),
        None => {
            directory = loaded.unwrap_or_default();
            &directory
        }
    };
    let planned = match given {
        Some(spec) => pipeline::run_spec(spec, ctx),
        None => match plan_intent(&args, &text, ctx)? {
            Ok(plan) => plan,
            Err(code_message) => return Ok(fail(format, code_message.0, code_message.1)),
        },
    };
    let mut plan = match planned {
        Ok(plan) => plan,
        Err(e) => return Ok(fail(format, exit_code(&e), error_chain(&e))),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("starting the async runtime")?;
    if args.cluster {
        let options = gitintent::drift::ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            ..Default::default()
        };
        let verdict = runtime.block_on(async {
            let cluster = gitintent::drift::Cluster::connect(&options).await?;
            // An overlay patch is sent as the workload it makes, not as a fragment.
            let mut files: Vec<gitintent::manifest::File> = plan
                .files
                .iter()
                .filter(|f| !plan.in_place.patches.contains(&f.path))
                .cloned()
                .collect();
            files.extend(plan.in_place.patched.iter().cloned());
            cluster.dry_run(&files).await
        });
        match verdict {
            Ok(findings) => plan.findings.extend(findings),
            Err(e) => {
                let code = exit_for(e.class());
                return Ok(fail(format, code, error_chain(&e)));
            }
        }
    }
    let changeset = match &base {
        // Conflicts and wiring notes join the findings.
        Some(base) => match base.workspace.absorb(&mut plan) {
            Ok(c) => Some(c),
            Err(e) => return Ok(fail(format, exit::FAILURE, error_chain(&e))),
        },
        None => {
            gitintent::finding::sort(&mut plan.findings);
            None
        }
    };
    let repo_view = match base.as_ref().zip(changeset.as_ref()) {
        Some((base, changes)) => Some((base.json(), serde_json::to_value(changes)?)),
        None => None,
    };
    report(format, &plan, repo_view)?;
    if plan.has_errors() {
        if args.write {
            eprintln!("error: not writing files: the plan has error findings");
        }
        return Ok(exit::FINDINGS);
    }
    if args.write {
        let root = args.repo.as_deref().expect("clap requires --repo with --write");
        if let Some(base) = &base {
            let touched: Vec<String> = plan
                .in_place
                .changed
                .iter()
                .chain(&plan.in_place.deleted)
                .cloned()
                .collect();
            let dirty = changes::locally_changed(root, base, &touched);
            if !dirty.is_empty() {
                return Ok(fail(
                    format,
                    exit::BAD_INPUT,
                    format!(
                        "not writing files: {} differ from {} in the working tree; commit or stash them first",
                        dirty.join(", "),
                        base.snapshot.reference()
                    ),
                ));
            }
        }
        let mut files = plan.files.clone();
        if let (Some(base), Some(changes)) = (&base, &changeset) {
            // Wiring edits are written only over an untouched working copy.
            let wired: Vec<String> = changes.wiring_files().into_iter().map(|f| f.path).collect();
            files.retain(|f| !wired.contains(&f.path));
            files.extend(changes::wiring_to_write(root, base, changes));
        }
        // Every path, deletions included, is checked before the first write.
        let checked = plan
            .in_place
            .deleted
            .iter()
            .try_for_each(|p| gitintent::repo::safe_target(root, p).map(drop));
        let written = checked.and_then(|()| gitintent::repo::write_files(root, &files));
        let removed = written.and_then(|written| {
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            gitintent::repo::remove_files(root, &plan.in_place.deleted)
        });
        match removed {
            Ok(removed) => removed.iter().for_each(|p| eprintln!("removed {}", p.display())),
            Err(e) => return Ok(fail(format, write_exit_code(&e), error_chain(&e))),
        }
    }
    Ok(exit::OK)
}

/// Plans the intent `text` with the chosen planner (through the response
/// cache with `--cache`). The outer error is a failure to start; the inner
/// `Err` an exit code and message for bad flags.
fn plan_intent(
    args: &Args,
    text: &str,
    ctx: &Context,
) -> anyhow::Result<Result<gitintent::Result<Plan>, (u8, String)>> {
    let format = args.format;
    let intent = match Intent::new(text, args.environment.as_deref())
        .and_then(|i| i.with_target(args.target.as_deref()))
    {
        Ok(i) => i,
        Err(e) => return Ok(Err((exit::BAD_INPUT, e.to_string()))),
    };
    let planner = match choose_planner(args.planner) {
        Ok(p) => p,
        Err(e) => return Ok(Err((exit::BAD_INPUT, e.to_string()))),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("starting the async runtime")?;
    let cache = match (&args.cache, &planner) {
        (Some(dir), Planner::OpenAi(p)) => match dir.clone().or_else(super::recording::default_cache_dir) {
            Some(dir) => Some((dir, p.config().clone())),
            None => {
                return Ok(Err((
                    exit::BAD_INPUT,
                    "--cache: no cache directory (HOME is not set); give one: --cache DIR".into(),
                )))
            }
        },
        (Some(_), Planner::Builtin) => {
            eprintln!("note: --cache has no effect with the builtin planner");
            None
        }
        (None, _) => None,
    };
    let result = runtime.block_on(async {
        // The cassette answers repeated requests and forwards the rest.
        let (_cassette, planner) = match cache {
            Some((dir, config)) => {
                let mode = gitintent::cassette::Mode::Cache {
                    upstream: config.base_url.clone(),
                };
                let (c, p) = super::recording::through(&config, &dir, mode).await?;
                (Some(c), p)
            }
            None => (None, planner),
        };
        let _spinner = (format == Format::Text && matches!(planner, Planner::OpenAi(_)))
            .then(|| Spinner::start("asking the model for a spec…"));
        anyhow::Ok(pipeline::run(&intent, &planner, ctx).await)
    });
    Ok(Ok(result?))
}

/// A refused path (outside the repository, through a link, into `.git`) is
/// bad input; an I/O failure is a failure.
pub(crate) fn write_exit_code(e: &gitintent::repo::Error) -> u8 {
    use gitintent::repo::Error as E;
    match e {
        E::UnsafePath(_) | E::Symlink { .. } | E::GitDir(_) | E::InTheWay { .. } | E::NotADirectory(_) => {
            exit::BAD_INPUT
        }
        _ => exit::FAILURE,
    }
}

/// Client mode: the same output and exit codes, planned by the service.
fn run_remote(server: &str, args: &Args, text: &str) -> anyhow::Result<u8> {
    let format = args.format;
    let Some(repo) = args.repo.as_deref().and_then(|r| r.to_str()) else {
        return Ok(fail(
            format,
            exit::BAD_INPUT,
            "--server needs --repo NAME: the service's name of the repository".into(),
        ));
    };
    let planner = args.planner.map(|p| match p {
        PlannerChoice::Builtin => gitintent::plan::PlannerName::Builtin,
        PlannerChoice::Openai => gitintent::plan::PlannerName::Openai,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        let _spinner = (format == Format::Text).then(|| Spinner::start("waiting for the gitintent service…"));
        super::client::plan(
            server,
            repo,
            text,
            args.environment.as_deref(),
            args.target.as_deref(),
            planner,
        )
        .await
    });
    let (plan, repo_view) = match outcome {
        Ok(super::client::Outcome::Planned {
            plan, base, changes, ..
        }) => (plan, base.zip(changes)),
        Ok(super::client::Outcome::Refused { code, message }) => return Ok(fail(format, code, message)),
        Err(e) => return Ok(fail(format, exit::FAILURE, format!("{e:#}"))),
    };
    report(format, &plan, repo_view)?;
    Ok(if plan.has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// Prints a plan and, when there is a repository, its base and changes.
fn report(
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

fn print_text(plan: &Plan, repo: Option<&(serde_json::Value, serde_json::Value)>, s: Style) {
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
    for (change, applied) in spec
        .changes
        .iter()
        .zip(plan.operations.iter().map(Some).chain(std::iter::repeat(None)))
    {
        let mut parts: Vec<String> = Vec::new();
        if let Some(set) = &change.set {
            if let Some(r) = set.replicas {
                parts.push(format!("{r} replicas"));
            }
            if let Some(image) = &set.image {
                parts.push(format!("image {image}"));
            }
            if let Some(r) = &set.resources {
                for (what, q) in [("requests", &r.requests), ("limits", &r.limits)] {
                    let qs: Vec<String> = [("cpu", &q.cpu), ("memory", &q.memory)]
                        .iter()
                        .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n} {v}")))
                        .collect();
                    if !qs.is_empty() {
                        parts.push(format!("{what} {}", qs.join(", ")));
                    }
                }
            }
            if let Some(e) = &set.exposure {
                let scheme = if e.tls { "https" } else { "http" };
                parts.push(format!(
                    "{scheme}://{}{}",
                    e.host.as_deref().unwrap_or("*"),
                    e.path.as_deref().unwrap_or("/")
                ));
            }
        }
        if let Some(a) = applied.filter(|a| !a.reach.is_empty()) {
            parts.push(format!("reaches {}", a.reach.join(", ")));
        }
        let target = applied.map_or(change.target.clone(), |a| a.target.clone());
        println!(
            "  {:<12} {target} {}",
            change.operation.as_str(),
            parts.join(" · ")
        );
    }
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
