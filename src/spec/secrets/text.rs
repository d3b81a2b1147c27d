//! Credentials in free text: an intent echoed back, a model's assumptions.
//!
//! [`redact_text`] replaces what follows words such as `password` or
//! `passphrase`, the value of `NAME=value` pairs with a secret name, and
//! tokens shaped like credentials; [`credentials`] returns the values it
//! replaced, so that later text (the model's reply) can be checked against
//! exactly what the user wrote. Words are split on any Unicode whitespace
//! (a non-breaking space hides nothing), and the separators are kept.

use super::{is_secret_name, is_secret_value};

const REDACTED: &str = "[redacted]";

/// Redacts credential-looking values in free text (an intent echoed back):
/// values after words such as `password` or `token`, `NAME=value` pairs with
/// a secret name, and tokens shaped like credentials.
pub fn redact_text(text: &str) -> String {
    redact(text).0
}

/// The credential values [`redact_text`] removes from `text` (an intent), in
/// order: what the user said is a secret, whatever a later copy is called.
pub fn credentials(text: &str) -> Vec<String> {
    redact(text).1
}

/// `text` with every occurrence of a known credential replaced. Values under
/// 4 characters are not searched for: they would match ordinary words.
pub fn redact_known(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for value in known.iter().filter(|v| v.chars().count() >= 4) {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), REDACTED);
        }
    }
    out
}

/// Words of `text` with the whitespace that follows each.
fn words(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        let sep_len = after.find(|c: char| !c.is_whitespace()).unwrap_or(after.len());
        let (sep, next) = after.split_at(sep_len);
        out.push((word, sep));
        rest = next;
    }
    out
}

/// A word without surrounding punctuation.
fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
}

/// The redacted text and the values removed.
fn redact(text: &str) -> (String, Vec<String>) {
    let mut r = Redactor {
        out: String::with_capacity(text.len()),
        ..Redactor::default()
    };
    for (word, sep) in words(text) {
        r.word(word, sep);
    }
    r.finish()
}

/// One pass of [`redact`] over the words of a text.
#[derive(Default)]
struct Redactor {
    out: String,
    found: Vec<String>,
    /// The previous word named a secret ("password"): redact what follows.
    redact_next: bool,
    /// The quote that closes a multi-word secret being skipped, and its words so far.
    in_quote: Option<(char, String)>,
}

impl Redactor {
    fn word(&mut self, word: &str, sep: &str) {
        if self.in_quote.is_some() {
            return self.quoted(word, sep);
        }
        let b = bare(word);
        if self.redact_next {
            return self.after_name(word, b, sep);
        }
        if let Some((name, value)) = word.split_once(['=', ':']) {
            if let Some(q) = opening_quote(value).filter(|_| is_secret_name(bare(name))) {
                self.out.push_str(&format!(
                    "{name}{}{q}{REDACTED}{q}",
                    &word[name.len()..name.len() + 1]
                ));
                self.in_quote = Some((q, format!("{}{sep}", &value[q.len_utf8()..])));
                return;
            }
        }
        match pair(word) {
            Some((name, value)) if is_secret_name(name) || is_secret_value(value) => {
                self.replace(word, value, sep)
            }
            _ if is_secret_value(b) => self.replace(word, b, sep),
            _ => {
                self.redact_next = names_a_secret(b);
                self.push(word, sep);
            }
        }
    }

    /// A word inside a quoted secret: skipped, up to the closing quote.
    fn quoted(&mut self, word: &str, sep: &str) {
        let Some((q, mut value)) = self.in_quote.take() else {
            return;
        };
        match word.find(q) {
            Some(i) => {
                value.push_str(&word[..i]);
                self.found.push(value);
                self.push(&word[i + q.len_utf8()..], sep);
            }
            None => {
                value.push_str(word);
                value.push_str(sep);
                self.in_quote = Some((q, value));
            }
        }
    }

    /// The word after a secret's name: "password is X", "password: X" skip
    /// the filler and redact what follows (a quoted value whole).
    fn after_name(&mut self, word: &str, b: &str, sep: &str) {
        if b.is_empty() || ["is", "of", "to", "as", "="].contains(&b) {
            return self.push(word, sep);
        }
        self.redact_next = false;
        match opening_quote(word) {
            Some(q) => {
                self.out.push_str(&format!("{q}{REDACTED}{q}"));
                self.in_quote = Some((q, format!("{}{sep}", &word[q.len_utf8()..])));
            }
            None => self.replace(word, b, sep),
        }
    }

    fn replace(&mut self, word: &str, value: &str, sep: &str) {
        self.found.push(value.to_string());
        self.push(&word.replacen(value, REDACTED, 1), sep);
    }

    fn push(&mut self, word: &str, sep: &str) {
        self.out.push_str(word);
        self.out.push_str(sep);
    }

    fn finish(mut self) -> (String, Vec<String>) {
        if let Some((_, value)) = self.in_quote.take() {
            // An unclosed quote hides the rest rather than leaking it.
            self.found.push(value.trim_end().to_string());
        }
        (self.out, self.found)
    }
}

/// True when a word of prose names a secret, so the next word is its value.
/// "pass" in lower or title case is the English verb ("pass --env staging"),
/// not a credential's name; `PASS` and `DB_PASS` still are.
fn names_a_secret(word: &str) -> bool {
    is_secret_name(word) && !word.contains(['=', ':']) && !matches!(word, "pass" | "Pass")
}

/// `NAME=value` or `NAME:value` in a word: the name without leading
/// punctuation, the value without trailing punctuation (`,` `.` `)` …).
/// A URL is a value, not a pair (`https://…`), unless a name precedes it.
fn pair(word: &str) -> Option<(&str, &str)> {
    let start = word.find(|c: char| c.is_alphanumeric() || c == '_')?;
    let word = &word[start..];
    let (name, value) = word.split_once(['=', ':'])?;
    if value.starts_with("//") {
        return None;
    }
    let value = value.trim_end_matches([',', '.', ';', ')', ']', '!', '?', '"', '\'']);
    (!name.is_empty() && !value.is_empty()).then_some((name, value))
}

/// The quote a word opens and does not close: `"two` or `'two`, not `"one"`.
fn opening_quote(word: &str) -> Option<char> {
    let q = word.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let closed = word[q.len_utf8()..].contains(q);
    (!closed).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verb_pass_is_not_a_secret_name() {
        let q = "which environment? pass --env staging or say \"in staging\"";
        assert_eq!(redact_text(q), q);
        assert_eq!(redact_text("Pass the name"), "Pass the name");
        assert_eq!(redact_text("DB_PASS hunter2hunter2"), "DB_PASS [redacted]");
        assert_eq!(redact_text("PASS hunter2hunter2"), "PASS [redacted]");
    }

    #[test]
    fn intents_are_redacted_for_echo() {
        assert_eq!(
            redact_text("deploy postgres with password hunter2 in prod"),
            "deploy postgres with password [redacted] in prod"
        );
        assert_eq!(
            redact_text("run api with API_KEY=sk-abcdef1234567890"),
            "run api with API_KEY=[redacted]"
        );
        assert_eq!(
            redact_text("deploy mysql, the root password is Sup3rS3cret! in staging"),
            "deploy mysql, the root password is [redacted]! in staging"
        );
        assert_eq!(
            redact_text("deploy redis with 3 replicas"),
            "deploy redis with 3 replicas"
        );
    }

    #[test]
    fn quoted_multi_word_secrets_are_redacted_whole() {
        assert_eq!(
            redact_text("deploy postgres with password \"correct horse battery\" in prod"),
            "deploy postgres with password \"[redacted]\" in prod"
        );
        assert_eq!(
            redact_text("run api with DB_PASSWORD='two words' and 2 replicas"),
            "run api with DB_PASSWORD='[redacted]' and 2 replicas"
        );
        assert_eq!(
            redact_text("deploy app with password 'single' now"),
            "deploy app with password '[redacted]' now"
        );
        // An unclosed quote hides the rest rather than leaking it.
        assert_eq!(
            redact_text("set password \"never closed and more"),
            "set password \"[redacted]\""
        );
        assert_eq!(
            credentials("password \"correct horse battery\" and DB_PASSWORD='two words'"),
            ["correct horse battery", "two words"]
        );
    }

    #[test]
    fn url_userinfo_passphrases_app_keys_and_odd_spaces_are_redacted() {
        // Issue 13: each of these reached the store in clear.
        for (intent, secret) in [
            (
                "deploy api with GIT_REMOTE=https://secret@host/x in dev",
                "secret",
            ),
            ("deploy api, the gpg passphrase Tr0ub4dor in dev", "Tr0ub4dor"),
            ("deploy api with APP_KEY=base64Zm9vYmFy in dev", "base64Zm9vYmFy"),
            ("deploy api with password\u{a0}hunter2 in dev", "hunter2"),
            ("deploy api with password\u{2003}hunter2 in dev", "hunter2"),
            ("clone https://ghp_tok@github.com/a/b.git", "ghp_tok"),
        ] {
            let redacted = redact_text(intent);
            assert!(!redacted.contains(secret), "{intent:?} -> {redacted:?}");
            assert!(redacted.contains(REDACTED), "{redacted:?}");
            assert!(
                credentials(intent).iter().any(|c| c.contains(secret)),
                "{intent:?}: {:?}",
                credentials(intent)
            );
        }
        // Separators survive, and ordinary URLs and words are left alone.
        assert_eq!(
            redact_text("password\u{a0}hunter2\tnow"),
            "password\u{a0}[redacted]\tnow"
        );
        for plain in [
            "expose it at https://example.com/path",
            "deploy a key-value store",
            "clone ssh://git@github.com/a/b.git",
        ] {
            assert_eq!(redact_text(plain), plain);
        }
    }

    #[test]
    fn known_values_are_replaced_wherever_they_appear() {
        let known = vec!["hunter2".to_string(), "ab".to_string()];
        assert_eq!(
            redact_known("CONFIG holds hunter2; about ab", &known),
            "CONFIG holds [redacted]; about ab"
        );
    }
}
