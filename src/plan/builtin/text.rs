//! Tokens and numbers: the reading layer under the builtin planner.
//!
//! [`Words::new`] splits an intent into [`Token`]s that keep the user's
//! spelling (for images, hosts and values) beside a lowercase form (for
//! matching). Glued forms are split apart: `2GB` and `6:30pm` become a number
//! and a unit, `3-node` a number and a noun, `replicas=3` a key and a value.
//! [`Words::number`] reads digits and number words ("three", "a dozen",
//! "half a"). Every token can be claimed once, so a number read as a port is
//! not read again as a replica count. Nothing here knows about Kubernetes.

use std::ops::Range;

use super::lexicon::{Class, WordSet};

/// One word of the intent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    /// As written, minus surrounding quotes and punctuation.
    pub(super) raw: String,
    /// Lowercase, for matching.
    pub(super) low: String,
    /// A `,` `;` `.` `!` or `?` followed the token.
    pub(super) pause: bool,
    /// A quote opened before the token.
    pub(super) opens: bool,
    /// A quote closed after the token.
    pub(super) closes: bool,
}

/// The tokens of an intent and which of them have been claimed.
#[derive(Debug)]
pub(super) struct Words {
    toks: Vec<Token>,
    used: Vec<bool>,
}

/// Number words up to nineteen, by value.
const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [(&str, u32); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Keys split off a glued `key=value` or `key:value` when written in lowercase.
const SPLIT_KEYS: &[&str] = &[
    "replicas",
    "replica",
    "memory",
    "mem",
    "ram",
    "cpu",
    "cpus",
    "port",
    "image",
    "namespace",
    "ns",
    "env",
    "environment",
    "name",
    "storage",
    "disk",
    "schedule",
    "cron",
    "host",
    "hostname",
    "domain",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "secret",
    "apikey",
    "api-key",
    "key",
    "min",
    "max",
    "path",
];

/// Nouns split off a hyphenated count, as in `3-node` or `three-replica`.
const COUNTED: &[&str] = &[
    "node",
    "nodes",
    "replica",
    "replicas",
    "instance",
    "instances",
    "broker",
    "brokers",
    "member",
    "members",
    "pod",
    "pods",
    "core",
    "cores",
    "cpu",
    "cpus",
    "vcpu",
    "gb",
    "gig",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "way",
    "server",
    "servers",
];

impl Words {
    /// Tokenises `text`.
    pub(super) fn new(text: &str) -> Words {
        let mut toks: Vec<Token> = Vec::new();
        for line in text.lines() {
            Words::line(&mut toks, line);
            // A line break ends a phrase, as in a bulleted list of components.
            if let Some(last) = toks.last_mut() {
                last.pause = true;
            }
        }
        let used = vec![false; toks.len()];
        Words { toks, used }
    }

    fn line(toks: &mut Vec<Token>, line: &str) {
        for (n, piece) in line.split_whitespace().enumerate() {
            if n == 0 && ["-", "*", "\u{2022}"].contains(&piece) {
                if let Some(last) = toks.last_mut() {
                    last.pause = true;
                }
                continue;
            }
            // `FLAGS=a,b` keeps its commas; elsewhere a comma separates words.
            let parts: Vec<&str> = if piece.contains('=') {
                match piece.strip_suffix(',') {
                    Some(p) => vec![p, ""],
                    None => vec![piece],
                }
            } else {
                piece.split(',').collect()
            };
            let last = parts.len() - 1;
            for (n, part) in parts.into_iter().enumerate() {
                push(toks, part, n < last);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.toks.len()
    }

    /// The token as written, or `""` past the end.
    pub(super) fn raw(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.raw.as_str())
    }

    /// The token in lowercase, or `""` past the end.
    pub(super) fn low(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.low.as_str())
    }

    /// True when punctuation followed token `i`.
    pub(super) fn pause(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.pause)
    }

    /// True when token `i` exists and nothing has claimed it.
    pub(super) fn free(&self, i: usize) -> bool {
        i < self.toks.len() && !self.used[i]
    }

    /// True when every token in `r` exists and is unclaimed.
    pub(super) fn all_free(&self, r: Range<usize>) -> bool {
        r.end <= self.toks.len() && r.into_iter().all(|i| !self.used[i])
    }

    /// The end of a quoted phrase starting at `i` ("correct horse battery
    /// staple"), or `i + 1` when `i` does not open a quote.
    pub(super) fn quoted(&self, i: usize) -> usize {
        let Some(t) = self.toks.get(i) else { return i + 1 };
        if !t.opens || t.closes {
            return i + 1;
        }
        (i..self.toks.len().min(i + 16))
            .find(|&k| self.toks[k].closes)
            .map_or(i + 1, |k| k + 1)
    }

    /// Marks tokens as read.
    pub(super) fn claim(&mut self, r: Range<usize>) {
        let end = r.end.min(self.used.len());
        for u in &mut self.used[r.start.min(end)..end] {
            *u = true;
        }
    }

    /// True when token `i` is one of `set`.
    pub(super) fn is(&self, i: usize, set: impl WordSet) -> bool {
        i < self.toks.len() && set.holds(self.low(i))
    }

    /// True when the tokens from `i` on spell `words`.
    pub(super) fn phrase(&self, i: usize, words: &[&str]) -> bool {
        words.iter().enumerate().all(|(k, w)| self.low(i + k) == *w)
    }

    /// True when `word` appears (unclaimed or not) anywhere in `r`.
    pub(super) fn has(&self, r: Range<usize>, set: impl WordSet) -> bool {
        r.into_iter().any(|i| self.is(i, set))
    }

    /// The nearest token before `i` (not before `floor`) that is not an article.
    pub(super) fn before(&self, i: usize, floor: usize) -> Option<usize> {
        (floor..i).rev().find(|&j| !self.is(j, Class::Determiner))
    }

    /// The next token from `i` on that is not one of `skip`, within `limit` tokens.
    pub(super) fn skip(&self, i: usize, skip: impl WordSet, limit: usize) -> usize {
        let mut j = i;
        while j < i + limit && self.is(j, skip) {
            j += 1;
        }
        j
    }

    /// Reads a number at `i`: digits (`3`, `0.5`) or words (`three`,
    /// `twenty-five`, `a dozen`, `half a`, `a couple of`). With `article`,
    /// a bare `a`/`an` counts as one ("a gig of RAM").
    ///
    /// Returns the value and how many tokens it spans.
    pub(super) fn number(&self, i: usize, article: bool) -> Option<(f64, usize)> {
        let w = self.low(i);
        if w.is_empty() {
            return None;
        }
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            let ok = w.chars().all(|c| c.is_ascii_digit() || c == '.') && w.matches('.').count() <= 1;
            return w
                .parse::<f64>()
                .ok()
                .filter(|n| ok && n.is_finite())
                .map(|n| (n, 1));
        }
        if let Some(read) = self.spelled(i) {
            return Some(read);
        }
        let of = |j: usize| usize::from(self.low(j) == "of");
        let a = |j: usize| usize::from(self.is(j, &["a", "an"]));
        match w {
            "a" | "an" => match self.low(i + 1) {
                "dozen" => Some((12.0, 2)),
                "couple" | "pair" => Some((2.0, 2 + of(i + 2))),
                "single" => Some((1.0, 2)),
                "half" => Some((0.5, 2)),
                "quarter" => {
                    let extra = if of(i + 2) == 1 { 1 + a(i + 3) } else { 0 };
                    Some((0.25, 2 + extra))
                }
                _ if article => Some((1.0, 1)),
                _ => None,
            },
            "dozen" => Some((12.0, 1)),
            "couple" | "pair" => Some((2.0, 1 + of(i + 1))),
            "single" | "once" => Some((1.0, 1)),
            "twice" => Some((2.0, 1)),
            // "half a dozen" is six, not a half and a dozen.
            "half" if self.phrase(i + 1, &["a", "dozen"]) => Some((6.0, 3)),
            "half" => Some((0.5, 1 + a(i + 1))),
            "quarter" => {
                let extra = if of(i + 1) == 1 { 1 + a(i + 2) } else { 0 };
                Some((0.25, 1 + extra))
            }
            _ => None,
        }
    }

    /// Reads a number spelled in words at `i` ("three", "twenty five",
    /// "two and a half"), with how many tokens it spans.
    fn spelled(&self, i: usize) -> Option<(f64, usize)> {
        let w = self.low(i);
        let n = word_value(w)?;
        let (n, len) = match TENS.iter().find(|(t, _)| *t == w) {
            Some(_) => match SMALL[1..10].iter().position(|s| *s == self.low(i + 1)) {
                Some(unit) => (n + unit as f64 + 1.0, 2),
                None => (n, 1),
            },
            None => (n, 1),
        };
        if self.phrase(i + len, &["and", "a", "half"]) {
            return Some((n + 0.5, len + 3));
        }
        Some((n, len))
    }

    /// Reads a whole, non-negative number at `i` (no articles, no fractions).
    pub(super) fn whole(&self, i: usize) -> Option<(u32, usize)> {
        let (n, len) = self.number(i, false)?;
        (n.fract() == 0.0 && (0.0..=1_000_000.0).contains(&n)).then_some((n as u32, len))
    }
}

/// The value of a single number word, including hyphenated tens (`twenty-five`).
fn word_value(w: &str) -> Option<f64> {
    if let Some(n) = SMALL.iter().position(|s| *s == w) {
        return Some(n as f64);
    }
    if let Some((_, n)) = TENS.iter().find(|(t, _)| *t == w) {
        return Some(f64::from(*n));
    }
    let (tens, unit) = w.split_once('-')?;
    let (_, t) = TENS.iter().find(|(t, _)| *t == tens)?;
    let u = SMALL[1..10].iter().position(|s| *s == unit)? + 1;
    Some(f64::from(*t) + u as f64)
}

/// True for digits or a number word, as in the first half of `3-node`.
fn is_count(s: &str) -> bool {
    let low = s.to_ascii_lowercase();
    (!low.is_empty() && low.chars().all(|c| c.is_ascii_digit()))
        || word_value(&low).is_some()
        || low == "single"
}

const OPEN: &[char] = &[
    '"', '\'', '(', '[', '{', '<', '`', '\u{201c}', '\u{2018}', '\u{ab}',
];
const CLOSE: &[char] = &[
    '"', '\'', ')', ']', '}', '>', '`', '\u{201d}', '\u{2019}', '\u{bb}', ':',
];
const PAUSES: &[char] = &[',', ';', '.', '!', '?'];
const QUOTES: &[char] = &['"', '\'', '`', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];

/// Strips punctuation from one whitespace-free piece and pushes its parts.
fn push(toks: &mut Vec<Token>, piece: &str, comma_follows: bool) {
    let start = piece.trim_start_matches(OPEN);
    let mut s = start;
    let mut pause = comma_follows;
    loop {
        let before = s.len();
        s = s.trim_end_matches(CLOSE);
        if let Some(rest) = s.strip_suffix(PAUSES) {
            s = rest;
            pause = true;
        }
        if s.len() == before {
            break;
        }
    }
    let head = &piece[..piece.len() - start.len()];
    let tail = &piece[head.len() + s.len()..];
    let opens = head.contains(QUOTES);
    let closes = tail.contains(QUOTES);
    if s.is_empty() {
        if let Some(last) = toks.last_mut() {
            last.pause |= pause;
            last.closes |= closes;
        }
        return;
    }
    let parts = split(s);
    let last = parts.len() - 1;
    for (n, raw) in parts.into_iter().enumerate() {
        let low = raw.to_lowercase();
        toks.push(Token {
            raw,
            low,
            pause: pause && n == last,
            opens: opens && n == 0,
            closes: closes && n == last,
        });
    }
}

/// Splits glued forms: `replicas=3`, `2GB`, `70%`, `6:30pm`, `3-node`.
fn split(s: &str) -> Vec<String> {
    for sep in ['=', ':'] {
        if let Some((k, v)) = s.split_once(sep) {
            let lower_key = !k.chars().any(|c| c.is_ascii_uppercase());
            if lower_key && SPLIT_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                let mut out = vec![k.to_string()];
                if !v.is_empty() {
                    out.extend(split(v));
                }
                return out;
            }
        }
    }
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .unwrap_or(s.len());
    if end > 0 && end < s.len() {
        let (num, unit) = s.split_at(end);
        let clock = num.contains(':');
        let unit_low = unit.to_ascii_lowercase();
        let num_ok =
            !num.ends_with(['.', ':']) && !num.starts_with(['.', ':']) && num.matches('.').count() <= 1;
        let unit_ok = if clock {
            unit_low == "am" || unit_low == "pm" || unit_low == "h"
        } else {
            unit.chars().all(|c| c.is_ascii_alphabetic()) || unit == "%"
        };
        if num_ok && unit_ok {
            return vec![num.to_string(), unit.to_string()];
        }
    }
    if let Some((n, noun)) = s.split_once('-') {
        if is_count(n) && COUNTED.contains(&noun.to_ascii_lowercase().as_str()) {
            return vec![n.to_string(), noun.to_string()];
        }
    }
    vec![s.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raws(text: &str) -> Vec<String> {
        Words::new(text).toks.into_iter().map(|t| t.raw).collect()
    }

    #[test]
    fn punctuation_is_stripped_but_paths_and_images_survive() {
        assert_eq!(
            raws("Deploy \"acme/api:1.2\", at api.example.com/v1. (Now!)"),
            ["Deploy", "acme/api:1.2", "at", "api.example.com/v1", "Now"]
        );
        assert_eq!(raws("called ../../etc"), ["called", "../../etc"]);
    }

    #[test]
    fn glued_units_are_split_from_their_numbers() {
        assert_eq!(
            raws("2GB 0.5cpu 70% 500m 6:30pm 2am"),
            ["2", "GB", "0.5", "cpu", "70", "%", "500", "m", "6:30", "pm", "2", "am"]
        );
        assert_eq!(
            raws("a 3-node three-replica one-off"),
            ["a", "3", "node", "three", "replica", "one-off"]
        );
    }

    #[test]
    fn lowercase_keys_are_split_from_values_but_env_assignments_are_not() {
        assert_eq!(
            raws("replicas=3 image=nginx:1.27 LOG_LEVEL=debug"),
            ["replicas", "3", "image", "nginx:1.27", "LOG_LEVEL=debug"]
        );
        assert_eq!(
            raws("password:hunter2 PASSWORD=x"),
            ["password", "hunter2", "PASSWORD=x"]
        );
    }

    #[test]
    fn quoted_phrases_are_spanned() {
        let w = Words::new("password is \"correct horse battery staple\" ok");
        assert_eq!(w.quoted(2), 6);
        assert_eq!(w.quoted(6), 7);
        assert_eq!(Words::new("'x' y").quoted(0), 1);
    }

    #[test]
    fn commas_and_full_stops_mark_pauses() {
        let w = Words::new("redis, postgres. and kafka");
        assert!(w.pause(0) && w.pause(1) && !w.pause(2));
    }

    #[test]
    fn numbers_are_read_from_digits_and_words() {
        let w = Words::new("3 three twenty-five twenty five a dozen half a a couple of 0.5 one and a half x");
        let read = |i, article| w.number(i, article);
        assert_eq!(read(0, false), Some((3.0, 1)));
        assert_eq!(read(1, false), Some((3.0, 1)));
        assert_eq!(read(2, false), Some((25.0, 1)));
        assert_eq!(read(3, false), Some((25.0, 2)));
        assert_eq!(read(5, false), Some((12.0, 2)));
        assert_eq!(read(7, false), Some((0.5, 2)));
        assert_eq!(read(9, false), Some((2.0, 3)));
        assert_eq!(read(12, false), Some((0.5, 1)));
        assert_eq!(read(13, false), Some((1.5, 4)));
        assert_eq!(read(17, false), None);
    }

    #[test]
    fn a_bare_article_counts_only_when_asked() {
        let w = Words::new("a gig");
        assert_eq!(w.number(0, false), None);
        assert_eq!(w.number(0, true), Some((1.0, 1)));
    }

    #[test]
    fn version_numbers_are_not_numbers() {
        let w = Words::new("1.2.3");
        assert_eq!(w.number(0, false), None);
    }
}
