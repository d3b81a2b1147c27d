//! The live side, through kube: connect, discover the declared kinds, get
//! each declared object and list the Git-tracked ones.
//!
//! Calls made (and nothing else): `GET /api/v1` or `GET /apis/GROUP/VERSION`
//! once per declared group-version (discovery), `GET` of each declared
//! object, and one `GET` list with `labelSelector` per declared kind and
//! namespace. Never writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersion;
use kube::discovery::{self, ApiResource, Scope};
use kube::{Client, Config};
use serde_json::Value;

use super::declared::{str_at, Declared};
use super::Error;

/// Label selector of the objects gitintent tracks (the renderer puts this
/// label on everything it writes). An object that matches it in a declared
/// kind and namespace but is absent from Git is reported as extra.
pub const DEFAULT_SELECTOR: &str = "app.kubernetes.io/managed-by=gitintent";

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// A kubeconfig file; default `$KUBECONFIG` or `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; default its current context.
    pub context: Option<String>,
    /// Label selector of the Git-tracked objects (extra detection).
    pub selector: String,
    /// Bound on the whole cluster conversation (connect timeout is the
    /// smaller of this and 10 s).
    pub timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            kubeconfig: None,
            context: None,
            selector: DEFAULT_SELECTOR.to_string(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A connected (not yet contacted) cluster.
pub struct Cluster {
    pub(super) client: Client,
    server: String,
    pub(super) default_namespace: String,
    pub(super) timeout: Duration,
}

/// What the cluster holds for one declared resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Live {
    Found(Value),
    NotFound,
    /// The server refused or failed (e.g. 403 from RBAC); the message says why.
    Failed(String),
}

/// (apiVersion, kind, namespace) -> declared names, for the lists.
type Tracked = BTreeMap<(String, String, Option<String>), BTreeSet<String>>;

/// Discovery's answer per `apiVersion/kind`: the resource and whether it is
/// namespaced, or why the server does not serve it.
type Kinds = HashMap<String, Result<(ApiResource, bool), String>>;

/// Everything read from the cluster.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Parallel to the declared resources: effective namespace and live state.
    pub(crate) live: Vec<(Option<String>, Live)>,
    /// Tracked objects absent from Git.
    pub(crate) extras: Vec<Value>,
    /// Lists that failed (kind, namespace, reason).
    pub(crate) warnings: Vec<String>,
}

fn check_selector(selector: &str) -> Result<(), Error> {
    let ok_word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
    };
    let ok = !selector.is_empty()
        && selector.split(',').all(|term| {
            let term = term.trim();
            if let Some((k, v)) = term
                .split_once("!=")
                .or_else(|| term.split_once("=="))
                .or_else(|| term.split_once('='))
            {
                ok_word(k.trim()) && (v.trim().is_empty() || ok_word(v.trim()))
            } else {
                ok_word(term.strip_prefix('!').unwrap_or(term))
            }
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Selector(selector.to_string()))
    }
}

/// True when some cause in the chain is a timeout.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let io_timeout = err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        if io_timeout || err.to_string().ends_with("timed out") {
            return true;
        }
        next = err.source();
    }
    false
}

/// The whole cause chain of an error, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        source = s.source();
    }
    msg
}

impl Cluster {
    /// Loads the kubeconfig (or in-cluster config) and builds a client. No
    /// request is made yet.
    pub async fn connect(options: &ClusterOptions) -> Result<Cluster, Error> {
        check_selector(&options.selector)?;
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let bad = |e: &dyn std::error::Error| Error::Kubeconfig(chain(e));
        let mut config = match (&options.kubeconfig, &options.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                    Error::Kubeconfig(format!("cannot read {}: {}", path.display(), chain(&e)))
                })?;
                check_context(
                    &kubeconfig,
                    options.context.as_deref(),
                    &path.display().to_string(),
                )?;
                Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                    .await
                    .map_err(|e| bad(&e))?
            }
            (None, Some(_)) => {
                let kubeconfig = Kubeconfig::read().map_err(|e| bad(&e))?;
                check_context(&kubeconfig, options.context.as_deref(), "the kubeconfig")?;
                Config::from_kubeconfig(&kube_options)
                    .await
                    .map_err(|e| bad(&e))?
            }
            (None, None) => Config::infer().await.map_err(|e| bad(&e))?,
        };
        config.connect_timeout = Some(options.timeout.min(Duration::from_secs(10)));
        config.read_timeout = Some(options.timeout);
        let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let default_namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|e| bad(&e))?;
        Ok(Cluster {
            client,
            server,
            default_namespace,
            timeout: options.timeout,
        })
    }

    /// The API server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Reads the live state of every declared resource, and the tracked
    /// objects absent from Git, within the configured timeout.
    pub(crate) async fn observe(&self, declared: &[Declared], selector: &str) -> Result<Observed, Error> {
        match tokio::time::timeout(self.timeout, self.observe_all(declared, selector)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                server: self.server.clone(),
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    /// A transport fault: a read or connect timeout (the server accepted
    /// but stayed silent) is [`Error::Timeout`], anything else
    /// [`Error::Unreachable`].
    pub(super) fn transport(&self, e: &kube::Error) -> Error {
        if timed_out(e) {
            return Error::Timeout {
                server: self.server.clone(),
                seconds: self.timeout.as_secs(),
            };
        }
        Error::Unreachable {
            server: self.server.clone(),
            message: chain(e),
        }
    }

    async fn observe_all(&self, declared: &[Declared], selector: &str) -> Result<Observed, Error> {
        let mut kinds = Kinds::new();
        let mut observed = Observed::default();
        let tracked = self.get_declared(declared, &mut kinds, &mut observed).await?;
        for (key, names) in tracked {
            let Some(Ok((resource, _))) = kinds.get(&format!("{}/{}", key.0, key.1)) else {
                continue;
            };
            self.list_extras(resource, &key, &names, selector, &mut observed)
                .await?;
        }
        Ok(observed)
    }

    /// Gets every declared object (discovering each kind once, into `kinds`)
    /// into `observed.live`, in declared order; returns the names each list
    /// for extra objects must skip.
    async fn get_declared(
        &self,
        declared: &[Declared],
        kinds: &mut Kinds,
        observed: &mut Observed,
    ) -> Result<Tracked, Error> {
        let mut groups: HashMap<String, Result<discovery::ApiGroup, String>> = HashMap::new();
        let mut tracked = Tracked::new();
        for d in declared {
            let key = format!("{}/{}", d.api_version(), d.kind());
            if !kinds.contains_key(&key) {
                let resolved = self.resolve(&mut groups, d.api_version(), d.kind()).await?;
                kinds.insert(key.clone(), resolved);
            }
            let (resource, namespaced) = match &kinds[&key] {
                Ok(found) => found.clone(),
                Err(reason) => {
                    observed
                        .live
                        .push((d.namespace.clone(), Live::Failed(reason.clone())));
                    continue;
                }
            };
            let namespace = namespaced.then(|| {
                d.namespace
                    .clone()
                    .unwrap_or_else(|| self.default_namespace.clone())
            });
            let live = self.get(&resource, namespace.as_deref(), d.name()).await?;
            tracked
                .entry((
                    d.api_version().to_string(),
                    d.kind().to_string(),
                    namespace.clone(),
                ))
                .or_default()
                .insert(d.name().to_string());
            observed.live.push((namespace, live));
        }
        Ok(tracked)
    }

    /// One object by name: found, not found, or unreadable (the API's refusal).
    async fn get(&self, resource: &ApiResource, namespace: Option<&str>, name: &str) -> Result<Live, Error> {
        match self.api(resource, namespace).get_opt(name).await {
            Ok(Some(obj)) => Ok(Live::Found(serde_json::to_value(&obj).unwrap_or(Value::Null))),
            Ok(None) => Ok(Live::NotFound),
            Err(kube::Error::Api(status)) => Ok(Live::Failed(format!(
                "get {} {name}: {} {}: {}",
                resource.plural, status.code, status.reason, status.message
            ))),
            Err(e) => Err(self.transport(&e)),
        }
    }

    /// Lists the tracked objects (by `selector`) of one kind and namespace
    /// into `observed.extras`, skipping the declared `names` and owned
    /// objects; a refused list is a warning.
    async fn list_extras(
        &self,
        resource: &ApiResource,
        (api_version, kind, namespace): &(String, String, Option<String>),
        names: &BTreeSet<String>,
        selector: &str,
        observed: &mut Observed,
    ) -> Result<(), Error> {
        let api = self.api(resource, namespace.as_deref());
        match api.list(&ListParams::default().labels(selector)).await {
            Ok(list) => {
                for obj in list.items {
                    let owned = obj
                        .metadata
                        .owner_references
                        .as_ref()
                        .is_some_and(|o| !o.is_empty());
                    let name = obj.metadata.name.clone().unwrap_or_default();
                    if owned || names.contains(&name) {
                        continue;
                    }
                    let mut value = serde_json::to_value(&obj).unwrap_or(Value::Null);
                    if let Some(map) = value.as_object_mut() {
                        map.insert("apiVersion".into(), api_version.clone().into());
                        map.insert("kind".into(), kind.clone().into());
                    }
                    observed.extras.push(value);
                }
            }
            Err(kube::Error::Api(status)) => observed.warnings.push(format!(
                "cannot list {}{} to find extra objects: {} {}: {}",
                resource.plural,
                namespace
                    .as_ref()
                    .map(|n| format!(" in namespace {n}"))
                    .unwrap_or_default(),
                status.code,
                status.reason,
                status.message
            )),
            Err(e) => return Err(self.transport(&e)),
        }
        Ok(())
    }

    /// The dynamic API of `resource`, in `namespace` or cluster-wide.
    pub(super) fn api(&self, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, resource),
            None => Api::all_with(self.client.clone(), resource),
        }
    }

    /// Discovery of one kind: `Ok(Err(reason))` when the server answered
    /// but does not serve it.
    pub(super) async fn resolve(
        &self,
        groups: &mut HashMap<String, Result<discovery::ApiGroup, String>>,
        api_version: &str,
        kind: &str,
    ) -> Result<Result<(ApiResource, bool), String>, Error> {
        if !groups.contains_key(api_version) {
            let group = match api_version.parse::<GroupVersion>() {
                Err(e) => Err(format!("invalid apiVersion {api_version:?}: {e}")),
                Ok(gv) => match discovery::pinned_group(&self.client, &gv).await {
                    Ok(group) => Ok(group),
                    Err(kube::Error::Api(status)) => Err(format!(
                        "discovery of {api_version}: {} {}: {}",
                        status.code, status.reason, status.message
                    )),
                    Err(e @ (kube::Error::Discovery(_) | kube::Error::SerdeError(_))) => {
                        Err(format!("discovery of {api_version}: {}", chain(&e)))
                    }
                    Err(e) => return Err(self.transport(&e)),
                },
            };
            groups.insert(api_version.to_string(), group);
        }
        Ok(match &groups[api_version] {
            Err(reason) => Err(reason.clone()),
            Ok(group) => group
                .recommended_kind(kind)
                .map(|(ar, caps)| (ar, caps.scope == Scope::Namespaced))
                .ok_or_else(|| format!("the server does not serve {kind} in {api_version}")),
        })
    }
}

fn check_context(kubeconfig: &Kubeconfig, context: Option<&str>, source: &str) -> Result<(), Error> {
    let Some(context) = context else {
        return Ok(());
    };
    if kubeconfig.contexts.iter().any(|c| c.name == context) {
        return Ok(());
    }
    let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
    Err(Error::Kubeconfig(format!(
        "context {context:?} not found in {source} (known: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// `(apiVersion, kind, namespace, name)` of a live object.
pub(crate) fn identity(v: &Value) -> (String, String, Option<String>, String) {
    let s = |p: &[&str]| str_at(v, p).unwrap_or_default().to_string();
    (
        s(&["apiVersion"]),
        s(&["kind"]),
        str_at(v, &["metadata", "namespace"]).map(str::to_string),
        s(&["metadata", "name"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_checked() {
        for ok in [DEFAULT_SELECTOR, "a=b,c!=d", "!x", "team", "a==b"] {
            assert!(check_selector(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a=b&c=d", "a=b c", "a=(x)"] {
            assert!(check_selector(bad).is_err(), "{bad}");
        }
    }
}
