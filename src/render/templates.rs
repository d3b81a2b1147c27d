//! The embedded template set and the YAML re-emitter.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};

use super::Error;

/// Every template, embedded so the binary works from any directory.
const TEMPLATES: &[(&str, &str)] = &[
    ("_macros.yaml.j2", include_str!("../../templates/_macros.yaml.j2")),
    (
        "serviceaccount.yaml.j2",
        include_str!("../../templates/serviceaccount.yaml.j2"),
    ),
    (
        "deployment.yaml.j2",
        include_str!("../../templates/deployment.yaml.j2"),
    ),
    (
        "statefulset.yaml.j2",
        include_str!("../../templates/statefulset.yaml.j2"),
    ),
    (
        "daemonset.yaml.j2",
        include_str!("../../templates/daemonset.yaml.j2"),
    ),
    ("cronjob.yaml.j2", include_str!("../../templates/cronjob.yaml.j2")),
    ("job.yaml.j2", include_str!("../../templates/job.yaml.j2")),
    ("pod.yaml.j2", include_str!("../../templates/pod.yaml.j2")),
    (
        "replicaset.yaml.j2",
        include_str!("../../templates/replicaset.yaml.j2"),
    ),
    (
        "replicationcontroller.yaml.j2",
        include_str!("../../templates/replicationcontroller.yaml.j2"),
    ),
    (
        "configmaps.yaml.j2",
        include_str!("../../templates/configmaps.yaml.j2"),
    ),
    (
        "persistentvolumes.yaml.j2",
        include_str!("../../templates/persistentvolumes.yaml.j2"),
    ),
    (
        "storageclasses.yaml.j2",
        include_str!("../../templates/storageclasses.yaml.j2"),
    ),
    ("service.yaml.j2", include_str!("../../templates/service.yaml.j2")),
    ("ingress.yaml.j2", include_str!("../../templates/ingress.yaml.j2")),
    ("hpa.yaml.j2", include_str!("../../templates/hpa.yaml.j2")),
    ("pdb.yaml.j2", include_str!("../../templates/pdb.yaml.j2")),
    ("pvc.yaml.j2", include_str!("../../templates/pvc.yaml.j2")),
    ("rbac.yaml.j2", include_str!("../../templates/rbac.yaml.j2")),
    (
        "networkpolicy.yaml.j2",
        include_str!("../../templates/networkpolicy.yaml.j2"),
    ),
    (
        "namespace.yaml.j2",
        include_str!("../../templates/namespace.yaml.j2"),
    ),
    (
        "kustomization.yaml.j2",
        include_str!("../../templates/kustomization.yaml.j2"),
    ),
    (
        "archetypes/redis/configmap.yaml.j2",
        include_str!("../../templates/archetypes/redis/configmap.yaml.j2"),
    ),
    (
        "archetypes/redis/start-redis.sh.j2",
        include_str!("../../templates/archetypes/redis/start-redis.sh.j2"),
    ),
    (
        "archetypes/redis/start-sentinel.sh.j2",
        include_str!("../../templates/archetypes/redis/start-sentinel.sh.j2"),
    ),
    (
        "archetypes/config.yaml.j2",
        include_str!("../../templates/archetypes/config.yaml.j2"),
    ),
    (
        "archetypes/operators/cnpg.yaml.j2",
        include_str!("../../templates/archetypes/operators/cnpg.yaml.j2"),
    ),
    (
        "archetypes/operators/strimzi.yaml.j2",
        include_str!("../../templates/archetypes/operators/strimzi.yaml.j2"),
    ),
    (
        "archetypes/operators/rabbitmq.yaml.j2",
        include_str!("../../templates/archetypes/operators/rabbitmq.yaml.j2"),
    ),
    (
        "archetypes/operators/eck.yaml.j2",
        include_str!("../../templates/archetypes/operators/eck.yaml.j2"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("embedded templates parse");
    }
    env
});

/// Renders one embedded template.
pub(super) fn render(name: &str, ctx: &minijinja::Value) -> Result<String, Error> {
    let template = ENV.get_template(name).map_err(|source| Error::Template {
        name: name.to_string(),
        source,
    })?;
    template.render(ctx).map_err(|source| Error::Template {
        name: name.to_string(),
        source,
    })
}

/// Parses rendered YAML (possibly several documents) and writes it back as
/// uniform block YAML. serde-saphyr quotes `yes`/`no`/`on`/`0755`-like
/// strings, so values keep their types when kubectl reads them.
pub(super) fn reformat(name: &str, text: &str) -> Result<String, Error> {
    let yaml_err = |message: String| Error::Yaml {
        name: name.to_string(),
        message,
    };
    let docs: Vec<serde_json::Value> =
        crate::yaml::saphyr::values(text).map_err(|e| yaml_err(e.to_string()))?;
    let mut out = String::new();
    for (i, doc) in docs.iter().filter(|d| !d.is_null()).enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let yaml = crate::yaml::saphyr::to_block_string(doc).map_err(|e| yaml_err(e.to_string()))?;
        out.push_str(&yaml);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_parses() {
        assert_eq!(ENV.templates().count(), TEMPLATES.len());
    }

    #[test]
    fn ambiguous_scalars_are_quoted_on_output() {
        let out = reformat("t.yaml", "a: \"yes\"\nb: \"0755\"\nc: \"on\"\nd: 3\n").unwrap();
        let back = crate::yaml::value(&out).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"a": "yes", "b": "0755", "c": "on", "d": 3})
        );
    }
}
