//! Files of manifests as they travel between stages.

use serde::{Deserialize, Serialize};

/// A file of Kubernetes manifests, with a path relative to the repo root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// Relative path with `/` separators, e.g. `clusters/production/apps/redis/statefulset.yaml`.
    pub path: String,
    /// YAML text.
    pub content: String,
}
