//! `plan --write` and `propose` against committed symbolic links and a
//! layout into `.git` (issue 13, must-fix 4).

use super::{committed, gitintent, stderr, tree};

const CONFIG: &str = "layout: clusters/{environment}/apps/{name}/\nenvironments: [production, staging]\n";
const REDIS: &str = "Deploy redis with 3 replicas and automatic failover in staging";

#[test]
fn a_committed_link_to_elsewhere_makes_plan_write_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops");
    let target = elsewhere.path().display().to_string();
    committed(
        &repo,
        &[(".gitintent.yaml", CONFIG), ("README.md", "# gitops\n")],
        &[("clusters/staging/apps", &target)],
    );
    assert!(std::fs::symlink_metadata(repo.join("clusters/staging/apps"))
        .unwrap()
        .file_type()
        .is_symlink());
    let before = tree(&repo);
    let out = gitintent(&["plan", REDIS, "--repo", repo.to_str().unwrap(), "--write"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"clusters/staging/apps\" is a symbolic link"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        std::fs::read_dir(elsewhere.path()).unwrap().next().is_none(),
        "written outside"
    );
    assert_eq!(tree(&repo), before, "written inside");
    // JSON output carries the same refusal as an error object.
    let out = gitintent(
        &[
            "plan",
            REDIS,
            "--repo",
            repo.to_str().unwrap(),
            "--write",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = String::from_utf8_lossy(&out.stdout).into_owned();
    let last: serde_json::Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "bad_input", "{lines}");
}

#[test]
fn a_committed_temporary_file_link_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let repo = dir.path().join("gitops");
    let victim_path = victim.display().to_string();
    committed(
        &repo,
        &[(".gitintent.yaml", CONFIG)],
        &[
            // The name the old writer used, and the target file itself.
            (
                "clusters/staging/apps/redis/statefulset.gitintent.tmp",
                &victim_path,
            ),
            ("clusters/staging/apps/redis/service.yaml", &victim_path),
        ],
    );
    let out = gitintent(&["plan", REDIS, "--repo", repo.to_str().unwrap(), "--write"], &[]);
    let err = stderr(&out);
    // The service file is a link: refused, and nothing written anywhere.
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("service.yaml\" is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!repo.join("clusters/staging/apps/redis/statefulset.yaml").exists());

    // With only the planted temporary name, the write succeeds beside it.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops");
    committed(
        &repo,
        &[(".gitintent.yaml", CONFIG)],
        &[(
            "clusters/staging/apps/redis/statefulset.gitintent.tmp",
            &victim_path,
        )],
    );
    let out = gitintent(&["plan", REDIS, "--repo", repo.to_str().unwrap(), "--write"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let written = std::fs::read_to_string(repo.join("clusters/staging/apps/redis/statefulset.yaml")).unwrap();
    assert!(written.contains("kind: StatefulSet"), "{written}");
    assert!(
        tree(&repo).iter().all(|p| !p.contains(".gitintent-")),
        "a temporary file was left"
    );
}

#[test]
fn a_layout_into_dot_git_is_refused_by_plan_write_and_propose() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops");
    committed(
        &repo,
        &[(".gitintent.yaml", "layout: \".git/hooks/{name}/\"\n")],
        &[],
    );
    for command in ["plan", "propose"] {
        let mut args = vec![command, REDIS, "--repo", repo.to_str().unwrap()];
        if command == "plan" {
            args.push("--write");
        }
        let out = gitintent(&args, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("reaches into .git"), "{command}: {err}");
        assert!(
            !repo.join(".git/hooks/redis").exists(),
            "{command} wrote into .git"
        );
    }
}

/// A committed link to a directory inside the repository: `propose` refuses
/// it as bad input (exit 2) with the link named, instead of libgit2's tree
/// error (exit 3). Writing through it would change another environment.
#[test]
fn propose_through_a_committed_directory_link_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops");
    committed(
        &repo,
        &[
            (".gitintent.yaml", CONFIG),
            ("clusters/production/apps/README.md", "# apps\n"),
        ],
        &[("clusters/staging/apps", "../production/apps")],
    );
    let out = gitintent(&["propose", REDIS, "--repo", repo.to_str().unwrap()], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"clusters/staging/apps\" in the base is a symbolic link"),
        "{err}"
    );
    let git = git2::Repository::open(&repo).unwrap();
    assert!(git
        .references_glob("refs/heads/gitintent/*")
        .unwrap()
        .next()
        .is_none());
}
