//! gitintent: plain-language intents to validated Kubernetes manifests on a
//! GitOps branch.
//!
//! The pipeline is `intent -> plan -> spec -> render -> validate`, one module
//! per stage; [`pipeline`] strings them together for every front end.

pub mod cassette;
pub mod change;
pub mod class;
pub mod drift;
pub mod eval;
pub mod finding;
pub mod grant;
pub mod intent;
pub mod lift;
pub mod limits;
pub mod manifest;
pub mod mcp;
mod par;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod propose;
pub mod render;
pub mod repo;
pub mod serve;
pub mod slack;
pub mod spec;
pub mod validate;
pub mod view;
pub mod workspace;
pub mod yaml;

pub use class::Class;
pub use finding::{Finding, Severity};
pub use intent::Intent;
pub use spec::Spec;
pub use workspace::Workspace;

/// Every error a library call can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Intent(#[from] intent::Error),
    #[error(transparent)]
    Plan(#[from] plan::Error),
    #[error(transparent)]
    Spec(#[from] spec::Error),
    #[error(transparent)]
    Change(#[from] change::Error),
    #[error(transparent)]
    Render(#[from] render::Error),
    #[error(transparent)]
    Repo(#[from] repo::Error),
    #[error(transparent)]
    Policy(#[from] policy::Error),
    #[error(transparent)]
    Propose(#[from] propose::Error),
    #[error(transparent)]
    Drift(#[from] drift::Error),
    #[error(transparent)]
    Lift(#[from] lift::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
