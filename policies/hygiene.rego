# gitintent built-in pack: credentials in plain text, labels.
package gitintent.builtin

import rego.v1

sensitive_words := {
	"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
	"key", "credential", "credentials", "privatekey", "pat",
}

# Name endings that say the value is not the secret itself.
harmless_suffixes := {
	"file", "path", "dir", "url", "uri", "id", "name", "prefix", "header",
	"type", "length", "size", "ttl", "timeout", "enabled", "expiry", "ref",
}

sensitive_substrings := ["password", "secret", "apikey", "api_key", "access_key", "private_key", "credential"]

# Every sensitive word and substring contains one of these. A name that
# contains none of them cannot be sensitive (its tokens are substrings of the
# lowered name), so the regex split, compiled at each call, is only paid for
# candidate names.
sensitive_hints := ["key", "pass", "secret", "token", "pwd", "credential", "pat"]

may_be_sensitive(lowered) if {
	some h in sensitive_hints
	contains(lowered, h)
}

sensitive_name(n) if {
	lowered := lower(n)
	may_be_sensitive(lowered)
	tokens := [t | some t in regex.split("[^a-z0-9]+", lowered); t != ""]
	count(tokens) > 0
	not tokens[count(tokens) - 1] in harmless_suffixes
	sensitive_tokens(tokens, lowered)
}

sensitive_tokens(tokens, _) if {
	some t in tokens
	t in sensitive_words
}

sensitive_tokens(_, lowered) if {
	some s in sensitive_substrings
	contains(lowered, s)
}

# [a literal every match contains, pattern]: the regex is compiled at each
# call, so it only runs on values that contain the literal.
credential_patterns := [
	["PRIVATE KEY", `BEGIN[A-Z ]* PRIVATE KEY`],
	["AKIA", `AKIA[0-9A-Z]{16}`],
	["gh", `gh[pousr]_[A-Za-z0-9]{36}`],
	["xox", `xox[abposr]-[A-Za-z0-9-]{10,}`],
	["@", `[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`],
]

credential_value(v) if {
	some p in credential_patterns
	contains(v, p[0])
	regex.match(p[1], v)
}

credential_env contains {"path": sprintf("%s/env/%d/value", [k.path, i]), "container": k.name, "name": e.name} if {
	some k in all_containers
	some i, e in k.c.env
	is_string(e.value)
	e.value != ""
	sensitive_name(e.name)
}

credential_env contains {"path": sprintf("%s/env/%d/value", [k.path, i]), "container": k.name, "name": e.name} if {
	some k in all_containers
	some i, e in k.c.env
	is_string(e.value)
	credential_value(e.value)
}

workload_deny contains hit("plaintext-credential", x.path, msg) if {
	some x in credential_env
	msg := sprintf("container %q sets %q to a literal value that looks like a credential; use valueFrom.secretKeyRef", [x.container, x.name])
}

configmap_deny contains hit("plaintext-credential", sprintf("/data/%s", [escape(key)]), msg) if {
	input.kind == "ConfigMap"
	some key, value in input.data
	is_string(value)
	value != ""
	sensitive_name(key)
	msg := sprintf("ConfigMap key %q looks like a credential; keep it in a Secret", [key])
}

configmap_deny contains hit("plaintext-credential", sprintf("/data/%s", [escape(key)]), msg) if {
	input.kind == "ConfigMap"
	some key, value in input.data
	is_string(value)
	credential_value(value)
	not sensitive_name(key)
	msg := sprintf("ConfigMap key %q holds a value that looks like a credential; keep it in a Secret", [key])
}

labels_deny contains hit("required-labels", sprintf("/metadata/labels/%s", [escape(label)]), msg) if {
	is_string(input.kind)
	some label in settings.required_labels
	not present(input.metadata.labels[label])
	msg := sprintf("missing required label %q; add it to metadata.labels", [label])
}

# Namespaces that belong to the cluster itself.
system_namespaces := {"kube-system", "kube-public", "kube-node-lease"}

labels_deny contains hit("system-namespace", "/metadata/namespace", msg) if {
	is_string(input.kind)
	is_string(input.metadata.namespace)
	input.metadata.namespace in system_namespaces
	msg := sprintf("namespace %q is reserved for the cluster's own components; deploy apps into a namespace of their own (or waive this rule for a cluster add-on)", [input.metadata.namespace])
}
