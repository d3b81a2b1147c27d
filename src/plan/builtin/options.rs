//! The plain phrasings of the spec's pod, Service and RBAC options, read
//! before the rest of the intent and cut out of it so no other reader sees
//! their words:
//! - "running `python manage.py migrate`" (quoted), "with command X and args Y"
//! - "on nodes labelled gpu=true"
//! - "tolerating the dedicated=batch taint"
//! - "mount the app-config ConfigMap at /etc/app" (also a Secret or a claim)
//! - "a NodePort service on 30080", "a LoadBalancer service", "a headless service"
//! - "a Role that can get and list pods" (also a ClusterRole)
//!
//! Each phrase must be whole; a phrase that starts like one of these but
//! cannot be read (an unknown resource, a verb outside RBAC's) is refused
//! with what was understood, never half-applied.

use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

use crate::plan::Error;
use crate::spec::{
    Component, KeyValue, KindChoice, PodOptions, Protocol, Rbac, RbacRule, ServiceOptions, ServicePort,
    ServiceType, Toleration, TolerationOperator, Verb, Volume, VolumeSource, WorkloadOptions,
};

/// What the option phrases asked for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Options {
    pod: PodOptions,
    service: Option<(ServiceType, Option<u32>)>,
    rbac: Option<Rbac>,
    /// "for the pods labelled app=x": a Service over pods no workload of ours runs.
    selector: Vec<KeyValue>,
    /// What was read, for the error of a refused intent.
    pub(super) understood: Vec<String>,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the option patterns compile")
}

/// A quoted text (backticks or double quotes) or one bare word.
const VALUE: &str = r#"(?:`([^`]+)`|"([^"]+)"|([^\s,`"]+))"#;

/// Only a quoted text (the third alternative never matches), so "that runs
/// acme/backup:1.2" stays an image.
const QUOTED: &str = r#"(?:`([^`]+)`|"([^"]+)"|()\b\B)"#;

static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:running|that runs|which runs)\s+{QUOTED}(?:\s+(?:and|with)\s+(?:the\s+)?(?:args|arguments)\s+{VALUE})?"
    ))
});
static WITH_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\bwith (?:the )?command\s+{VALUE}(?:\s+(?:and|with)\s+(?:the\s+)?(?:args|arguments)\s+{VALUE})?"
    ))
});
static NODES: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\bon (?:the )?nodes? (?:labell?ed|with (?:the )?label) ([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)")
});
static TAINT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\btolerat(?:ing|es?) (?:the )?([A-Za-z0-9./_-]+?)(?:=([A-Za-z0-9._-]+))? taint")
});
static MOUNT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bmount(?:ing|s)? (?:the )?([a-z0-9-]+) (configmap|config map|secret|pvc|claim|volume claim|persistent volume claim) (?:at|on|under|into) (/[^\s,]*)",
    )
});
static SERVICE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:with |behind |and )?(?:an? )?(node ?port|load ?balancer|headless) service(?: (?:on|at) (?:node ?port |port )?(\d+))?",
    )
});
static SELECTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:for|selecting|over|to|in front of) (?:the )?(?:existing |running )?pods (?:labell?ed|with (?:the )?labels?) ([A-Za-z0-9./_-]+=[A-Za-z0-9._-]*(?:(?:\s*,\s*|\s+and\s+)[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*)*)",
    )
});
static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:with |and )?(?:an? )?(cluster ?role|role) (?:that|which) (?:can|may) ([a-z, ]+?) ((?:[a-z/]+)(?:(?:, | and | or |,)[a-z/]+)*)(?: in |[,.]|$)",
    )
});

/// Reads and removes every option phrase; the rest of the text is returned.
pub(super) fn extract(text: &str) -> Result<(String, Options), Error> {
    let mut o = Options::default();
    let mut rest = text.to_string();
    cut(&mut rest, &COMMAND, |c| command(c, &mut o))?;
    cut(&mut rest, &WITH_COMMAND, |c| command(c, &mut o))?;
    cut(&mut rest, &NODES, |c| nodes(c, &mut o))?;
    cut(&mut rest, &TAINT, |c| taint(c, &mut o))?;
    cut(&mut rest, &MOUNT, |c| mount(c, &mut o))?;
    cut(&mut rest, &SELECTED, |c| selected(c, &mut o))?;
    cut(&mut rest, &SERVICE, |c| service(c, &mut o))?;
    cut(&mut rest, &ROLE, |c| role(c, &mut o))?;
    Ok((rest, o))
}

/// Runs `read` on every match and blanks it out of `text`.
fn cut(
    text: &mut String,
    pattern: &Regex,
    mut read: impl FnMut(&Captures) -> Result<(), String>,
) -> Result<(), Error> {
    let mut spans = Vec::new();
    for c in pattern.captures_iter(text) {
        read(&c).map_err(|reason| Error::NotUnderstood {
            reason,
            understood: Vec::new(),
        })?;
        if let Some(m) = c.get(0) {
            spans.push(m.range());
        }
    }
    for r in spans.into_iter().rev() {
        text.replace_range(r, " ");
    }
    Ok(())
}

/// The value of the `n`th [`VALUE`] group (3 alternatives each).
fn value(c: &Captures, n: usize) -> Option<String> {
    (1 + 3 * n..4 + 3 * n)
        .find_map(|i| c.get(i))
        .map(|m| m.as_str().to_string())
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn command(c: &Captures, o: &mut Options) -> Result<(), String> {
    let cmd = value(c, 0).ok_or("a command was named but not given")?;
    o.pod.command = words(&cmd);
    o.understood.push(format!("command: {cmd}"));
    if let Some(args) = value(c, 1) {
        o.pod.args = words(&args);
        o.understood.push(format!("args: {args}"));
    }
    Ok(())
}

fn nodes(c: &Captures, o: &mut Options) -> Result<(), String> {
    let (key, value) = (&c[1], &c[2]);
    o.pod.node_selector.push(KeyValue {
        key: key.to_string(),
        value: value.to_string(),
    });
    o.understood.push(format!("nodes labelled {key}={value}"));
    Ok(())
}

fn taint(c: &Captures, o: &mut Options) -> Result<(), String> {
    let key = c[1].to_string();
    let value = c.get(2).map(|m| m.as_str().to_string());
    o.understood.push(format!(
        "tolerates the {} taint",
        c.get(0).map_or("", |m| m.as_str())
    ));
    o.pod.tolerations.push(Toleration {
        key: Some(key),
        operator: if value.is_some() {
            TolerationOperator::Equal
        } else {
            TolerationOperator::Exists
        },
        value,
        effect: None,
        toleration_seconds: None,
    });
    Ok(())
}

fn mount(c: &Captures, o: &mut Options) -> Result<(), String> {
    let (name, kind, path) = (&c[1], c[2].to_ascii_lowercase(), &c[3]);
    let source = match kind.as_str() {
        "configmap" | "config map" => VolumeSource::ConfigMap,
        "secret" => VolumeSource::Secret,
        _ => VolumeSource::Claim,
    };
    let volume = if o.pod.volumes.iter().any(|v| v.name == name) {
        format!("{name}-{}", o.pod.volumes.len())
    } else {
        name.to_string()
    };
    o.pod.volumes.push(Volume {
        name: volume,
        source,
        from: Some(name.to_string()),
        mount_path: path.to_string(),
        sub_path: None,
        read_only: source != VolumeSource::Claim,
    });
    o.understood.push(format!("mount {name} ({kind}) at {path}"));
    Ok(())
}

fn service(c: &Captures, o: &mut Options) -> Result<(), String> {
    let kind = match c[1].to_ascii_lowercase().replace(' ', "").as_str() {
        "nodeport" => ServiceType::NodePort,
        "loadbalancer" => ServiceType::LoadBalancer,
        _ => ServiceType::Headless,
    };
    let port = match c.get(2) {
        Some(p) => Some(
            p.as_str()
                .parse::<u32>()
                .map_err(|_| format!("{:?} is not a port", p.as_str()))?,
        ),
        None => None,
    };
    if o.service.is_some() {
        return Err("two Service types were asked for one component".into());
    }
    o.understood.push(format!("a {} service", kind.as_k8s()));
    o.service = Some((kind, port));
    Ok(())
}

fn selected(c: &Captures, o: &mut Options) -> Result<(), String> {
    for pair in c[1].split([',', ' ']).filter(|p| p.contains('=')) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        o.selector.push(KeyValue {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    o.understood
        .push(format!("a Service over the pods labelled {}", &c[1]));
    Ok(())
}

/// Resources a Role may name, with their API group.
const RESOURCES: &[(&str, &str)] = &[
    ("pods", ""),
    ("pods/log", ""),
    ("services", ""),
    ("endpoints", ""),
    ("configmaps", ""),
    ("secrets", ""),
    ("events", ""),
    ("persistentvolumeclaims", ""),
    ("namespaces", ""),
    ("nodes", ""),
    ("serviceaccounts", ""),
    ("deployments", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("replicasets", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("ingresses", "networking.k8s.io"),
];

fn role(c: &Captures, o: &mut Options) -> Result<(), String> {
    let cluster_wide = c[1].to_ascii_lowercase().starts_with("cluster");
    let list = |s: &str| -> Vec<String> {
        s.split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty() && !matches!(*w, "and" | "or"))
            .map(str::to_string)
            .collect()
    };
    let verbs: Vec<Verb> = list(&c[2])
        .iter()
        .map(|v| {
            Verb::from_k8s(v).ok_or_else(|| {
                format!("{v:?} is not an RBAC verb (get, list, watch, create, update, patch, delete)")
            })
        })
        .collect::<Result<_, _>>()?;
    let mut rules: Vec<RbacRule> = Vec::new();
    for r in list(&c[3]) {
        let (resource, group) = RESOURCES
            .iter()
            .find(|(name, _)| *name == r || name.strip_suffix('s') == Some(r.as_str()))
            .ok_or_else(|| format!("{r:?} is not a resource the builtin planner knows for a Role"))?;
        match rules.iter_mut().find(|rule| rule.api_groups == [*group]) {
            Some(rule) => rule.resources.push(resource.to_string()),
            None => rules.push(RbacRule {
                api_groups: vec![group.to_string()],
                resources: vec![resource.to_string()],
                verbs: verbs.clone(),
                resource_names: Vec::new(),
            }),
        }
    }
    o.understood
        .push(format!("a {} that can {} {}", &c[1], c[2].trim(), &c[3]));
    o.rbac = Some(Rbac { cluster_wide, rules });
    Ok(())
}

/// The ports a Service in front of `comp` serves: its own, else its
/// archetype's.
fn service_ports(comp: &Component) -> Vec<(String, u32)> {
    if comp.ports.is_empty() {
        comp.archetype
            .defaults()
            .ports
            .iter()
            .map(|(n, p)| (n.to_string(), *p))
            .collect()
    } else {
        comp.ports.iter().map(|p| (p.name.clone(), p.port)).collect()
    }
}

/// The ports a Service over existing pods serves: those asked for (a data
/// store's draft lists all its default ports, so only the first), else the
/// archetype's first.
fn existing_ports(comp: &Component) -> Vec<(String, u32)> {
    if comp.ports.is_empty() {
        let d = comp.archetype.defaults().ports;
        return d.iter().take(1).map(|(n, p)| (n.to_string(), *p)).collect();
    }
    let asked = if comp.archetype.is_generic() {
        comp.ports.len()
    } else {
        1
    };
    comp.ports
        .iter()
        .take(asked)
        .map(|p| (p.name.clone(), p.port))
        .collect()
}

impl Options {
    /// Puts what was read on `comp`; a Service type needs a port.
    pub(super) fn apply(self, comp: &mut Component) -> Result<(), Error> {
        let refuse = |reason: String, understood: &[String]| Error::NotUnderstood {
            reason,
            understood: understood.to_vec(),
        };
        if !self.selector.is_empty() {
            return self.over_existing(comp);
        }
        if self.pod != PodOptions::default() {
            comp.pod = Some(self.pod);
        }
        comp.rbac = self.rbac;
        if let Some((kind, node_port)) = self.service {
            let Some((name, port)) = service_ports(comp).first().cloned() else {
                return Err(refuse(
                    format!(
                        "a {} service needs the port the workload listens on; say \"on port N\"",
                        kind.as_k8s()
                    ),
                    &self.understood,
                ));
            };
            if node_port.is_some() && kind == ServiceType::Headless {
                return Err(refuse(
                    "a headless service has no node port".into(),
                    &self.understood,
                ));
            }
            if comp.archetype == crate::spec::Archetype::Worker {
                comp.archetype = crate::spec::Archetype::WebService;
            }
            comp.service = Some(ServiceOptions {
                kind,
                ports: vec![ServicePort {
                    name: name.clone(),
                    port,
                    target_port: Some(name),
                    node_port,
                    protocol: Protocol::Tcp,
                }],
                cluster_ip: None,
                selector: Vec::new(),
                external_name: None,
            });
        }
        Ok(())
    }

    /// The component becomes a Service over pods that already run: no
    /// workload, the ports it was given, the labels it selects.
    fn over_existing(self, comp: &mut Component) -> Result<(), Error> {
        let refuse = |reason: &str| Error::NotUnderstood {
            reason: reason.to_string(),
            understood: self.understood.clone(),
        };
        if self.pod != PodOptions::default() || self.rbac.is_some() {
            return Err(refuse(
                "a Service over existing pods runs no container: commands, mounts, placement and roles do not apply",
            ));
        }
        let ports = existing_ports(comp);
        if ports.is_empty() {
            return Err(refuse(
                "a Service over existing pods needs the port they listen on; say \"on port N\"",
            ));
        }
        let (kind, node_port) = self.service.unwrap_or((ServiceType::ClusterIp, None));
        let name = comp.name.clone();
        let exposure = comp.exposure.take();
        *comp = Component::new(&name, crate::spec::Archetype::WebService);
        comp.exposure = exposure;
        comp.workload = Some(WorkloadOptions {
            kind: Some(KindChoice::None),
            ..Default::default()
        });
        comp.service = Some(ServiceOptions {
            kind,
            ports: ports
                .into_iter()
                .enumerate()
                .map(|(i, (name, port))| ServicePort {
                    name,
                    port,
                    target_port: Some(port.to_string()),
                    node_port: node_port.filter(|_| i == 0),
                    protocol: Protocol::Tcp,
                })
                .collect(),
            cluster_ip: None,
            selector: self.selector,
            external_name: None,
        });
        Ok(())
    }

    /// True when a Service over existing pods was asked for (no workload,
    /// so no image is needed).
    pub(super) fn selects(&self) -> bool {
        !self.selector.is_empty()
    }

    /// True when no phrase was read.
    pub(super) fn is_empty(&self) -> bool {
        self.understood.is_empty()
    }
}
