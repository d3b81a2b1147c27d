//! `gitintent plan`: intent in, spec + manifests + findings out.
//!
//! Local mode plans against `--repo` through [`Repo`] (a git repository at
//! its base is the library's `Workspace`: open → plan → absorb the diff; a
//! plain directory is read as it is), adds `--cluster`'s dry-run findings,
//! prints the plan (`plan_text.rs`) and writes it with `--write`. The CLI's
//! own parts are the response cache (`--cache`) and the exit codes. Client
//! mode (`--server`) asks a running service and prints the same output.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use gitintent::manifest::File;
use gitintent::pipeline::Plan;
use gitintent::plan::{OpenAiConfig, Planner};
use gitintent::repo::Changeset;
use gitintent::{Intent, Spec};

use super::changes::{self, Repo};
use super::common::{
    choose_planner, current_thread_runtime, error_chain, exit_code, exit_for, fail, read_intent, runtime,
    Format, PlannerChoice,
};
use super::exit;
use super::output::Spinner;
use super::plan_text::report;

/// A refusal: the exit code and the message.
type Refused = (u8, String);

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
    let (given, text) = match read_input(&mut args) {
        Ok(input) => input,
        Err(m) => return Ok(fail(format, exit::BAD_INPUT, m)),
    };
    match &args.server {
        Some(server) => run_remote(server, &args, &text),
        None => run_local(&args, given, &text),
    }
}

/// The spec given with `--spec`, or else the intent's text (argument or stdin).
fn read_input(args: &mut Args) -> Result<(Option<Spec>, String), String> {
    if let Some(path) = &args.spec {
        let spec = super::plan_spec::read(path, args.environment.as_deref())?;
        return Ok((Some(spec), String::new()));
    }
    Ok((None, read_intent(args.intent.take().unwrap_or_default())?))
}

/// Plans in-process against the repository (a git repository at its base,
/// a plain directory as before), adds `--cluster`'s findings, absorbs the
/// diff, prints, and writes with `--write`.
fn run_local(args: &Args, given: Option<Spec>, text: &str) -> anyhow::Result<u8> {
    let format = args.format;
    let repo = match Repo::open(args.repo.as_deref(), args.base.as_deref()) {
        Ok(repo) => repo,
        Err(e) => return Ok(fail(format, exit_code(&e), error_chain(&e))),
    };
    let runtime = runtime()?;
    let mut plan = match plan(args, &repo, given, text, &runtime)? {
        Ok(plan) => plan,
        Err((code, message)) => return Ok(fail(format, code, message)),
    };
    if args.cluster {
        if let Err(e) = runtime.block_on(dry_run_on_cluster(args, &mut plan)) {
            return Ok(fail(format, exit_for(e.class()), error_chain(&e)));
        }
    }
    // Conflicts and wiring notes join the findings.
    let changeset = match repo.absorb(&mut plan) {
        Ok(c) => c,
        Err(e) => return Ok(fail(format, exit::FAILURE, error_chain(&e))),
    };
    let repo_view = match repo.workspace().zip(changeset.as_ref()) {
        Some((workspace, changes)) => Some((changes::base_json(workspace), serde_json::to_value(changes)?)),
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
        return Ok(write(args, &repo, &plan, changeset.as_ref()));
    }
    Ok(exit::OK)
}

/// The plan of the given spec, or of the intent `text` with the chosen
/// planner. The outer error is a failure to start.
fn plan(
    args: &Args,
    repo: &Repo,
    given: Option<Spec>,
    text: &str,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Result<Plan, Refused>> {
    let planned = match given {
        Some(spec) => repo.plan_spec(spec),
        None => match plan_intent(args, repo, text, runtime)? {
            Ok(planned) => planned,
            Err(refused) => return Ok(Err(refused)),
        },
    };
    Ok(planned.map_err(|e| (exit_code(&e), error_chain(&e))))
}

/// Plans the intent `text` with the chosen planner (through the response
/// cache with `--cache`). The outer error is a failure to start; the inner
/// `Err` an exit code and message for bad flags.
fn plan_intent(
    args: &Args,
    repo: &Repo,
    text: &str,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Result<gitintent::Result<Plan>, Refused>> {
    let bad_input = |e: &dyn std::fmt::Display| (exit::BAD_INPUT, e.to_string());
    let intent = match Intent::new(text, args.environment.as_deref())
        .and_then(|i| i.with_target(args.target.as_deref()))
    {
        Ok(i) => i,
        Err(e) => return Ok(Err(bad_input(&e))),
    };
    let planner = match choose_planner(args.planner) {
        Ok(p) => p,
        Err(e) => return Ok(Err(bad_input(&e))),
    };
    let cache = match response_cache(args, &planner) {
        Ok(cache) => cache,
        Err(refused) => return Ok(Err(refused)),
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
        let _spinner = (args.format == Format::Text && matches!(planner, Planner::OpenAi(_)))
            .then(|| Spinner::start("asking the model for a spec…"));
        anyhow::Ok(repo.plan(&intent, &planner).await)
    });
    Ok(Ok(result?))
}

/// `--cache`: the response cache's directory and the model's endpoint, or
/// `None` (no `--cache`, or the builtin planner, which is said).
fn response_cache(args: &Args, planner: &Planner) -> Result<Option<(PathBuf, OpenAiConfig)>, Refused> {
    match (&args.cache, planner) {
        (Some(dir), Planner::OpenAi(p)) => match dir.clone().or_else(super::recording::default_cache_dir) {
            Some(dir) => Ok(Some((dir, p.config().clone()))),
            None => Err((
                exit::BAD_INPUT,
                "--cache: no cache directory (HOME is not set); give one: --cache DIR".into(),
            )),
        },
        (Some(_), Planner::Builtin) => {
            eprintln!("note: --cache has no effect with the builtin planner");
            Ok(None)
        }
        (None, _) => Ok(None),
    }
}

/// `--cluster`: every manifest dry-run on the cluster (server-side apply,
/// `dryRun=All`); its findings join the plan's.
async fn dry_run_on_cluster(args: &Args, plan: &mut Plan) -> Result<(), gitintent::drift::Error> {
    let options = gitintent::drift::ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        ..Default::default()
    };
    let cluster = gitintent::drift::Cluster::connect(&options).await?;
    // An overlay patch is sent as the workload it makes, not as a fragment.
    let mut files: Vec<File> = plan
        .files
        .iter()
        .filter(|f| !plan.in_place.patches.contains(&f.path))
        .cloned()
        .collect();
    files.extend(plan.in_place.patched.iter().cloned());
    let findings = cluster.dry_run(&files).await?;
    plan.findings.extend(findings);
    Ok(())
}

/// `--write`: the plan's files into the working tree; on a git repository
/// refused over local edits, and wiring edits only over untouched copies.
fn write(args: &Args, repo: &Repo, plan: &Plan, changes: Option<&Changeset>) -> u8 {
    let format = args.format;
    let root = args.repo.as_deref().expect("clap requires --repo with --write");
    let files = match repo.workspace().zip(changes) {
        Some((workspace, changes)) => match changes::files_to_write(root, workspace, plan, changes) {
            Ok(files) => files,
            Err((code, message)) => return fail(format, code, message),
        },
        None => plan.files.clone(),
    };
    match write_and_remove(root, &files, &plan.in_place.deleted) {
        Ok(()) => exit::OK,
        Err(e) => fail(format, write_exit_code(&e), error_chain(&e)),
    }
}

/// Writes `files` and removes `deleted` under `root`, saying each; every
/// path, deletions included, is checked before the first write.
fn write_and_remove(root: &Path, files: &[File], deleted: &[String]) -> Result<(), gitintent::repo::Error> {
    deleted
        .iter()
        .try_for_each(|p| gitintent::repo::safe_target(root, p).map(drop))?;
    for path in gitintent::repo::write_files(root, files)? {
        eprintln!("wrote {}", path.display());
    }
    for path in gitintent::repo::remove_files(root, deleted)? {
        eprintln!("removed {}", path.display());
    }
    Ok(())
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
    let runtime = current_thread_runtime()?;
    let outcome = runtime.block_on(async {
        let _spinner = (format == Format::Text).then(|| Spinner::start("waiting for the gitintent service…"));
        let ask = super::client::Ask {
            repo,
            intent: text,
            environment: args.environment.as_deref(),
            target: args.target.as_deref(),
            planner: args.planner,
        };
        super::client::plan(server, &ask).await
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
