//! A loopback Kubernetes API server: real HTTP (axum) on `127.0.0.1:0`,
//! reached through a generated kubeconfig (`server: http://127.0.0.1:PORT`).
//!
//! It speaks the REST protocol for exactly the calls `gitintent drift` and
//! `plan --cluster` make: discovery (`/api`, `/apis`, `/api/v1`,
//! `/apis/GROUP/VERSION`), get of one object, list with `labelSelector`,
//! and server-side apply as a dry run (`PATCH` with
//! `application/apply-patch+yaml`, `dryRun=All`, `fieldManager=gitintent`).
//! It checks the bearer token (401), the method (405), content types (415:
//! none on a GET, apply-patch on a PATCH), the query parameters (400 for
//! anything unexpected, and for a PATCH that is not a dry run), the body of
//! a PATCH (400 unless it is the named object), and the paths (404 naming
//! the path). Every request is recorded; every refused one also in
//! `rejected`, which tests assert is empty.
//!
//! It is not a cluster: it does not default, validate or reconcile anything.
//! Tests give it the live objects, server-set fields included.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// The bearer token the generated kubeconfig carries.
pub(crate) const TOKEN: &str = "loopback-token";

/// `(group/version, plural, kind, namespaced)` of every served resource.
const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("v1", "namespaces", "Namespace", false),
    ("v1", "services", "Service", true),
    ("v1", "configmaps", "ConfigMap", true),
    ("v1", "serviceaccounts", "ServiceAccount", true),
    ("apps/v1", "deployments", "Deployment", true),
    ("apps/v1", "statefulsets", "StatefulSet", true),
    (
        "autoscaling/v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
    ),
    ("networking.k8s.io/v1", "ingresses", "Ingress", true),
    ("batch/v1", "cronjobs", "CronJob", true),
];

#[derive(Default)]
struct Inner {
    /// (group/version, plural, namespace, name) -> object.
    objects: BTreeMap<(String, String, Option<String>, String), Value>,
    /// Plurals whose get and list answer 403.
    forbidden: BTreeSet<String>,
    /// (plural, name) -> the Status a dry-run apply answers (an admission denial).
    denials: BTreeMap<(String, String), Value>,
    requests: Vec<String>,
    rejected: Vec<String>,
}

/// A running loopback API server.
pub(crate) struct KubeApi {
    pub(crate) url: String,
    inner: Arc<Mutex<Inner>>,
}

fn plural_of(api_version: &str, kind: &str) -> Option<(&'static str, bool)> {
    RESOURCES
        .iter()
        .find(|(gv, _, k, _)| *gv == api_version && *k == kind)
        .map(|(_, p, _, n)| (*p, *n))
}

impl KubeApi {
    /// Starts the server on `127.0.0.1:0`.
    pub(crate) async fn start() -> KubeApi {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        KubeApi { url, inner }
    }

    /// Stores a live object (apiVersion, kind, metadata.name and, for
    /// namespaced kinds, metadata.namespace must be set).
    pub(crate) fn put(&self, object: Value) {
        let gv = object["apiVersion"].as_str().unwrap().to_string();
        let kind = object["kind"].as_str().unwrap();
        let (plural, namespaced) = plural_of(&gv, kind).expect("a served kind");
        let ns = namespaced.then(|| object["metadata"]["namespace"].as_str().unwrap().to_string());
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        self.inner
            .lock()
            .unwrap()
            .objects
            .insert((gv, plural.to_string(), ns, name), object);
    }

    /// Makes get and list of `plural` answer 403, as RBAC would.
    pub(crate) fn forbid(&self, plural: &str) {
        self.inner.lock().unwrap().forbidden.insert(plural.to_string());
    }

    /// Makes a dry-run apply of `plural/name` answer `code` with `message`,
    /// as a validating admission webhook would.
    pub(crate) fn deny(&self, plural: &str, name: &str, code: u16, message: &str) {
        let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": if code == 422 { "Invalid" } else { "BadRequest" }, "code": code});
        self.inner
            .lock()
            .unwrap()
            .denials
            .insert((plural.to_string(), name.to_string()), body);
    }

    /// Every request seen, as `GET /path?query`.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Every request refused for a bad path, method, query, token or content type.
    pub(crate) fn rejected(&self) -> Vec<String> {
        self.inner.lock().unwrap().rejected.clone()
    }

    /// A kubeconfig file for this server, with context `loop` (namespace
    /// `default`) and a second context `other` that points nowhere.
    pub(crate) fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: loop\n  cluster:\n    server: {}\n\
                 contexts:\n- name: loop\n  context:\n    cluster: loop\n    user: loop\n    namespace: default\n\
                 current-context: loop\nusers:\n- name: loop\n  user:\n    token: {TOKEN}\n",
                self.url
            ),
        )
        .unwrap();
        path
    }
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn resource_list(gv: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|(g, ..)| *g == gv)
        .map(|(_, plural, kind, namespaced)| {
            json!({"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind,
                   "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn selector_matches(selector: &str, object: &Value) -> bool {
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => object["metadata"]["labels"][k].as_str() == Some(v),
        None => object["metadata"]["labels"].get(term).is_some(),
    })
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let line = format!(
        "{} {path}{}",
        req.method(),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    );
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let req = Request::from_parts(parts, ());
    let mut state = inner.lock().unwrap();
    state.requests.push(line.clone());
    let response = route(&state, &req, &body, &path, &query);
    if response.headers().contains_key("x-rejected") {
        state.rejected.push(format!("{line} -> {}", response.status()));
    }
    response
}

fn reject(code: StatusCode, message: String) -> Response {
    let mut r = status(code, "BadRequest", message);
    r.headers_mut().insert("x-rejected", "1".parse().unwrap());
    r
}

fn route(state: &Inner, req: &Request<()>, body: &[u8], path: &str, query: &str) -> Response {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return reject(StatusCode::UNAUTHORIZED, "missing or wrong bearer token".into());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if *req.method() == Method::PATCH {
        if content_type != Some("application/apply-patch+yaml") {
            return reject(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("only server-side apply is served, got {content_type:?}"),
            );
        }
    } else if *req.method() != Method::GET {
        return reject(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not served", req.method()),
        );
    } else if let Some(ct) = content_type {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("a GET carries no body, got {ct:?}"),
        );
    }
    let params: Vec<(String, String)> = url_decode_pairs(query);
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Discovery.
    let (gv, rest): (String, &[&str]) = match segs.as_slice() {
        ["api"] => {
            return ok(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
        }
        ["apis"] => {
            let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (gv, ..) in RESOURCES {
                if let Some((g, v)) = gv.split_once('/') {
                    groups.entry(g).or_default().push(v);
                }
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|(g, vs)| {
                    let versions: Vec<Value> = vs
                        .iter()
                        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                        .collect();
                    json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
                })
                .collect();
            return ok(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        ["api", v, rest @ ..] => (v.to_string(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return reject(StatusCode::NOT_FOUND, format!("no route for {path}")),
    };
    if !RESOURCES.iter().any(|(g, ..)| *g == gv) {
        return reject(StatusCode::NOT_FOUND, format!("group-version {gv} is not served"));
    }
    if rest.is_empty() {
        if !params.is_empty() {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("discovery takes no query, got {query:?}"),
            );
        }
        return ok(resource_list(&gv));
    }
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(ns.to_string()), *plural, None),
        ["namespaces", ns, plural, name] => (Some(ns.to_string()), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return reject(StatusCode::NOT_FOUND, format!("no route for {path}")),
    };
    let Some((_, _, kind, namespaced)) = RESOURCES.iter().find(|(g, p, ..)| *g == gv && *p == plural) else {
        return reject(StatusCode::NOT_FOUND, format!("{plural} is not served in {gv}"));
    };
    if *namespaced != namespace.is_some() && name.is_some() {
        return reject(
            StatusCode::NOT_FOUND,
            format!("{plural} is {}namespaced", if *namespaced { "" } else { "not " }),
        );
    }
    if state.forbidden.contains(plural) {
        let verb = if name.is_some() { "get" } else { "list" };
        let group = gv.split_once('/').map(|(g, _)| g).unwrap_or("");
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        let subject = name.map(|n| format!("{qualified} \"{n}\"")).unwrap_or(qualified);
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{subject} is forbidden: User \"system:serviceaccount:gitintent:drift\" cannot {verb} resource \"{plural}\" in API group \"{group}\"{}",
                namespace.as_ref().map(|n| format!(" in the namespace \"{n}\"")).unwrap_or_default()
            ),
        );
    }
    if *req.method() == Method::PATCH {
        let Some(name) = name else {
            return reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "PATCH needs an object name".into(),
            );
        };
        let mut expected = vec![
            ("dryRun".to_string(), "All".to_string()),
            ("fieldManager".to_string(), "gitintent".to_string()),
            ("fieldValidation".to_string(), "Strict".to_string()),
        ];
        let mut got = params.clone();
        got.sort();
        expected.sort();
        if got != expected {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("apply must be a strict dry run by gitintent, got {query:?}"),
            );
        }
        // JSON is YAML: kube sends the apply patch as JSON.
        let Ok(object) = serde_json::from_slice::<Value>(body) else {
            return reject(StatusCode::BAD_REQUEST, "the apply body is not an object".into());
        };
        if object["kind"] != **kind || object["apiVersion"] != gv || object["metadata"]["name"] != name {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("the body does not describe {plural}/{name}"),
            );
        }
        if let Some(denial) = state.denials.get(&(plural.to_string(), name.to_string())) {
            let code = StatusCode::from_u16(denial["code"].as_u64().unwrap() as u16).unwrap();
            return (
                code,
                [(header::CONTENT_TYPE, "application/json")],
                denial.to_string(),
            )
                .into_response();
        }
        let mut accepted = object;
        accepted["metadata"]["uid"] = "dry-run-uid".into();
        return ok(accepted);
    }
    match name {
        Some(name) => {
            if !params.is_empty() {
                return reject(
                    StatusCode::BAD_REQUEST,
                    format!("get takes no query, got {query:?}"),
                );
            }
            match state.objects.get(&(
                gv.clone(),
                plural.to_string(),
                namespace.clone(),
                name.to_string(),
            )) {
                Some(obj) => ok(obj.clone()),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("{plural} \"{name}\" not found"),
                ),
            }
        }
        None => {
            let mut selector = None;
            for (k, v) in &params {
                match k.as_str() {
                    "labelSelector" => selector = Some(v.clone()),
                    other => {
                        return reject(
                            StatusCode::BAD_REQUEST,
                            format!("unexpected list parameter {other:?}"),
                        )
                    }
                }
            }
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|((g, p, ns, _), obj)| {
                    *g == gv
                        && p == plural
                        && (namespace.is_none() || *ns == namespace)
                        && selector.as_deref().is_none_or(|s| selector_matches(s, obj))
                })
                .map(|(_, obj)| obj.clone())
                .collect();
            ok(
                json!({"kind": format!("{kind}List"), "apiVersion": gv, "metadata": {"resourceVersion": "100"}, "items": items}),
            )
        }
    }
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
