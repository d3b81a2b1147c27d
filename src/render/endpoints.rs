//! Apps wired to a data store that an operator runs.
//!
//! The planners wire an app to a store by the store's own names: its Service
//! (`postgres`) and the one Secret both read (`postgres-credentials`). When
//! the repository's operator runs the store instead (see `stores.rs`), the
//! operator makes those names: CloudNativePG serves the primary at
//! `<name>-rw` and writes the app's credentials to `<name>-app`; Strimzi's
//! bootstrap Service is `<name>-kafka-bootstrap`; the RabbitMQ Cluster
//! Operator writes `<name>-default-user`; ECK serves HTTPS at `<name>-es-http`
//! with the `elastic` user's password in `<name>-es-elastic-user`. This
//! rewrites every other component's variables and secret references that name
//! the store to the operator's names, and says so in an info finding per app.
//!
//! It changes only what names the store; a variable the intent set to
//! anything else is kept. It does not decide who runs the store (`stores.rs`).

use crate::finding::{Finding, Severity};
use crate::spec::{Archetype, Component, Spec};

use super::stores::run_by_operator;

/// The names an operator gives a store called `name`.
struct Names {
    host: String,
    /// `http` → `https` in URLs (ECK serves TLS by default).
    tls: bool,
    secret: String,
    /// Our secret key → the operator's; keys not listed keep their name.
    keys: &'static [(&'static str, &'static str)],
    /// Variables that come from the operator's Secret instead of a literal
    /// default we wrote (CloudNativePG's database and owner are `app`):
    /// (variable, literal we wrote, the Secret's key).
    from_secret: &'static [(&'static str, &'static str, &'static str)],
}

fn names(archetype: Archetype, name: &str) -> Option<Names> {
    let plain = |host: String, secret: String| Names {
        host,
        tls: false,
        secret,
        keys: &[],
        from_secret: &[],
    };
    Some(match archetype {
        Archetype::Postgres => Names {
            from_secret: &[
                ("DATABASE_NAME", "postgres", "dbname"),
                ("DATABASE_USER", "postgres", "username"),
            ],
            ..plain(format!("{name}-rw"), format!("{name}-app"))
        },
        Archetype::Kafka => plain(format!("{name}-kafka-bootstrap"), format!("{name}-credentials")),
        Archetype::Rabbitmq => plain(name.to_string(), format!("{name}-default-user")),
        Archetype::Elasticsearch => Names {
            tls: true,
            keys: &[("password", "elastic")],
            ..plain(format!("{name}-es-http"), format!("{name}-es-elastic-user"))
        },
        _ => return None,
    })
}

/// `spec` with every component's references to an operator-run store renamed
/// to the operator's names, or `None` when nothing names such a store.
pub(super) fn rewire(spec: &Spec, operators: &[String], findings: &mut Vec<Finding>) -> Option<Spec> {
    let mut out: Option<Spec> = None;
    for store in &spec.components {
        let Some(op) = run_by_operator(store, operators) else {
            continue;
        };
        let Some(names) = names(store.archetype, &store.name) else {
            continue;
        };
        let target = out.get_or_insert_with(|| spec.clone());
        for comp in target.components.iter_mut().filter(|c| c.name != store.name) {
            let changed = rename(comp, &store.name, &names);
            if !changed.is_empty() {
                findings.push(Finding::new(
                    Severity::Info,
                    "store-operator-endpoint",
                    format!("{:?}/{}", comp.archetype.workload(), comp.name),
                    "/spec/template/spec/containers/0/env",
                    format!(
                        "{} reaches {} through the names {} gives it: {}",
                        comp.name,
                        store.name,
                        op.name,
                        changed.join(", ")
                    ),
                ));
            }
        }
    }
    out
}

/// Renames one component's references to the store `store`; returns what changed.
fn rename(comp: &mut Component, store: &str, names: &Names) -> Vec<String> {
    let mut changed = Vec::new();
    let own_secret = format!("{store}-credentials");
    for r in comp.secret_refs.iter_mut().filter(|r| r.secret == own_secret) {
        r.secret = names.secret.clone();
        if let Some((_, key)) = names.keys.iter().find(|(ours, _)| *ours == r.key) {
            r.key = key.to_string();
        }
        changed.push(format!("{} from Secret {} key {}", r.env, r.secret, r.key));
    }
    let wired = comp.secret_refs.iter().any(|r| r.secret == names.secret);
    for (var, literal, key) in names.from_secret.iter().filter(|_| wired) {
        if let Some(i) = comp
            .env
            .iter()
            .position(|e| e.name == *var && e.value == *literal)
        {
            comp.env.remove(i);
            comp.secret_refs.push(crate::spec::SecretRef {
                env: var.to_string(),
                secret: names.secret.clone(),
                key: key.to_string(),
            });
            changed.push(format!("{var} from Secret {} key {key}", names.secret));
        }
    }
    for var in &mut comp.env {
        let value = host_in(&var.value, store, names, names_a_host(&var.name));
        if value != var.value {
            changed.push(format!("{}={value}", var.name));
            var.value = value;
        }
    }
    changed
}

/// True for a variable whose bare value is a host name (`DATABASE_HOST`,
/// `KAFKA_BOOTSTRAP_SERVERS`); `DATABASE_NAME=postgres` names a database.
fn names_a_host(var: &str) -> bool {
    let v = var.to_ascii_uppercase();
    [
        "HOST", "HOSTNAME", "ADDR", "ADDRESS", "SERVER", "SERVERS", "ENDPOINT", "URL", "URI", "CONNECT",
    ]
    .iter()
    .any(|s| v == *s || v.ends_with(&format!("_{s}")))
}

/// `value` with the store's host renamed, where the value is a `host:port`,
/// a URL to it, or (when `bare`) the host alone; anything else is returned
/// as it is.
fn host_in(value: &str, store: &str, names: &Names, bare: bool) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, value),
    };
    let host_end = rest.find([':', '/']).unwrap_or(rest.len());
    let alone = scheme.is_none() && host_end == rest.len();
    if &rest[..host_end] != store || alone && !bare {
        return value.to_string();
    }
    let rest = format!("{}{}", names.host, &rest[host_end..]);
    match scheme {
        Some("http") if names.tls => format!("https://{rest}"),
        Some(s) => format!("{s}://{rest}"),
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(archetype: Archetype) -> Names {
        names(archetype, "db").unwrap()
    }

    #[test]
    fn hosts_ports_and_urls_to_the_store_are_renamed_and_nothing_else() {
        let pg = n(Archetype::Postgres);
        assert_eq!(host_in("db", "db", &pg, true), "db-rw");
        assert_eq!(host_in("db", "db", &pg, false), "db");
        assert_eq!(host_in("db:5432", "db", &pg, false), "db-rw:5432");
        assert_eq!(
            host_in("postgres://db:5432/app", "db", &pg, false),
            "postgres://db-rw:5432/app"
        );
        assert_eq!(host_in("dbx", "db", &pg, true), "dbx");
        assert_eq!(host_in("5432", "db", &pg, true), "5432");
        let es = n(Archetype::Elasticsearch);
        assert_eq!(
            host_in("http://db:9200", "db", &es, false),
            "https://db-es-http:9200"
        );
        assert!(names_a_host("DATABASE_HOST") && names_a_host("KAFKA_BOOTSTRAP_SERVERS"));
        assert!(!names_a_host("DATABASE_NAME") && !names_a_host("GHOST"));
    }
}
