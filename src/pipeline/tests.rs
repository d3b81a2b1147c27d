//! The pipeline's unit tests: the remembering critic, the environment an
//! intent names, and the reach invariant.

mod remembering {
    use crate::pipeline::critic::Remembering;
    use crate::pipeline::{review, Context};
    use crate::plan::Critic;
    use crate::spec::{Archetype, Component, Spec};

    fn spec(environment: &str) -> Spec {
        let mut web = Component::new("web", Archetype::WebService);
        web.image = Some("ghcr.io/acme/web:1.2.3".into());
        Spec {
            environment: environment.into(),
            environments: vec![],
            namespace: "shop".into(),
            components: vec![web, Component::new("redis", Archetype::Redis)],
            changes: vec![],
            assumptions: vec![],
            questions: vec![],
            unsupported: vec![],
        }
    }

    #[test]
    fn a_remembered_review_is_exactly_a_fresh_review_of_the_same_spec() {
        let ctx = Context::default();
        let critic = Remembering::new(&ctx, true);
        let seen = spec("production");
        let errors = critic.review(&seen);

        let mut fresh = seen.clone();
        let fresh_review = review(&mut fresh, &ctx).unwrap();
        let findings = fresh_review.findings.clone();
        assert_eq!(
            errors,
            findings
                .iter()
                .filter(|f| f.is_error())
                .cloned()
                .collect::<Vec<_>>()
        );
        let (reviewed, remembered) = critic.take(&seen).unwrap();
        assert_eq!(reviewed, fresh);
        assert_eq!(remembered, fresh_review);
        assert!(critic.take(&seen).is_none(), "taken once");
    }

    #[test]
    fn a_different_final_spec_is_reviewed_again() {
        let ctx = Context::default();
        let critic = Remembering::new(&ctx, true);
        critic.review(&spec("production"));
        assert!(critic.take(&spec("staging")).is_none());
    }
}

mod environment {
    use crate::intent::Intent;
    use crate::pipeline::{mentions_environment, run, Context};
    use crate::plan::Planner;
    use crate::repo::RepoConfig;

    /// One environment reader: a word that only starts like an alias names
    /// nothing, so the repository's default environment applies.
    #[tokio::test]
    async fn a_word_that_starts_like_an_environment_does_not_name_one() {
        let ctx = Context::default();
        for (text, named) in [
            ("Deploy the products api using ghcr.io/acme/products:1.0", false),
            ("deploy a developer portal from ghcr.io/acme/portal:2", false),
            ("deploy redis in prod", true),
            ("deploy redis to the perf environment", true),
            ("deploy redis in pre-prod", true),
        ] {
            assert_eq!(mentions_environment(text, &ctx), named, "{text}");
        }
        let config = RepoConfig {
            environments: vec!["prod-us".to_string()].into(),
            default_environment: Some("staging".into()),
            ..Default::default()
        };
        let ctx = Context::new(config).unwrap();
        assert!(mentions_environment("scale web to 3 in prod-us", &ctx));

        let intent = Intent::new("Deploy the products api using ghcr.io/acme/products:1.0", None).unwrap();
        let plan = run(&intent, &Planner::Builtin, &ctx).await.unwrap();
        assert_eq!(plan.spec.environment, "staging");
    }
}

mod reach {
    use crate::change::{self, Inventory};
    use crate::pipeline::review::blast_radius;
    use crate::repo::testing::repo_with;
    use crate::repo::{Index, IndexCache, Snapshot};

    /// A base under `deploy/` shared by three overlays: an edit of the base
    /// reaches all three and is an error for a change asked for one; an
    /// edit of one overlay reaches that one only.
    #[test]
    fn an_edit_that_reaches_other_environments_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers: [{name: api, image: a/api:1}]\n";
        let mut files = vec![
            ("deploy/bases/api/deployment.yaml", deployment.to_string()),
            (
                "deploy/bases/api/kustomization.yaml",
                "resources: [deployment.yaml]\n".to_string(),
            ),
        ];
        for env in ["dev", "staging", "production"] {
            files.push((
                Box::leak(format!("deploy/overlays/{env}/kustomization.yaml").into_boxed_str()),
                "resources: [../../bases/api]\n".to_string(),
            ));
        }
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        repo_with(dir.path(), "main", &files, true);
        let snapshot = Snapshot::open_base(dir.path(), None).unwrap();
        let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
        let envs = index.conventions().environments;
        assert_eq!(envs, ["dev", "production", "staging"]);
        let inventory = Inventory::build(&snapshot, &index, &envs).unwrap();
        assert_eq!(inventory.reach("deploy/bases/api/deployment.yaml"), envs);
        assert_eq!(
            inventory.reach("deploy/overlays/staging/kustomization.yaml"),
            ["staging"]
        );

        let base_edit = change::Outcome {
            modified: vec!["deploy/bases/api/deployment.yaml".into()],
            ..Default::default()
        };
        let found = blast_radius(&base_edit, &inventory, &["staging".to_string()]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].is_error() && found[0].message.contains("dev, production"),
            "{found:?}"
        );
        let overlay_edit = change::Outcome {
            modified: vec!["deploy/overlays/staging/kustomization.yaml".into()],
            ..Default::default()
        };
        assert!(blast_radius(&overlay_edit, &inventory, &["staging".to_string()]).is_empty());
    }
}
