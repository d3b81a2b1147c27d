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
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use std::path::PathBuf;

    fn git() -> git2::Error {
        git2::Error::from_str("boom")
    }

    fn io() -> std::io::Error {
        std::io::Error::other("boom")
    }

    fn http() -> reqwest::Error {
        reqwest::Client::new().get("not a url").build().unwrap_err()
    }

    fn jinja() -> minijinja::Error {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "boom")
    }

    fn s(text: &str) -> String {
        text.to_string()
    }

    /// Every variant of every stage's error, once, with its class.
    fn every_variant() -> Vec<(Error, Class)> {
        use Class::*;
        let pg = || propose::GitError(git());
        let mut all: Vec<(Error, Class)> = vec![
            (intent::Error::Empty.into(), BadInput),
            (intent::Error::TooLong { len: 1 }.into(), BadInput),
            (intent::Error::ControlCharacter(0).into(), BadInput),
            (intent::Error::BidiControl(0x202E).into(), BadInput),
            (intent::Error::Environment(s("x")).into(), BadInput),
            (intent::Error::Target(s("x")).into(), BadInput),
            (
                plan::Error::NotUnderstood {
                    reason: s("x"),
                    understood: vec![],
                }
                .into(),
                BadInput,
            ),
            (plan::Error::Refused(s("x")).into(), BadInput),
            (plan::Error::Config(s("x")).into(), BadInput),
            (
                plan::Error::Prompt {
                    name: s("x"),
                    source: jinja(),
                }
                .into(),
                Fault,
            ),
            (plan::Error::Provider(s("x")).into(), Upstream),
            (
                plan::Error::Timeout(std::time::Duration::from_secs(1)).into(),
                Upstream,
            ),
            (
                plan::Error::RepairExhausted {
                    attempts: 3,
                    last: s("x"),
                }
                .into(),
                Upstream,
            ),
            (
                spec::Error::Json(serde_json::from_str::<u8>("x").unwrap_err()).into(),
                BadInput,
            ),
            (spec::Error::Schema(vec![]).into(), BadInput),
            (spec::Error::Invalid(vec![]).into(), BadInput),
        ];
        let target = || s("api");
        let env = || s("staging");
        let changes: Vec<change::Error> = vec![
            change::Error::NoRepository {
                target: target(),
                operation: crate::spec::Operation::Update,
            },
            change::Error::NotFound {
                target: target(),
                environment: env(),
                closest: vec![],
            },
            change::Error::WrongEnvironment {
                target: target(),
                environment: env(),
                found_in: vec![],
            },
            change::Error::Ambiguous {
                target: target(),
                candidates: vec![],
                hint: s("x"),
                picks: vec![],
            },
            change::Error::NoSuchPath { path: s("p") },
            change::Error::NotAtPath {
                target: target(),
                paths: vec![],
                found: vec![],
                picks: vec![],
            },
            change::Error::Shared {
                target: target(),
                path: s("p"),
                environments: vec![],
                why: s("w"),
            },
            change::Error::Reach {
                target: target(),
                environment: env(),
                others: vec![],
                files: vec![],
            },
            change::Error::NotApplicable {
                target: target(),
                message: s("x"),
            },
            change::Error::NotEditable {
                path: s("p"),
                field: s("f"),
            },
            change::Error::UnknownEnvironment {
                environment: env(),
                known: vec![],
            },
            change::Error::UnknownEnvironments {
                unknown: vec![env()],
                known: vec![],
            },
            change::Error::NothingToPromote {
                from: env(),
                to: s("production"),
                same: vec![],
            },
        ];
        all.extend(changes.into_iter().map(|e| (e.into(), BadInput)));
        all.extend([
            (
                change::Error::Render(render::Error::Yaml {
                    name: s("n"),
                    message: s("m"),
                })
                .into(),
                Fault,
            ),
            (
                render::Error::Template {
                    name: s("n"),
                    source: jinja(),
                }
                .into(),
                Fault,
            ),
            (
                render::Error::Yaml {
                    name: s("n"),
                    message: s("m"),
                }
                .into(),
                Fault,
            ),
        ]);
        let path = || PathBuf::from("p");
        all.extend([
            (
                repo::Error::Read {
                    path: path(),
                    source: io(),
                }
                .into(),
                Fault,
            ),
            (
                repo::Error::Config {
                    path: path(),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (repo::Error::NotADirectory(path()).into(), BadInput),
            (repo::Error::UnsafePath(s("../x")).into(), BadInput),
            (
                repo::Error::Symlink {
                    path: s("a/b"),
                    link: s("a"),
                }
                .into(),
                BadInput,
            ),
            (repo::Error::GitDir(s(".git/hooks/x")).into(), BadInput),
            (
                repo::Error::InTheWay {
                    path: s("a/b"),
                    what: s("a"),
                    reason: "a file",
                }
                .into(),
                BadInput,
            ),
            (
                repo::Error::NotARepository {
                    path: path(),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (
                repo::Error::MissingRef {
                    reference: s("main"),
                    path: path(),
                    branches: s(""),
                }
                .into(),
                BadInput,
            ),
            (
                repo::Error::Object {
                    what: s("w"),
                    source: git(),
                }
                .into(),
                Fault,
            ),
            (repo::Error::NotText(s("p")).into(), BadInput),
            (repo::Error::Index(s("x")).into(), Fault),
            (
                repo::Error::Write {
                    path: path(),
                    source: io(),
                }
                .into(),
                Fault,
            ),
            (
                policy::Error::Read {
                    path: path(),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (
                policy::Error::Rego {
                    file: s("f"),
                    line: 1,
                    column: 1,
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (
                policy::Error::Kyverno {
                    file: s("f"),
                    line: 1,
                    column: 1,
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (
                policy::Error::Invalid {
                    file: s("f"),
                    line: 1,
                    column: 1,
                    what: s("w"),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
        ]);
        let branch = || s("gitintent/x");
        let proposes = vec![
            (
                propose::Error::NotARepository {
                    path: path(),
                    source: pg(),
                },
                BadInput,
            ),
            (
                propose::Error::BaseNotFound {
                    base: s("main"),
                    source: pg(),
                },
                BadInput,
            ),
            (propose::Error::Findings(1), Findings),
            (
                propose::Error::Protected {
                    branch: branch(),
                    pattern: s("main"),
                },
                BadInput,
            ),
            (
                propose::Error::InvalidBranch {
                    name: branch(),
                    reason: s("r"),
                },
                BadInput,
            ),
            (propose::Error::UnsafePath(s("../x")), BadInput),
            (
                propose::Error::InTheWay {
                    path: s("a"),
                    what: s("a"),
                    reason: "a symbolic link",
                },
                BadInput,
            ),
            (propose::Error::NothingToChange { base: s("main") }, BadInput),
            (
                propose::Error::NotOurs {
                    branch: branch(),
                    reason: s("r"),
                },
                BadInput,
            ),
            (
                propose::Error::Stale {
                    branch: branch(),
                    base: s("main"),
                },
                BadInput,
            ),
            (
                propose::Error::Locked {
                    reference: s("refs/heads/x"),
                },
                Fault,
            ),
            (propose::Error::Contended(branch()), Fault),
            (propose::Error::NoAuthor, BadInput),
            (
                propose::Error::Git {
                    action: s("a"),
                    source: pg(),
                },
                Fault,
            ),
            (propose::Error::RemoteNotFound(s("origin")), BadInput),
            (
                propose::Error::Push {
                    branch: branch(),
                    remote: s("origin"),
                    source: pg(),
                },
                Upstream,
            ),
            (
                propose::Error::Rejected {
                    branch: branch(),
                    remote: s("origin"),
                    reason: s("r"),
                    non_fast_forward: true,
                },
                Upstream,
            ),
            (propose::Error::ForgeConfig(s("x")), BadInput),
            (
                propose::Error::ForgeHttp {
                    url: s("u"),
                    source: http(),
                },
                Upstream,
            ),
            (
                propose::Error::RateLimited {
                    url: s("u"),
                    retry_after: 60,
                    at: s("12:00:00 UTC"),
                },
                Upstream,
            ),
            (
                propose::Error::Forge {
                    method: "POST",
                    url: s("u"),
                    status: 500,
                    message: s("m"),
                },
                Upstream,
            ),
        ];
        all.extend(proposes.into_iter().map(|(e, c)| (e.into(), c)));
        let server = || s("https://k");
        all.extend([
            (drift::Error::Repo(repo::Error::NotText(s("p"))).into(), BadInput),
            (
                drift::Error::UnknownEnvironment {
                    environment: env(),
                    searched: vec![],
                }
                .into(),
                BadInput,
            ),
            (
                drift::Error::Read {
                    path: path(),
                    source: io(),
                }
                .into(),
                BadInput,
            ),
            (
                drift::Error::Yaml {
                    path: s("p"),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (drift::Error::Kubeconfig(s("x")).into(), BadInput),
            (drift::Error::Selector(s("x")).into(), BadInput),
            (
                drift::Error::Unreachable {
                    server: server(),
                    message: s("m"),
                }
                .into(),
                Upstream,
            ),
            (
                drift::Error::Timeout {
                    server: server(),
                    seconds: 1,
                }
                .into(),
                Upstream,
            ),
            (
                lift::Error::Read {
                    path: s("p"),
                    source: io(),
                }
                .into(),
                BadInput,
            ),
            (
                lift::Error::Parse {
                    path: s("p"),
                    message: s("m"),
                }
                .into(),
                BadInput,
            ),
            (lift::Error::Empty(s("p")).into(), BadInput),
        ]);
        all
    }

    #[test]
    fn every_variant_is_classified_once() {
        let all = every_variant();
        assert_eq!(all.len(), 81, "a variant was added or removed: list it here once");
        for (e, class) in &all {
            assert_eq!(e.class(), *class, "{e:?}");
        }
    }

    /// The service answers each class the same way, whatever the stage.
    #[test]
    fn the_service_status_follows_the_class() {
        for (e, class) in every_variant() {
            let status = crate::serve::library_error_status(&e);
            let expected = match class {
                Class::BadInput | Class::Findings => StatusCode::UNPROCESSABLE_ENTITY,
                Class::Upstream if e.is_timeout() => StatusCode::GATEWAY_TIMEOUT,
                Class::Upstream => StatusCode::BAD_GATEWAY,
                Class::Fault => StatusCode::INTERNAL_SERVER_ERROR,
            };
            assert_eq!(status, expected, "{e:?}");
        }
    }
}
