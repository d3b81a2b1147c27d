//! `gitintent validate`: strict schema validation of existing manifests,
//! kubeconform-style.
//!
//! Prints one line per invalid or failed resource and a summary (text), or the
//! report contract documented in `validate::Report` (`--format json`). Exit
//! codes: 0 all valid, 1 anything invalid or in error, 2 unreadable path or
//! bad arguments.

use std::io::Write;
use std::path::PathBuf;

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
}

pub(crate) fn run(args: Args) -> u8 {
    let files = match validate::read(&args.paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::new(e));
            return exit::BAD_INPUT;
        }
    };
    let options = Options {
        ignore_missing_schemas: args.ignore_missing_schemas,
        skip: args.skip,
    };
    let report = validate::validate(&files, &options);

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Text => report
            .resources
            .iter()
            .filter(|r| args.verbose || matches!(r.status, Status::Invalid | Status::Error))
            .try_for_each(|r| writeln!(out, "{r}"))
            .and_then(|()| writeln!(out, "{}", report.summary())),
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return exit::FAILURE;
        }
    }
    if report.is_valid() {
        exit::OK
    } else {
        exit::FINDINGS
    }
}
