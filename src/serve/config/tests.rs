//! Loading, layering and checking the service configuration.
use super::*;

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn load(text: &str, env: &[(&str, &str)], o: Overrides) -> Result<Config, Error> {
    // A directory per call: tests run in parallel and may load the same text.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.toml");
    std::fs::write(&path, text).unwrap();
    let env: Vec<(String, String)> = env.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    Config::load(
        Some(&path),
        |n| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()),
        o,
    )
}

#[test]
fn a_full_config_parses_and_env_overrides_the_file() {
    let text = format!(
        r#"
listen = "127.0.0.1:9000"
store = "/tmp/x.db"
[provider]
base-url = "http://localhost:11434/v1"
model = "llama"
[[repository]]
name = "platform"
path = "/srv/gitops"
base-branch = "trunk"
forge = {{ kind = "github", repo = "acme/gitops" }}
[[token]]
name = "ci"
sha256 = "{HASH}"
repos = ["platform"]
envs = ["staging", "production"]
rights = ["plan", "propose"]
propose-envs = ["staging"]
[limits]
body-bytes = 1024
"#
    );
    let c = load(
        &text,
        &[
            ("GITINTENT_LISTEN", "127.0.0.1:9100"),
            ("GITINTENT_STORE", "/tmp/y.db"),
        ],
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:9100");
    assert_eq!(c.store.as_deref(), Some(Path::new("/tmp/y.db")));
    assert_eq!(c.repositories[0].base_branch, "trunk");
    assert_eq!(
        c.tokens[0].propose_envs.as_deref(),
        Some(&["staging".to_string()][..])
    );
    assert_eq!(c.limits.body_bytes, 1024);
    assert_eq!(c.limits.queue, 64);
    let c = load(
        &text,
        &[("GITINTENT_LISTEN", "127.0.0.1:9100")],
        Overrides {
            listen: Some("127.0.0.1:9200".into()),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:9200");
}

#[test]
fn unknown_keys_are_named() {
    let e = load(
        "listen = \"127.0.0.1:1\"\nlisten-port = 3\n",
        &[],
        Overrides::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("listen-port"), "{e}");
    let e = load("[limits]\nbody = 3\n", &[], Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("body"), "{e}");
}

#[test]
fn insecure_mode_refuses_a_public_address() {
    let o = Overrides {
        listen: Some("0.0.0.0:8080".into()),
        insecure_no_auth: true,
        ..Overrides::default()
    };
    let e = load("", &[("HOME", "/tmp")], o).unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
}

#[test]
fn a_plaintext_token_in_place_of_a_hash_is_refused() {
    let text = "[[token]]\nname = \"ci\"\nsha256 = \"gi_secret\"\n";
    let e = load(text, &[("HOME", "/tmp")], Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("token[0].sha256"), "{e}");
}

#[test]
fn repo_flags_become_repositories() {
    let o = Overrides {
        repos: vec!["a=/srv/a".into(), "b=https://git.example.com/b.git".into()],
        insecure_no_auth: true,
        ..Overrides::default()
    };
    let c = load("", &[("XDG_DATA_HOME", "/data")], o).unwrap();
    assert_eq!(c.repositories[0].path.as_deref(), Some(Path::new("/srv/a")));
    assert!(c.repositories[1].url.is_some());
    assert_eq!(
        c.store.as_deref(),
        Some(Path::new("/data/gitintent/gitintent.db"))
    );
    let bad = Overrides {
        repos: vec!["nope".into()],
        insecure_no_auth: true,
        ..Overrides::default()
    };
    assert!(load("", &[("HOME", "/h")], bad)
        .unwrap_err()
        .to_string()
        .contains("--repo"));
}

#[test]
fn provider_request_settings_come_from_the_file_and_the_environment_wins() {
    let text = r#"
store = "/tmp/x.db"
[provider]
base-url = "https://acme.openai.azure.com"
model = "gpt-4o-mini"
response-format = "json_object"
max-completion-tokens = 4096
temperature = 0.1
seed = 7
max-retries = 4
api-version = "2024-10-21"
azure-deployment = "prod-4o"
"#;
    let o = Overrides {
        insecure_no_auth: true,
        ..Overrides::default()
    };
    let c = load(text, &[], o.clone()).unwrap();
    let none = |_: &str| None;
    let p = c.openai(none).unwrap().unwrap();
    assert_eq!(p.response_format, crate::plan::ResponseFormat::JsonObject);
    assert_eq!(
        p.token_limit,
        Some(crate::plan::TokenLimit::MaxCompletionTokens(4096))
    );
    assert_eq!((p.temperature, p.seed, p.max_retries), (Some(0.1), Some(7), 4));
    assert_eq!(
        p.endpoint().unwrap().as_str(),
        "https://acme.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"
    );
    let env = |n: &str| (n == "GITINTENT_LLM_RESPONSE_FORMAT").then(|| "none".to_string());
    assert_eq!(
        c.openai(env).unwrap().unwrap().response_format,
        crate::plan::ResponseFormat::None
    );

    let both = format!("{text}max-tokens = 10\n");
    let e = load(&both, &[], o.clone()).unwrap_err().to_string();
    assert!(e.contains("provider.max-tokens") && e.contains("not both"), "{e}");
    let bad = text.replace("\"json_object\"", "\"json\"");
    let e = load(&bad, &[], o.clone()).unwrap_err().to_string();
    assert!(e.contains("json_schema") && e.contains("json_object"), "{e}");
    let no_version = text.replace("api-version = \"2024-10-21\"\n", "");
    let e = load(&no_version, &[], o)
        .unwrap()
        .openai(none)
        .unwrap_err()
        .to_string();
    assert!(e.contains("provider") && e.contains("api-version"), "{e}");
}

#[test]
fn connection_and_validation_limits_have_defaults_and_refuse_zero() {
    let trial = || Overrides {
        insecure_no_auth: true,
        ..Overrides::default()
    };
    let c = load("", &[("HOME", "/tmp")], trial()).unwrap();
    assert_eq!(
        (
            c.limits.max_validations,
            c.limits.validate_queue,
            c.limits.max_connections,
            c.limits.header_read_timeout_secs,
            c.limits.idle_timeout_secs
        ),
        (4, 16, 512, 10, 60)
    );
    let c = load(
        "[limits]\nmax-validations = 2\nvalidate-queue = 0\nmax-connections = 8\nheader-read-timeout-secs = 1\nidle-timeout-secs = 2\n",
        &[("HOME", "/tmp")],
        trial(),
    )
    .unwrap();
    assert_eq!(c.limits.validate_queue, 0);
    assert_eq!(c.limits.idle_timeout(), std::time::Duration::from_secs(2));
    for key in [
        "max-validations",
        "max-connections",
        "header-read-timeout-secs",
        "idle-timeout-secs",
    ] {
        let e = load(&format!("[limits]\n{key} = 0\n"), &[("HOME", "/tmp")], trial()).unwrap_err();
        assert!(e.to_string().contains(key), "{key}: {e}");
    }
}

#[test]
fn the_store_url_chooses_the_backend_and_unknown_schemes_are_refused() {
    let o = || Overrides {
        insecure_no_auth: true,
        ..Overrides::default()
    };
    let url = "postgres://gi:pw@db:5432/gitintent?sslmode=verify-full";
    let c = load("", &[("GITINTENT_STORE", url), ("HOME", "/h")], o()).unwrap();
    assert_eq!(c.store_location().unwrap(), Location::Postgres(url.into()));
    // Mirrors go to the data dir, never to a directory named after the URL.
    assert_eq!(
        c.mirror_dir().unwrap(),
        Path::new("/h/.local/share/gitintent/mirrors")
    );
    let c = load("store = \"sqlite:///var/lib/g.db\"\n", &[], o()).unwrap();
    assert_eq!(c.mirror_dir().unwrap(), Path::new("/var/lib/mirrors"));
    let e = load("", &[("GITINTENT_STORE", "mysql://db/x")], o())
        .unwrap_err()
        .to_string();
    assert!(e.contains("config key store") && e.contains("postgres://"), "{e}");
    let e = load("[limits]\nplan-lease-secs = 0\n", &[("HOME", "/h")], o()).unwrap_err();
    assert!(e.to_string().contains("plan-lease-secs"), "{e}");
}
