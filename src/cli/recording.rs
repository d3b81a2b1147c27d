//! Points the openai planner at a cassette (record, replay or cache).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gitintent::cassette::{Cassette, Mode};
use gitintent::plan::{OpenAi, OpenAiConfig, Planner};

/// Starts a cassette over `dir` and returns it with a planner that talks to
/// it. The cassette must outlive every plan made with the planner.
pub(super) async fn through(
    config: &OpenAiConfig,
    dir: &Path,
    mode: Mode,
) -> anyhow::Result<(Cassette, Planner)> {
    let cassette = Cassette::start(dir, mode, gitintent::plan::prompt_version())
        .await
        .with_context(|| format!("starting the recording server over {}", dir.display()))?;
    let config = OpenAiConfig {
        base_url: cassette.base_url(),
        ..config.clone()
    };
    let planner = Planner::OpenAi(OpenAi::new(config)?);
    Ok((cassette, planner))
}

/// The default response cache: `$XDG_CACHE_HOME/gitintent/responses`, else
/// `~/.cache/gitintent/responses`.
pub(super) fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("gitintent").join("responses"))
}
