//! What is being deployed: archetype keywords, clauses, images and names.
//!
//! [`mentions`] finds every word that names a kind of workload ("redis",
//! "web app", "on every node") and marks the ones that are only dependencies
//! ("talks to postgres"). [`clauses`] cuts the intent where a second
//! workload starts ("a web app *and* a postgres database"), so each clause
//! becomes one component. [`image`] and [`name`] read the explicit image and
//! name of a clause, and [`resolve`] picks the archetype from all of it.

use std::ops::Range;

use super::lexicon::Class;
use super::text::Words;
use crate::spec::Archetype;

/// A word or phrase that names what to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum What {
    Is(Archetype),
    /// "web service" beats a data store only when it is this specific.
    Strong(Archetype),
    /// A noun too vague to choose from: a database, a cache, a queue.
    Vague(&'static str),
}

#[derive(Debug, Clone)]
pub(super) struct Mention {
    pub(super) what: What,
    pub(super) at: Range<usize>,
    /// Named as something the workload uses, not the workload itself.
    pub(super) dependency: bool,
    /// The word is also the workload's name (`orders-api`, `billing-worker`).
    pub(super) named: bool,
}

impl Mention {
    pub(super) fn archetype(&self) -> Option<Archetype> {
        match self.what {
            What::Is(a) | What::Strong(a) => Some(a),
            What::Vague(_) => None,
        }
    }
}

const DATA: &[(&str, Archetype)] = &[
    ("redis", Archetype::Redis),
    ("postgres", Archetype::Postgres),
    ("postgresql", Archetype::Postgres),
    ("pgsql", Archetype::Postgres),
    ("mysql", Archetype::Mysql),
    ("mariadb", Archetype::Mysql),
    ("mongo", Archetype::Mongodb),
    ("mongodb", Archetype::Mongodb),
    ("memcached", Archetype::Memcached),
    ("memcache", Archetype::Memcached),
    ("rabbitmq", Archetype::Rabbitmq),
    ("rabbit", Archetype::Rabbitmq),
    ("kafka", Archetype::Kafka),
    ("elasticsearch", Archetype::Elasticsearch),
    ("elastic", Archetype::Elasticsearch),
    ("zookeeper", Archetype::Zookeeper),
    ("minio", Archetype::Minio),
    ("s3-compatible", Archetype::Minio),
    ("grafana", Archetype::Grafana),
];
const PAIRS: &[(&str, &str, What)] = &[
    ("elastic", "search", What::Is(Archetype::Elasticsearch)),
    ("rabbit", "mq", What::Is(Archetype::Rabbitmq)),
    ("object", "storage", What::Is(Archetype::Minio)),
    ("object", "store", What::Is(Archetype::Minio)),
    ("every", "node", What::Strong(Archetype::Daemon)),
    ("each", "node", What::Strong(Archetype::Daemon)),
    ("all", "nodes", What::Strong(Archetype::Daemon)),
    ("per", "node", What::Strong(Archetype::Daemon)),
    ("every", "host", What::Strong(Archetype::Daemon)),
    ("each", "host", What::Strong(Archetype::Daemon)),
    ("every", "machine", What::Strong(Archetype::Daemon)),
    ("node", "agent", What::Strong(Archetype::Daemon)),
    ("log", "shipper", What::Strong(Archetype::Daemon)),
    ("log", "collector", What::Strong(Archetype::Daemon)),
    ("run", "once", What::Strong(Archetype::Job)),
    ("cron", "job", What::Strong(Archetype::CronJob)),
    ("message", "queue", What::Vague("a message queue")),
    ("message", "broker", What::Vague("a message broker")),
    ("http", "server", What::Strong(Archetype::WebService)),
    ("http", "service", What::Strong(Archetype::WebService)),
    ("rest", "api", What::Strong(Archetype::WebService)),
];
/// Plain nouns for a web workload ("service", "app"): the kind reader's pattern.
const WEB_NOUNS: &[&str] = &[
    "service",
    "app",
    "application",
    "server",
    "site",
    "frontend",
    "api",
    "ui",
    "backend",
];
const SINGLE: &[(&str, What)] = &[
    ("website", What::Strong(Archetype::WebService)),
    ("webapp", What::Strong(Archetype::WebService)),
    ("web-app", What::Strong(Archetype::WebService)),
    ("webservice", What::Strong(Archetype::WebService)),
    ("web-service", What::Strong(Archetype::WebService)),
    ("webserver", What::Strong(Archetype::WebService)),
    ("web-server", What::Strong(Archetype::WebService)),
    ("api", What::Strong(Archetype::WebService)),
    ("apis", What::Strong(Archetype::WebService)),
    ("frontend", What::Strong(Archetype::WebService)),
    ("front-end", What::Strong(Archetype::WebService)),
    ("backend", What::Strong(Archetype::WebService)),
    ("back-end", What::Strong(Archetype::WebService)),
    ("microservice", What::Strong(Archetype::WebService)),
    // A well-known app (naming::WELL_KNOWN gives its image): "a wordpress with mysql" is two workloads.
    ("wordpress", What::Strong(Archetype::WebService)),
    ("service", What::Is(Archetype::WebService)),
    ("app", What::Is(Archetype::WebService)),
    ("application", What::Is(Archetype::WebService)),
    ("site", What::Is(Archetype::WebService)),
    ("worker", What::Strong(Archetype::Worker)),
    ("workers", What::Strong(Archetype::Worker)),
    ("consumer", What::Strong(Archetype::Worker)),
    ("consumers", What::Strong(Archetype::Worker)),
    ("processor", What::Strong(Archetype::Worker)),
    ("cron", What::Strong(Archetype::CronJob)),
    ("cronjob", What::Strong(Archetype::CronJob)),
    ("cron-job", What::Strong(Archetype::CronJob)),
    ("crontab", What::Strong(Archetype::CronJob)),
    ("scheduled", What::Strong(Archetype::CronJob)),
    ("job", What::Strong(Archetype::Job)),
    ("one-off", What::Strong(Archetype::Job)),
    ("oneoff", What::Strong(Archetype::Job)),
    ("one-shot", What::Strong(Archetype::Job)),
    ("migration", What::Strong(Archetype::Job)),
    ("migrations", What::Strong(Archetype::Job)),
    ("daemonset", What::Strong(Archetype::Daemon)),
    ("daemon-set", What::Strong(Archetype::Daemon)),
    ("daemon", What::Strong(Archetype::Daemon)),
    ("per-node", What::Strong(Archetype::Daemon)),
    ("shipper", What::Strong(Archetype::Daemon)),
    ("database", What::Vague("a database")),
    ("db", What::Vague("a database")),
    ("datastore", What::Vague("a database")),
    ("cache", What::Vague("a cache")),
    ("queue", What::Vague("a queue")),
    ("broker", What::Vague("a message broker")),
];
/// Words that make the next workload word a dependency ("talks to postgres").
const DEPENDS: &[&str] = &[
    "to",
    "from",
    "against",
    "via",
    "into",
    "uses",
    "using",
    "backed",
    "talks",
    "connects",
    "reads",
    "writes",
    "behind",
    "through",
    "in",
    "queries",
    "consumes",
    "calls",
    "caches",
    "stores",
    "publishes",
    "processes",
    "watches",
    "monitors",
    "scrapes",
    "migrates",
    "backs",
    "up",
    "dumps",
    "on",
    "for",
    "feeds",
    "serves",
];
/// Words that join two workloads into separate clauses.
const CONNECTORS: &[&str] = &["and", "plus", "alongside", "with", "also", "&", "+", "then"];

/// Finds every workload word, longest phrase first.
pub(super) fn mentions(w: &Words) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        if let Some((what, len)) = what_at(w, i) {
            let daemon = what == What::Strong(Archetype::Daemon);
            let dependency = !daemon && depends(w, i);
            out.push(Mention {
                what,
                at: i..i + len,
                dependency,
                named: false,
            });
            i += len;
        } else if let Some(what) = suffixed(w.low(i)) {
            let dependency = depends(w, i);
            out.push(Mention {
                what,
                at: i..i + 1,
                dependency,
                named: true,
            });
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The workload word at `i` and how many words it takes: a pair ("web
/// app", "cron job"), a data store, a single word, or a one-off "once".
fn what_at(w: &Words, i: usize) -> Option<(What, usize)> {
    let pair = PAIRS
        .iter()
        .find(|(a, b, _)| w.phrase(i, &[a, b]))
        .map(|p| p.2)
        .filter(|&what| !(what == What::Strong(Archetype::Daemon) && sized_per_node(w, i)));
    let web = (w.low(i) == "web" && w.is(i + 1, WEB_NOUNS)).then_some(What::Strong(Archetype::WebService));
    if let Some(what) = pair.or(web) {
        return Some((what, 2));
    }
    let data = DATA
        .iter()
        .find(|(k, _)| *k == w.low(i))
        .map(|(_, a)| What::Is(*a));
    if let Some(what) = data.or_else(|| SINGLE.iter().find(|(k, _)| *k == w.low(i)).map(|s| s.1)) {
        return Some((what, 1));
    }
    // "run acme/migrate:3 once": a one-off job; "once a day" is a schedule.
    let once = w.low(i) == "once"
        && (i + 1 >= w.len() || w.pause(i) || w.is(i + 1, &["in", "to", "on", "into", "for", "and"]));
    once.then_some((What::Strong(Archetype::Job), 1))
}

/// "50Gi per node", "2 cpus each node": a size per replica, not a daemon.
fn sized_per_node(w: &Words, i: usize) -> bool {
    /// Units and resource nouns before "per node": a size, not a placement.
    const SIZED: &[&str] = &[
        "gi", "gb", "gib", "mi", "mb", "mib", "ti", "tb", "tib", "g", "m", "gigs", "gig", "cpu", "cpus",
        "core", "cores", "disk", "disks", "storage", "memory", "ram", "volume",
    ];
    w.is(i, &["per", "each"]) && i > 0 && (w.is(i - 1, SIZED) || w.whole(i - 1).is_some())
}

/// True when the workload word at `i` follows "to", "for", "from"... with at
/// most one plain word between ("for the orders service", "talks to postgres").
/// "stand up", "spin up", "set up" are verbs of their own, not "backs up".
fn depends(w: &Words, i: usize) -> bool {
    let Some(b1) = w.before(i, 0) else { return false };
    let phrasal = |k: usize| {
        w.is(k, &["up"])
            && k > 0
            && w.is(
                k - 1,
                &[
                    "stand", "spin", "set", "bring", "fire", "start", "stood", "spun", "standing", "spinning",
                ],
            )
    };
    if phrasal(b1) {
        return false;
    }
    if w.is(b1, DEPENDS) {
        return true;
    }
    let plain =
        w.free(b1) && !w.is(b1, Class::Stop) && w.low(b1).chars().all(|c| c.is_ascii_lowercase() || c == '-');
    plain && w.before(b1, 0).is_some_and(|b2| w.is(b2, DEPENDS))
}

/// A hyphenated name that says what it is: `orders-api`, `billing-worker`.
fn suffixed(word: &str) -> Option<What> {
    const SUFFIXES: &[(&str, Archetype)] = &[
        ("-api", Archetype::WebService),
        ("-service", Archetype::WebService),
        ("-svc", Archetype::WebService),
        ("-app", Archetype::WebService),
        ("-web", Archetype::WebService),
        ("-frontend", Archetype::WebService),
        ("-backend", Archetype::WebService),
        ("-gateway", Archetype::WebService),
        ("-worker", Archetype::Worker),
        ("-consumer", Archetype::Worker),
        ("-processor", Archetype::Worker),
        ("-job", Archetype::Job),
        ("-migration", Archetype::Job),
        ("-migrations", Archetype::Job),
        ("-cron", Archetype::CronJob),
        ("-cronjob", Archetype::CronJob),
        ("-agent", Archetype::Daemon),
    ];
    let (stem, a) = SUFFIXES
        .iter()
        .find_map(|(s, a)| word.strip_suffix(s).map(|stem| (stem, *a)))?;
    let ok = stem.starts_with(|c: char| c.is_ascii_lowercase())
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(What::Strong(a))
}

/// Cuts the intent into one token range per workload.
pub(super) fn clauses(w: &Words, mentions: &[Mention]) -> Vec<Range<usize>> {
    let subjects: Vec<&Mention> = mentions.iter().filter(|m| !m.dependency).collect();
    let mut cuts = Vec::new();
    for pair in subjects.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let gap = a.at.end..b.at.start;
        // The connector nearest the second workload: "a web app with image x and a postgres".
        let connector = gap.clone().rev().find(|&k| w.is(k, CONNECTORS));
        let pause = (a.at.end - 1..b.at.start)
            .rev()
            .find(|&k| w.pause(k))
            .map(|k| k + 1);
        // "postgres, the database": a vague noun after a workload names the same thing.
        let vague = matches!(b.what, What::Vague(_));
        if let Some(cut) = connector.max(pause) {
            if !vague {
                cuts.push(cut);
            }
        }
    }
    cuts.extend(own_store_cuts(w, &subjects));
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        if cut > start {
            out.push(start..cut);
            start = cut;
        }
    }
    out.push(start..w.len());
    out
}

/// "acme/api:1.2 with its own postgres": the image is a workload of its
/// own, and the data store a second one; the cuts before such data stores.
fn own_store_cuts(w: &Words, subjects: &[&Mention]) -> Vec<usize> {
    let mut cuts = Vec::new();
    for m in subjects {
        let own = w
            .before(m.at.start, 0)
            .filter(|&b| w.is(b, &["own", "dedicated", "separate"]));
        let data = m.archetype().is_some_and(|a| !a.is_generic());
        let Some(connector) = own
            .filter(|_| data)
            .and_then(|b| (b.saturating_sub(3)..b).rev().find(|&k| w.is(k, CONNECTORS)))
        else {
            continue;
        };
        let image_before = (0..connector).any(|k| {
            let raw = w.raw(k);
            raw.contains(['/', ':'])
                && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
                && !subjects.iter().any(|s| s.at.contains(&k))
        });
        let workload_before = subjects.iter().any(|s| s.at.start < connector);
        if image_before && !workload_before {
            cuts.push(connector);
        }
    }
    cuts
}

/// The archetype a clause asks for, or why it is unclear.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resolved {
    Is(Archetype),
    /// Only a vague noun such as "a database".
    Vague(&'static str),
    /// Nothing that names a workload.
    Nothing,
}

/// Picks the archetype for a clause.
///
/// A specific generic word ("worker", "web app") with an explicit image wins
/// over a data store it merely mentions; otherwise the data store wins over a
/// plain noun such as "service". A schedule turns any generic workload but a
/// daemon into a cron job.
pub(super) fn resolve(
    mentions: &[Mention],
    r: &Range<usize>,
    image: Option<&str>,
    scheduled: bool,
) -> Resolved {
    let inside: Vec<&Mention> = mentions.iter().filter(|m| r.contains(&m.at.start)).collect();
    let subjects: Vec<&Mention> = inside.iter().copied().filter(|m| !m.dependency).collect();
    let data = subjects
        .iter()
        .find_map(|m| m.archetype().filter(|a| !a.is_generic()));
    let weak = subjects.iter().find_map(|m| match m.what {
        What::Is(a) if a.is_generic() => Some(a),
        _ => None,
    });
    let scheduled_as = |a: Archetype| {
        if scheduled && a != Archetype::Daemon {
            Archetype::CronJob
        } else {
            a
        }
    };
    let generic = strong(&subjects);
    let chosen = match (image, generic, data) {
        (Some(_), Some(g), _) => Some(scheduled_as(g)),
        (_, _, Some(d)) => Some(d),
        (_, Some(g), None) => Some(scheduled_as(g)),
        (None, None, None) => {
            let used = inside
                .iter()
                .find_map(|m| m.archetype().filter(|a| !a.is_generic()));
            used.or(weak.map(scheduled_as))
                .or(scheduled.then_some(Archetype::CronJob))
        }
        (Some(image), None, None) => Some(from_image(image).unwrap_or(if scheduled {
            Archetype::CronJob
        } else {
            weak.unwrap_or(Archetype::WebService)
        })),
    };
    match chosen {
        Some(a) => Resolved::Is(a),
        None => vague(&inside),
    }
}

/// The specific generic archetype the mentions name: a daemon if any does,
/// else the first.
fn strong(ms: &[&Mention]) -> Option<Archetype> {
    let daemon = ms.iter().any(|m| m.what == What::Strong(Archetype::Daemon));
    let first = ms.iter().find_map(|m| match m.what {
        What::Strong(a) => Some(a),
        _ => None,
    });
    if daemon {
        Some(Archetype::Daemon)
    } else {
        first
    }
}

/// A clause with no archetype: the vague noun it uses, if any.
fn vague(inside: &[&Mention]) -> Resolved {
    match inside.iter().find_map(|m| match m.what {
        What::Vague(v) => Some(v),
        _ => None,
    }) {
        Some(v) => Resolved::Vague(v),
        None => Resolved::Nothing,
    }
}

/// The archetype of an official image (`redis:7.2`, `library/postgres:16`).
pub(super) fn from_image(image: &str) -> Option<Archetype> {
    let repo = image.split(['@']).next()?;
    let repo = match repo.rsplit_once(':') {
        Some((r, _)) if !r.is_empty() => r,
        _ => repo,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    Some(match repo {
        "redis" => Archetype::Redis,
        "postgres" => Archetype::Postgres,
        "mysql" | "mariadb" => Archetype::Mysql,
        "mongo" => Archetype::Mongodb,
        "memcached" => Archetype::Memcached,
        "rabbitmq" => Archetype::Rabbitmq,
        "apache/kafka" => Archetype::Kafka,
        "docker.elastic.co/elasticsearch/elasticsearch" | "elasticsearch" => Archetype::Elasticsearch,
        "zookeeper" => Archetype::Zookeeper,
        "quay.io/minio/minio" | "minio/minio" => Archetype::Minio,
        "grafana/grafana" | "grafana/grafana-oss" => Archetype::Grafana,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::builtin::naming::image;

    fn parts(text: &str) -> Vec<String> {
        let w = Words::new(text);
        let m = mentions(&w);
        clauses(&w, &m)
            .into_iter()
            .map(|r| (r.start..r.end).map(|i| w.raw(i)).collect::<Vec<_>>().join(" "))
            .collect()
    }

    fn archetype(text: &str) -> Resolved {
        let mut w = Words::new(text);
        let m = mentions(&w);
        let r = 0..w.len();
        let img = image(&mut w, &r);
        resolve(&m, &r, img.as_deref(), false)
    }

    #[test]
    fn a_web_app_and_a_postgres_database_are_two_clauses() {
        assert_eq!(
            parts("Deploy a web app using image acme/shop:1.2 and a postgres database"),
            [
                "Deploy a web app using image acme/shop:1.2",
                "and a postgres database"
            ]
        );
    }

    #[test]
    fn one_workload_with_many_features_is_one_clause() {
        assert_eq!(
            parts("redis with 3 replicas, persistent storage and automatic failover").len(),
            1
        );
        assert_eq!(parts("a redis cache service and nothing else").len(), 1);
    }

    #[test]
    fn a_dependency_does_not_start_a_new_clause() {
        assert_eq!(
            parts("a worker using image acme/w:1 that consumes from rabbitmq").len(),
            1
        );
        assert_eq!(
            archetype("a worker using image acme/w:1 that consumes from rabbitmq"),
            Resolved::Is(Archetype::Worker)
        );
    }

    #[test]
    fn keywords_pick_archetypes() {
        assert_eq!(archetype("Deploy PostgreSQL"), Resolved::Is(Archetype::Postgres));
        assert_eq!(archetype("a mariadb"), Resolved::Is(Archetype::Mysql));
        assert_eq!(
            archetype("an s3-compatible object store"),
            Resolved::Is(Archetype::Minio)
        );
        assert_eq!(
            archetype("a log shipper on every node using image fluent/fluent-bit:3.2"),
            Resolved::Is(Archetype::Daemon)
        );
        assert_eq!(archetype("a one-off migration job"), Resolved::Is(Archetype::Job));
        assert_eq!(
            archetype("a redis service using image redis:7.2-alpine"),
            Resolved::Is(Archetype::Redis)
        );
        assert_eq!(archetype("a database"), Resolved::Vague("a database"));
        assert_eq!(archetype("make it fast"), Resolved::Nothing);
    }

    #[test]
    fn an_image_alone_is_a_web_service_unless_it_is_an_official_data_store() {
        assert_eq!(
            archetype("Deploy acme/checkout:2.4.0 as checkout"),
            Resolved::Is(Archetype::WebService)
        );
        assert_eq!(archetype("Deploy redis:7.2"), Resolved::Is(Archetype::Redis));
    }
}
