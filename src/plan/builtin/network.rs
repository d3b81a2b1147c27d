//! Network and availability: ports, health checks, exposure, HA.
//!
//! Reads "listening on port 8080", "health check on /healthz port 3000",
//! "at api.example.com over HTTPS", "expose publicly", "highly available"
//! and "survive node failures" into the [`Draft`]. The health check is read
//! before ports so its port is not taken for a container port; hosts are
//! recognised only with a cue ("at", "expose", a scheme) so `node.js` is not
//! a host name.

use std::ops::Range;

use super::draft::Draft;
use super::lexicon::Class;
use super::text::Words;

/// Names a port may carry before "port" ("the metrics port"): this reader's pattern.
const PORT_NAMES: &[&str] = &[
    "http",
    "https",
    "grpc",
    "metrics",
    "admin",
    "management",
    "health",
    "tcp",
    "web",
    "api",
    "debug",
    "ws",
    "websocket",
    "prometheus",
    "udp",
    "app",
    "internal",
    "public",
];

/// Reads the health check and claims its words.
pub(super) fn health(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    let mut i = r.start;
    while i < r.end {
        if !w.free(i) || !w.is(i, Class::ProbeWord) {
            i += 1;
            continue;
        }
        let (path, port, end) = probe_target(w, i, (i + 8).min(r.end));
        let tcp = i > r.start && w.is(i - 1, &["tcp"]) || w.is(i + 1, &["tcp"]);
        if path.is_none() && port.is_none() && !tcp {
            w.claim(i..i + 1);
            i += 1;
            continue;
        }
        match &d.health {
            None => d.health = Some(crate::spec::HealthCheck { path, port }),
            Some(h) if h.path != path => d.questions.push(format!(
                "the spec has one health check; {} was used and {} was not",
                h.path.as_deref().unwrap_or("a TCP check"),
                path.as_deref().unwrap_or("a TCP check"),
            )),
            Some(_) => {}
        }
        w.claim(i.saturating_sub(usize::from(tcp && i > r.start && w.is(i - 1, &["tcp"])))..end);
        i = end;
    }
}

/// The path and port a health check word at `i` names, read up to
/// `window_end` ("/healthz on port 8080", ":9000"), with the end of what
/// was read.
fn probe_target(w: &Words, i: usize, window_end: usize) -> (Option<String>, Option<u32>, usize) {
    let mut path = None;
    let mut port = None;
    let mut end = i + 1;
    let mut k = i + 1;
    while k < window_end {
        if !w.free(k) {
            break;
        }
        let raw = w.raw(k);
        if path.is_none() && raw.starts_with('/') && is_path(raw) {
            path = Some(raw.to_string());
            end = k + 1;
        } else if w.is(k, Class::PortNoun) {
            if let Some((n, len)) = w.whole(k + 1).filter(|(n, _)| (1..=65535).contains(n)) {
                port = Some(n);
                end = k + 1 + len;
                k += len;
            }
        } else if let Some(n) = raw.strip_prefix(':').and_then(|p| p.parse::<u32>().ok()) {
            port = Some(n);
            end = k + 1;
        } else if w.is(k, Class::ProbeWord) && (path.is_some() || port.is_some()) {
            break;
        }
        k += 1;
    }
    (path, port, end)
}

/// Reads container ports.
pub(super) fn ports(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let after = if w.is(i, Class::PortNoun) {
            w.skip(i + 1, &["number", "numbers", "of", "=", ":", "is"], 2)
        } else if w.is(
            i,
            &[
                "listening",
                "listens",
                "listen",
                "serving",
                "serves",
                "serve",
                "exposes",
                "expose",
            ],
        ) && w.is(i + 1, &["on", "at"])
        {
            let k = i + 2;
            if w.is(k, Class::PortNoun) {
                continue;
            }
            k
        } else if let Some(n) = w.raw(i).strip_prefix(':').and_then(|p| p.parse::<u32>().ok()) {
            if (1..=65535).contains(&n) {
                add_port(d, None, n);
                w.claim(i..i + 1);
            }
            continue;
        } else {
            continue;
        };
        let name = (i > r.start && w.is(i - 1, PORT_NAMES) && w.is(i, Class::PortNoun))
            .then(|| w.low(i - 1).to_string());
        if let Some(k) = port_numbers(w, after, name.clone(), d) {
            let start = if name.is_some() { i - 1 } else { i };
            w.claim(start..k);
        }
    }
}

/// Reads the port numbers from `k` on ("8080", "8080 and 9090", "80, 443"),
/// the first one named `name`; the end of the last one, if any was read.
fn port_numbers(w: &Words, mut k: usize, name: Option<String>, d: &mut Draft) -> Option<usize> {
    let mut found = false;
    while let Some((n, len)) = w.whole(k).filter(|_| w.free(k)) {
        if !(1..=65535).contains(&n) {
            break;
        }
        add_port(d, if found { None } else { name.clone() }, n);
        found = true;
        k += len;
        if w.is(k, &["and", "&"]) && w.whole(k + 1).is_some() {
            k += 1;
        } else if !w.pause(k - 1) || w.whole(k).is_none() {
            break;
        }
    }
    found.then_some(k)
}

fn add_port(d: &mut Draft, name: Option<String>, port: u32) {
    if !d.ports.iter().any(|(_, p)| *p == port) {
        d.ports.push((name, port));
    }
}

/// A URL path that the spec checks will accept.
pub(super) fn is_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 256
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c))
}

/// Words shortly before a host that make it the Ingress host: this reader's pattern.
const HOST_CUES: &[&str] = &[
    "at",
    "on",
    "to",
    "expose",
    "exposed",
    "exposing",
    "host",
    "hostname",
    "domain",
    "url",
    "via",
    "behind",
    "under",
    "serve",
    "served",
    "available",
    "reachable",
    "ingress",
    "as",
    "public",
    "publicly",
    "address",
];
/// Endings that make a dotted word a file name, not a host: only the host check needs them.
const FILE_EXTENSIONS: &[&str] = &[
    "yaml", "yml", "json", "txt", "sh", "py", "js", "ts", "conf", "toml", "md", "cfg", "ini", "xml", "env",
    "log", "sql", "jar", "war", "tar", "gz", "zip", "net", "rb", "go", "rs", "java", "php", "html", "css",
];
/// Words that ask for an Ingress in a create; day-2 `expose` is a verb in `verbs`.
const EXPOSE_WORDS: &[&str] = &[
    "expose",
    "exposed",
    "exposing",
    "publicly",
    "internet-facing",
    "ingress",
    "externally",
    "public-facing",
];
/// Words that ask for TLS: only this reader reads them.
const TLS_WORDS: &[&str] = &[
    "https",
    "tls",
    "ssl",
    "certificate",
    "cert",
    "certs",
    "cert-manager",
    "letsencrypt",
    "secure",
    "securely",
];

/// Splits `https://api.example.com/v1` into host, path and whether it said https.
fn host_of(raw: &str) -> Option<(String, Option<String>, Option<bool>)> {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, rest)) => (Some(s.to_ascii_lowercase()), rest),
        None => (None, raw),
    };
    let tls = match scheme.as_deref() {
        Some("https") => Some(true),
        Some("http") => Some(false),
        Some(_) => return None,
        None => None,
    };
    let (host, path) = match rest.find('/') {
        Some(k) => (&rest[..k], Some(&rest[k..])),
        None => (rest, None),
    };
    let host = host.to_ascii_lowercase();
    let bare = host.strip_prefix("*.").unwrap_or(&host);
    let labels: Vec<&str> = bare.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    let ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && (scheme.is_some() || !FILE_EXTENSIONS.contains(&tld));
    let path = path.filter(|p| *p != "/").map(str::to_string);
    ok.then_some((host, path, tls))
}

/// Reads the host, path and TLS of an Ingress.
pub(super) fn exposure(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    hosts(w, r, d);
    expose_words(w, r, d);
    if d.expose {
        ingress_path(w, r, d);
    }
}

/// Reads a host after a cue ("at", "on") or with a scheme; the first one
/// is used, another is a question.
fn hosts(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let cue = (r.start.max(i.saturating_sub(3))..i).any(|k| w.is(k, HOST_CUES));
        let Some((host, path, tls)) = host_of(w.raw(i)) else {
            continue;
        };
        if !(cue || tls.is_some()) {
            continue;
        }
        if d.host.is_none() {
            d.host = Some(host);
            d.path = d.path.take().or(path);
            d.tls = d.tls.or(tls);
        } else {
            d.questions.push(format!(
                "only one host is supported per component; {host} was not used"
            ));
        }
        d.expose = true;
        w.claim(i..i + 1);
    }
}

/// Reads the words that ask for (or against) exposure and TLS: "expose",
/// "to the internet", "with TLS", "plain http", "internal".
fn expose_words(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let negated = i > r.start && w.is(i - 1, &["no", "without", "not", "never", "don't", "dont"]);
        // "expose port 8080" names a container port, not an Ingress.
        let port_follows = w.is(i + 1, Class::PortNoun) || w.phrase(i + 1, &["on", "port"]);
        if w.is(i, EXPOSE_WORDS) && port_follows {
            continue;
        }
        if w.is(i, EXPOSE_WORDS)
            || w.phrase(i, &["to", "the", "internet"])
            || w.phrase(i, &["from", "outside"])
        {
            if negated {
                d.internal = true;
            } else {
                d.expose = true;
            }
            w.claim(i..i + 1);
        } else if w.is(i, TLS_WORDS) {
            // "over https", "with TLS": also asks for exposure.
            d.tls = Some(!negated);
            if !negated {
                d.expose = true;
            }
            w.claim(i.saturating_sub(usize::from(negated))..i + 1);
        } else if w.phrase(i, &["plain", "http"])
            || w.phrase(i, &["http", "only"])
            || w.phrase(i, &["over", "http"])
        {
            d.tls = Some(false);
            d.expose = true;
            w.claim(i..i + 2);
        } else if w.is(i, &["internal", "internal-only", "cluster-internal", "private"])
            || w.phrase(i, &["not", "exposed"])
        {
            d.internal = true;
        }
    }
}

/// Reads the Ingress path ("under /shop", "path /api").
fn ingress_path(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) || !w.is(i, &["path", "under", "at", "on", "prefix", "route"]) {
            continue;
        }
        let k = if w.is(i + 1, &["path", "prefix"]) {
            i + 2
        } else {
            i + 1
        };
        let raw = w.raw(k);
        if w.free(k) && raw.len() > 1 && is_path(raw) && d.path.is_none() {
            d.path = Some(raw.to_string());
            w.claim(i..k + 1);
        }
    }
}

/// Phrases that ask for high availability (one reader's phrases, a table).
const HA_PHRASES: &[&[&str]] = &[
    &["highly", "available"],
    &["high", "availability"],
    &["high-availability"],
    &["highly-available"],
    &["ha"],
    &["fault", "tolerant"],
    &["fault-tolerant"],
    &["fault", "tolerance"],
    &["redundant"],
    &["redundancy"],
    &["resilient"],
    &["single", "point", "of", "failure"],
    &["zero", "downtime"],
    &["zero-downtime"],
    &["survive"],
    &["survives"],
    &["surviving"],
    &["node", "failures"],
    &["node", "failure"],
    &["node", "outages"],
    &["across", "zones"],
    &["across", "availability", "zones"],
    &["multi-az"],
    &["multi-zone"],
    &["anti-affinity"],
    &["spread", "across"],
    // Asking for the disruption budget itself: the HA shape includes it.
    &["pdb"],
    &["pod", "disruption", "budget"],
    &["disruption", "budget"],
    &["poddisruptionbudget"],
];
/// Phrases that ask for failover as well.
const FAILOVER: &[&[&str]] = &[
    &["failover"],
    &["fail", "over"],
    &["fail-over"],
    &["sentinel"],
    &["automatic", "failover"],
    &["auto-failover"],
];

/// Reads high availability and failover.
pub(super) fn availability(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        if let Some(p) = FAILOVER.iter().find(|p| w.phrase(i, p)) {
            d.ha = true;
            d.failover = true;
            w.claim(i..i + p.len());
        } else if let Some(p) = HA_PHRASES.iter().find(|p| w.phrase(i, p)) {
            d.ha = true;
            w.claim(i..i + p.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Draft {
        let mut w = Words::new(text);
        let r = 0..w.len();
        let mut d = Draft::default();
        health(&mut w, &r, &mut d);
        ports(&mut w, &r, &mut d);
        exposure(&mut w, &r, &mut d);
        availability(&mut w, &r, &mut d);
        d
    }

    #[test]
    fn listening_on_port_8080() {
        assert_eq!(read("listening on port 8080").ports, [(None, 8080)]);
        assert_eq!(read("on port 3000").ports, [(None, 3000)]);
        assert_eq!(read("listens on 9000").ports, [(None, 9000)]);
        assert_eq!(read("metrics port 9090").ports, [(Some("metrics".into()), 9090)]);
        assert_eq!(read("ports 8080 and 9090").ports, [(None, 8080), (None, 9090)]);
    }

    #[test]
    fn health_check_port_is_not_a_container_port() {
        let d = read("health check on /healthz port 3000");
        assert_eq!(
            d.health,
            Some(crate::spec::HealthCheck {
                path: Some("/healthz".into()),
                port: Some(3000)
            })
        );
        assert!(d.ports.is_empty());
        assert_eq!(
            read("readiness at /ready").health.unwrap().path.as_deref(),
            Some("/ready")
        );
        assert_eq!(
            read("a tcp health check on port 5000").health.unwrap(),
            crate::spec::HealthCheck {
                path: None,
                port: Some(5000)
            }
        );
    }

    #[test]
    fn a_host_over_https_is_exposed_with_tls() {
        let d = read("at api.example.com over HTTPS");
        assert_eq!(d.host.as_deref(), Some("api.example.com"));
        assert_eq!(d.tls, Some(true));
        assert!(d.expose);
    }

    #[test]
    fn urls_give_host_path_and_scheme() {
        let d = read("reachable at https://shop.example.com/api");
        assert_eq!(
            (d.host.as_deref(), d.path.as_deref(), d.tls),
            (Some("shop.example.com"), Some("/api"), Some(true))
        );
        let d = read("expose it at http://intranet.example.org");
        assert_eq!(d.tls, Some(false));
    }

    #[test]
    fn file_names_and_frameworks_are_not_hosts() {
        assert_eq!(read("a node.js app").host, None);
        assert_eq!(read("deploy config.yaml").host, None);
        assert_eq!(read("version 7.2").host, None);
    }

    #[test]
    fn expose_without_a_host_is_noticed_and_tls_can_be_refused() {
        let d = read("expose it publicly without TLS under /shop");
        assert!(d.expose);
        assert_eq!(d.tls, Some(false));
        assert_eq!(d.path.as_deref(), Some("/shop"));
        assert!(read("not exposed").internal);
    }

    #[test]
    fn survive_node_failures_is_high_availability() {
        let d = read("it must survive node failures");
        assert!(d.ha && !d.failover);
        let d = read("with automatic failover");
        assert!(d.ha && d.failover);
        assert!(read("HA").ha);
    }
}
