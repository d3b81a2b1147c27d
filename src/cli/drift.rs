//! `gitintent drift`: compare what the repo declares for an environment with
//! the live cluster.
//!
//! Prints one line per resource and the score (text), or the
//! `drift::Report` contract plus `proposal` (`--format json`). With
//! `--propose revert|adopt` it also builds the commit (files + message) and
//! lands it as a normal proposal (`drift_propose`: schemas and policies, a
//! `gitintent/drift-…` branch, `--push`, `--pr`); `--write` writes its files
//! into the working tree instead (only over files whose working-tree copy is
//! the base's, so local edits are never overwritten). The repository is read
//! at `--base` (default `main`, else HEAD) from git objects: uncommitted
//! edits never change the report; a plain directory that is not a git
//! repository is read as it is. Exit codes: 0 in sync, 1 drift found (or
//! the proposal refused by error findings), 2 bad input (repo, environment,
//! kubeconfig, context, selector, branch), 3 cluster unreachable or too
//! slow, a failed push, or some resources unreadable (e.g. 403) while
//! nothing drifted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gitintent::drift::{self, ClusterOptions, Entry, Mode, Proposal, Report, Source, Status};
use gitintent::manifest::File;

use super::common::{cause_chain, exit_for, print_proposal, runtime, PublishArgs};
use super::drift_propose::{land, Landed, Refusal, Target};
use super::exit;
use super::output::Style;

/// Output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One line per resource, then the score.
    #[default]
    Text,
    /// The JSON report.
    Json,
}

/// What to propose about the drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProposeMode {
    /// Keep Git's values, record the drift (annotation + message).
    Revert,
    /// Write the live values into Git.
    Adopt,
}

/// Arguments of `gitintent drift`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The GitOps repository (read at --base from git objects; a plain directory as it is).
    #[arg(long)]
    repo: PathBuf,
    /// The environment to compare (`clusters/ENV/`, `apps/ENV/`, and the layout's directory).
    #[arg(long = "env", value_name = "ENV")]
    environment: String,
    /// The kubeconfig context; default its current context.
    #[arg(long)]
    context: Option<String>,
    /// The kubeconfig file; default `$KUBECONFIG` or `~/.kube/config`, then in-cluster.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Label selector of the objects Git tracks (to find extra objects).
    #[arg(long, default_value = drift::DEFAULT_SELECTOR)]
    selector: String,
    /// Give up on the cluster after this many seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Build a commit: `revert` records the drift and keeps Git's values,
    /// `adopt` writes the live values into Git.
    #[arg(long, value_enum)]
    propose: Option<ProposeMode>,
    /// Write the proposal's files into the working tree instead of committing a branch.
    #[arg(long, requires = "propose", conflicts_with_all = ["push", "pr", "rebase"])]
    write: bool,
    /// The branch (or commit) to read the repository at, and to base the proposal on; default `main`, else HEAD.
    #[arg(long)]
    base: Option<String>,
    #[command(flatten)]
    publish: PublishArgs,
}

/// Says a failure (also as `{"error": ...}` on stdout in JSON mode); the exit code.
fn fail(format: Format, code: u8, message: String) -> u8 {
    let format = match format {
        Format::Text => super::common::Format::Text,
        Format::Json => super::common::Format::Json,
    };
    super::common::fail(format, code, message)
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let format = args.format;
    if (args.publish.push || args.publish.rebase) && args.propose.is_none() {
        return Ok(fail(
            format,
            exit::BAD_INPUT,
            "--push and --rebase need --propose revert|adopt".into(),
        ));
    }
    let runtime = runtime()?;
    let (source, report) = match read_and_compare(&args, &runtime) {
        Ok(found) => found,
        Err((code, message)) => return Ok(fail(format, code, message)),
    };
    let proposal = match args.propose.filter(|_| report.has_drift()) {
        Some(mode) => match drift::propose(&source, &report, mode.into()) {
            Ok(p) => Some(p),
            Err(e) => return Ok(fail(format, exit::BAD_INPUT, cause_chain(&e))),
        },
        None => None,
    };
    let landed = proposal
        .as_ref()
        .and_then(|p| land_or_check(&args, &runtime, &source, &report, p));
    print(
        format,
        &report,
        proposal.as_ref(),
        landed.as_ref(),
        &args.publish.remote,
    )?;
    if let Some(Err(r)) = &landed {
        eprintln!("error: {}", r.message);
        return Ok(r.code);
    }
    if let (true, Some(p)) = (args.write, &proposal) {
        if let Err(code) = write(&args.repo, &p.files) {
            return Ok(code);
        }
    }
    Ok(report_exit(&report))
}

impl From<ProposeMode> for Mode {
    fn from(mode: ProposeMode) -> Mode {
        match mode {
            ProposeMode::Revert => Mode::Revert,
            ProposeMode::Adopt => Mode::Adopt,
        }
    }
}

/// The repository at its base (or a plain directory), what it declares for
/// the environment, and the report against the cluster; `Err`: the exit
/// code and message.
fn read_and_compare(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Source, Report), (u8, String)> {
    let options = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        selector: args.selector.clone(),
        timeout: Duration::from_secs(args.timeout),
    };
    let (source, declared) = Source::open(&args.repo, args.base.as_deref())
        .and_then(|source| drift::collect(&source, &args.environment).map(|d| (source, d)))
        .map_err(|e| (exit::BAD_INPUT, cause_chain(&e)))?;
    let checked = runtime.block_on(drift::check(
        &args.environment,
        source.base(),
        &declared,
        &options,
    ));
    let report = checked.map_err(|e| (exit_for(e.class()), cause_chain(&e)))?;
    Ok((source, report))
}

/// Lands the proposal (a branch, `--push`, `--pr`) on the base it was read
/// from; with `--write`, only checks that the files to write are the base's
/// in the working tree (`None`: they are, or the directory is not a git
/// repository).
fn land_or_check(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    source: &Source,
    report: &Report,
    proposal: &Proposal,
) -> Option<Result<Landed, Refusal>> {
    let refusal = |message| Refusal {
        code: exit::BAD_INPUT,
        message,
        findings: Vec::new(),
    };
    match (args.write, source.snapshot()) {
        (false, Some(snapshot)) => {
            let target = Target {
                repo: &args.repo,
                snapshot,
                publish: &args.publish,
            };
            Some(runtime.block_on(land(&target, report, proposal)))
        }
        (false, None) => Some(Err(refusal(format!(
            "{} is not a git repository: a proposal needs one to commit to (or use --write to write the files into the directory)",
            args.repo.display()
        )))),
        (true, Some(snapshot)) => local_edits(&args.repo, snapshot, &proposal.files).map(|m| Err(refusal(m))),
        (true, None) => None,
    }
}

/// The report, the proposal and what landed, as JSON or text.
fn print(
    format: Format,
    report: &Report,
    proposal: Option<&Proposal>,
    landed: Option<&Result<Landed, Refusal>>,
    remote: &str,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let value = json_output(report, proposal, landed)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => {
            let s = Style::stdout();
            print_text(report, proposal, s);
            print_landed(landed, remote, s)?;
        }
    }
    Ok(())
}

/// The `drift::Report` contract plus `proposal` (with the gate's findings
/// and the commit, or `status: nothing_to_change`) and, when refused, `error`.
fn json_output(
    report: &Report,
    proposal: Option<&Proposal>,
    landed: Option<&Result<Landed, Refusal>>,
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(report)?;
    value["proposal"] = serde_json::to_value(proposal)?;
    match landed {
        Some(Ok(l)) => {
            value["proposal"]["findings"] = serde_json::to_value(&l.findings)?;
            match &l.proposal {
                Some(committed) => {
                    if let (Some(obj), serde_json::Value::Object(c)) = (
                        value["proposal"].as_object_mut(),
                        serde_json::to_value(committed)?,
                    ) {
                        obj.extend(c);
                    }
                }
                None => value["proposal"]["status"] = "nothing_to_change".into(),
            }
        }
        Some(Err(r)) => {
            value["proposal"]["findings"] = serde_json::to_value(&r.findings)?;
            let kind = if r.code == exit::BAD_INPUT {
                "bad_input"
            } else if r.code == exit::FINDINGS {
                "findings"
            } else {
                "failure"
            };
            value["error"] = serde_json::json!({"code": kind, "message": r.message});
        }
        None => {}
    }
    Ok(value)
}

/// `--write`: the proposal's files into the working tree, each said;
/// `Err`: the exit code (the error said on stderr).
fn write(root: &Path, files: &[File]) -> Result<(), u8> {
    let written = gitintent::repo::write_files(root, files).map_err(|e| {
        eprintln!("error: {}", cause_chain(&e));
        super::plan::write_exit_code(&e)
    })?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// 1 when anything drifted; else 3 when some resources were unreadable; else 0.
fn report_exit(report: &Report) -> u8 {
    if report.has_drift() {
        exit::FINDINGS
    } else if report.summary.unreadable > 0 {
        exit::FAILURE
    } else {
        exit::OK
    }
}

/// For `--write`: a message when a file to write differs between the working
/// tree and the base it was read from (writing would lose local edits).
fn local_edits(root: &Path, snapshot: &gitintent::repo::Snapshot, files: &[File]) -> Option<String> {
    for file in files {
        let base = snapshot.read(&file.path).ok().flatten();
        let local = gitintent::repo::join_inside(root, &file.path)
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok());
        if base.is_none() || base != local {
            return Some(format!(
                "{} differs between the working tree and {}; commit or stash the change first (--write would overwrite it)",
                file.path,
                gitintent::propose::base_name(snapshot.reference())
            ));
        }
    }
    None
}

/// The text report: one line per resource (with its differences), the
/// warnings, the summary, and the proposed commit.
fn print_text(report: &Report, proposal: Option<&Proposal>, s: Style) {
    println!(
        "{} {} {}",
        s.bold("Drift in"),
        report.environment,
        s.dim(&format!("({}, tracked: {})", report.server, report.selector))
    );
    for r in &report.resources {
        print_entry(r, s);
    }
    for w in &report.warnings {
        println!("  {} {w}", s.yellow("warning:"));
    }
    let sm = &report.summary;
    println!(
        "{} in-sync, {} drifted, {} missing, {} extra, {} unreadable; drift score {}",
        sm.in_sync, sm.drifted, sm.missing, sm.extra, sm.unreadable, report.score
    );
    if let Some(p) = proposal {
        println!();
        println!("{}", s.bold("Proposed commit"));
        for line in p.message.lines() {
            println!("  {line}");
        }
        for f in &p.files {
            println!("  {} {}", s.dim("changes"), f.path);
        }
    }
}

/// One resource: status, name, score, file; then its differences, its
/// dependents and its message.
fn print_entry(r: &Entry, s: Style) {
    let name = match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    };
    let status = match r.status {
        Status::InSync => s.green("in-sync   "),
        Status::Drifted => s.red("drifted   "),
        Status::Missing => s.red("missing   "),
        Status::Extra => s.yellow("extra     "),
        Status::Unreadable => s.yellow("unreadable"),
    };
    let score = if r.score > 0 {
        format!(" (score {})", r.score)
    } else {
        String::new()
    };
    let file = r
        .file
        .as_deref()
        .map(|f| s.dim(&format!(" {f}")))
        .unwrap_or_default();
    println!("  {status} {name}{score}{file}");
    for d in &r.differences {
        println!("      {}: git {} → live {}", d.path, d.git, d.live);
    }
    if !r.dependents.is_empty() && r.score > 0 {
        println!(
            "      {}",
            s.dim(&format!("depended on by {}", r.dependents.join(", ")))
        );
    }
    if let Some(m) = &r.message {
        println!("      {m}");
    }
}

fn print_landed(landed: Option<&Result<Landed, Refusal>>, remote: &str, s: Style) -> anyhow::Result<()> {
    let Some(landed) = landed else {
        return Ok(());
    };
    let findings = match landed {
        Ok(l) => &l.findings,
        Err(r) => &r.findings,
    };
    if !findings.is_empty() {
        println!();
        println!("{}", s.bold("Findings"));
    }
    for f in findings {
        println!("  {f}");
    }
    match landed {
        Ok(Landed {
            proposal: Some(p), ..
        }) => {
            println!();
            print_proposal(&serde_json::to_value(p)?, remote, s);
        }
        Ok(Landed { proposal: None, .. }) => {
            println!("Nothing to change: the base already holds this proposal.")
        }
        Err(_) => {}
    }
    Ok(())
}
