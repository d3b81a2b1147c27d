//! Drift: compare what the GitOps repo declares for an environment with the
//! live cluster, read through kube.
//!
//! Inputs: a repository read at a ref from git objects ([`Source`]; a plain
//! directory only when it is not a git repository), an environment, and a
//! way to reach the cluster (kubeconfig + context, or in-cluster). Output: a [`Report`] with
//! one [`Entry`] per resource — in sync, drifted (paths with Git and live
//! values), missing in the cluster, extra (in the cluster with the
//! Git-tracked label, absent from Git) or unreadable (e.g. a 403 from RBAC)
//! — and a drift score. [`propose`] turns a report into the files and
//! message of a revert or adopt commit.
//!
//! Only fields the repo declares are compared: server-set defaults, `status`
//! and managed metadata never count as drift. Drift makes only `get` and
//! `list` calls (plus discovery of the declared group-versions); the only
//! other call, [`Cluster::dry_run`] for `plan --cluster`, is a server-side
//! apply with `dryRun=All`, which persists nothing. It does not read
//! `Secret`s, live or declared. [`land`] gates a revert/adopt proposal with
//! the schemas and policies and hands it to `crate::propose::publish` (commit,
//! push, pull request).
//!
//! Roles: `source.rs` (the repo at a ref, or a plain directory),
//! `declared.rs` (collect the repo's resources), `cluster.rs` (kube:
//! discovery, get, list), `compare.rs` (field comparison), `report.rs`
//! (entries, dependents, score), `propose.rs` (revert/adopt file contents),
//! `land.rs` (gate and land a proposal through `crate::propose::publish`),
//! `crate::yaml::edit` (surgical scalar edits that keep comments), `dry_run.rs`
//! (server-side apply dry run → findings).

mod cluster;
mod compare;
mod declared;
mod dry_run;
mod land;
mod propose;
mod report;
mod source;
use crate::yaml::edit;

pub use crate::repo::Base;
pub use cluster::{Cluster, ClusterOptions, DEFAULT_SELECTOR};
pub use declared::{collect, Declared};
pub use dry_run::RULE as DRY_RUN_RULE;
pub use land::{gate, land, Landing};
pub use propose::{propose, Mode, Proposal, Skipped, DRIFT_ANNOTATION};
pub use report::{compare_objects, Difference, Entry, Report, Status, Summary};
pub use source::Source;

use std::path::PathBuf;

/// Drift faults. Drift itself is data ([`Report`]), never an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `.gitintent.yaml` could not be read or is invalid.
    #[error(transparent)]
    Repo(#[from] crate::repo::Error),
    /// The repository has no directory for this environment.
    #[error("the repository declares nothing for environment {environment:?} (looked in {})", .searched.join(", "))]
    UnknownEnvironment {
        environment: String,
        searched: Vec<String>,
    },
    /// A declared file could not be read.
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A declared file is not valid YAML.
    #[error("{path} is not valid YAML: {message}")]
    Yaml { path: String, message: String },
    /// The kubeconfig is missing, unreadable, or lacks the context.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The label selector for extra objects is not valid.
    #[error("invalid label selector {0:?}")]
    Selector(String),
    /// The API server could not be reached.
    #[error("cannot reach the Kubernetes API server at {server}: {message}")]
    Unreachable { server: String, message: String },
    /// The API server did not answer in time.
    #[error("the Kubernetes API server at {server} did not answer within {seconds} s")]
    Timeout { server: String, seconds: u64 },
}

impl Error {
    /// True for faults in what the user gave us (exit 2), false for faults
    /// in reaching the cluster (exit 3).
    pub fn is_bad_input(&self) -> bool {
        self.class() == crate::Class::BadInput
    }
}

/// Compares declared resources (from [`collect`]) with the live cluster.
/// `base` is recorded in the report. The whole cluster conversation is
/// bounded by `options.timeout`.
pub async fn check(
    environment: &str,
    base: Option<Base>,
    declared: &[Declared],
    options: &ClusterOptions,
) -> Result<Report, Error> {
    let cluster = Cluster::connect(options).await?;
    let observed = cluster.observe(declared, &options.selector).await?;
    let mut report = report::build(
        environment,
        cluster.server(),
        &options.selector,
        declared,
        observed,
    );
    report.base = base;
    Ok(report)
}

/// [`Source::open`], [`collect`] and [`check`] in one call: the repository
/// at `root` and `base` (default `main`, else `HEAD`) against the cluster.
pub async fn check_repo(
    root: &std::path::Path,
    base: Option<&str>,
    environment: &str,
    options: &ClusterOptions,
) -> Result<Report, Error> {
    let (declared, base) = {
        let source = Source::open(root, base)?;
        (collect(&source, environment)?, source.base())
    };
    check(environment, base, &declared, options).await
}
