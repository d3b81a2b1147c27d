//! `gitintent serve`: run the HTTP service until SIGINT/SIGTERM, then drain.

use std::path::PathBuf;

use anyhow::Context as _;
use gitintent::serve::{Config, Overrides, Server};

use super::exit;

/// Arguments of `gitintent serve`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Service config (TOML); `GITINTENT_*` variables and these flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides GITINTENT_LISTEN).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// A repository, `NAME=PATH_OR_URL`; repeatable.
    #[arg(long = "repo", value_name = "NAME=PATH_OR_URL")]
    repos: Vec<String>,
    /// The store: a SQLite path (or sqlite://PATH) or a postgres:// URL (overrides GITINTENT_STORE).
    #[arg(long, value_name = "PATH_OR_URL")]
    store: Option<PathBuf>,
    /// Serve without authentication; refuses any non-loopback address.
    #[arg(long)]
    insecure_no_auth: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    init_logging();
    let overrides = Overrides {
        listen: args.listen,
        repos: args.repos,
        insecure_no_auth: args.insecure_no_auth,
        store: args.store,
    };
    let config = match Config::load(args.config.as_deref(), |n| std::env::var(n).ok(), overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::new(e));
            return Ok(exit::BAD_INPUT);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let server = match Server::bind(config).await {
            Ok(s) => s,
            Err(e @ gitintent::serve::Error::Config(_)) => {
                eprintln!("error: {:#}", anyhow::Error::new(e));
                return Ok(exit::BAD_INPUT);
            }
            Err(e) => return Err(anyhow::Error::new(e)),
        };
        let addr = server.local_addr().context("reading the bound address")?;
        tracing::info!("listening on http://{addr}");
        server.run(shutdown_signal()).await?;
        Ok(exit::OK)
    })
}

/// Logs to stderr; `GITINTENT_LOG` = error|warn|info|debug|trace (default info).
pub(super) fn init_logging() {
    let level = match std::env::var("GITINTENT_LOG").as_deref() {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: draining in-flight requests and plans");
}
