//! `gitintent plan`: intent in, spec + manifests + findings out.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::{self as planner, OpenAi, OpenAiConfig, Planner};
use gitintent::{Intent, Severity};

use super::exit;
use super::output::{Spinner, Style};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlannerChoice {
    /// Offline, deterministic parser.
    Builtin,
    /// An OpenAI-compatible endpoint (GITINTENT_LLM_BASE_URL, GITINTENT_LLM_MODEL, GITINTENT_LLM_API_KEY).
    Openai,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Arguments of `gitintent plan`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// What to deploy, in plain language; `-` reads it from stdin.
    intent: OsString,
    /// The GitOps repository (its `.gitintent.yaml` decides layout and environments).
    #[arg(long)]
    repo: Option<PathBuf>,
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

/// The intent text from the argument or stdin, refusing non-UTF-8 input.
fn read_intent(arg: OsString) -> Result<String, String> {
    let bytes = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read the intent from stdin: {e}"))?;
        buf
    } else {
        arg.into_encoded_bytes()
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the intent is not valid UTF-8 (invalid byte at offset {}); send plain text",
            e.utf8_error().valid_up_to()
        )
    })
}

fn choose_planner(choice: Option<PlannerChoice>) -> Result<Planner, planner::Error> {
    let config = OpenAiConfig::from_env()?;
    match (choice, config) {
        (Some(PlannerChoice::Builtin), _) | (None, None) => Ok(Planner::Builtin),
        (Some(PlannerChoice::Openai) | None, Some(config)) => Ok(Planner::OpenAi(OpenAi::new(config)?)),
        (Some(PlannerChoice::Openai), None) => Err(planner::Error::Config(
            "--planner openai needs GITINTENT_LLM_BASE_URL or an API key (GITINTENT_LLM_API_KEY or OPENAI_API_KEY)".into(),
        )),
    }
}

/// Exit code for a library error: bad input (2) or a fault (3).
fn exit_code(e: &gitintent::Error) -> u8 {
    use gitintent::Error as E;
    match e {
        E::Intent(_) | E::Spec(_) | E::Policy(_) => exit::BAD_INPUT,
        E::Plan(
            planner::Error::NotUnderstood { .. } | planner::Error::Refused(_) | planner::Error::Config(_),
        ) => exit::BAD_INPUT,
        E::Repo(gitintent::repo::Error::Config { .. } | gitintent::repo::Error::NotADirectory(_)) => {
            exit::BAD_INPUT
        }
        _ => exit::FAILURE,
    }
}

fn fail(format: Format, code: u8, message: String) -> u8 {
    if format == Format::Json {
        let kind = if code == exit::BAD_INPUT {
            "bad_input"
        } else {
            "failure"
        };
        println!(
            "{}",
            serde_json::json!({"error": {"code": kind, "message": message}})
        );
    }
    eprintln!("error: {message}");
    code
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
    let ctx = match &args.repo {
        Some(root) => Context::load(root),
        None => Ok(Context::default()),
    };
    let ctx = match ctx {
        Ok(c) => c,
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
    if args.cluster {
        let options = gitintent::drift::ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            ..Default::default()
        };
        let verdict = runtime.block_on(async {
            let cluster = gitintent::drift::Cluster::connect(&options).await?;
            cluster.dry_run(&plan.files).await
        });
        match verdict {
            Ok(findings) => plan.findings.extend(findings),
            Err(e) => {
                let code = if e.is_bad_input() {
                    exit::BAD_INPUT
                } else {
                    exit::FAILURE
                };
                return Ok(fail(format, code, error_chain(&e)));
            }
        }
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        Format::Text => print_text(&plan, Style::stdout()),
    }
    if plan.has_errors() {
        if args.write {
            eprintln!("error: not writing files: the plan has error findings");
        }
        return Ok(exit::FINDINGS);
    }
    if args.write {
        let root = args.repo.as_deref().expect("clap requires --repo with --write");
        let written =
            gitintent::repo::write_files(root, &plan.files).map_err(|e| anyhow::anyhow!(error_chain(&e)))?;
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}

fn print_text(plan: &Plan, s: Style) {
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
