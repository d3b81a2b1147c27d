# gitintent built-in pack: shared helpers.
#
# Every rule of the pack lives in package gitintent.builtin and reports
# {"rule", "path", "msg"} objects through deny (error) and warn (warning),
# grouped by kind (see kind_findings at the end).
# input is one resource; data.gitintent.settings holds the repo settings and
# data.gitintent.pdbs the PodDisruptionBudget selectors of the same batch.
package gitintent.builtin

import rego.v1

settings := data.gitintent.settings

production if settings.production == true

# Where the pod spec lives, per workload kind.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in template_kinds

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

pod_path := "/spec" if input.kind == "Pod"

pod_path := "/spec/template/spec" if input.kind in template_kinds

pod_path := "/spec/jobTemplate/spec/template/spec" if input.kind == "CronJob"

# Workloads that run until stopped (probes make sense for them).
long_running if input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}

long_running if {
	input.kind == "Pod"
	object.get(input.spec, "restartPolicy", "Always") == "Always"
}

# Regular containers: {"c": container, "path": JSON pointer, "name": name}.
app_containers contains {"c": c, "path": sprintf("%s/containers/%d", [pod_path, i]), "name": container_name(c, i)} if {
	some i, c in pod_spec.containers
	is_object(c)
}

# Regular and init containers.
all_containers contains k if some k in app_containers

all_containers contains {"c": c, "path": sprintf("%s/initContainers/%d", [pod_path, i]), "name": container_name(c, i)} if {
	some i, c in pod_spec.initContainers
	is_object(c)
}

container_name(c, _) := c.name if is_string(c.name)

container_name(c, i) := sprintf("#%d", [i]) if not is_string(c.name)

# A field that is present and neither null nor "".
present(x) if {
	x != null
	x != ""
}

# A finding object.
hit(rule, path, msg) := {"rule": rule, "path": path, "msg": msg}

# JSON pointer escaping of one segment.
escape(s) := replace(replace(s, "~", "~0"), "/", "~1")

# A container's securityContext field, falling back to the pod's.
effective(c, field) := v if {
	v := c.securityContext[field]
	v != null
} else := v if {
	v := pod_spec.securityContext[field]
	v != null
}

# Rules are grouped by the kinds they can apply to: workload_* (kinds with a
# pod spec), ingress_deny, configmap_deny, and labels_deny (every kind).
# deny and warn are their union, as conftest expects.
deny contains x if some x in workload_deny

deny contains x if some x in ingress_deny

deny contains x if some x in configmap_deny

deny contains x if some x in labels_deny

warn contains x if some x in workload_warn

# Both result sets in one evaluation, so helpers are computed once per resource.
findings := {"deny": deny, "warn": warn}

# Kinds with a pod spec: the only ones workload_* rules can flag.
workload_kinds := template_kinds | {"Pod", "CronJob"}

# The same as findings, but only the groups that can apply to input.kind are
# evaluated: the interpreter's cost is per rule body, so a Service, which only
# the label rule can flag, skips the twenty-odd workload rules. gitintent
# evaluates this one.
kind_findings := {"deny": workload_deny | labels_deny, "warn": workload_warn} if {
	input.kind in workload_kinds
} else := {"deny": ingress_deny | labels_deny, "warn": set()} if {
	input.kind == "Ingress"
} else := {"deny": configmap_deny | labels_deny, "warn": set()} if {
	input.kind == "ConfigMap"
} else := {"deny": labels_deny, "warn": set()}
