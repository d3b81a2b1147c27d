//! What the service benches share: the example GitOps repository committed
//! on `main`, the token they present, and the spec the fake model answers.

use std::path::{Path, PathBuf};

/// The bench token (its SHA-256 goes into the bench config).
pub(crate) const TOKEN: &str = "gi_bench_token_0123456789abcdef0123456789abcdef";

/// A web service spec, as the fake model answers every plan.
#[allow(dead_code)] // not every bench plans through the model
pub(crate) fn spec() -> serde_json::Value {
    serde_json::json!({
        "environment": "staging",
        "namespace": "shop",
        "components": [{
            "name": "api", "archetype": "web_service", "image": "ghcr.io/acme/api:1.4.2",
            "replicas": 2, "ports": [], "resources": null, "storage": null, "exposure": null,
            "autoscaling": null, "health_check": null, "env": [], "secret_refs": [],
            "schedule": null, "high_availability": null
        }],
        "assumptions": [], "questions": [], "changes": []
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `examples/gitops` committed on `main` in `dir/work`; that path.
pub(crate) fn gitops(dir: &Path) -> PathBuf {
    let work = dir.join("work");
    let repo =
        git2::Repository::init_opts(&work, git2::RepositoryInitOptions::new().initial_head("main")).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops"),
        &work,
    );
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[]).unwrap();
    work
}
