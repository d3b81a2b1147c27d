//! The lexicon: the words the builtin planner's readers match on, each list a
//! typed word class, in one table.
//!
//! A reader asks `Words::is(i, Class::CpuNoun)` (or [`Class::holds`]) rather
//! than keeping a private list, so a word means the same to every reader that
//! asks for its class, and a synonym is added in one place. Environment
//! aliases ([`environment`]) and size units ([`memory_unit`]) carry a value as
//! well as a class.
//!
//! What stays beside its reader: lists that only make sense inside one
//! reader's pattern (a reader's fillers, the injection guard's phrases, the
//! kinds a refusal names). What it does not do: read an intent, or know the
//! repository's own environment names (the readers are given those).

/// A class of words the readers know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// "a", "the", "our": skipped before the word a reader looks for.
    Determiner,
    /// Words that are never a name, an image or a value.
    Stop,
    /// "ram", "memory".
    MemoryNoun,
    /// "cpu", "cores".
    CpuNoun,
    /// "disk", "storage", "pvc".
    StorageNoun,
    /// "m", "millicores": a thousandth of a CPU.
    MilliCpu,
    /// Words that make a quantity a limit ("max", "capped").
    LimitWord,
    /// Words that make a quantity a request ("reserve", "guaranteed").
    RequestWord,
    /// What a CPU *percentage* is followed by ("target", "utilization"): a
    /// scaling target, not a size.
    UsageWord,
    /// Words that may follow a size and belong to it ("of", "memory", "per
    /// replica").
    SizeTail,
    /// "persistent", "durable".
    PersistWord,
    /// "replica", "instances", "pods": what a replica count counts.
    ReplicaNoun,
    /// [`Class::ReplicaNoun`] plus the members of a clustered store ("3
    /// nodes", "5 brokers") and of a worker pool ("4 workers").
    CountNoun,
    /// "autoscale", "hpa".
    AutoscaleWord,
    /// "environment", "env", "cluster" after an environment's name.
    EnvironmentNoun,
    /// "please", "can you", "we need to": words an intent may start with
    /// before its verb, which do not change the request.
    LeadIn,
    /// "password", "passphrase": a credential keyword that is a password.
    PasswordWord,
    /// "token", "secret", "api-key": a credential keyword that may also be
    /// a plain noun ("the token service").
    SecretWord,
    /// "health", "readiness", "probe": words that name a health check.
    ProbeWord,
    /// "namespace", "ns".
    NamespaceNoun,
    /// "port", "ports".
    PortNoun,
}

/// Every class, for the table's own tests.
#[cfg(test)]
const ALL: [Class; 21] = [
    Class::Determiner,
    Class::Stop,
    Class::MemoryNoun,
    Class::CpuNoun,
    Class::StorageNoun,
    Class::MilliCpu,
    Class::LimitWord,
    Class::RequestWord,
    Class::UsageWord,
    Class::SizeTail,
    Class::PersistWord,
    Class::ReplicaNoun,
    Class::CountNoun,
    Class::AutoscaleWord,
    Class::EnvironmentNoun,
    Class::LeadIn,
    Class::PasswordWord,
    Class::SecretWord,
    Class::ProbeWord,
    Class::NamespaceNoun,
    Class::PortNoun,
];

/// The table: each class and its words. [`Class::CountNoun`] adds
/// [`MEMBERS`] to the replica nouns.
const TABLE: &[(Class, &[&str])] = &[
    (
        Class::Determiner,
        &[
            "a", "an", "the", "my", "our", "your", "its", "their", "this", "that", "some",
        ],
    ),
    (
        Class::Stop,
        &[
            "a", "an", "the", "my", "our", "your", "its", "their", "this", "that", "these", "those", "some",
            "with", "and", "or", "of", "for", "to", "in", "on", "at", "by", "from", "as", "is", "are", "be",
            "it", "please", "also", "then", "using", "use", "which", "who", "should", "must", "can", "will",
            "would", "so", "but", "into", "via", "per", "each", "every", "all", "both", "just", "only",
            "new", "we", "i", "me", "us", "need", "needs", "want", "wants", "have", "has", "get", "set",
            "give", "make", "let", "run", "runs", "running", "deploy", "create",
        ],
    ),
    (Class::MemoryNoun, &["ram", "memory", "mem", "heap"]),
    (
        Class::CpuNoun,
        &[
            "cpu",
            "cpus",
            "core",
            "cores",
            "vcpu",
            "vcpus",
            "processor",
            "processors",
        ],
    ),
    (
        Class::StorageNoun,
        &[
            "disk",
            "disks",
            "storage",
            "volume",
            "volumes",
            "pvc",
            "pvcs",
            "pv",
            "persistent",
            "ssd",
            "space",
            "data",
            "drive",
            "drives",
            "persistence",
        ],
    ),
    (
        Class::MilliCpu,
        &["m", "millicores", "millicore", "millicpu", "millicpus", "milli"],
    ),
    (
        Class::LimitWord,
        &[
            "limit", "limits", "max", "maximum", "most", "capped", "cap", "ceiling",
        ],
    ),
    (
        Class::RequestWord,
        &[
            "request",
            "requests",
            "reserve",
            "reserved",
            "least",
            "minimum",
            "min",
            "guaranteed",
            "guarantee",
        ],
    ),
    (
        Class::UsageWord,
        &[
            "target",
            "utilization",
            "utilisation",
            "usage",
            "load",
            "threshold",
            "average",
            "%",
        ],
    ),
    (
        Class::SizeTail,
        &[
            "of", "ram", "memory", "mem", "cpu", "cpus", "storage", "disk", "disks", "volume", "volumes",
            "per", "replica", "pod", "each", "apiece", "instance",
        ],
    ),
    (
        Class::PersistWord,
        &[
            "persistent",
            "persistence",
            "persist",
            "persisted",
            "durable",
            "durability",
        ],
    ),
    (
        Class::ReplicaNoun,
        &[
            "replica",
            "replicas",
            "instance",
            "instances",
            "copies",
            "copy",
            "pods",
            "pod",
        ],
    ),
    (
        Class::AutoscaleWord,
        &[
            "autoscale",
            "autoscaled",
            "autoscales",
            "autoscaling",
            "auto-scale",
            "auto-scaled",
            "auto-scales",
            "auto-scaling",
            "hpa",
            "elastically",
        ],
    ),
    (Class::EnvironmentNoun, &["environment", "env", "cluster"]),
    (
        Class::LeadIn,
        &[
            "please", "pls", "can", "could", "would", "will", "you", "kindly", "now", "lets", "let's", "let",
            "us", "i", "we", "want", "need", "to", "go", "ahead", "and", "hey", "just", "also", "then",
            "i'd", "we'd", "like", "ok", "okay",
        ],
    ),
    (
        Class::PasswordWord,
        &["password", "passwd", "pwd", "passphrase", "passcode"],
    ),
    (
        Class::SecretWord,
        &[
            "token",
            "secret",
            "apikey",
            "api-key",
            "api_key",
            "bearer",
            "credential",
            "credentials",
        ],
    ),
    (
        Class::ProbeWord,
        &[
            "health",
            "healthcheck",
            "healthchecks",
            "health-check",
            "health-checks",
            "readiness",
            "liveness",
            "probe",
            "probes",
            "heartbeat",
            "healthz",
        ],
    ),
    (Class::PortNoun, &["port", "ports"]),
    (Class::NamespaceNoun, &["namespace", "namespaces", "ns"]),
];

/// What [`Class::CountNoun`] adds to the replica nouns.
const MEMBERS: &[&str] = &[
    "node",
    "nodes",
    "member",
    "members",
    "broker",
    "brokers",
    "server",
    "servers",
    "worker",
    "workers",
    "consumer",
    "consumers",
];

impl Class {
    /// The class's own words (for a composed class, its first part).
    pub(super) fn words(self) -> &'static [&'static str] {
        let class = match self {
            Class::CountNoun => Class::ReplicaNoun,
            c => c,
        };
        TABLE
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(&[], |(_, words)| words)
    }

    /// Whether `word` (lowercase) is of this class.
    pub(super) fn holds(self, word: &str) -> bool {
        self.words().contains(&word) || self == Class::CountNoun && MEMBERS.contains(&word)
    }
}

/// An environment alias: the word, the environment it names, and whether it
/// counts without a preposition ("prod" does; "test" needs "in test").
const ENVIRONMENTS: &[(&str, &str, bool)] = &[
    ("production", "production", true),
    ("prod", "production", true),
    ("prd", "production", true),
    ("staging", "staging", true),
    ("stg", "staging", true),
    ("stage", "staging", false),
    ("dev", "dev", true),
    ("development", "dev", true),
    ("qa", "qa", true),
    ("uat", "uat", true),
    ("preprod", "preprod", true),
    ("pre-prod", "preprod", true),
    ("pre-production", "preprod", true),
    ("sandbox", "sandbox", false),
    ("test", "test", false),
    ("testing", "test", false),
    ("demo", "demo", false),
];

/// The environment an alias names, and whether the alias counts without a
/// preposition. Only the lexicon's own aliases: `scope::named`, the one
/// environment detector, adds the repository's environment names.
pub(super) fn environment(word: &str) -> Option<(&'static str, bool)> {
    ENVIRONMENTS
        .iter()
        .find(|(alias, _, _)| *alias == word)
        .map(|(_, env, loose)| (*env, *loose))
}

/// Whether `env` is a standard environment: one an alias names without
/// needing a preposition (production, staging, dev, qa, uat, preprod).
pub(super) fn standard(env: &str) -> bool {
    ENVIRONMENTS.iter().any(|(_, e, loose)| *loose && *e == env)
}

/// A binary size unit and its factor in MiB.
const MEMORY_UNITS: &[(&[&str], f64)] = &[
    (
        &["gb", "gig", "gigs", "gigabyte", "gigabytes", "gi", "gib", "g"],
        1024.0,
    ),
    (&["mb", "meg", "megs", "megabyte", "megabytes", "mi", "mib"], 1.0),
    (
        &["tb", "tib", "ti", "terabyte", "terabytes", "t"],
        1024.0 * 1024.0,
    ),
];

/// The factor in MiB of a size unit (`gb` → 1024).
pub(super) fn memory_unit(word: &str) -> Option<f64> {
    MEMORY_UNITS
        .iter()
        .find(|(words, _)| words.contains(&word))
        .map(|(_, factor)| *factor)
}

/// A set of words a reader matches a token against: a lexicon class, or a
/// reader's own list.
pub(super) trait WordSet: Copy {
    /// Whether `word` (lowercase) is in the set.
    fn holds(self, word: &str) -> bool;
}

impl WordSet for Class {
    fn holds(self, word: &str) -> bool {
        Class::holds(self, word)
    }
}

impl WordSet for &[&str] {
    fn holds(self, word: &str) -> bool {
        self.contains(&word)
    }
}

impl<const N: usize> WordSet for &[&str; N] {
    fn holds(self, word: &str) -> bool {
        self.contains(&word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_words_and_one_row() {
        for class in ALL {
            let rows = TABLE.iter().filter(|(c, _)| *c == class).count();
            let composed = class == Class::CountNoun;
            assert_eq!(rows, usize::from(!composed), "{class:?}");
            assert!(!class.words().is_empty(), "{class:?}");
        }
        assert_eq!(TABLE.len() + 1, ALL.len());
    }

    #[test]
    fn words_are_lowercase_and_unique_within_a_class() {
        for (class, words) in TABLE {
            for (k, w) in words.iter().enumerate() {
                assert_eq!(*w, w.to_lowercase(), "{class:?}");
                assert!(!words[..k].contains(w), "{w} twice in {class:?}");
            }
        }
    }

    #[test]
    fn count_nouns_hold_every_replica_noun_and_the_members() {
        for w in Class::ReplicaNoun.words() {
            assert!(Class::CountNoun.holds(w), "{w}");
        }
        assert!(Class::CountNoun.holds("brokers"));
        assert!(!Class::ReplicaNoun.holds("brokers"));
    }

    #[test]
    fn aliases_name_environments_and_units_have_factors() {
        assert_eq!(environment("prd"), Some(("production", true)));
        assert_eq!(environment("stage"), Some(("staging", false)));
        assert_eq!(environment("products"), None);
        assert!(standard("staging") && standard("preprod"));
        assert!(!standard("test") && !standard("sandbox") && !standard("stage"));
        assert_eq!(memory_unit("gigs"), Some(1024.0));
        assert_eq!(memory_unit("tib"), Some(1024.0 * 1024.0));
        assert_eq!(memory_unit("gbps"), None);
    }
}
