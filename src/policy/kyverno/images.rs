//! Kyverno's `images` variable: the images of a pod (or of the pod template
//! of a controller), by container list and container name, each split as
//! Kyverno splits an image reference (default registry `docker.io`, default
//! tag `latest` when there is no digest): `registry`, `path`, `name`,
//! `tag`, `digest`, `reference`, `referenceWithTag`, `jsonPointer`.

use serde_json::{json, Map, Value};

/// `images` for `object`, or `None` when it has no image.
pub(super) fn images(object: &Value) -> Option<Value> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let spec = match kind {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            "/spec/template/spec"
        }
        _ => return None,
    };
    let pod = object.pointer(spec)?;
    let mut out = Map::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let mut by_name = Map::new();
        for (i, c) in pod
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (Some(name), Some(image)) = (
                c.get("name").and_then(Value::as_str),
                c.get("image").and_then(Value::as_str),
            ) else {
                continue;
            };
            if image.trim().is_empty() {
                continue;
            }
            let mut info = image_info(image);
            info.insert("jsonPointer".into(), json!(format!("{spec}/{list}/{i}/image")));
            by_name.insert(name.to_string(), Value::Object(info));
        }
        if !by_name.is_empty() {
            out.insert(list.to_string(), Value::Object(by_name));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// An image reference split as Kyverno's `GetImageInfo` does.
fn image_info(image: &str) -> Map<String, Value> {
    let full = with_registry(image);
    let (named, digest) = full.split_once('@').unwrap_or((&full, ""));
    let last = named.rfind('/').map_or(0, |i| i + 1);
    let (named, tag) = match named[last..].find(':') {
        Some(at) => (&named[..last + at], &named[last + at + 1..]),
        None => (named, ""),
    };
    let (registry, path) = named.split_once('/').unwrap_or(("", named));
    let tag = if tag.is_empty() && digest.is_empty() {
        "latest"
    } else {
        tag
    };
    let reference = if digest.is_empty() {
        format!("{registry}/{path}:{tag}")
    } else {
        format!("{registry}/{path}@{digest}")
    };
    let mut info = Map::new();
    info.insert("registry".into(), json!(registry));
    info.insert("path".into(), json!(path));
    info.insert("name".into(), json!(path.rsplit('/').next().unwrap_or(path)));
    if !tag.is_empty() {
        info.insert("tag".into(), json!(tag));
    }
    if !digest.is_empty() {
        info.insert("digest".into(), json!(digest));
    }
    info.insert("reference".into(), json!(reference));
    info.insert(
        "referenceWithTag".into(),
        json!(format!("{registry}/{path}:{tag}")),
    );
    info
}

/// `docker.io/` in front of a reference whose first part is not a registry
/// (no `.` or `:`, not `localhost`, lower case).
fn with_registry(image: &str) -> String {
    match image.find('/') {
        Some(i) => {
            let first = &image[..i];
            if first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first {
                image.to_string()
            } else {
                format!("docker.io/{image}")
            }
        }
        None => format!("docker.io/{image}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_split_as_kyverno_splits_them() {
        let pod = json!({"kind": "Pod", "spec": {"containers": [
            {"name": "a", "image": "nginx"},
            {"name": "b", "image": "ghcr.io/org/app:1.2@sha256:abc"},
            {"name": "c", "image": "localhost:5000/x/y:2"}
        ]}});
        let images = images(&pod).unwrap();
        let a = &images["containers"]["a"];
        assert_eq!(
            (
                a["registry"].as_str(),
                a["path"].as_str(),
                a["tag"].as_str(),
                a["reference"].as_str()
            ),
            (
                Some("docker.io"),
                Some("nginx"),
                Some("latest"),
                Some("docker.io/nginx:latest")
            )
        );
        let b = &images["containers"]["b"];
        assert_eq!(
            (b["name"].as_str(), b["tag"].as_str(), b["digest"].as_str()),
            (Some("app"), Some("1.2"), Some("sha256:abc"))
        );
        assert_eq!(b["reference"], "ghcr.io/org/app@sha256:abc");
        assert_eq!(images["containers"]["c"]["registry"], "localhost:5000");
        assert_eq!(
            images["containers"]["c"]["jsonPointer"],
            "/spec/containers/2/image"
        );
        assert!(super::images(&json!({"kind": "Service"})).is_none());
    }
}
