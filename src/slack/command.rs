//! The slash command's text: `help`, `status <plan-id>`, `drift <env>
//! [repo:NAME]`, or an intent.
//!
//! An intent may carry `repo:NAME` and `env:NAME` tokens anywhere in the text
//! (Slack has no flags; `key:value` reads naturally in a chat line and cannot
//! be mistaken for a word of the intent). They are removed from the intent
//! before planning. A token that does not look like `repo:`/`env:` followed
//! by a plain name (letters, digits, `-`, `_`, `.`) stays in the intent.

/// The longest plan id accepted from Slack (ids are short; values come back from buttons).
const MAX_ID: usize = 64;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Status(String),
    /// The drift report of one environment.
    Drift {
        env: String,
        repo: Option<String>,
    },
    Plan {
        intent: String,
        repo: Option<String>,
        env: Option<String>,
    },
}

/// A command that cannot be understood; the message is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Error {
    #[error("`{0}:` is given twice; give one")]
    Twice(&'static str),
    #[error("`status` needs one plan id, e.g. `/gitintent status 3f9c2a1b7e40`")]
    StatusUsage,
    #[error("`{0}` is not a plan id (letters, digits, `-` and `_`, at most 64)")]
    BadId(String),
    #[error("the intent is empty once `repo:`/`env:` are removed; say what to deploy")]
    EmptyIntent,
    #[error(
        "`drift` needs one environment, e.g. `/gitintent drift production` (and optionally `repo:NAME`)"
    )]
    DriftUsage,
}

/// Parses the `text` field of a slash command.
pub(crate) fn parse(text: &str) -> Result<Command, Error> {
    let text = unformat(text);
    let text = text.trim();
    let mut words = text.split_whitespace();
    match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("help") if words.clone().next().is_none() => return Ok(Command::Help),
        Some("status") => {
            let (Some(id), None) = (words.next(), words.next()) else {
                return Err(Error::StatusUsage);
            };
            // Plan ids are shown in `code`; a pasted id may keep the backticks.
            return plan_id(id.trim_matches('`')).map(Command::Status);
        }
        Some("drift") => return drift(words),
        _ => {}
    }
    let mut repo = None;
    let mut env = None;
    let mut rest = Vec::new();
    for word in text.split_whitespace() {
        let slot = match word.split_once(':') {
            Some(("repo", name)) if is_name(name) => Some(("repo", &mut repo, name)),
            Some(("env", name)) if is_name(name) => Some(("env", &mut env, name)),
            _ => None,
        };
        match slot {
            Some((key, slot, name)) => {
                if slot.replace(name.to_string()).is_some() {
                    return Err(Error::Twice(key));
                }
            }
            None => rest.push(word),
        }
    }
    if rest.is_empty() {
        return Err(Error::EmptyIntent);
    }
    Ok(Command::Plan {
        intent: rest.join(" "),
        repo,
        env,
    })
}

/// `drift <env> [repo:NAME]` (`env:NAME` also accepted), in any order.
fn drift<'a>(words: impl Iterator<Item = &'a str>) -> Result<Command, Error> {
    let mut env = None;
    let mut repo = None;
    for word in words {
        let (key, slot, name) = match word.split_once(':') {
            Some(("repo", name)) => ("repo", &mut repo, name),
            Some(("env", name)) => ("env", &mut env, name),
            _ => ("env", &mut env, word),
        };
        if !is_name(name) {
            return Err(Error::DriftUsage);
        }
        if slot.replace(name.to_string()).is_some() {
            return Err(if key == "repo" {
                Error::Twice("repo")
            } else {
                Error::DriftUsage
            });
        }
    }
    let env = env.ok_or(Error::DriftUsage)?;
    Ok(Command::Drift { env, repo })
}

/// Undoes Slack's message formatting, so the planner sees what the user typed:
/// `&amp;`/`&lt;`/`&gt;` become `&`/`<`/`>`, and Slack's `<…>` links and mentions
/// become their visible label (`<http://a.example|a.example>` → `a.example`,
/// `<@U1|ada>` → `@ada`, `<!here>` → `@here`).
pub(crate) fn unformat(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, inner, after)) = rest
        .split_once('<')
        .and_then(|(before, tail)| tail.split_once('>').map(|(inner, after)| (before, inner, after)))
    {
        out.push_str(&unescape(before));
        let (target, label) = match inner.split_once('|') {
            Some((target, label)) => (target, Some(label)),
            None => (inner, None),
        };
        let shown = match (target.chars().next(), label) {
            (Some('@'), Some(label)) => format!("@{}", label.trim_start_matches('@')),
            (Some('#'), Some(label)) => format!("#{}", label.trim_start_matches('#')),
            (Some('!'), None) => format!("@{}", target[1..].split('^').next().unwrap_or("")),
            (_, Some(label)) => label.to_string(),
            (_, None) => target.to_string(),
        };
        out.push_str(&unescape(&shown));
        rest = after;
    }
    out.push_str(&unescape(rest));
    out
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Checks a plan id from a command or a button value.
pub(crate) fn plan_id(id: &str) -> Result<String, Error> {
    if id.is_empty()
        || id.len() > MAX_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::BadId(id.chars().take(MAX_ID).collect()));
    }
    Ok(id.to_string())
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(intent: &str, repo: Option<&str>, env: Option<&str>) -> Command {
        Command::Plan {
            intent: intent.into(),
            repo: repo.map(Into::into),
            env: env.map(Into::into),
        }
    }

    #[test]
    fn empty_text_and_help_mean_help() {
        assert_eq!(parse(""), Ok(Command::Help));
        assert_eq!(parse("  HELP "), Ok(Command::Help));
        // "help" followed by words is an intent like any other.
        assert_eq!(
            parse("help me deploy redis"),
            Ok(plan("help me deploy redis", None, None))
        );
    }

    #[test]
    fn status_takes_exactly_one_plan_id() {
        assert_eq!(parse("status ab12-CD_3"), Ok(Command::Status("ab12-CD_3".into())));
        assert_eq!(parse("status `3f9c`"), Ok(Command::Status("3f9c".into())));
        assert_eq!(parse("status"), Err(Error::StatusUsage));
        assert_eq!(parse("status a b"), Err(Error::StatusUsage));
        assert!(matches!(parse("status <@U1>"), Err(Error::BadId(_))));
    }

    #[test]
    fn drift_takes_one_environment_and_an_optional_repo() {
        let drift = |env: &str, repo: Option<&str>| Command::Drift {
            env: env.into(),
            repo: repo.map(Into::into),
        };
        assert_eq!(parse("drift production"), Ok(drift("production", None)));
        assert_eq!(
            parse("DRIFT repo:platform staging"),
            Ok(drift("staging", Some("platform")))
        );
        assert_eq!(parse("drift env:qa"), Ok(drift("qa", None)));
        assert_eq!(parse("drift"), Err(Error::DriftUsage));
        assert_eq!(parse("drift a b"), Err(Error::DriftUsage));
        assert_eq!(parse("drift ../etc"), Err(Error::DriftUsage));
        assert_eq!(parse("drift a repo:x repo:y"), Err(Error::Twice("repo")));
    }

    #[test]
    fn slack_formatting_is_undone_before_planning() {
        assert_eq!(
            unformat("deploy grafana at <http://grafana.example.com|grafana.example.com> &amp; tls"),
            "deploy grafana at grafana.example.com & tls"
        );
        assert_eq!(
            unformat("<https://a.example/x> for <@U1|ada> <#C1|ops> <!here>"),
            "https://a.example/x for @ada #ops @here"
        );
        assert_eq!(
            unformat("<@U1> a &lt;b&gt; &amp;lt; <!subteam^S1>"),
            "@U1 a <b> &lt; @subteam"
        );
        assert_eq!(unformat("x < y"), "x < y");
        assert_eq!(
            parse("deploy <http://api.example.com|api.example.com> env:dev"),
            Ok(plan("deploy api.example.com", None, Some("dev")))
        );
    }

    #[test]
    fn repo_and_env_tokens_are_lifted_out_of_the_intent() {
        assert_eq!(
            parse("deploy redis repo:platform with 3 replicas env:staging"),
            Ok(plan(
                "deploy redis with 3 replicas",
                Some("platform"),
                Some("staging")
            ))
        );
        // Not a plain name: stays in the intent.
        assert_eq!(
            parse("deploy api env:FOO=bar"),
            Ok(plan("deploy api env:FOO=bar", None, None))
        );
        assert_eq!(parse("repo:a repo:b deploy"), Err(Error::Twice("repo")));
        assert_eq!(parse("repo:a env:dev"), Err(Error::EmptyIntent));
    }
}
