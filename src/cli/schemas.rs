//! `gitintent schemas`: print or regenerate the committed JSON schemas.

use std::path::PathBuf;

/// Arguments of `gitintent schemas`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Write `spec.schema.json` (and the Kubernetes schemas) under --dir instead of printing the spec schema.
    #[arg(long)]
    write: bool,
    /// The schemas directory.
    #[arg(long, default_value = "schemas")]
    dir: PathBuf,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    if !args.write {
        print!("{}", gitintent::spec::schema_json());
        return Ok(super::exit::OK);
    }
    std::fs::create_dir_all(&args.dir)?;
    let path = args.dir.join("spec.schema.json");
    std::fs::write(&path, gitintent::spec::schema_json())?;
    eprintln!("wrote {}", path.display());
    for path in gitintent::validate::generate_kubernetes_schemas(&args.dir.join("kubernetes"))? {
        eprintln!("wrote {}", path.display());
    }
    Ok(super::exit::OK)
}
