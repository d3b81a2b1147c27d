//! Access: how a workload is reached besides an Ingress.
//!
//! [`allowed_from`] reads "only allow traffic from the frontend namespace"
//! (or "reachable only from namespaces web and jobs") into the namespaces a
//! NetworkPolicy lets in. It runs before the namespace reader, so "the
//! frontend namespace" there is never taken for the namespace to deploy
//! into. [`load_balancer`] reads "behind a LoadBalancer", "a load balancer"
//! and "type LoadBalancer". [`finish`] puts both, and a schedule's time
//! zone, on the built component. Nothing here renders or checks names
//! beyond sanitising them.

use std::ops::Range;

use super::draft::Draft;
use super::lexicon::Class;
use super::text::Words;
use crate::spec::{sanitize_name, Component, ServiceOptions, ServiceType, WorkloadKind};

/// Words that make "from X namespace" a restriction rather than a source.
const ALLOW: &[&str] = &[
    "allow",
    "allows",
    "allowed",
    "allowing",
    "only",
    "restrict",
    "restricted",
    "reachable",
    "accessible",
    "accept",
    "accepts",
    "permit",
    "limited",
];

/// The namespaces the intent lets in, claiming the words that said so.
pub(super) fn allowed_from(w: &mut Words) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..w.len() {
        if !w.free(i) || !w.is(i, &["from"]) {
            continue;
        }
        let Some(gate) = (i.saturating_sub(6)..i).find(|&k| w.is(k, ALLOW) && w.free(k)) else {
            continue;
        };
        let j = w.skip(i + 1, Class::Determiner, 2);
        let (names, end) = if w.is(j, Class::NamespaceNoun) {
            listed(w, j + 1, false)
        } else {
            listed(w, j, true)
        };
        if names.is_empty() {
            continue;
        }
        w.claim(gate..end);
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Names from `k` on, separated by "and", "or" or commas; with `noun`, the
/// list must end in "namespace(s)". Returns the names and the end of the
/// claimed words (empty when the shape does not match).
fn listed(w: &Words, mut k: usize, noun: bool) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    while names.len() < 5 && w.free(k) {
        let Ok(name) = sanitize_name(w.raw(k)) else { break };
        if w.is(k, Class::NamespaceNoun) || w.is(k, Class::Determiner) {
            break;
        }
        names.push(name);
        k += 1;
        if w.is(k, &["and", "or", "&"]) {
            k += 1;
        } else if !w.pause(k - 1) || w.is(k, Class::NamespaceNoun) {
            break;
        }
    }
    if noun {
        if !w.is(k, Class::NamespaceNoun) {
            return (Vec::new(), k);
        }
        k += 1;
    }
    (names, k)
}

/// Reads a request for a cloud load balancer in front of the Service.
pub(super) fn load_balancer(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let len = if w.is(
            i,
            &["loadbalancer", "load-balancer", "load-balanced", "nlb", "elb"],
        ) {
            1
        } else if w.phrase(i, &["load", "balancer"]) || w.phrase(i, &["load", "balanced"]) {
            2
        } else {
            continue;
        };
        let mut start = i;
        while start > r.start
            && w.free(start - 1)
            && w.is(
                start - 1,
                &[
                    "a", "an", "the", "behind", "via", "through", "with", "type", "external", "cloud",
                    "public", "network", "service", "of",
                ],
            )
        {
            start -= 1;
        }
        w.claim(start..i + len);
        d.load_balancer = true;
        return;
    }
}

/// Puts what this module read, and the schedule's zone, on the component.
pub(super) fn finish(d: &mut Draft, c: &mut Component, allowed: &[String]) {
    let workload = c.archetype.workload();
    let batch = matches!(workload, WorkloadKind::CronJob | WorkloadKind::Job);
    if d.load_balancer {
        if batch || c.archetype == crate::spec::Archetype::Worker {
            d.questions.push(format!(
                "{} has no Service, so the load balancer asked for was not used",
                c.name
            ));
        } else {
            let service = c.service.get_or_insert(ServiceOptions {
                kind: ServiceType::ClusterIp,
                ports: Vec::new(),
                cluster_ip: None,
                selector: Vec::new(),
                external_name: None,
            });
            if service.kind == ServiceType::ClusterIp {
                service.kind = ServiceType::LoadBalancer;
            }
            d.assumptions.push(format!(
                "{} gets a Service of type LoadBalancer: the cloud provider gives it an address outside the cluster",
                c.name
            ));
        }
    }
    if let Some(zone) = d.time_zone.take() {
        if c.schedule.is_some() {
            c.batch.get_or_insert_with(Default::default).time_zone = Some(zone);
        } else {
            d.questions.push(format!(
                "the time zone {zone} was not used: {} has no schedule",
                c.name
            ));
        }
    }
    if !allowed.is_empty() && !batch {
        c.allow_from_namespaces = allowed.to_vec();
        d.assumptions.push(format!(
            "a NetworkPolicy lets only pods in namespace(s) {} connect to {}; other pods, in its own namespace \
             too, are refused",
            allowed.join(", "),
            c.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(text: &str) -> Vec<String> {
        let mut w = Words::new(text);
        allowed_from(&mut w)
    }

    #[test]
    fn only_allow_traffic_from_a_namespace_names_the_namespaces_let_in() {
        assert_eq!(
            allowed("deploy api, only allow traffic from the frontend namespace"),
            ["frontend"]
        );
        assert_eq!(
            allowed("reachable only from namespaces web and jobs"),
            ["web", "jobs"]
        );
        assert!(allowed("a worker that reads from the queue namespace").is_empty());
        assert!(allowed("deploy api in the frontend namespace").is_empty());
    }

    #[test]
    fn a_load_balancer_is_read_with_its_preposition() {
        let mut w = Words::new("web behind a LoadBalancer in staging");
        let r = 0..w.len();
        let mut d = Draft::default();
        load_balancer(&mut w, &r, &mut d);
        assert!(d.load_balancer);
        assert!(!w.free(1) && !w.free(3) && w.free(4));
    }
}
