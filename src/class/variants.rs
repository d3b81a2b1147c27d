//! Every variant of every stage's error, listed once with its class (for
//! the tests in `tests.rs`), grouped by stage and step.

use super::*;
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

fn git_error() -> propose::GitError {
    propose::GitError(git())
}

fn target() -> String {
    s("api")
}

fn env() -> String {
    s("staging")
}

fn path() -> PathBuf {
    PathBuf::from("p")
}

fn branch() -> String {
    s("gitintent/x")
}

fn server() -> String {
    s("https://k")
}

/// Every variant of every stage's error, once, with its class.
pub(super) fn every_variant() -> Vec<(Error, Class)> {
    [
        intents(),
        plans_and_specs(),
        unfound_targets(),
        impossible_changes(),
        renders(),
        repository_reads(),
        repository_paths(),
        policies(),
        branches(),
        commits(),
        remotes(),
        drifts(),
        lifts(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The intent as given.
fn intents() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
        (intent::Error::Empty.into(), BadInput),
        (intent::Error::TooLong { len: 1 }.into(), BadInput),
        (intent::Error::ControlCharacter(0).into(), BadInput),
        (intent::Error::BidiControl(0x202E).into(), BadInput),
        (intent::Error::Environment(s("x")).into(), BadInput),
        (intent::Error::Target(s("x")).into(), BadInput),
    ]
}

/// Planning, and the spec a planner returned.
fn plans_and_specs() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}

/// Changes whose target is not where it was asked for (all bad input).
fn unfound_targets() -> Vec<(Error, Class)> {
    let all: Vec<change::Error> = vec![
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
    ];
    all.into_iter().map(|e| (e.into(), Class::BadInput)).collect()
}

/// Changes found but not possible as asked (all bad input).
fn impossible_changes() -> Vec<(Error, Class)> {
    let all: Vec<change::Error> = vec![
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
    all.into_iter().map(|e| (e.into(), Class::BadInput)).collect()
}

/// Rendering templates, in a change or a plan.
fn renders() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}

/// Reading the repository and its configuration.
fn repository_reads() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}

/// Paths in the repository, and writing them.
fn repository_paths() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
            repo::Error::Write {
                path: path(),
                source: io(),
            }
            .into(),
            Fault,
        ),
    ]
}

/// Reading the repository's policies.
fn policies() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}

/// The proposal's base, branch and paths.
fn branches() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
        (
            propose::Error::NotARepository {
                path: path(),
                source: git_error(),
            }
            .into(),
            BadInput,
        ),
        (
            propose::Error::BaseNotFound {
                base: s("main"),
                source: git_error(),
            }
            .into(),
            BadInput,
        ),
        (propose::Error::Findings(1).into(), Findings),
        (
            propose::Error::Protected {
                branch: branch(),
                pattern: s("main"),
            }
            .into(),
            BadInput,
        ),
        (
            propose::Error::InvalidBranch {
                name: branch(),
                reason: s("r"),
            }
            .into(),
            BadInput,
        ),
        (propose::Error::UnsafePath(s("../x")).into(), BadInput),
        (
            propose::Error::InTheWay {
                path: s("a"),
                what: s("a"),
                reason: "a symbolic link",
            }
            .into(),
            BadInput,
        ),
        (
            propose::Error::NothingToChange { base: s("main") }.into(),
            BadInput,
        ),
    ]
}

/// Committing to the branch and the lock around it.
fn commits() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
        (
            propose::Error::NotOurs {
                branch: branch(),
                reason: s("r"),
            }
            .into(),
            BadInput,
        ),
        (
            propose::Error::Stale {
                branch: branch(),
                base: s("main"),
            }
            .into(),
            BadInput,
        ),
        (
            propose::Error::Locked {
                reference: s("refs/heads/x"),
            }
            .into(),
            Fault,
        ),
        (propose::Error::Contended(branch()).into(), Fault),
        (propose::Error::NoAuthor.into(), BadInput),
        (
            propose::Error::Git {
                action: s("a"),
                source: git_error(),
            }
            .into(),
            Fault,
        ),
    ]
}

/// Pushing and opening the pull request.
fn remotes() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
        (propose::Error::RemoteNotFound(s("origin")).into(), BadInput),
        (
            propose::Error::Push {
                branch: branch(),
                remote: s("origin"),
                source: git_error(),
            }
            .into(),
            Upstream,
        ),
        (
            propose::Error::Rejected {
                branch: branch(),
                remote: s("origin"),
                reason: s("r"),
                non_fast_forward: true,
            }
            .into(),
            Upstream,
        ),
        (propose::Error::ForgeConfig(s("x")).into(), BadInput),
        (
            propose::Error::ForgeHttp {
                url: s("u"),
                source: http(),
            }
            .into(),
            Upstream,
        ),
        (
            propose::Error::RateLimited {
                url: s("u"),
                retry_after: 60,
                at: s("12:00:00 UTC"),
            }
            .into(),
            Upstream,
        ),
        (
            propose::Error::Forge {
                method: "POST",
                url: s("u"),
                status: 500,
                message: s("m"),
            }
            .into(),
            Upstream,
        ),
    ]
}

/// Reading the repository and the cluster for drift.
fn drifts() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}

/// Lifting existing manifests into a spec.
fn lifts() -> Vec<(Error, Class)> {
    use Class::*;
    vec![
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
    ]
}
