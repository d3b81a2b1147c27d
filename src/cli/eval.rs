//! `gitintent eval`: score a planner on eval cases, or compare two reports.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;
use gitintent::cassette::{Cassette, Mode};
use gitintent::eval::{self, Case, Prices, Report};
use gitintent::pipeline::Context;
use gitintent::plan::{OpenAi, OpenAiConfig, Planner};

use super::common::{cause_chain, runtime, Format, PlannerChoice};
use super::exit;
use super::output::Style;
use super::recording;

/// Arguments of `gitintent eval`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Case files or directories of `*.yaml` cases.
    #[arg(default_value = "evals")]
    paths: Vec<PathBuf>,
    /// Planner; defaults to openai when an endpoint is configured (or with --replay), else builtin.
    #[arg(long, value_enum)]
    planner: Option<PlannerChoice>,
    /// Model name for the openai planner (overrides GITINTENT_LLM_MODEL).
    #[arg(long)]
    model: Option<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Store every model exchange in DIR (the endpoint is still called).
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Answer every model call from DIR, offline; a missing exchange fails its case.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Compare two JSON reports side by side instead of running cases.
    #[arg(long, num_args = 2, value_names = ["A", "B"],
          conflicts_with_all = ["planner", "model", "out", "record", "replay", "prices"])]
    compare: Option<Vec<PathBuf>>,
    /// Price table (TOML with a [prices] table); default: ./gitintent.toml's [prices], if any.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

/// Reports bad input (also as `{"error": ...}` on stdout in JSON mode).
fn bad(format: Format, message: impl std::fmt::Display) -> u8 {
    if format == Format::Json {
        let error = serde_json::json!({"error": {"code": "bad_input", "message": message.to_string()}});
        println!("{error}");
    }
    eprintln!("error: {message}");
    exit::BAD_INPUT
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    if let Some(pair) = &args.compare {
        return compare(&pair[0], &pair[1], args.format);
    }
    let cases = match eval::load(&args.paths) {
        Ok(c) => c,
        Err(e) => return Ok(bad(args.format, cause_chain(&e))),
    };
    let prices = match load_prices(args.prices.as_deref()) {
        Ok(p) => p,
        Err(e) => return Ok(bad(args.format, cause_chain(&e))),
    };
    let config = match openai_config(&args) {
        Ok(c) => c,
        Err(m) => return Ok(bad(args.format, m)),
    };
    let runtime = runtime()?;
    let report = runtime.block_on(run_cases(&args, config.as_ref(), &cases, &prices))?;
    if let Some(path) = &args.out {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        std::fs::write(path, json).with_context(|| format!("writing the report to {}", path.display()))?;
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", paint(&eval::report_table(&report), Style::stdout())),
    }
    Ok(if report.totals.failed == 0 {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// The planner for this run: the builtin one without `config`, else openai,
/// through a cassette that records (`--record`) or replays (`--replay`).
/// The cassette must outlive every plan made with the planner.
async fn planner(args: &Args, config: Option<&OpenAiConfig>) -> anyhow::Result<(Option<Cassette>, Planner)> {
    Ok(match (config, &args.record, &args.replay) {
        (None, _, _) => (None, Planner::Builtin),
        (Some(c), Some(dir), _) => {
            let mode = Mode::Record {
                upstream: c.base_url.clone(),
            };
            let (cassette, planner) = recording::through(c, dir, mode).await?;
            (Some(cassette), planner)
        }
        (Some(c), None, Some(dir)) => {
            let (cassette, planner) = recording::through(c, dir, Mode::Replay).await?;
            (Some(cassette), planner)
        }
        (Some(c), None, None) => (None, Planner::OpenAi(OpenAi::new(c.clone())?)),
    })
}

/// Runs every case, saying each result on stderr as it comes (failures in
/// red on a terminal), then what the cassette served, missed and stored.
async fn run_cases(
    args: &Args,
    config: Option<&OpenAiConfig>,
    cases: &[Case],
    prices: &Prices,
) -> anyhow::Result<Report> {
    let (cassette, planner) = planner(args, config).await?;
    let ctx = Context::default();
    let total = cases.len();
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let report = eval::run(cases, &planner, &ctx, prices, |i, result| {
        let line = eval::progress_line(i, total, result);
        if colour && !result.passed {
            eprintln!("\x1b[31m{line}\x1b[0m");
        } else {
            eprintln!("{line}");
        }
    })
    .await;
    if let Some(c) = cassette {
        let s = c.stats();
        eprintln!(
            "recordings: {} served, {} missing, {} stored",
            s.hits, s.misses, s.stored
        );
    }
    Ok(report)
}

/// The openai settings for this run, or `None` for the builtin planner.
fn openai_config(args: &Args) -> Result<Option<OpenAiConfig>, String> {
    if let Some(dir) = args.replay.as_ref().filter(|d| !d.is_dir()) {
        return Err(format!(
            "--replay {}: not a directory of recordings",
            dir.display()
        ));
    }
    let from_env = OpenAiConfig::from_env().map_err(|e| e.to_string())?;
    let openai = match (args.planner, &from_env) {
        (Some(PlannerChoice::Builtin), _) => false,
        (Some(PlannerChoice::Openai), _) => true,
        (None, env) => env.is_some() || args.replay.is_some(),
    };
    if !openai {
        if args.record.is_some() || args.replay.is_some() || args.model.is_some() {
            return Err("--record, --replay and --model need the openai planner".into());
        }
        return Ok(None);
    }
    let mut config = match (from_env, &args.replay) {
        (Some(c), _) => c,
        // Replay needs no endpoint; the cassette answers.
        (None, Some(_)) => {
            let mut c = OpenAiConfig::new(
                "http://127.0.0.1:1/v1",
                std::env::var("GITINTENT_LLM_MODEL")
                    .ok()
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| OpenAiConfig::DEFAULT_MODEL.to_string()),
            );
            // The response format decides the system prompt, so the recording keys.
            c.apply_env(|n| std::env::var(n).ok())
                .map_err(|e| e.to_string())?;
            c
        }
        (None, None) => {
            return Err("--planner openai needs GITINTENT_LLM_BASE_URL or an API key \
                        (GITINTENT_LLM_API_KEY or OPENAI_API_KEY), or --replay DIR"
                .into())
        }
    };
    if let Some(model) = &args.model {
        config.model = model.clone();
    }
    if args.replay.is_some() {
        config.api_key = None;
    }
    OpenAi::new(config.clone()).map_err(|e| e.to_string())?;
    Ok(Some(config))
}

fn load_prices(path: Option<&std::path::Path>) -> Result<Prices, eval::Error> {
    match path {
        Some(p) => Prices::load(p),
        None => {
            let default = std::path::Path::new("gitintent.toml");
            match std::fs::read_to_string(default) {
                Ok(text) if text.lines().any(|l| l.trim_start().starts_with("[prices")) => {
                    Prices::load(default)
                }
                _ => Ok(Prices::default()),
            }
        }
    }
}

fn compare(a: &std::path::Path, b: &std::path::Path, format: Format) -> anyhow::Result<u8> {
    let (a, b): (Report, Report) = match (eval::read_report(a), eval::read_report(b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(bad(format, cause_chain(&e))),
    };
    let comparison = eval::compare(&a, &b);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&comparison)?),
        Format::Text => print!("{}", paint(&eval::comparison_table(&comparison), Style::stdout())),
    }
    Ok(exit::OK)
}

/// Colours `FAIL`, `broken` and `fixed` when stdout is a terminal.
fn paint(text: &str, s: Style) -> String {
    text.lines()
        .map(|line| {
            if line.contains(" FAIL ") || line.ends_with("  broken") {
                s.red(line)
            } else if line.ends_with("  fixed") {
                s.green(line)
            } else {
                line.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}
