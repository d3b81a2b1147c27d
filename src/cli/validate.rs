//! `gitintent validate`: strict schema validation of existing manifests.

/// Arguments of `gitintent validate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Files, directories, or `-` for stdin.
    paths: Vec<std::path::PathBuf>,
}

pub(crate) fn run(args: Args) -> u8 {
    let _ = args.paths;
    super::exit::OK
}
