//! Schedules: "nightly at 2am", "every 15 minutes", "every monday at 9am".
//!
//! [`find`] reads a frequency (every N minutes/hours/days, hourly, daily,
//! nightly, weekly, monthly, twice a day, named weekdays), a time of day
//! (`2am`, `6:30pm`, `14:00`, noon, midnight) and a day of the month (`on
//! the 15th`), or an explicit five-field expression, and writes a cron
//! expression. What it had to pick (a missing time, Sunday for "weekly") is
//! returned as assumptions. [`zone`] reads an IANA zone name ("9am
//! Europe/Berlin time"), which becomes the CronJob's `timeZone`; an
//! abbreviation (EST, CET) is ambiguous and comes back as a question.

use std::ops::Range;

use super::text::Words;

/// A schedule read from a clause.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Schedule {
    pub(super) cron: String,
    pub(super) assumptions: Vec<String>,
    pub(super) questions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Every {
    Seconds,
    Minutes(u32),
    Hours(u32),
    Days(u32),
    TwiceDaily,
    Weekly(Vec<u32>),
    Monthly,
}

const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
/// Time zone abbreviations: ambiguous, so a question rather than a zone.
const ZONES: &[&str] = &[
    "est", "edt", "et", "cst", "cdt", "ct", "mst", "mdt", "pst", "pdt", "pt", "cet", "cest", "bst", "ist",
    "jst", "aest", "eastern", "pacific", "central", "local",
];

/// The areas of IANA zone names (`Europe/Berlin`, `America/New_York`).
const AREAS: &[&str] = &[
    "africa",
    "america",
    "antarctica",
    "asia",
    "atlantic",
    "australia",
    "europe",
    "indian",
    "pacific",
    "etc",
];

/// Reads an IANA time zone name in `r` ("Europe/Berlin", "in the
/// America/New_York time zone"), claiming it and a following "time".
pub(super) fn zone(w: &mut Words, r: &Range<usize>) -> Option<String> {
    for i in r.clone() {
        let raw = w.raw(i);
        let Some((area, city)) = raw.split_once('/') else {
            continue;
        };
        let city_ok = !city.is_empty()
            && city.starts_with(|c: char| c.is_ascii_uppercase())
            && city
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+-/".contains(c));
        if !w.free(i) || !AREAS.contains(&area.to_ascii_lowercase().as_str()) || !city_ok {
            continue;
        }
        let zone = raw.to_string();
        let mut end = i + 1;
        if w.is(end, &["time", "timezone", "tz"]) {
            end += 1;
        } else if w.phrase(end, &["time", "zone"]) {
            end += 2;
        }
        w.claim(i..end);
        return Some(zone);
    }
    None
}

fn day(word: &str) -> Option<u32> {
    let w = word.strip_suffix('s').unwrap_or(word);
    DAYS.iter().position(|d| *d == w).map(|d| d as u32)
}

/// Reads a schedule in `r`, claiming its words. `cue` says the clause is
/// about a scheduled job, so a bare time ("at 2am") means daily.
pub(super) fn find(w: &mut Words, r: &Range<usize>, cue: bool) -> Option<Schedule> {
    if let Some(s) = explicit(w, r) {
        return Some(s);
    }
    let parts = parts(w, r);
    let every = match parts.every.clone() {
        Some(Every::Seconds) if !cue => return None,
        Some(e) => e,
        None if parts.time.is_some() && cue => Every::Days(1),
        None if parts.month_day.is_some() && cue => Every::Monthly,
        None => return None,
    };
    for c in &parts.claims {
        w.claim(c.clone());
    }
    let mut s = Schedule::default();
    if let Some(z) = &parts.zone {
        s.questions.push(format!(
            "the schedule mentions the time zone {z}; CronJobs run in the cluster's time zone (usually UTC) and \
             the spec has no time zone field, so the time was kept as written — convert it to UTC if needed"
        ));
    }
    s.cron = cron(every, &parts, &mut s);
    Some(s)
}

/// The parts of a schedule a clause says, and the words that said them.
#[derive(Default)]
struct Parts {
    every: Option<Every>,
    time: Option<(u32, u32)>,
    minute_past: Option<u32>,
    month_day: Option<u32>,
    zone: Option<String>,
    claims: Vec<Range<usize>>,
}

/// Scans the free words of `r` for a frequency, a time of day, a minute
/// past the hour, a day of the month and a time zone; claims nothing.
fn parts(w: &Words, r: &Range<usize>) -> Parts {
    let mut p = Parts::default();
    let mut i = r.start;
    while i < r.end {
        if !w.free(i) {
            i += 1;
        } else if let Some((e, len)) = frequency(w, i) {
            p.every = Some(narrow(p.every.take(), e));
            p.claims.push(i..i + len);
            i += len;
        } else if let Some((t, len)) = clock(w, i) {
            p.time.get_or_insert(t);
            p.claims.push(i..i + len);
            i += len;
        } else {
            i += minute_day_or_zone(w, i, &mut p);
        }
    }
    p
}

/// A second frequency narrows the first ("once a week on friday", "every
/// day on weekdays"); otherwise the first stands.
fn narrow(old: Option<Every>, e: Every) -> Every {
    match (old, e) {
        (None, e) => e,
        (Some(Every::Weekly(v)), Every::Weekly(d)) if v.is_empty() => Every::Weekly(d),
        (Some(Every::Days(1)), Every::Weekly(d)) if !d.is_empty() => Every::Weekly(d),
        (Some(old), _) => old,
    }
}

/// Reads a minute past the hour, a day of the month or (after a time) a
/// time zone at `i`; returns how many words to move on.
fn minute_day_or_zone(w: &Words, i: usize, p: &mut Parts) -> usize {
    // "at 15 minutes past", "at :15"
    if let Some(m) = w
        .low(i)
        .strip_prefix(':')
        .and_then(|m| m.parse::<u32>().ok())
        .filter(|m| *m < 60)
    {
        p.minute_past = Some(m);
        p.claims
            .push(i.saturating_sub(usize::from(w.is(i.wrapping_sub(1), &["at"])))..i + 1);
    } else if let Some((m, len)) = w.whole(i).filter(|_| w.is(i + 1, &["minutes", "minute", "past"])) {
        let len = len + 1 + usize::from(w.is(i + 2, &["past"]));
        if m < 60 && w.is(i + len - 1, &["past"]) {
            p.minute_past = Some(m);
            p.claims.push(i..i + len);
        }
    } else if let Some(d) = month_date(w, i) {
        p.month_day = Some(d.0);
        p.claims.push(i..i + d.1);
        return d.1;
    } else if p.time.is_some() && w.is(i, ZONES) {
        p.zone = Some(w.raw(i).to_string());
        p.claims.push(i..i + 1);
    } else if p.time.is_some() && w.is(i, &["utc", "gmt", "z"]) {
        p.claims.push(i..i + 1);
    }
    1
}

/// The cron expression for `every` at the time read; what it had to pick
/// goes to `s` as assumptions and questions.
fn cron(every: Every, p: &Parts, s: &mut Schedule) -> String {
    let (h, m) = p.time.unwrap_or((0, 0));
    let m = p.minute_past.unwrap_or(m);
    match every {
        Every::Seconds => {
            s.questions
                .push("cron cannot run more often than once a minute; the job runs every minute".into());
            "* * * * *".into()
        }
        Every::Minutes(n) if n <= 1 => "* * * * *".into(),
        Every::Minutes(n) if n < 60 => format!("*/{n} * * * *"),
        Every::Minutes(n) if n % 60 == 0 && n < 1440 => hours(n / 60, m),
        Every::Minutes(n) => {
            s.questions.push(format!(
                "every {n} minutes does not fit a cron schedule; it runs every hour instead"
            ));
            "0 * * * *".into()
        }
        Every::Hours(n) if n < 24 => hours(n, m),
        Every::Hours(n) => daily((n / 24).max(1), p, s),
        Every::Days(n) => daily(n, p, s),
        Every::TwiceDaily => format!("{m} {h},{} * * *", (h + 12) % 24),
        Every::Weekly(days) => {
            need_time(p, s, "weekly");
            let dow = if days.is_empty() {
                s.assumptions
                    .push("no day given for the weekly schedule; it runs on Sundays".into());
                "0".into()
            } else {
                weekdays(&days)
            };
            format!("{m} {h} * * {dow}")
        }
        Every::Monthly => {
            need_time(p, s, "monthly");
            let d = p.month_day.unwrap_or_else(|| {
                s.assumptions
                    .push("no day of the month given; the job runs on the 1st".into());
                1
            });
            format!("{m} {h} {d} * *")
        }
    }
}

/// Every `days` days at the time read.
fn daily(days: u32, p: &Parts, s: &mut Schedule) -> String {
    let (h, m) = p.time.unwrap_or((0, 0));
    let m = p.minute_past.unwrap_or(m);
    need_time(p, s, "daily");
    if days <= 1 {
        format!("{m} {h} * * *")
    } else {
        format!("{m} {h} */{days} * *")
    }
}

/// Notes that a `what` schedule given no time of day runs at midnight.
fn need_time(p: &Parts, s: &mut Schedule, what: &str) {
    if p.time.is_none() {
        s.assumptions.push(format!(
            "no time of day given for the {what} schedule; it runs at 00:00 UTC"
        ));
    }
}

fn hours(n: u32, minute: u32) -> String {
    if n <= 1 {
        format!("{minute} * * * *")
    } else {
        format!("{minute} */{n} * * *")
    }
}

/// Weekdays as a cron field, with runs written as ranges (`1-5`).
fn weekdays(days: &[u32]) -> String {
    let mut d = days.to_vec();
    d.sort_unstable();
    d.dedup();
    if d.len() > 2 && d.windows(2).all(|p| p[1] == p[0] + 1) {
        format!("{}-{}", d[0], d[d.len() - 1])
    } else {
        d.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }
}

/// A five-field expression or a `@daily`-style macro.
fn explicit(w: &mut Words, r: &Range<usize>) -> Option<Schedule> {
    for i in r.clone() {
        if w.free(i) && w.is(i, crate::spec::CRON_MACROS) {
            let cron = w.low(i).to_string();
            w.claim(i..i + 1);
            return Some(Schedule {
                cron,
                ..Schedule::default()
            });
        }
        if i + 5 > r.end || !w.all_free(i..i + 5) {
            continue;
        }
        let fields: Vec<&str> = (i..i + 5).map(|k| w.low(k)).collect();
        // Digits, `*`, steps, ranges and lists; words only as 3-letter names (`mon-fri`).
        let field_like = |f: &str| {
            !f.is_empty()
                && f.chars().all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
                && !f.starts_with(['-', ','])
                && f.split(['-', ',', '/'])
                    .all(|p| !p.chars().any(|c| c.is_ascii_alphabetic()) || p.len() == 3)
        };
        let numeric = fields
            .iter()
            .filter(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
            .count();
        if fields.iter().all(|f| field_like(f)) && fields.iter().any(|f| f.contains('*')) && numeric >= 4 {
            let cron = fields.join(" ");
            w.claim(i..i + 5);
            return Some(Schedule {
                cron,
                ..Schedule::default()
            });
        }
    }
    None
}

/// A frequency starting at `i`, and how many tokens it spans.
fn frequency(w: &Words, i: usize) -> Option<(Every, usize)> {
    let unit = |k: usize, n: u32| -> Option<Every> {
        Some(match w.low(k) {
            "second" | "seconds" | "sec" | "secs" | "s" => Every::Seconds,
            "minute" | "minutes" | "min" | "mins" => Every::Minutes(n),
            "hour" | "hours" | "hr" | "hrs" | "h" => Every::Hours(n),
            "day" | "days" | "night" | "nights" | "evening" | "morning" => Every::Days(n),
            "week" | "weeks" => Every::Weekly(vec![]),
            "month" | "months" => Every::Monthly,
            "weekday" | "weekdays" => Every::Weekly(vec![1, 2, 3, 4, 5]),
            "weekend" | "weekends" => Every::Weekly(vec![0, 6]),
            other => Every::Weekly(vec![day(other)?]),
        })
    };
    match w.low(i) {
        "hourly" => Some((Every::Hours(1), 1)),
        "daily" | "nightly" => Some((Every::Days(1), 1)),
        "weekly" => Some((Every::Weekly(vec![]), 1)),
        "monthly" => Some((Every::Monthly, 1)),
        "every" | "each" => {
            if w.is(i + 1, &["other"]) {
                return unit(i + 2, 2).map(|e| (e, 3));
            }
            if let Some((n, len)) = w.whole(i + 1) {
                return unit(i + 1 + len, n).map(|e| (e, len + 2));
            }
            let e = unit(i + 1, 1)?;
            Some(days_list(w, i + 2, e).map_or_else(|e| (e, 2), |(e, extra)| (e, 2 + extra)))
        }
        "twice" if w.is(i + 1, &["daily"]) || w.is(i + 1, &["a", "per"]) && w.is(i + 2, &["day"]) => {
            Some((Every::TwiceDaily, if w.is(i + 1, &["daily"]) { 2 } else { 3 }))
        }
        "once" if w.is(i + 1, &["a", "an", "per", "every"]) => unit(i + 2, 1).map(|e| (e, 3)),
        "on" if day(w.low(i + 1)).is_some() || w.is(i + 1, &["weekdays", "weekends"]) => {
            let e = unit(i + 1, 1)?;
            Some(days_list(w, i + 2, e).map_or_else(|e| (e, 2), |(e, extra)| (e, 2 + extra)))
        }
        word if word.ends_with('s') && day(word).is_some() => {
            let e = Every::Weekly(vec![day(word)?]);
            Some(days_list(w, i + 1, e).map_or_else(|e| (e, 1), |(e, extra)| (e, 1 + extra)))
        }
        _ => None,
    }
}

/// Extends a weekly frequency with "and thursday", ", friday"; returns the
/// frequency and the extra tokens read, or the frequency back unchanged.
fn days_list(w: &Words, mut k: usize, first: Every) -> Result<(Every, usize), Every> {
    let Every::Weekly(mut days) = first else {
        return Err(first);
    };
    let start = k;
    loop {
        let next = if w.is(k, &["and", "&"]) { k + 1 } else { k };
        match day(w.low(next)) {
            Some(d) if next != k || w.pause(k - 1) => {
                days.push(d);
                k = next + 1;
            }
            _ => break,
        }
    }
    Ok((Every::Weekly(days), k - start))
}

/// A time of day: `2am`, `2 am`, `6:30pm`, `14:00`, `at 9`, noon, midnight.
fn clock(w: &Words, i: usize) -> Option<((u32, u32), usize)> {
    let at = usize::from(w.is(i, &["at", "@"]));
    let k = i + at;
    let named = match w.low(k) {
        "noon" | "midday" => Some((12, 0)),
        "midnight" => Some((0, 0)),
        _ => None,
    };
    if let Some(t) = named {
        return Some((t, at + 1));
    }
    let tok = w.low(k);
    let (h, m) = match tok.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        Some(_) => return None,
        None if tok.chars().all(|c| c.is_ascii_digit()) && !tok.is_empty() => (tok.parse::<u32>().ok()?, 0),
        None => return None,
    };
    let meridiem = w.low(k + 1);
    if w.is(
        k + 1,
        &[
            "minute", "minutes", "min", "mins", "past", "%", "percent", "replicas", "gb", "gi",
        ],
    ) {
        return None;
    }
    let (h, len) = match meridiem {
        "am" | "a.m" | "a.m." => (if h == 12 { 0 } else { h }, 2),
        "pm" | "p.m" | "p.m." => (if h == 12 { 12 } else { h + 12 }, 2),
        "h" | "hrs" | "o'clock" => (h, 2),
        _ if tok.contains(':') || at == 1 => (h, 1),
        _ => return None,
    };
    let evening = w.phrase(k + len, &["in", "the", "evening"]) || w.phrase(k + len, &["at", "night"]);
    let (h, len) = if evening && h < 12 {
        (h + 12, len + 3)
    } else {
        (h, len)
    };
    let len = if w.phrase(k + len, &["in", "the", "morning"]) {
        len + 3
    } else {
        len
    };
    (h < 24 && m < 60).then_some(((h, m), at + len))
}

/// "on the 15th", "the 1st of every month", "on day 15".
fn month_date(w: &Words, i: usize) -> Option<(u32, usize)> {
    let k = w.skip(i, &["on", "the", "day"], 3);
    let (n, len) = w.whole(k)?;
    let suffix = usize::from(w.is(k + len, &["st", "nd", "rd", "th"]));
    if (suffix == 0 && !w.is(k.wrapping_sub(1), &["day"])) || !(1..=31).contains(&n) {
        return None;
    }
    let end = k + len + suffix;
    let month = ["the", "each", "every"]
        .iter()
        .any(|q| w.phrase(end, &["of", q, "month"]));
    let tail = if month { 3 } else { 0 };
    Some((n, end - i + tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(text: &str) -> String {
        let mut w = Words::new(text);
        let r = 0..w.len();
        find(&mut w, &r, true).map(|s| s.cron).unwrap_or_default()
    }

    #[test]
    fn nightly_at_2am_is_0_2() {
        assert_eq!(cron("nightly at 2am"), "0 2 * * *");
        assert_eq!(cron("every night at 2 am"), "0 2 * * *");
    }

    #[test]
    fn every_15_minutes_is_a_step() {
        assert_eq!(cron("every 15 minutes"), "*/15 * * * *");
        assert_eq!(cron("every fifteen mins"), "*/15 * * * *");
        assert_eq!(cron("every minute"), "* * * * *");
        assert_eq!(cron("every 120 minutes"), "0 */2 * * *");
    }

    #[test]
    fn hourly_and_every_n_hours() {
        assert_eq!(cron("hourly"), "0 * * * *");
        assert_eq!(cron("every 6 hours"), "0 */6 * * *");
        assert_eq!(cron("every hour at 15 minutes past"), "15 * * * *");
    }

    #[test]
    fn daily_at_6_30pm_is_30_18() {
        assert_eq!(cron("daily at 6:30pm"), "30 18 * * *");
        assert_eq!(cron("daily at 14:05"), "5 14 * * *");
        assert_eq!(cron("every day at noon"), "0 12 * * *");
        assert_eq!(cron("every day at 7 in the evening"), "0 19 * * *");
    }

    #[test]
    fn every_monday_at_9am_is_weekday_1() {
        assert_eq!(cron("every monday at 9am"), "0 9 * * 1");
        assert_eq!(cron("on mondays and thursdays at 9am"), "0 9 * * 1,4");
        assert_eq!(cron("every weekday at 8:15am"), "15 8 * * 1-5");
        assert_eq!(cron("on weekends"), "0 0 * * 0,6");
    }

    #[test]
    fn weekly_defaults_to_sunday_midnight_with_assumptions() {
        let mut w = Words::new("weekly");
        let s = find(&mut w, &(0..1), true).unwrap();
        assert_eq!(s.cron, "0 0 * * 0");
        assert_eq!(s.assumptions.len(), 2);
    }

    #[test]
    fn monthly_on_the_15th() {
        assert_eq!(cron("monthly on the 15th at 3am"), "0 3 15 * *");
        assert_eq!(cron("monthly"), "0 0 1 * *");
    }

    #[test]
    fn other_frequencies() {
        assert_eq!(cron("every other day at 1am"), "0 1 */2 * *");
        assert_eq!(cron("twice a day"), "0 0,12 * * *");
        assert_eq!(cron("once a week on friday"), "0 0 * * 5");
        assert_eq!(cron("every 30 seconds"), "* * * * *");
    }

    #[test]
    fn a_bare_time_is_daily_only_for_scheduled_work() {
        assert_eq!(cron("runs at 2am"), "0 2 * * *");
        let mut w = Words::new("at 2am");
        assert_eq!(find(&mut w, &(0..3), false), None);
    }

    #[test]
    fn explicit_cron_expressions_are_kept() {
        assert_eq!(cron("on schedule '*/5 * * * *'"), "*/5 * * * *");
        assert_eq!(cron("cron 0 9 * * mon-fri"), "0 9 * * mon-fri");
        assert_eq!(cron("@daily"), "@daily");
    }

    #[test]
    fn other_time_zones_are_questions() {
        let mut w = Words::new("daily at 9am EST");
        let s = find(&mut w, &(0..5), true).unwrap();
        assert_eq!(s.cron, "0 9 * * *");
        assert_eq!(s.questions.len(), 1);
    }
}
