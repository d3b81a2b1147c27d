//! One table of what every library error means to a caller.
//!
//! Each stage keeps its own error enum; this module is the only place that
//! says which of four [`Class`]es each variant belongs to. The front ends
//! each turn a class into their own answer with one short match: the CLI an
//! exit code, the service an HTTP status, Slack a reply. The matches below
//! are exhaustive on purpose: a new variant does not compile until it is
//! classified here.

use crate::{change, drift, intent, lift, plan, policy, propose, render, repo, spec, Error};

/// What an error means to whoever made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The request, the repository or its configuration is wrong: the caller
    /// can fix it (CLI exit 2, HTTP 4xx).
    BadInput,
    /// The plan was made but has error findings (CLI exit 1, HTTP 422).
    Findings,
    /// A service we depend on failed or did not answer: the model provider,
    /// the git remote, the forge, the cluster (CLI exit 3, HTTP 502/504).
    Upstream,
    /// Our own fault or the machine's: I/O, git objects, templates (CLI exit 3, HTTP 500).
    Fault,
}

impl Error {
    /// The class of this error; see [`Class`].
    pub fn class(&self) -> Class {
        match self {
            Error::Intent(e) => e.class(),
            Error::Plan(e) => e.class(),
            Error::Spec(e) => e.class(),
            Error::Change(e) => e.class(),
            Error::Render(e) => e.class(),
            Error::Repo(e) => e.class(),
            Error::Policy(e) => e.class(),
            Error::Propose(e) => e.class(),
            Error::Drift(e) => e.class(),
            Error::Lift(e) => e.class(),
        }
    }

    /// True when the error is a timeout waiting for an upstream service
    /// (the service answers 504 rather than 502).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::Plan(plan::Error::Timeout(_)) | Error::Drift(drift::Error::Timeout { .. })
        )
    }
}

impl intent::Error {
    pub fn class(&self) -> Class {
        use intent::Error as E;
        match self {
            E::Empty
            | E::TooLong { .. }
            | E::ControlCharacter(_)
            | E::BidiControl(_)
            | E::Environment(_)
            | E::Target(_) => Class::BadInput,
        }
    }
}

impl plan::Error {
    pub fn class(&self) -> Class {
        use plan::Error as E;
        match self {
            E::NotUnderstood { .. } | E::Refused(_) | E::Config(_) => Class::BadInput,
            E::Provider(_) | E::Timeout(_) | E::RepairExhausted { .. } => Class::Upstream,
            E::Prompt { .. } => Class::Fault,
        }
    }
}

impl spec::Error {
    pub fn class(&self) -> Class {
        use spec::Error as E;
        match self {
            E::Json(_) | E::Schema(_) | E::Invalid(_) => Class::BadInput,
        }
    }
}

impl change::Error {
    pub fn class(&self) -> Class {
        use change::Error as E;
        match self {
            E::NoRepository { .. }
            | E::NotFound { .. }
            | E::WrongEnvironment { .. }
            | E::Ambiguous { .. }
            | E::NoSuchPath { .. }
            | E::NotAtPath { .. }
            | E::Shared { .. }
            | E::Reach { .. }
            | E::NotApplicable { .. }
            | E::NotEditable { .. }
            | E::UnknownEnvironment { .. }
            | E::UnknownEnvironments { .. }
            | E::NothingToPromote { .. } => Class::BadInput,
            E::Render(e) => e.class(),
        }
    }
}

impl render::Error {
    pub fn class(&self) -> Class {
        use render::Error as E;
        match self {
            E::Template { .. } | E::Yaml { .. } => Class::Fault,
        }
    }
}

impl repo::Error {
    pub fn class(&self) -> Class {
        use repo::Error as E;
        match self {
            E::Config { .. }
            | E::NotADirectory(_)
            | E::UnsafePath(_)
            | E::Symlink { .. }
            | E::GitDir(_)
            | E::InTheWay { .. }
            | E::NotARepository { .. }
            | E::MissingRef { .. }
            | E::NotText(_) => Class::BadInput,
            E::Read { .. } | E::Object { .. } | E::Index(_) | E::Write { .. } => Class::Fault,
        }
    }
}

impl policy::Error {
    pub fn class(&self) -> Class {
        use policy::Error as E;
        match self {
            E::Read { .. } | E::Rego { .. } | E::Kyverno { .. } | E::Invalid { .. } => Class::BadInput,
        }
    }
}

impl propose::Error {
    pub fn class(&self) -> Class {
        use propose::Error as E;
        match self {
            E::Findings(_) => Class::Findings,
            E::NotARepository { .. }
            | E::BaseNotFound { .. }
            | E::Protected { .. }
            | E::InvalidBranch { .. }
            | E::UnsafePath(_)
            | E::InTheWay { .. }
            | E::NothingToChange { .. }
            | E::NotOurs { .. }
            | E::Stale { .. }
            | E::NoAuthor
            | E::RemoteNotFound(_)
            | E::ForgeConfig(_) => Class::BadInput,
            E::Push { .. }
            | E::Rejected { .. }
            | E::ForgeHttp { .. }
            | E::RateLimited { .. }
            | E::Forge { .. } => Class::Upstream,
            E::Locked { .. } | E::Contended(_) | E::Git { .. } => Class::Fault,
        }
    }
}

impl drift::Error {
    pub fn class(&self) -> Class {
        use drift::Error as E;
        match self {
            E::Repo(e) => e.class(),
            E::UnknownEnvironment { .. }
            | E::Read { .. }
            | E::Yaml { .. }
            | E::Kubeconfig(_)
            | E::Selector(_) => Class::BadInput,
            E::Unreachable { .. } | E::Timeout { .. } => Class::Upstream,
        }
    }
}

impl lift::Error {
    pub fn class(&self) -> Class {
        use lift::Error as E;
        match self {
            E::Read { .. } | E::Parse { .. } | E::Empty(_) => Class::BadInput,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod variants;
