//! Scope: which environment and namespace an intent targets.
//!
//! Environments are read from aliases (`prod`, `stg`, `development`), the
//! repository's own environment names, and `the X environment` / `env X`;
//! [`named`] is the one detector of an environment word (exact aliases and
//! repository names, never a prefix), which `promote` and `day2` call too;
//! a mention after `in`, `to` or `for` outranks a passing one ("a production-like copy in staging"). Namespaces
//! are read from `namespace X` or `the X namespace`; failing that, the team
//! that owns the request names it ("for the billing team"). Both are sanitised to
//! DNS labels here, so `namespace ../../etc` is refused, not cleaned up.
//! Choosing a default when nothing is said is the caller's job.

use std::ops::Range;

use super::lexicon::{self, Class};
use super::text::Words;
use crate::plan::Error;
use crate::spec::sanitize_name;

/// The environment named in the text, and anything doubtful about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Environment {
    pub(super) name: Option<String>,
    /// Other environments the text names ("in staging and production"):
    /// a change covers them too, a new app does not.
    pub(super) others: Vec<String>,
    /// The text says every environment ("in all environments", "everywhere").
    pub(super) every: bool,
}

impl Environment {
    /// The spec's `environments` for a change: `["*"]` for every
    /// environment, the named ones when there are several, else empty.
    pub(super) fn several(&self) -> Vec<String> {
        if self.every {
            return vec![crate::spec::ALL_ENVIRONMENTS.to_string()];
        }
        match &self.name {
            Some(name) if !self.others.is_empty() => {
                std::iter::once(name).chain(&self.others).cloned().collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The plurals of the environment nouns.
const ENV_PLURALS: &[&str] = &["environments", "envs", "clusters"];

/// Whether the word at `k` is an environment noun or its plural: "every
/// environment" is `all`/`every`/`each` before one of these.
fn environments_at(w: &Words, k: usize) -> bool {
    w.is(k, Class::EnvironmentNoun) || w.is(k, ENV_PLURALS)
}

/// Reads and claims "in all environments", "across every env", "everywhere".
fn every(w: &mut Words) -> bool {
    let mut found = false;
    for i in 0..w.len() {
        let span = if w.free(i) && w.is(i, &["everywhere"]) {
            Some(i..i + 1)
        } else if w.all_free(i..i + 2) && w.is(i, &["all", "every", "each"]) && environments_at(w, i + 1) {
            // "all of the environments" is not read; "all the environments" is.
            Some(i..i + 2)
        } else if w.all_free(i..i + 3) && w.phrase(i, &["all", "the"]) && environments_at(w, i + 2) {
            Some(i..i + 3)
        } else {
            None
        };
        if let Some(r) = span {
            let from = w
                .before(r.start, 0)
                .filter(|&p| p + 1 == r.start && w.is(p, &["in", "to", "across", "on", "for"]))
                .unwrap_or(r.start);
            w.claim(from..r.end);
            found = true;
        }
    }
    found
}

/// Words before an environment or namespace that make the mention targeted.
const PREPOSITIONS: &[&str] = &["in", "to", "into", "for", "on", "onto", "against", "at"];
/// Words that can precede "namespace" without naming it.
const NOT_NAMES: &[&str] = &[
    "own",
    "separate",
    "dedicated",
    "new",
    "same",
    "right",
    "its",
    "their",
];

/// What one word names as an environment (see [`named`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Named {
    /// The repository's own environment the word is (case aside), as the
    /// repository spells it.
    pub(super) own: Option<String>,
    /// The environment a lexicon alias names, and whether the alias counts
    /// without a preposition ("prod" does; "test" needs "in test").
    pub(super) alias: Option<(&'static str, bool)>,
}

/// The one environment detector: what `word` (lowercase) names, as one of
/// the repository's own environment names (`known`) or as a lexicon alias.
/// Both are exact words, never prefixes: "products" names none. `None` when
/// it is neither. Whether a mention counts where it stands (after a
/// preposition, before "environment") is the caller's to say.
pub(super) fn named(word: &str, known: &[String]) -> Option<Named> {
    let own = known.iter().find(|k| k.eq_ignore_ascii_case(word)).cloned();
    let alias = lexicon::environment(word);
    (own.is_some() || alias.is_some()).then_some(Named { own, alias })
}

/// One mention of an environment in the text: the environment, whether it
/// is targeted (after a preposition, before "environment", listed), and
/// its words.
struct Mention {
    env: String,
    strong: bool,
    at: Range<usize>,
}

/// Reads the environment from the text and claims the words that named it;
/// `known` are the repository's own environment names, read like aliases
/// after a preposition or before "environment" ("in prod-us").
pub(super) fn environment(w: &mut Words, known: &[String]) -> Result<Environment, Error> {
    let every = every(w);
    let mut found: Vec<Mention> = Vec::new();
    for i in 0..w.len() {
        if !w.free(i) {
            continue;
        }
        if let Some(n) = named(w.low(i), known) {
            let m = mention(w, i, &n, found.last());
            let read = m.is_some() || n.alias.is_some();
            found.extend(m);
            if read {
                continue;
            }
        }
        found.extend(beside_noun(w, i)?);
    }
    for m in &found {
        w.claim(m.at.clone());
    }
    Ok(pick(&found, every))
}

/// The mention the word at `i` makes of what [`named`] found: a
/// repository name counts after a preposition, before "environment" or
/// listed right after another mention ("in prod-eu and prod-us"); an alias
/// when it counts alone, or after a preposition or before "environment".
fn mention(w: &Words, i: usize, n: &Named, last: Option<&Mention>) -> Option<Mention> {
    let prep = w.before(i, 0).is_some_and(|p| w.is(p, PREPOSITIONS));
    let noun_after = w.is(i + 1, Class::EnvironmentNoun);
    let listed = i > 0 && (w.is(i - 1, &["and", "or", "&"]) || w.pause(i - 1));
    let at = if noun_after { i..i + 2 } else { i..i + 1 };
    if let Some(own) = &n.own {
        if prep || noun_after || (listed && last.is_some_and(|m| m.at.end + 1 >= i)) {
            let env = own.clone();
            return Some(Mention {
                env,
                strong: true,
                at,
            });
        }
    }
    let (env, loose) = n.alias?;
    // "staging and production": a listed environment counts as a target.
    (loose || prep || noun_after).then(|| Mention {
        env: env.to_string(),
        strong: prep || noun_after || listed,
        at,
    })
}

/// "the perf environment", "env perf", "environment: perf": a name beside
/// the environment noun at `i`, which need not be an alias.
fn beside_noun(w: &Words, i: usize) -> Result<Option<Mention>, Error> {
    if !w.is(i, &["environment", "env"]) || w.is(i + 1, &["variable", "variables", "var", "vars"]) {
        return Ok(None);
    }
    let after = i + 1;
    let before = w
        .before(i, 0)
        .filter(|&b| w.free(b) && !w.is(b, Class::Stop) && !w.is(b, PREPOSITIONS));
    let target = if w.free(after) && !w.is(after, Class::Stop) && !w.raw(after).contains('=') {
        Some((after, i..after + 1))
    } else {
        before.map(|b| (b, b..i + 1))
    };
    let Some((k, at)) = target else {
        return Ok(None);
    };
    let name = sanitize_name(w.raw(k)).map_err(|m| Error::Refused(format!("environment {m}")))?;
    let env = lexicon::environment(&name).map_or(name, |(e, _)| e.to_string());
    Ok(Some(Mention {
        env,
        strong: true,
        at,
    }))
}

/// The environment the mentions target: the first targeted one, else the
/// first. The others named are kept, but only targeted ones: a passing
/// mention ("a production-grade copy in staging") is not a conflict.
fn pick(found: &[Mention], every: bool) -> Environment {
    let strong: Vec<&String> = found.iter().filter(|m| m.strong).map(|m| &m.env).collect();
    let name = strong.first().copied().or(found.first().map(|m| &m.env)).cloned();
    let mut others: Vec<String> = Vec::new();
    for m in found {
        if Some(&m.env) != name.as_ref() && !others.contains(&m.env) {
            others.push(m.env.clone());
        }
    }
    if !strong.is_empty() {
        others.retain(|o| strong.contains(&o));
    }
    Environment { name, others, every }
}

/// True when `text` names an environment as [`environment`] reads one (an
/// alias as a whole word, never a prefix: "the products api" names none;
/// `the X environment`, `env X`), or names one of the repository's own
/// environments (`known`) as a word. A name [`environment`] would refuse
/// counts as named: the planner refuses it, rather than a default replacing it.
pub(crate) fn mentions_environment(text: &str, known: &[String]) -> bool {
    let mut w = Words::new(text);
    let read = environment(&mut w, known).map_or(true, |e| e.name.is_some() || e.every);
    read || (0..w.len()).any(|i| known.iter().any(|k| w.low(i) == k.to_ascii_lowercase()))
}

/// Words before a repository path that narrows the target: "the backend
/// in deploy/webapp", "guestbook-ui under guestbook/".
const PATH_PREPOSITIONS: &[&str] = &["in", "under", "inside", "within"];

/// The repository paths the text names and their tokens: a word after
/// `in`/`under`/`inside`/`within` (articles skipped) that holds a `/` or
/// ends in `.yaml`/`.yml`, is not an image or URL (`:`, `@`), and is a
/// relative path without `..`: "the backend in deploy/webapp",
/// "guestbook-ui in guestbook/", "in release/kubernetes-manifests.yaml".
/// Returned without `./` or a trailing `/`.
fn path_tokens(w: &Words) -> Vec<(usize, String)> {
    (0..w.len())
        .filter(|&i| w.free(i) && w.before(i, 0).is_some_and(|p| w.is(p, PATH_PREPOSITIONS)))
        .filter_map(|i| {
            let raw = w.raw(i);
            let low = raw.to_ascii_lowercase();
            let shaped = raw.contains('/') || low.ends_with(".yaml") || low.ends_with(".yml");
            let plain = raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
            let path = raw.trim_start_matches("./").trim_end_matches('/');
            let relative = !path.is_empty()
                && !raw.starts_with('/')
                && path
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
            (shaped && plain && relative).then(|| (i, path.to_string()))
        })
        .collect()
}

/// Reads the repository paths the text names ([`path_tokens`]) and claims
/// their words (the preposition too).
pub(super) fn paths(w: &mut Words) -> Vec<String> {
    let found = path_tokens(w);
    for (i, _) in &found {
        let from = w.before(*i, 0).unwrap_or(*i);
        // "in the deploy/webapp directory"
        let to = if w.is(i + 1, &["directory", "dir", "folder", "file"]) {
            i + 2
        } else {
            i + 1
        };
        w.claim(from..to);
    }
    found.into_iter().map(|(_, p)| p).collect()
}

/// The repository paths `text` names, as the builtin planner reads them
/// ([`paths`]): the change stage looks for targets under them, whichever
/// planner made the spec.
pub(crate) fn paths_in(text: &str) -> Vec<String> {
    path_tokens(&Words::new(text))
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// True when an `expose` intent asks to replace the host an Ingress already
/// has ("move api to new.example.com", "… instead of old.example.com",
/// "replace the host"), rather than to add one beside it.
pub(crate) fn replaces_host(text: &str) -> bool {
    let w = Words::new(text);
    (0..w.len()).any(|i| {
        w.is(
            i,
            &[
                "move",
                "moving",
                "replace",
                "replacing",
                "switch",
                "migrate",
                "instead",
            ],
        ) || (w.is(i, &["rather"]) && w.is(i + 1, &["than"]))
    })
}

/// Reads `namespace X`, `in the X namespace` or `ns X`.
pub(super) fn namespace(w: &mut Words) -> Result<Option<String>, Error> {
    for i in 0..w.len() {
        if !w.free(i) || !w.is(i, &["namespace", "ns"]) {
            continue;
        }
        let after = w.skip(i + 1, &["called", "named", "=", ":"], 2);
        let candidate =
            if w.free(after) && !w.is(after, Class::Stop) && !w.is(after, NOT_NAMES) && !w.pause(after - 1) {
                Some((after, i..after + 1))
            } else {
                (0..i)
                    .rev()
                    .find(|&j| !w.is(j, Class::Determiner))
                    .filter(|&j| {
                        w.free(j) && !w.is(j, Class::Stop) && !w.is(j, NOT_NAMES) && !w.is(j, PREPOSITIONS)
                    })
                    .map(|j| (j, j..i + 1))
            };
        if let Some((at, range)) = candidate {
            let raw = w.raw(at).to_string();
            let name = sanitize_name(&raw).map_err(|m| Error::Refused(format!("namespace {m}")))?;
            w.claim(range);
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Reads the owning team ("for the billing team", "the billing team's"),
/// which names the namespace when the text gives none.
pub(super) fn team(w: &mut Words) -> Result<Option<String>, Error> {
    for i in 0..w.len() {
        if !w.free(i) || !w.is(i, &["team", "team's", "teams", "squad", "squad's"]) {
            continue;
        }
        let Some(b) = w.before(i, 0) else { continue };
        let plain = w.low(b).chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !w.free(b) || w.is(b, Class::Stop) || w.is(b, NOT_NAMES) || w.is(b, PREPOSITIONS) || !plain {
            continue;
        }
        let name = sanitize_name(w.raw(b)).map_err(|m| Error::Refused(format!("team name {m}")))?;
        w.claim(b..i + 1);
        return Ok(Some(name));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_after_in_or_under_are_read_and_images_are_not() {
        assert_eq!(
            paths_in("bump the backend in deploy/webapp to x/y:1"),
            ["deploy/webapp"]
        );
        assert_eq!(paths_in("scale guestbook-ui in guestbook/ to 2"), ["guestbook"]);
        assert_eq!(
            paths_in("bump cart to acme/cart:2 in release/kubernetes-manifests.yaml"),
            ["release/kubernetes-manifests.yaml"]
        );
        assert_eq!(paths_in("scale api under the ./apps/api directory"), ["apps/api"]);
        for none in [
            "bump api to acme/api:1.2 in staging",
            "expose api at shop.example.com/api",
            "scale api in ../etc to 3",
            "scale api in /etc to 3",
            "scale api in production",
        ] {
            assert!(paths_in(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn moving_or_instead_of_replaces_a_host_and_expose_alone_adds_one() {
        assert!(replaces_host("move front-end to shop.example.com"));
        assert!(replaces_host(
            "expose front-end at new.example.com instead of the old host"
        ));
        assert!(!replaces_host("expose front-end at shop.example.com"));
    }

    #[test]
    fn namespace_default_is_a_namespace() {
        let ns = |t: &str| namespace(&mut Words::new(t)).unwrap();
        assert_eq!(
            ns("scale api to 3 in namespace default").as_deref(),
            Some("default")
        );
        assert_eq!(
            ns("scale api to 3 in the default namespace").as_deref(),
            Some("default")
        );
        assert_eq!(ns("redis in its own namespace"), None);
    }

    #[test]
    fn the_owning_team_is_read_before_team() {
        let team_of = |t: &str| team(&mut Words::new(t)).unwrap();
        assert_eq!(
            team_of("a postgres db for the billing team").as_deref(),
            Some("billing")
        );
        assert_eq!(team_of("the Payments team's redis").as_deref(), Some("payments"));
        assert_eq!(team_of("redis for our team"), None);
        assert_eq!(team_of("redis for a new team"), None);
        // Not a plain word: not a team name (and never a path).
        assert_eq!(team_of("for the ../etc team"), None);
    }

    fn env(text: &str) -> Environment {
        environment(&mut Words::new(text), &[]).unwrap()
    }

    #[test]
    fn prod_means_production() {
        assert_eq!(env("deploy redis to prod").name.as_deref(), Some("production"));
        assert_eq!(env("a production redis").name.as_deref(), Some("production"));
    }

    #[test]
    fn a_staging_copy_is_staging() {
        assert_eq!(
            env("a staging copy of the checkout service").name.as_deref(),
            Some("staging")
        );
    }

    #[test]
    fn in_dev_is_dev_and_stage_needs_a_preposition() {
        assert_eq!(env("in dev").name.as_deref(), Some("dev"));
        assert_eq!(env("the next stage of the rollout").name, None);
        assert_eq!(env("on stage").name.as_deref(), Some("staging"));
    }

    #[test]
    fn custom_environments_are_named_with_environment() {
        assert_eq!(env("in the perf environment").name.as_deref(), Some("perf"));
        assert_eq!(env("env loadtest").name.as_deref(), Some("loadtest"));
    }

    #[test]
    fn a_targeted_environment_beats_a_passing_mention() {
        let e = env("a production-sized dev copy in staging");
        assert_eq!(e.name.as_deref(), Some("staging"));
        assert!(e.others.is_empty(), "{e:?}");
    }

    #[test]
    fn two_targeted_environments_are_reported() {
        let e = env("deploy to staging and to production");
        assert_eq!(e.name.as_deref(), Some("staging"));
        assert_eq!(e.others, ["production"]);
        assert_eq!(env("in staging and production").others, ["production"]);
    }

    #[test]
    fn hostile_environment_names_are_refused() {
        assert!(environment(&mut Words::new("in the ../../etc environment"), &[]).is_err());
    }

    #[test]
    fn namespaces_are_read_either_side_of_the_word() {
        let ns = |t: &str| namespace(&mut Words::new(t)).unwrap();
        assert_eq!(ns("in namespace payments").as_deref(), Some("payments"));
        assert_eq!(ns("in the payments namespace").as_deref(), Some("payments"));
        assert_eq!(ns("in its own namespace"), None);
        assert_eq!(
            ns("in the monitoring namespace? prod please").as_deref(),
            Some("monitoring")
        );
        assert!(namespace(&mut Words::new("namespace ../../kube-system")).is_err());
    }
}
