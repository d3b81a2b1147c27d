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

name_tokens(n) := [t | some t in regex.split("[^a-z0-9]+", lower(n)); t != ""]

sensitive_name(n) if {
	tokens := name_tokens(n)
	count(tokens) > 0
	not tokens[count(tokens) - 1] in harmless_suffixes
	some t in tokens
	t in sensitive_words
}

sensitive_name(n) if {
	tokens := name_tokens(n)
	count(tokens) > 0
	not tokens[count(tokens) - 1] in harmless_suffixes
	lowered := lower(n)
	some s in ["password", "secret", "apikey", "api_key", "access_key", "private_key", "credential"]
	contains(lowered, s)
}

credential_patterns := [
	`BEGIN[A-Z ]* PRIVATE KEY`,
	`AKIA[0-9A-Z]{16}`,
	`gh[pousr]_[A-Za-z0-9]{36}`,
	`xox[abposr]-[A-Za-z0-9-]{10,}`,
	`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`,
]

credential_value(v) if {
	some p in credential_patterns
	regex.match(p, v)
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

deny contains hit("plaintext-credential", x.path, msg) if {
	some x in credential_env
	msg := sprintf("container %q sets %q to a literal value that looks like a credential; use valueFrom.secretKeyRef", [x.container, x.name])
}

deny contains hit("plaintext-credential", sprintf("/data/%s", [escape(key)]), msg) if {
	input.kind == "ConfigMap"
	some key, value in input.data
	is_string(value)
	value != ""
	sensitive_name(key)
	msg := sprintf("ConfigMap key %q looks like a credential; keep it in a Secret", [key])
}

deny contains hit("plaintext-credential", sprintf("/data/%s", [escape(key)]), msg) if {
	input.kind == "ConfigMap"
	some key, value in input.data
	is_string(value)
	not sensitive_name(key)
	credential_value(value)
	msg := sprintf("ConfigMap key %q holds a value that looks like a credential; keep it in a Secret", [key])
}

deny contains hit("required-labels", sprintf("/metadata/labels/%s", [escape(label)]), msg) if {
	is_string(input.kind)
	some label in settings.required_labels
	not present(input.metadata.labels[label])
	msg := sprintf("missing required label %q; add it to metadata.labels", [label])
}
