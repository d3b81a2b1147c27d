# gitintent built-in pack: pod and container security.
package gitintent.builtin

import rego.v1

runs_as_non_root(c) if effective(c, "runAsNonRoot") == true

runs_as_non_root(c) if {
	effective(c, "runAsNonRoot") != false
	user := effective(c, "runAsUser")
	is_number(user)
	user > 0
}

workload_deny contains hit("run-as-non-root", sprintf("%s/securityContext/runAsNonRoot", [k.path]), msg) if {
	some k in all_containers
	not runs_as_non_root(k.c)
	msg := sprintf("container %q may run as root; set securityContext.runAsNonRoot: true", [k.name])
}

workload_deny contains hit("privileged", sprintf("%s/securityContext/privileged", [k.path]), msg) if {
	some k in all_containers
	k.c.securityContext.privileged == true
	msg := sprintf("container %q is privileged; remove securityContext.privileged", [k.name])
}

workload_deny contains hit("privilege-escalation", sprintf("%s/securityContext/allowPrivilegeEscalation", [k.path]), msg) if {
	some k in all_containers
	not k.c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("container %q allows privilege escalation; set securityContext.allowPrivilegeEscalation: false", [k.name])
}

dangerous_capabilities := {"ALL", "SYS_ADMIN", "NET_ADMIN"}

workload_deny contains hit("dangerous-capabilities", sprintf("%s/securityContext/capabilities/add/%d", [k.path, i]), msg) if {
	some k in all_containers
	some i, cap in k.c.securityContext.capabilities.add
	is_string(cap)
	trim_prefix(upper(cap), "CAP_") in dangerous_capabilities
	msg := sprintf("container %q adds capability %s; drop it and add only what the process needs", [k.name, cap])
}

workload_warn contains hit("read-only-root-filesystem", sprintf("%s/securityContext/readOnlyRootFilesystem", [k.path]), msg) if {
	some k in all_containers
	not k.c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf("container %q has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir for scratch space", [k.name])
}

host_namespaces := [["host-network", "hostNetwork"], ["host-pid", "hostPID"], ["host-ipc", "hostIPC"]]

workload_deny contains hit(h[0], sprintf("%s/%s", [pod_path, h[1]]), msg) if {
	some h in host_namespaces
	pod_spec[h[1]] == true
	msg := sprintf("the pod shares the node's namespace via %s; remove %s", [h[1], h[1]])
}

workload_deny contains hit("host-path", sprintf("%s/volumes/%d/hostPath", [pod_path, i]), msg) if {
	some i, v in pod_spec.volumes
	present(v.hostPath)
	msg := sprintf("volume %q mounts a hostPath; use a PersistentVolumeClaim, emptyDir or configMap instead", [object.get(v, "name", "?")])
}
