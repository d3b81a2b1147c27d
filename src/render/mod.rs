//! Render: a checked spec to manifest files through minijinja templates.

use crate::finding::Finding;
use crate::manifest::File;
use crate::repo::Layout;
use crate::spec::Spec;

/// Rendering faults (template bugs, not user errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("template {name} failed")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

/// Rendered files plus findings raised while rendering.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub files: Vec<File>,
    pub findings: Vec<Finding>,
}

/// Renders every component of `spec` into files under `layout`.
pub fn render(spec: &Spec, layout: &Layout) -> Result<Rendered, Error> {
    let _ = (spec, layout);
    Ok(Rendered::default())
}
