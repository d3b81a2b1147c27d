//! Well-known images: the port and probe an image serves on when a generic
//! component (a web service) gives none.
//!
//! Kong serves its proxy on 8000, Prometheus on 9090; the web-service default
//! of 8080 would leave their Service and probes pointing at nothing. Both
//! planners' specs get these through the renderer (`render::context`), and
//! the builtin planner says so in an assumption. Matching is on the image's
//! repository without registry or tag (`docker.io/library/kong:3.8` is
//! `kong`). It does not pick images and does not change explicit ports.

use super::Probe;

/// What a well-known image listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownImage {
    /// The repository as matched, e.g. `kong`.
    pub repository: &'static str,
    pub port_name: &'static str,
    pub port: u32,
    pub probe: Probe,
}

const KNOWN: &[KnownImage] = &[
    known("kong", "proxy", 8000, Probe::Tcp),
    known("kong/kong-gateway", "proxy", 8000, Probe::Tcp),
    known("prom/prometheus", "http", 9090, Probe::Http("/-/ready")),
    known("prom/alertmanager", "http", 9093, Probe::Http("/-/ready")),
    known("grafana/loki", "http", 3100, Probe::Http("/ready")),
    known("grafana/tempo", "http", 3200, Probe::Http("/ready")),
    known("jaegertracing/all-in-one", "http", 16686, Probe::Http("/")),
    known(
        "hashicorp/vault",
        "http",
        8200,
        Probe::Http("/v1/sys/health?standbyok=true"),
    ),
    known("hashicorp/consul", "http", 8500, Probe::Http("/v1/status/leader")),
    known("gitea/gitea", "http", 3000, Probe::Tcp),
    known("metabase/metabase", "http", 3000, Probe::Http("/api/health")),
    known("n8nio/n8n", "http", 5678, Probe::Http("/healthz")),
    known("ghost", "http", 2368, Probe::Tcp),
    known("mailhog/mailhog", "http", 8025, Probe::Tcp),
    known("axllent/mailpit", "http", 8025, Probe::Http("/readyz")),
    known("adminer", "http", 8080, Probe::Tcp),
    known("quay.io/keycloak/keycloak", "http", 8080, Probe::Tcp),
    known("nginxinc/nginx-unprivileged", "http", 8080, Probe::Tcp),
    known("traefik", "web", 8000, Probe::Tcp),
    known("minio/console", "http", 9090, Probe::Tcp),
    known("registry", "http", 5000, Probe::Tcp),
];

const fn known(repository: &'static str, port_name: &'static str, port: u32, probe: Probe) -> KnownImage {
    KnownImage {
        repository,
        port_name,
        port,
        probe,
    }
}

/// The well-known image `image` is, if any.
pub fn known_image(image: &str) -> Option<KnownImage> {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    KNOWN.iter().copied().find(|k| k.repository == repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_serves_on_8000_whatever_the_registry_or_tag() {
        for image in ["kong:3.8", "docker.io/library/kong:3.8.0", "kong@sha256:abc"] {
            assert_eq!(known_image(image).map(|k| k.port), Some(8000), "{image}");
        }
        assert_eq!(known_image("acme/kong:1.0"), None);
        assert_eq!(known_image("prom/prometheus:v3.0.1").map(|k| k.port), Some(9090));
    }
}
