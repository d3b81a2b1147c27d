//! Where a new app goes so that its environment's build includes it.
//!
//! The layout's directory (`clusters/{environment}/apps/{name}/` by
//! default) is used when the environment's build already reaches it (the
//! diff then lists it in the parent's kustomization). When it does not, and
//! the repository sets no `layout:`, the app goes next to a root
//! kustomization only that environment builds (`deploy/overlays/staging/`
//! → `deploy/overlays/staging/<name>/`, listed in its `resources:`);
//! otherwise an error finding says where to wire it. A directory other
//! environments build is refused ([`Error::Reach`]): the app would reach
//! them too. Only placement is decided here; rendering and wiring are
//! elsewhere.

use super::{Error, Inventory};
use crate::finding::{Finding, Severity};
use crate::repo::Layout;

/// Where the new apps of a plan go.
#[derive(Debug, Clone)]
pub struct Placement {
    pub layout: Layout,
    /// The namespace the environment's kustomization sets for everything it
    /// builds (the app's own Namespace object is then not rendered).
    pub namespace: Option<String>,
    pub findings: Vec<Finding>,
}

/// The placement of the app `name` for `environment`; `configured` says
/// whether the repository chose `layout` itself.
pub fn place(
    inv: &Inventory,
    layout: &Layout,
    configured: bool,
    (environment, namespace): (&str, &str),
    name: &str,
) -> Result<Placement, Error> {
    let mut out = Placement {
        layout: layout.clone(),
        namespace: None,
        findings: Vec::new(),
    };
    let roots: Vec<&String> = inv
        .roots
        .iter()
        .filter(|(_, envs)| envs.iter().any(|e| e == environment))
        .map(|(root, _)| root)
        .collect();
    if roots.is_empty() {
        return Ok(out);
    }
    let dir = layout.directory(environment, namespace, name);
    let probe = format!("{dir}/kustomization.yaml");
    let reach = inv.reach(&probe);
    let others: Vec<&String> = reach.iter().filter(|e| *e != environment).collect();
    if reach.iter().any(|e| e == environment) && others.is_empty() {
        return Ok(out);
    }
    let own = own_root(inv, &roots, environment);
    match own {
        Some((root, k)) if !configured => {
            if let Ok(l) = Layout::new(&join(&root, "{name}/")) {
                out.layout = l;
                out.namespace = inv.kustomization_namespace(&k);
            }
        }
        _ if !others.is_empty() => {
            return Err(Error::Reach {
                target: format!("the new app {name}"),
                environment: environment.to_string(),
                others: others.iter().map(|e| e.to_string()).collect(),
                files: vec![format!("{dir} (built by {})", reach.join(", "))],
            })
        }
        _ => out.findings.push(unreachable(&dir, environment, own, &roots)),
    }
    Ok(out)
}

/// A root kustomization only `environment` builds, with its directory.
fn own_root(inv: &Inventory, roots: &[&String], environment: &str) -> Option<(String, String)> {
    roots.iter().find_map(|root| {
        ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|f| join(root, f))
            .find(|k| inv.kustomizations.contains_key(k) && inv.reach(k) == [environment])
            .map(|k| (root.to_string(), k))
    })
}

/// The error that `dir` is not part of `environment`'s build, saying where
/// to list the app (the own root's kustomization, else one of `roots`').
fn unreachable(dir: &str, environment: &str, own: Option<(String, String)>, roots: &[&String]) -> Finding {
    let wire = match own {
        Some((_, k)) => format!("list it under resources: in {k}"),
        None => format!(
            "list it in the kustomization of one of {}",
            roots.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    Finding::new(
        Severity::Error,
        "new-app-unreachable",
        format!("directory/{dir}"),
        "",
        format!(
            "{dir} is not part of {environment}'s build, so the new app would never be deployed; {wire}, or set layout: in .gitintent.yaml to a directory {environment} builds"
        ),
    )
}

/// Joins `name` to `dir` (the repository root when `dir` is empty).
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}
