//! `gitintent validate`: strict schema validation of existing manifests,
//! kubeconform-style, plus policies conftest-style when asked for.
//!
//! Prints one line per invalid or failed resource, one line per policy
//! finding, and a summary (text), or the report contract documented in
//! `validate::Report` plus `findings` (`--format json`). Exit codes: 0 all
//! valid, 1 anything invalid or a policy finding at or above `--fail-on`, 2
//! unreadable path, policy that does not parse, or bad arguments.

use std::io::Write;
use std::path::PathBuf;

use gitintent::finding::{Finding, Severity};
use gitintent::policy::{PolicySet, Settings};
use gitintent::validate::{self, Options, Status};

use super::exit;

/// Output formats.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub(crate) enum Format {
    /// One line per invalid resource, then a summary.
    #[default]
    Text,
    /// The JSON report: resources and summary.
    Json,
}

/// The least severe policy finding that fails the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailOn {
    /// Error findings fail the run (warnings are printed only).
    #[default]
    Error,
    /// Warnings fail the run too.
    Warning,
}

impl FailOn {
    fn threshold(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
        }
    }
}

/// Arguments of `gitintent validate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Files, directories (walked for *.yaml, *.yml, *.json), or `-` for stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Skip resources whose kind has no schema (custom resources without their CRD).
    #[arg(long)]
    ignore_missing_schemas: bool,
    /// Kinds not to validate, comma-separated: `Kind` or `apiVersion/Kind`
    /// (e.g. `--skip Kustomization`).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    skip: Vec<String>,
    /// Also print valid and skipped resources (text format).
    #[arg(long, short)]
    verbose: bool,
    /// Also check policies from this directory or file: Rego (conftest
    /// style), Kyverno, Gatekeeper; policies that cannot be evaluated are
    /// reported (an error when they enforce). Repeatable.
    #[arg(long = "policy", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// Also check the built-in policy pack (see policies/README.md).
    #[arg(long)]
    builtin_policies: bool,
    /// Environment the manifests are for; `production` turns on the
    /// availability rules of the built-in pack.
    #[arg(long = "env", value_name = "ENV", default_value = "")]
    environment: String,
    /// Rego packages of `--policy` Rego files to evaluate (default `main`);
    /// `--namespace` is the old name, as in conftest.
    #[arg(
        long = "rego-package",
        visible_alias = "namespace",
        value_delimiter = ',',
        value_name = "PACKAGES"
    )]
    namespace: Vec<String>,
    /// The least severe policy finding that makes the run fail.
    #[arg(long, value_enum, default_value_t)]
    fail_on: FailOn,
}

/// The policies asked for, or `None` when no policy flag is given.
fn load_policies(args: &Args) -> Result<Option<PolicySet>, gitintent::policy::Error> {
    if args.policies.is_empty() && !args.builtin_policies {
        return Ok(None);
    }
    let mut set = if args.builtin_policies {
        PolicySet::builtin()?
    } else {
        PolicySet::empty()
    };
    for path in &args.policies {
        set = set.with_path(path)?;
    }
    Ok(Some(set))
}

pub(crate) fn run(args: Args) -> u8 {
    let files = match validate::read(&args.paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::new(e));
            return exit::BAD_INPUT;
        }
    };
    let policies = match load_policies(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    // One parse for schema validation and every policy engine.
    let manifests = validate::Manifests::parse(&files);
    let findings = match &policies {
        Some(set) => policy_findings(&args, set, &manifests),
        None => Vec::new(),
    };
    let options = Options {
        ignore_missing_schemas: args.ignore_missing_schemas,
        skip: args.skip.clone(),
    };
    let report = manifests.validate(&options);
    let threshold = args.fail_on.threshold();
    let failing = findings.iter().filter(|f| f.severity >= threshold).count();
    if let Err(e) = write_output(&args, &report, &findings, policies.is_some()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return exit::FAILURE;
        }
    }
    if report.is_valid() && failing == 0 {
        exit::OK
    } else {
        exit::FINDINGS
    }
}

/// The policies' findings on the manifests (for `--env` and the Rego
/// packages asked for), most severe first.
fn policy_findings(args: &Args, set: &PolicySet, manifests: &validate::Manifests) -> Vec<Finding> {
    let mut settings = Settings {
        environment: args.environment.clone(),
        ..Settings::default()
    };
    if !args.namespace.is_empty() {
        settings.namespaces = args.namespace.clone();
    }
    let mut findings = set.check_parsed(manifests, &settings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// The report and the policy findings on stdout, as JSON or text (invalid
/// resources, or all with `--verbose`; findings; the summaries), flushed.
fn write_output(
    args: &Args,
    report: &validate::Report,
    findings: &[Finding],
    with_policies: bool,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let mut json = serde_json::to_value(report).unwrap_or_default();
            if let Some(object) = json.as_object_mut() {
                object.insert(
                    "findings".into(),
                    serde_json::to_value(findings).unwrap_or_default(),
                );
            }
            serde_json::to_writer_pretty(&mut out, &json).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text => {
            let shown = report
                .resources
                .iter()
                .filter(|r| args.verbose || matches!(r.status, Status::Invalid | Status::Error));
            for r in shown {
                writeln!(out, "{r}")?;
            }
            for f in findings {
                write_finding(&mut out, f)?;
            }
            writeln!(out, "{}", report.summary())?;
            if with_policies {
                writeln!(out, "{}", policy_summary(findings))?;
            }
        }
    }
    out.flush()
}

/// `file: error [rule] Kind/name /path: message`.
fn write_finding(out: &mut impl Write, f: &Finding) -> std::io::Result<()> {
    match &f.file {
        Some(file) => writeln!(out, "{file}: {f}"),
        None => writeln!(out, "{f}"),
    }
}

/// `Policies: 3 findings - Errors: 1, Warnings: 2, Info: 0`.
fn policy_summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "Policies: {} finding{} - Errors: {}, Warnings: {}, Info: {}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}
