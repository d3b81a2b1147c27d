//! `gitintent lift`: existing manifests in, the spec that renders them out,
//! with every field the spec cannot carry and the round trip's verdict.

use std::path::PathBuf;

use gitintent::lift::{self, Coverage, Lifted};

use super::common::{error_chain, exit_for, fail, Format};
use super::exit;

/// Arguments of `gitintent lift`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Manifest files or directories (read recursively: .yaml, .yml, .json).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The environment the spec names.
    #[arg(long = "env", default_value = "production")]
    environment: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let format = args.format;
    if let Err(m) = gitintent::spec::sanitize_name(&args.environment) {
        return Ok(fail(format, exit::BAD_INPUT, format!("--env: {m}")));
    }
    let docs = match lift::read_paths(&args.paths) {
        Ok(d) => d,
        Err(e) => return Ok(fail(format, exit_for(e.class()), error_chain(&e))),
    };
    let lifted = lift::lift(&docs, &args.environment);
    let coverage = lift::coverage(&lifted);
    match format {
        Format::Json => {
            let resources: Vec<serde_json::Value> = lifted
                .resources
                .iter()
                .zip(&coverage.resources)
                .map(|(r, c)| {
                    serde_json::json!({
                        "resource": r.resource, "file": r.file, "component": r.component,
                        "covered": c.covered, "lost": c.losses.iter().map(|l| &l.path).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let out = serde_json::json!({
                "spec": lifted.spec,
                "unsupported": lifted.unsupported,
                "resources": resources,
                "coverage": {"covered": coverage.covered(), "total": coverage.resources.len()},
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => print_text(&lifted, &coverage)?,
    }
    Ok(exit::OK)
}

fn print_text(lifted: &Lifted, coverage: &Coverage) -> anyhow::Result<()> {
    println!("# spec (render it with: gitintent plan --spec FILE)");
    print!("{}", gitintent::yaml::to_string(&lifted.spec)?);
    if !lifted.unsupported.is_empty() {
        println!(
            "\n# unsupported: {} field(s) the spec cannot carry",
            lifted.unsupported.len()
        );
        for u in &lifted.unsupported {
            let value = serde_json::to_string(&u.value)?;
            let value: String = value.chars().take(80).collect();
            let path = if u.path.is_empty() {
                "(whole resource)"
            } else {
                &u.path
            };
            println!("#   {} {path}: {} [{value}]", u.resource, u.reason);
        }
    }
    println!(
        "\n# round trip: {} of {} resource(s) render back with every key-value",
        coverage.covered(),
        coverage.resources.len()
    );
    Ok(())
}
