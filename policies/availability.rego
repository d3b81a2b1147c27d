# gitintent built-in pack: availability in production (cross-resource).
package gitintent.builtin

import rego.v1

namespace_of(r) := object.get(object.get(r, "metadata", {}), "namespace", "")

pod_labels := l if {
	l := input.spec.template.metadata.labels
	is_object(l)
} else := {}

label_in(labels, key, values) if labels[key] in values

expression_matches(e, labels) if {
	e.operator == "In"
	label_in(labels, e.key, e.values)
}

expression_matches(e, labels) if {
	e.operator == "NotIn"
	not label_in(labels, e.key, e.values)
}

expression_matches(e, labels) if {
	e.operator == "Exists"
	labels[e.key]
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}

# A non-empty selector that selects these labels.
selects(selector, labels) if {
	match_labels := object.get(selector, "matchLabels", {})
	expressions := object.get(selector, "matchExpressions", [])
	count(match_labels) + count(expressions) > 0
	every key, value in match_labels {
		labels[key] == value
	}
	every e in expressions {
		expression_matches(e, labels)
	}
}

# data.gitintent.pdbs: namespace -> "key=value" (or "*") -> [PDB selector].
candidate_selectors contains s if {
	some key, value in pod_labels
	some s in data.gitintent.pdbs[namespace_of(input)][sprintf("%s=%s", [key, value])]
}

candidate_selectors contains s if {
	some s in data.gitintent.pdbs[namespace_of(input)]["*"]
}

has_pdb if {
	some s in candidate_selectors
	selects(s, pod_labels)
}

workload_deny contains hit("pod-disruption-budget", "/spec/replicas", msg) if {
	production
	input.kind in {"Deployment", "StatefulSet"}
	is_number(input.spec.replicas)
	input.spec.replicas > 1
	not has_pdb
	msg := sprintf("%d replicas in production without a PodDisruptionBudget selecting the pod labels; add one (e.g. maxUnavailable: 1)", [input.spec.replicas])
}

workload_warn contains hit("replicas", "/spec/replicas", msg) if {
	production
	input.kind in {"Deployment", "ReplicaSet"}
	is_number(input.spec.replicas)
	input.spec.replicas < 2
	msg := sprintf("a stateless workload runs %d replica in production; run at least 2 (or autoscale) so one pod can fail", [input.spec.replicas])
}

ingress_deny contains hit("ingress-tls", "/spec/tls", "the Ingress has no TLS in production; add spec.tls with a certificate secret") if {
	production
	input.kind == "Ingress"
	count(object.get(input.spec, "tls", [])) == 0
}

tls_hosts contains h if {
	some t in input.spec.tls
	some h in t.hosts
}

ingress_deny contains hit("ingress-tls", sprintf("/spec/rules/%d/host", [i]), msg) if {
	production
	input.kind == "Ingress"
	count(object.get(input.spec, "tls", [])) > 0
	some i, r in input.spec.rules
	is_string(r.host)
	not r.host in tls_hosts
	msg := sprintf("host %q is not covered by spec.tls in production; add it to a tls entry's hosts", [r.host])
}
