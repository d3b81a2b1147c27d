//! Branch names: the default `gitintent/<slug>-<short-hash>`, validation, protection.
//!
//! gitintent only ever writes branches under `gitintent/`: a proposal can never move a
//! branch a person works on, whatever `--branch` says. Protected patterns are checked
//! on top of that (a repo may protect `gitintent/*` to switch proposals off).

use sha2::{Digest, Sha256};

use super::Error;

/// The namespace every proposal branch lives in.
pub(crate) const PREFIX: &str = "gitintent/";

/// The longest slug kept in a branch name.
const SLUG_MAX: usize = 40;

/// A DNS-safe slug of `text`: lowercase ASCII letters, digits and single dashes, at
/// most 40 characters (cut at a dash when possible), `proposal` when nothing is left.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.len() > SLUG_MAX {
        let cut = &out[..SLUG_MAX];
        out = match cut.rfind('-') {
            Some(i) if i >= SLUG_MAX / 2 => cut[..i].to_string(),
            _ => cut.to_string(),
        };
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "proposal".into()
    } else {
        out
    }
}

/// The default branch of a proposal: `gitintent/<slug(summary)>-<8 hex>`, where the hash
/// covers the spec's sha256 and the base *name*. The same spec against the same base
/// therefore always maps to the same branch (idempotence), also after the base moved.
pub fn default_branch(summary: &str, spec_sha256: &str, base: &str) -> String {
    let mut h = Sha256::new();
    h.update(spec_sha256.as_bytes());
    h.update(b"\0");
    h.update(base.as_bytes());
    let short = hex::encode(&h.finalize()[..4]);
    format!("{PREFIX}{}-{short}", slug(summary))
}

/// Checks a branch name: valid for git, inside `gitintent/`, not protected.
///
/// `base` and `main`/`master` are always protected; `patterns` are globs where `*`
/// matches within one path segment, `**` across segments and `?` one character.
pub(crate) fn check(name: &str, base: &str, patterns: &[String]) -> Result<(), Error> {
    let invalid = |reason: &str| Error::InvalidBranch {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if !git2::Branch::name_is_valid(name).unwrap_or(false) || name.starts_with('-') {
        return Err(invalid("not a valid git branch name"));
    }
    let base = base.strip_prefix("refs/heads/").unwrap_or(base);
    let always = ["main", "master", base];
    for pattern in always.iter().copied().chain(patterns.iter().map(String::as_str)) {
        if glob(pattern, name) {
            return Err(Error::Protected {
                branch: name.to_string(),
                pattern: pattern.to_string(),
            });
        }
    }
    match name.strip_prefix(PREFIX) {
        Some(rest) if !rest.is_empty() => Ok(()),
        _ => Err(invalid(
            "gitintent only writes branches under gitintent/ (e.g. gitintent/redis-cache)",
        )),
    }
}

/// Glob match on branch names: `**` any characters, `*` any except `/`, `?` one
/// character except `/`.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p {
            [] => n.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=n.len()).any(|i| go(rest, &n[i..])),
            [b'*', rest @ ..] => {
                let seg = n.iter().position(|&c| c == b'/').unwrap_or(n.len());
                (0..=seg).any(|i| go(rest, &n[i..]))
            }
            [b'?', rest @ ..] => matches!(n, [c, tail @ ..] if *c != b'/' && go(rest, tail)),
            [c, rest @ ..] => matches!(n, [d, tail @ ..] if c == d && go(rest, tail)),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_safe_and_bounded() {
        assert_eq!(
            slug("Add Redis (HA) to production!"),
            "add-redis-ha-to-production"
        );
        assert_eq!(slug("  ../../etc/passwd "), "etc-passwd");
        assert_eq!(slug("日本語"), "proposal");
        let long = slug(&"word ".repeat(30));
        assert!(long.len() <= 40 && !long.ends_with('-'), "{long}");
        assert!(long.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
    }

    #[test]
    fn default_branch_depends_on_spec_and_base_only() {
        let a = default_branch("Add redis", "abc", "main");
        assert!(a.starts_with("gitintent/add-redis-") && a.len() == "gitintent/add-redis-".len() + 8);
        assert_eq!(a, default_branch("Add redis", "abc", "main"));
        assert_ne!(a, default_branch("Add redis", "abd", "main"));
        assert_ne!(a, default_branch("Add redis", "abc", "staging"));
    }

    #[test]
    fn protected_and_foreign_branches_are_refused() {
        let protected = vec!["release/*".to_string(), "gitintent/frozen-**".to_string()];
        for (name, want) in [
            ("main", "protected"),
            ("develop", "protected"),
            ("release/1.2", "protected"),
            ("gitintent/frozen-a/b", "protected"),
            ("feature/x", "only writes branches under gitintent/"),
            ("gitintent/", "not a valid"),
            ("gitintent/a..b", "not a valid"),
            ("gitintent/x.lock", "not a valid"),
        ] {
            let err = check(name, "develop", &protected).unwrap_err().to_string();
            assert!(err.contains(want), "{name}: {err}");
        }
        check("gitintent/redis-1a2b3c4d", "main", &protected).unwrap();
        check("gitintent/release/1", "main", &protected).unwrap();
    }

    #[test]
    fn globs_respect_segments() {
        assert!(glob("release/*", "release/1.0"));
        assert!(!glob("release/*", "release/1/hotfix"));
        assert!(glob("release/**", "release/1/hotfix"));
        assert!(glob("v?", "v1"));
        assert!(!glob("main", "main2"));
    }
}
