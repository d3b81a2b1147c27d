//! Promotion intents: copy what one environment runs into another.
//!
//! [`plan`] reads "promote the version running in staging-eu to prod-eu",
//! "promote checkout from staging to production", "promote staging to
//! production", "copy api's resources from staging to production" into one
//! `promote` change per named workload (or one for `*`, every workload both
//! environments run, when none is named). The source is the environment
//! after "from", "running in", "in", or the first one named; the destination
//! the one after "to", "into" or "onto" (else `--env`), which becomes the
//! spec's environment. What is copied: the image ("version", "image",
//! "tag", or nothing said), "replicas", "resources" ("cpu", "memory",
//! "limits"), or all three ("everything", "all values").
//!
//! It returns `None` unless the intent starts with "promote", or with
//! "copy"/"sync" and names both environments. Every other word must be
//! filler, a field or a workload name; anything else is refused with what
//! was understood, never guessed. It never reads the repository: whether
//! the workloads and environments exist is `crate::change`'s to say.

use super::lexicon::{self, Class};
use super::text::Words;
use super::{parse, scope};
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Change, Field, Operation, Promotion, Spec, EVERY};

/// Words that carry no meaning here.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "for",
    "and",
    "&",
    "its",
    "their",
    "current",
    "currently",
    "that",
    "is",
    "which",
    "what",
    "whatever",
    "now",
    "over",
    "across",
    "same",
    "as",
    "please",
    "too",
    "also",
    "deployed",
    "running",
    "runs",
    "run",
    "there",
    "from",
    "to",
    "into",
    "onto",
    "in",
    "on",
    "up",
];
/// "every value" in a promotion: this reader's phrase.
const EVERYTHING: &[&str] = &["everything", "all", "every"];
/// Nouns for the workloads a promotion copies, skipped like filler.
const WORKLOAD_NOUNS: &[&str] = &[
    "workload",
    "workloads",
    "app",
    "apps",
    "service",
    "services",
    "deployment",
    "deployments",
];
const FIELDS: &[(&str, Field)] = &[
    ("version", Field::Image),
    ("versions", Field::Image),
    ("image", Field::Image),
    ("images", Field::Image),
    ("tag", Field::Image),
    ("tags", Field::Image),
    ("build", Field::Image),
    ("release", Field::Image),
    ("replicas", Field::Replicas),
    ("replica", Field::Replicas),
    ("scale", Field::Replicas),
    ("instances", Field::Replicas),
    ("resources", Field::Resources),
    ("cpu", Field::Resources),
    ("memory", Field::Resources),
    ("limits", Field::Resources),
    ("requests", Field::Resources),
    ("sizing", Field::Resources),
];

/// Plans a promotion; `None` when the intent is not one.
pub(super) fn plan(
    intent: &Intent,
    environments: &[String],
    workloads: &[String],
) -> Option<Result<Spec, Error>> {
    let w = Words::new(&intent.text);
    let start = w.skip(0, Class::LeadIn, 8);
    let verb = w.low(start).to_string();
    let copy = matches!(verb.as_str(), "copy" | "sync" | "mirror");
    if verb != "promote" && !copy {
        return None;
    }
    let tokens: Vec<String> = (start + 1..w.len())
        .map(|i| {
            let low = w.low(i);
            low.strip_suffix("'s")
                .or_else(|| low.strip_suffix("\u{2019}s"))
                .unwrap_or(low)
                .to_string()
        })
        .collect();
    let envs: Vec<(usize, String)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((i, environment(t, environments)?)))
        .collect();
    // "copy the config file to /tmp" is not a promotion.
    if copy && envs.len() < 2 {
        return None;
    }
    Some(read(intent, &tokens, &envs, workloads))
}

/// The environment `word` names ([`scope::named`]): one of the
/// repository's, else the one its alias names, as the repository spells it.
/// A standard environment the repository does not list is still read, so
/// the change stage can say which environments it has.
fn environment(word: &str, known: &[String]) -> Option<String> {
    let named = scope::named(word, known)?;
    if let Some(own) = named.own {
        return Some(own);
    }
    let (env, _) = named.alias?;
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(env))
        .cloned()
        .or_else(|| lexicon::standard(env).then(|| env.to_string()))
}

/// An example that works, for messages.
const EXAMPLE: &str = "promote checkout from staging to production";

/// The environments a promotion copies from and to.
fn direction(
    intent: &Intent,
    tokens: &[String],
    envs: &[(usize, String)],
) -> Result<(String, String), Error> {
    let before = |i: usize, set: &[&str]| i > 0 && set.contains(&tokens[i - 1].as_str());
    let to = envs
        .iter()
        .find(|(i, _)| before(*i, &["to", "into", "onto"]))
        .map(|(_, e)| e.clone())
        .or_else(|| intent.environment.clone());
    let from = envs
        .iter()
        .find(|(i, _)| before(*i, &["from"]))
        .or_else(|| envs.iter().find(|(i, _)| before(*i, &["in", "on"])))
        .or_else(|| envs.iter().find(|(_, e)| Some(e) != to.as_ref()))
        .map(|(_, e)| e.clone());
    match (from, to) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(Error::NotUnderstood {
            reason: format!(
                "a promotion names the environment it copies from and the one it copies to, e.g. \"{EXAMPLE}\""
            ),
            understood: envs.iter().map(|(_, e)| format!("environment: {e}")).collect(),
        }),
    }
}

/// The fields and workloads the other words name, and whether "all" or
/// "everything" was said; any other word is refused.
fn words(
    tokens: &[String],
    envs: &[(usize, String)],
    workloads: &[String],
    understood: &[String],
) -> Result<(Vec<Field>, Vec<String>, bool), Error> {
    let mut fields: Vec<Field> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    let mut every = false;
    for (i, t) in tokens.iter().enumerate() {
        if envs.iter().any(|(k, _)| *k == i)
            || FILLER.contains(&t.as_str())
            || Class::EnvironmentNoun.holds(t)
            || WORKLOAD_NOUNS.contains(&t.as_str())
        {
            continue;
        }
        if let Some((_, f)) = FIELDS.iter().find(|(word, _)| word == t) {
            fields.push(*f);
        } else if EVERYTHING.contains(&t.as_str()) {
            every = true;
        } else if workloads.iter().any(|n| n == t) || namey(t) {
            targets.push(t.clone());
        } else {
            return Err(Error::NotUnderstood {
                reason: format!("{t:?} was not understood in a promotion; say it as e.g. \"{EXAMPLE}\""),
                understood: understood.to_vec(),
            });
        }
    }
    Ok((fields, targets, every))
}

fn read(
    intent: &Intent,
    tokens: &[String],
    envs: &[(usize, String)],
    workloads: &[String],
) -> Result<Spec, Error> {
    let (from, to) = direction(intent, tokens, envs)?;
    let understood = vec![format!("from: {from}"), format!("to: {to}")];
    let (mut fields, mut targets, every) = words(tokens, envs, workloads, &understood)?;
    let mut assumptions = Vec::new();
    if fields.is_empty() {
        // "everything" with no field named: every value a promotion copies.
        if every && targets.is_empty() && tokens.iter().any(|t| t == "everything") {
            fields = vec![Field::Image, Field::Replicas, Field::Resources];
        } else {
            fields.push(Field::Image);
            assumptions
                .push("the image (version) is promoted; replicas and resources stay as they are".to_string());
        }
    }
    fields.sort();
    fields.dedup();
    targets.dedup();
    if targets.is_empty() {
        targets.push(EVERY.to_string());
        assumptions.push(format!(
            "no workload named: every workload that runs in both {from} and {to}"
        ));
    }
    let changes = promotions(&targets, &from, &fields);
    let mut spec = Spec {
        environment: to,
        environments: vec![],
        namespace: "default".to_string(),
        components: Vec::new(),
        changes,
        assumptions: parse::cap(assumptions),
        questions: Vec::new(),
        unsupported: Vec::new(),
    };
    spec.normalize().map_err(|e| Error::NotUnderstood {
        reason: format!("the promotion is not acceptable: {e}"),
        understood,
    })?;
    Ok(spec)
}

/// One promote change per target, each copying `fields` from `from`.
fn promotions(targets: &[String], from: &str, fields: &[Field]) -> Vec<Change> {
    targets
        .iter()
        .map(|t| Change {
            operation: Operation::Promote,
            target: t.clone(),
            kind: None,
            set: None,
            promote: Some(Promotion {
                from: from.to_string(),
                fields: fields.to_vec(),
            }),
        })
        .collect()
}

/// A word that can be a workload name (a DNS label with a letter).
fn namey(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 63
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && t.starts_with(|c: char| c.is_ascii_lowercase())
        && !t.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str, envs: &[&str], workloads: &[&str]) -> Result<Spec, Error> {
        let envs: Vec<String> = envs.iter().map(|s| s.to_string()).collect();
        let workloads: Vec<String> = workloads.iter().map(|s| s.to_string()).collect();
        plan(&Intent::new(text, None).unwrap(), &envs, &workloads).expect("a promotion")
    }

    fn promoted(s: &Spec) -> Vec<(String, String, Vec<Field>)> {
        s.changes
            .iter()
            .map(|c| {
                let p = c.promote.clone().unwrap();
                (c.target.clone(), p.from, p.fields)
            })
            .collect()
    }

    #[test]
    fn the_version_running_in_one_environment_goes_to_another() {
        let s = spec(
            "promote the version running in staging-eu to prod-eu",
            &["staging-eu", "prod-eu", "prod-us"],
            &["checkout"],
        )
        .unwrap();
        assert_eq!(s.environment, "prod-eu");
        assert_eq!(
            promoted(&s),
            [("*".to_string(), "staging-eu".to_string(), vec![Field::Image])]
        );
        assert_eq!(s.changes[0].operation, Operation::Promote);
    }

    #[test]
    fn a_named_workload_and_aliases() {
        let s = spec("please promote checkout from stg to prod", &[], &[]).unwrap();
        assert_eq!(s.environment, "production");
        assert_eq!(
            promoted(&s),
            [("checkout".to_string(), "staging".to_string(), vec![Field::Image])]
        );
        let s = spec(
            "promote api and web from staging to production",
            &[],
            &["api", "web"],
        )
        .unwrap();
        assert_eq!(s.changes.len(), 2);
    }

    #[test]
    fn copy_names_the_fields() {
        let s = spec("copy api's resources from staging to production", &[], &["api"]).unwrap();
        assert_eq!(
            promoted(&s),
            [("api".to_string(), "staging".to_string(), vec![Field::Resources])]
        );
        let s = spec(
            "copy the replicas and the image of api from staging into production",
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(promoted(&s)[0].2, [Field::Image, Field::Replicas]);
        let s = spec("promote everything from staging to production", &[], &[]).unwrap();
        assert_eq!(promoted(&s)[0].2.len(), 3);
        assert_eq!(s.changes[0].target, "*");
    }

    #[test]
    fn copy_without_two_environments_is_not_a_promotion() {
        let envs: Vec<String> = Vec::new();
        assert!(plan(
            &Intent::new("copy the config of api", None).unwrap(),
            &envs,
            &envs
        )
        .is_none());
        assert!(plan(&Intent::new("scale api to 3", None).unwrap(), &envs, &envs).is_none());
    }

    #[test]
    fn a_promotion_without_a_source_or_with_unknown_words_is_refused() {
        let e = spec("promote checkout to production", &[], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("the environment it copies from"), "{e}");
        let e = spec("promote checkout from staging to production by 5 pm", &[], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("was not understood"), "{e}");
    }
}
