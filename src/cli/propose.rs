//! `gitintent propose`: plan an intent and land it as a branch (optionally pushed, with a PR).

use std::ffi::OsString;
use std::path::PathBuf;

use gitintent::pipeline::Plan;
use gitintent::propose::{self, Author, Proposal, Step};
use gitintent::repo::{self, IndexCache};
use gitintent::{Intent, Workspace};

use super::common::{
    choose_planner, current_thread_runtime, error_chain, exit_code, fail, forge_for, plan_id, print_proposal,
    publication, read_intent, runtime, unpublished, Format, PlannerChoice, PublishArgs,
};
use super::exit;
use super::output::Style;

/// Arguments of `gitintent propose`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// What to deploy, in plain language; `-` reads it from stdin.
    intent: OsString,
    /// The GitOps repository (a working tree or a bare repository).
    #[arg(long)]
    repo: PathBuf,
    /// The branch (or tag, or commit) the proposal is based on; default `main`, else HEAD.
    #[arg(long)]
    base: Option<String>,
    /// The branch to write; must start with `gitintent/`. Default `gitintent/<slug>-<hash>`.
    #[arg(long)]
    branch: Option<String>,
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
    #[command(flatten)]
    publish: PublishArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Ask a running `gitintent serve` to plan and propose; `--repo` is then the
    /// service's repository name, and the service pushes (and opens the PR) with
    /// its own credentials. The token is read from GITINTENT_TOKEN.
    #[arg(long, env = "GITINTENT_SERVER", value_name = "URL", conflicts_with_all = ["base", "branch", "rebase"])]
    server: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let format = args.format;
    let text = match read_intent(args.intent.clone()) {
        Ok(t) => t,
        Err(m) => return Ok(fail(format, exit::BAD_INPUT, m)),
    };
    if let Some(server) = &args.server {
        return run_remote(server, &args, &text);
    }
    let intent = match Intent::new(&text, args.environment.as_deref())
        .and_then(|i| i.with_target(args.target.as_deref()))
    {
        Ok(i) => i,
        Err(e) => return Ok(fail(format, exit::BAD_INPUT, e.to_string())),
    };
    let planner = match choose_planner(args.planner) {
        Ok(p) => p,
        Err(e) => return Ok(fail(format, exit::BAD_INPUT, e.to_string())),
    };
    let runtime = runtime()?;
    let result = runtime.block_on(plan_and_propose(&args, &intent, &planner));
    match result {
        Ok(Outcome::Proposed(proposal)) => {
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&proposal)?),
                Format::Text => print_proposal(
                    &serde_json::to_value(&proposal)?,
                    &args.publish.remote,
                    Style::stdout(),
                ),
            }
            Ok(exit::OK)
        }
        Ok(Outcome::NothingToChange { base }) => {
            print_nothing_to_change(format, &base);
            Ok(exit::OK)
        }
        Err(Failure { error, plan }) => {
            if let (Some(plan), Format::Text) = (&plan, format) {
                for f in plan.findings.iter().filter(|f| f.is_error()) {
                    eprintln!("  {f}");
                }
            }
            Ok(fail(format, exit_code(&error), error_chain(&error)))
        }
    }
}

enum Outcome {
    Proposed(Proposal),
    NothingToChange { base: String },
}

struct Failure {
    error: gitintent::Error,
    plan: Option<Box<Plan>>,
}

impl From<gitintent::Error> for Failure {
    fn from(error: gitintent::Error) -> Failure {
        Failure { error, plan: None }
    }
}

impl From<repo::Error> for Failure {
    fn from(e: repo::Error) -> Failure {
        Failure::from(gitintent::Error::from(e))
    }
}

impl From<propose::Error> for Failure {
    fn from(e: propose::Error) -> Failure {
        Failure::from(gitintent::Error::from(e))
    }
}

/// Plan → commit → push → pull request. A failed push rolls the local branch back.
async fn plan_and_propose(
    args: &Args,
    intent: &Intent,
    planner: &gitintent::plan::Planner,
) -> Result<Outcome, Failure> {
    // The repository at its base, from git objects: config, policies and conventions
    // come from that commit, and the plan is diffed against it (wiring included).
    let workspace = Workspace::open(&args.repo, args.base.as_deref(), &mut IndexCache::new())?;
    let ctx = workspace.context();
    // A pull request needs a forge and a token: check before anything is written.
    let forge = forge_for(
        &ctx.config,
        &args.repo,
        &args.publish,
        &workspace.base().reference,
    )?;
    let plan = workspace.plan(intent, planner).await?;
    let options = propose::Options {
        branch: args.branch.clone(),
        rebase: args.publish.rebase,
        plan_id: plan_id(),
        author: Author::from_env_or(ctx.config.author.clone()),
        protected: ctx.config.protected_branches.clone(),
    };
    let prepared = match tokio::task::block_in_place(|| workspace.prepare_proposal(&plan, &options)) {
        Ok(p) => p,
        Err(gitintent::Error::Propose(propose::Error::NothingToChange { base })) => {
            return Ok(Outcome::NothingToChange { base })
        }
        Err(error) => {
            return Err(Failure {
                error,
                plan: Some(Box::new(plan)),
            })
        }
    };
    let publication = publication(&args.publish, forge);
    let published = propose::publish(prepared.request.clone(), &publication, |proposal, base| {
        prepared.pull_request(&plan, proposal, base)
    })
    .await;
    match published {
        Ok(proposal) => Ok(Outcome::Proposed(proposal)),
        Err(failed) if failed.step == Step::Commit => match failed.error {
            propose::Error::NothingToChange { base } => Ok(Outcome::NothingToChange { base }),
            error => {
                // Show the diff's findings (conflicts) with the plan's.
                let mut plan = plan;
                plan.findings.extend(prepared.changeset.findings.iter().cloned());
                Err(Failure {
                    error: error.into(),
                    plan: Some(Box::new(plan)),
                })
            }
        },
        Err(failed) => Err(Failure::from(unpublished(*failed))),
    }
}

fn print_nothing_to_change(format: Format, base: &str) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"branch": null, "commit": null, "status": "nothing_to_change",
                               "pushed": false, "pull_request": null})
        ),
        Format::Text => println!("Nothing to change: {base} already holds this plan."),
    }
}

/// Client mode: the service plans and proposes; the output is local mode's.
fn run_remote(server: &str, args: &Args, text: &str) -> anyhow::Result<u8> {
    use super::client::{self, Outcome as Planned, Proposed};
    let format = args.format;
    let Some(repo) = args.repo.to_str() else {
        return Ok(fail(
            format,
            exit::BAD_INPUT,
            "--repo must be the service's repository name".into(),
        ));
    };
    let runtime = current_thread_runtime()?;
    let ask = client::Ask {
        repo,
        intent: text,
        environment: args.environment.as_deref(),
        target: args.target.as_deref(),
        planner: args.planner,
    };
    let planned = runtime.block_on(client::plan(server, &ask));
    let (id, plan, base) = match planned {
        Ok(Planned::Planned { id, plan, base, .. }) => (id, plan, base),
        Ok(Planned::Refused { code, message }) => return Ok(fail(format, code, message)),
        Err(e) => return Ok(fail(format, exit::FAILURE, format!("{e:#}"))),
    };
    let errors = plan.findings.iter().filter(|f| f.is_error()).count();
    if errors > 0 {
        // The same refusal local mode makes before committing anything.
        if format == Format::Text {
            for f in plan.findings.iter().filter(|f| f.is_error()) {
                eprintln!("  {f}");
            }
        }
        let error = gitintent::Error::from(propose::Error::Findings(errors));
        return Ok(fail(format, exit_code(&error), error_chain(&error)));
    }
    match runtime.block_on(client::propose(server, &id)) {
        Ok(Proposed::Made(proposal)) => {
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&proposal)?),
                Format::Text => print_proposal(&proposal, &args.publish.remote, Style::stdout()),
            }
            Ok(exit::OK)
        }
        Ok(Proposed::NothingToChange) => {
            let base = base
                .as_ref()
                .and_then(|b| b["ref"].as_str())
                .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_string())
                .unwrap_or_default();
            print_nothing_to_change(format, &base);
            Ok(exit::OK)
        }
        Ok(Proposed::Refused { code, message }) => Ok(fail(format, code, message)),
        Err(e) => Ok(fail(format, exit::FAILURE, format!("{e:#}"))),
    }
}
