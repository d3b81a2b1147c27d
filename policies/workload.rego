# gitintent built-in pack: resources, images and probes.
package gitintent.builtin

import rego.v1

resource_fields := [
	["cpu-requests", "requests", "cpu", "CPU request"],
	["memory-requests", "requests", "memory", "memory request"],
	["cpu-limits", "limits", "cpu", "CPU limit"],
	["memory-limits", "limits", "memory", "memory limit"],
]

workload_deny contains hit(f[0], sprintf("%s/resources/%s/%s", [k.path, f[1], f[2]]), msg) if {
	some k in app_containers
	some f in resource_fields
	not present(k.c.resources[f[1]][f[2]])
	msg := sprintf("container %q has no %s; set resources.%s.%s", [k.name, f[3], f[1], f[2]])
}

# The last path segment of an image, where a tag would be.
image_name(image) := parts[count(parts) - 1] if parts := split(image, "/")

untagged(image) if {
	not contains(image, "@")
	not contains(image_name(image), ":")
}

latest(image) if {
	not contains(image, "@")
	endswith(image_name(image), ":latest")
}

workload_deny contains hit("image-tag", sprintf("%s/image", [k.path]), msg) if {
	some k in all_containers
	is_string(k.c.image)
	untagged(k.c.image)
	msg := sprintf("container %q image %q has no tag; pin a version tag or a digest", [k.name, k.c.image])
}

workload_deny contains hit("image-tag", sprintf("%s/image", [k.path]), msg) if {
	some k in all_containers
	is_string(k.c.image)
	latest(k.c.image)
	msg := sprintf("container %q image %q uses the latest tag; pin a version tag or a digest", [k.name, k.c.image])
}

# Registry of an image reference; Docker Hub when none is named.
registry_like(s) if contains(s, ".")

registry_like(s) if contains(s, ":")

registry_like(s) if s == "localhost"

full_image(image) := image if {
	parts := split(image, "/")
	count(parts) > 1
	registry_like(parts[0])
}

full_image(image) := concat("/", ["docker.io", image]) if {
	parts := split(image, "/")
	count(parts) > 1
	not registry_like(parts[0])
}

full_image(image) := concat("/", ["docker.io/library", image]) if not contains(image, "/")

allowed_image(image) if {
	some allowed in settings.allowed_registries
	prefix := concat("", [trim_right(allowed, "/"), "/"])
	startswith(full_image(image), prefix)
}

workload_deny contains hit("image-registry", sprintf("%s/image", [k.path]), msg) if {
	count(settings.allowed_registries) > 0
	some k in all_containers
	is_string(k.c.image)
	not allowed_image(k.c.image)
	msg := sprintf("container %q image %q is not from an allowed registry (%s); mirror it into one", [k.name, k.c.image, concat(", ", settings.allowed_registries)])
}

workload_warn contains hit("readiness-probe", sprintf("%s/readinessProbe", [k.path]), msg) if {
	long_running
	some k in app_containers
	not present(k.c.readinessProbe)
	msg := sprintf("container %q has no readinessProbe; add one so traffic waits until it is ready", [k.name])
}

workload_warn contains hit("liveness-probe", sprintf("%s/livenessProbe", [k.path]), msg) if {
	long_running
	some k in app_containers
	not present(k.c.livenessProbe)
	msg := sprintf("container %q has no livenessProbe; add one so a hung process is restarted", [k.name])
}
