//! Apps with their own data stores: wiring the components of one intent.
//!
//! "a wordpress with mysql", "acme/shop:1.9.0 with its own postgres at
//! shop.example.com", "an api and a redis cache": each is already one
//! component per clause. This gives every app (web service, worker, job,
//! cron job) the environment that reaches each data store of the same plan —
//! its Service name and port — and the store's credentials by `secretKeyRef`
//! from the one Secret the store itself reads (`<store>-credentials`), so app
//! and store can never disagree. A host given to a data store goes to the
//! web-facing app. Every decision is an assumption the reviewer sees.
//!
//! It never writes a credential value, and never overrides a variable the
//! intent set.

use super::draft::Draft;
use crate::spec::{Archetype, Component, EnvVar, SecretRef};

/// What an app needs to reach one store, and what the store needs for it.
#[derive(Default)]
struct Link {
    app_env: Vec<(String, String)>,
    app_secrets: Vec<(String, &'static str)>,
    store_env: Vec<(String, String)>,
    store_secrets: Vec<(String, &'static str)>,
}

/// Wires every app of `components` to every data store beside it; returns
/// the assumptions that say how.
pub(super) fn wire(components: &mut [Component]) -> Vec<String> {
    let is_app = |c: &Component| {
        matches!(
            c.archetype,
            Archetype::WebService | Archetype::Worker | Archetype::CronJob | Archetype::Job
        )
    };
    let apps: Vec<usize> = (0..components.len())
        .filter(|&i| is_app(&components[i]))
        .collect();
    let stores: Vec<usize> = (0..components.len())
        .filter(|&i| components[i].archetype.is_stateful() || components[i].archetype == Archetype::Memcached)
        .collect();
    let mut notes = Vec::new();
    if apps.is_empty() || stores.is_empty() {
        return notes;
    }
    for &a in &apps {
        for &s in &stores {
            let link = link(&components[a], &components[s]);
            notes.push(describe(&components[a].name, &components[s].name, &link));
            let secret = format!("{}-credentials", components[s].name);
            apply(&mut components[a], &link.app_env, &link.app_secrets, &secret);
            apply(&mut components[s], &link.store_env, &link.store_secrets, &secret);
        }
    }
    notes
}

/// A host the intent put on a data store ("acme/shop:1.9.0 with its own
/// postgres at shop.example.com") belongs to the web-facing app of the same
/// intent; runs on the drafts, before a store's exposure becomes a question.
pub(super) fn move_host(drafts: &mut [Draft]) -> Option<String> {
    let exposed = |d: &Draft| d.expose || d.host.is_some();
    let web = drafts
        .iter()
        .position(|d| d.archetype == Some(Archetype::WebService) && !exposed(d))?;
    let from = drafts
        .iter()
        .position(|d| d.archetype.is_some_and(|a| a.is_stateful()) && exposed(d))?;
    let (host, path, tls, expose) = {
        let d = &mut drafts[from];
        (
            d.host.take(),
            d.path.take(),
            d.tls.take(),
            std::mem::take(&mut d.expose),
        )
    };
    let to = &mut drafts[web];
    let shown = host.clone().unwrap_or_else(|| "the Ingress".into());
    (to.host, to.path, to.tls, to.expose) = (host, path, tls, expose);
    let names = |d: &Draft| {
        d.name
            .clone()
            .or_else(|| {
                d.image
                    .as_deref()
                    .map(|i| super::naming::image_basename(i).to_string())
            })
            .or_else(|| d.archetype.map(|a| a.to_string()))
            .unwrap_or_default()
    };
    Some(format!(
        "{shown} routes to {}, the web-facing component; {} stays inside the cluster",
        names(&drafts[web]),
        names(&drafts[from])
    ))
}

/// The port a component serves on first: its own, else its archetype's.
fn port(c: &Component) -> u32 {
    c.ports
        .first()
        .map(|p| p.port)
        .or_else(|| c.archetype.defaults().ports.first().map(|p| p.1))
        .unwrap_or(80)
}

fn sentinel(store: &Component) -> bool {
    store.replicas.is_some_and(|r| r > 1) || store.high_availability.as_ref().is_some_and(|h| h.failover)
}

/// Variables from name–value pairs.
fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The variables of one app–store pair, by the store's kind (and the
/// app's image, for images with their own names: WordPress).
fn link(app: &Component, store: &Component) -> Link {
    let host = store.name.clone();
    let port = port(store).to_string();
    let user = app.name.clone();
    let sql = |default_user: &str, name: &str| Link {
        app_env: env(&[
            ("DATABASE_HOST", &host),
            ("DATABASE_PORT", &port),
            ("DATABASE_NAME", name),
            ("DATABASE_USER", default_user),
        ]),
        app_secrets: vec![("DATABASE_PASSWORD".into(), "password")],
        ..Link::default()
    };
    let wordpress = app
        .image
        .as_deref()
        .is_some_and(|i| super::naming::image_basename(i) == "wordpress");
    match store.archetype {
        Archetype::Postgres => sql("postgres", "postgres"),
        Archetype::Mysql if wordpress => Link {
            app_env: env(&[
                ("WORDPRESS_DATABASE_HOST", &host),
                ("WORDPRESS_DATABASE_PORT_NUMBER", &port),
                ("WORDPRESS_DATABASE_NAME", &user),
                ("WORDPRESS_DATABASE_USER", &user),
            ]),
            app_secrets: vec![("WORDPRESS_DATABASE_PASSWORD".into(), "password")],
            store_env: env(&[("MYSQL_DATABASE", &user), ("MYSQL_USER", &user)]),
            store_secrets: vec![("MYSQL_PASSWORD".into(), "password")],
        },
        Archetype::Mysql => Link {
            store_env: env(&[("MYSQL_DATABASE", &user), ("MYSQL_USER", &user)]),
            store_secrets: vec![("MYSQL_PASSWORD".into(), "password")],
            ..sql(&user, &user)
        },
        _ => link_other(store, &host, &port),
    }
}

/// The variables of the stores other than SQL databases: those whose
/// clients log in here, the others by [`address_only`].
fn link_other(store: &Component, host: &str, port: &str) -> Link {
    match store.archetype {
        Archetype::Mongodb => Link {
            app_env: env(&[("MONGODB_HOST", host), ("MONGODB_PORT", port)]),
            app_secrets: vec![
                ("MONGODB_USERNAME".into(), "username"),
                ("MONGODB_PASSWORD".into(), "password"),
            ],
            ..Link::default()
        },
        Archetype::Rabbitmq => Link {
            app_env: env(&[("RABBITMQ_HOST", host), ("RABBITMQ_PORT", port)]),
            app_secrets: vec![
                ("RABBITMQ_USERNAME".into(), "username"),
                ("RABBITMQ_PASSWORD".into(), "password"),
            ],
            store_secrets: vec![
                ("RABBITMQ_DEFAULT_USER".into(), "username"),
                ("RABBITMQ_DEFAULT_PASS".into(), "password"),
            ],
            ..Link::default()
        },
        Archetype::Elasticsearch => Link {
            app_env: env(&[
                ("ELASTICSEARCH_URL", &format!("http://{host}:{port}")),
                ("ELASTICSEARCH_USERNAME", "elastic"),
            ]),
            app_secrets: vec![("ELASTICSEARCH_PASSWORD".into(), "password")],
            store_secrets: vec![("ELASTIC_PASSWORD".into(), "password")],
            ..Link::default()
        },
        Archetype::Minio => Link {
            app_env: env(&[("S3_ENDPOINT", &format!("http://{host}:{port}"))]),
            app_secrets: vec![
                ("AWS_ACCESS_KEY_ID".into(), "root-user"),
                ("AWS_SECRET_ACCESS_KEY".into(), "root-password"),
            ],
            ..Link::default()
        },
        _ => address_only(store, host, port),
    }
}

/// The variables of the stores a client reaches by address alone.
fn address_only(store: &Component, host: &str, port: &str) -> Link {
    let app_env = match store.archetype {
        Archetype::Redis if sentinel(store) => env(&[
            ("REDIS_SENTINEL_HOST", host),
            ("REDIS_SENTINEL_PORT", "26379"),
            ("REDIS_SENTINEL_MASTER", "mymaster"),
        ]),
        Archetype::Redis => env(&[("REDIS_HOST", host), ("REDIS_PORT", port)]),
        Archetype::Kafka => env(&[("KAFKA_BOOTSTRAP_SERVERS", &format!("{host}:{port}"))]),
        Archetype::Zookeeper => env(&[("ZOOKEEPER_CONNECT", &format!("{host}:{port}"))]),
        Archetype::Memcached => env(&[("MEMCACHED_HOST", host), ("MEMCACHED_PORT", port)]),
        _ => Vec::new(),
    };
    Link {
        app_env,
        ..Link::default()
    }
}

/// Adds the variables a component does not set yet.
fn apply(c: &mut Component, env: &[(String, String)], secrets: &[(String, &'static str)], secret: &str) {
    let set = |c: &Component, name: &str| {
        c.env.iter().any(|e| e.name == name) || c.secret_refs.iter().any(|s| s.env == name)
    };
    for (name, value) in env {
        if !set(c, name) {
            c.env.push(EnvVar {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    for (name, key) in secrets {
        if !set(c, name) {
            c.secret_refs.push(SecretRef {
                env: name.clone(),
                secret: secret.to_string(),
                key: key.to_string(),
            });
        }
    }
}

/// The assumption that says how `app` reaches `store`.
fn describe(app: &str, store: &str, link: &Link) -> String {
    let mut parts: Vec<String> = link.app_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !link.app_secrets.is_empty() {
        // The variable names come last: free text is redacted after such words.
        let names: Vec<&str> = link.app_secrets.iter().map(|(env, _)| env.as_str()).collect();
        parts.push(format!(
            "by secretKeyRef to {store}-credentials, which {store} reads as well: {}",
            names.join(", ")
        ));
    }
    format!("{app} reaches {store} through its Service: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::HighAvailability;

    fn app(image: &str) -> Component {
        let mut c = Component::new("shop", Archetype::WebService);
        c.image = Some(image.into());
        c
    }

    #[test]
    fn an_app_reads_the_stores_service_and_its_one_secret() {
        let mut comps = vec![
            app("acme/shop:1.9.0"),
            Component::new("shop-db", Archetype::Postgres),
        ];
        let notes = wire(&mut comps);
        let env: Vec<(&str, &str)> = comps[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert!(env.contains(&("DATABASE_HOST", "shop-db")));
        assert!(env.contains(&("DATABASE_PORT", "5432")));
        assert_eq!(comps[0].secret_refs[0].secret, "shop-db-credentials");
        assert_eq!(comps[0].secret_refs[0].key, "password");
        assert!(notes[0].contains("shop-db-credentials"), "{notes:?}");
    }

    #[test]
    fn mysql_gets_a_user_for_the_app_in_the_same_secret() {
        let mut comps = vec![
            app("bitnami/wordpress:6.7.1"),
            Component::new("mysql", Archetype::Mysql),
        ];
        wire(&mut comps);
        assert!(comps[0]
            .env
            .iter()
            .any(|e| e.name == "WORDPRESS_DATABASE_HOST" && e.value == "mysql"));
        assert!(comps[1]
            .env
            .iter()
            .any(|e| e.name == "MYSQL_USER" && e.value == "shop"));
        let (a, s) = (&comps[0].secret_refs[0], &comps[1].secret_refs[0]);
        assert_eq!(
            (a.secret.as_str(), a.key.as_str()),
            (s.secret.as_str(), s.key.as_str())
        );
    }

    #[test]
    fn a_redis_with_failover_is_reached_through_sentinel_and_set_variables_stay() {
        let mut comps = vec![app("acme/api:1"), Component::new("cache", Archetype::Redis)];
        comps[0].env.push(EnvVar {
            name: "REDIS_SENTINEL_MASTER".into(),
            value: "main".into(),
        });
        comps[1].high_availability = Some(HighAvailability {
            pod_disruption_budget: false,
            spread: false,
            failover: true,
        });
        wire(&mut comps);
        let get = |n: &str| comps[0].env.iter().find(|e| e.name == n).map(|e| e.value.clone());
        assert_eq!(get("REDIS_SENTINEL_PORT").as_deref(), Some("26379"));
        assert_eq!(get("REDIS_SENTINEL_MASTER").as_deref(), Some("main"));
        assert_eq!(get("REDIS_HOST"), None);
    }

    #[test]
    fn stores_alone_are_not_wired() {
        let mut comps = vec![
            Component::new("cache", Archetype::Redis),
            Component::new("db", Archetype::Postgres),
        ];
        assert!(wire(&mut comps).is_empty());
        assert!(comps.iter().all(|c| c.env.is_empty()));
    }
}
