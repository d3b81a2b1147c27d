//! Scaling: replica counts and autoscaling.
//!
//! Reads "three replicas", "a 3-node cluster", "replicas: 4", "scale it to 6",
//! "3 replicas each", "between 3 and 12 replicas at 70% CPU", "autoscale from
//! 2 to 10", "min 2 max 8" and "up to 20 pods" into the [`Draft`]. Bounds
//! that are not given are left empty here and filled with defaults (as
//! assumptions) when the component is built.

use std::ops::Range;

use super::draft::{Draft, Scale};
use super::lexicon::Class;
use super::text::Words;

/// Reads autoscaling bounds and the CPU target.
pub(super) fn autoscaling(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    let mut scale = Scale::default();
    let mut asked = asked_for(w, r);
    asked |= range(w, r, asked, &mut scale);
    asked |= bounds(w, r, asked, &mut scale);
    asked |= cpu_target(w, r, asked, &mut scale, d);
    if asked {
        d.autoscale = Some(scale);
    }
}

/// Claims the words that ask for autoscaling ("autoscale", "hpa", "scales
/// automatically"); whether there were any.
fn asked_for(w: &mut Words, r: &Range<usize>) -> bool {
    let mut asked = false;
    for i in r.clone() {
        if w.free(i) && w.is(i, Class::AutoscaleWord) {
            asked = true;
            w.claim(i..i + 1);
        }
        if w.free(i)
            && (w.phrase(i, &["scale", "automatically"]) || w.phrase(i, &["scales", "automatically"]))
        {
            asked = true;
            w.claim(i..i + 2);
        }
    }
    asked
}

/// Whether a replica noun follows `k` ("10 pods", "10 kafka brokers").
fn replica_noun_at(w: &Words, k: usize) -> bool {
    w.is(k, Class::CountNoun) || w.is(k + 1, Class::CountNoun) && !w.is(k, Class::Stop)
}

/// Reads the first range of replicas ("between 3 and 12", "from 2 to 10",
/// "2-10"); whether it found one.
fn range(w: &mut Words, r: &Range<usize>, asked: bool, scale: &mut Scale) -> bool {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let start = if w.is(i, &["between", "from"]) { i + 1 } else { i };
        let Some((lo, hi, end)) = two_numbers(w, start) else {
            continue;
        };
        let scale_verb = i > r.start && w.is(i - 1, &["scale", "scales", "scaling", "scaled"]);
        if !(asked || scale_verb || replica_noun_at(w, end)) || !w.all_free(i..end) {
            continue;
        }
        scale.min = Some(lo.min(hi));
        scale.max = Some(lo.max(hi));
        let end = if w.is(end, Class::CountNoun) { end + 1 } else { end };
        w.claim(i..end);
        return true;
    }
    false
}

/// Two numbers at `start`: glued ("2-10") or joined by "and", "to" or "-";
/// with the end of the phrase.
fn two_numbers(w: &Words, start: usize) -> Option<(u32, u32, usize)> {
    let glued = w
        .low(start)
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    if let Some((lo, hi)) = glued {
        return Some((lo, hi, start + 1));
    }
    let (lo, l1) = w.whole(start)?;
    let sep = start + l1;
    if !w.is(sep, &["and", "to", "-"]) {
        return None;
    }
    let (hi, l2) = w.whole(sep + 1)?;
    Some((lo, hi, sep + 1 + l2))
}

/// Reads "min 2", "max 8", "at most 10", "up to 20 pods" (and "at least 2"
/// once autoscaling is asked for); whether it found any.
fn bounds(w: &mut Words, r: &Range<usize>, mut asked: bool, scale: &mut Scale) -> bool {
    let mut found = false;
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        // "at least 2 replicas" alone is a replica count, not autoscaling.
        let lower = w.is(i, &["min", "minimum"]) || asked && w.phrase(i, &["at", "least"]);
        let upper =
            w.is(i, &["max", "maximum"]) || w.phrase(i, &["at", "most"]) || w.phrase(i, &["up", "to"]);
        let k = if w.is(i, &["at", "up"]) { i + 2 } else { i + 1 };
        if !(lower || upper) {
            continue;
        }
        let after = w.skip(k, &["of", "=", ":", "to"], 2);
        let Some((n, end)) = w.whole(after).map(|(n, l)| (n, after + l)) else {
            continue;
        };
        if !w.all_free(k..end) || w.is(end, NOT_A_COUNT) {
            continue;
        }
        if !(asked || replica_noun_at(w, end) || w.is(i, &["min", "minimum", "max", "maximum"])) {
            continue;
        }
        if lower {
            scale.min = Some(n);
        } else {
            scale.max = Some(n);
        }
        (asked, found) = (true, true);
        let end = if w.is(end, Class::CountNoun) { end + 1 } else { end };
        w.claim(i..end);
    }
    found
}

/// Words after a number that make it a percentage or a size, not a count.
const NOT_A_COUNT: &[&str] = &[
    "%", "percent", "gb", "gi", "mb", "mi", "cpu", "cpus", "cores", "core",
];

/// Reads a CPU percentage as the autoscaling target ("70% CPU"); a memory
/// percentage is a question. Whether it found a target.
fn cpu_target(w: &mut Words, r: &Range<usize>, mut asked: bool, scale: &mut Scale, d: &mut Draft) -> bool {
    let mut found = false;
    for i in r.clone() {
        let Some((n, len)) = w.whole(i) else { continue };
        if !w.free(i) || !w.is(i + len, &["%", "percent"]) {
            continue;
        }
        let near = (i.saturating_sub(4).max(r.start)..(i + len + 4).min(r.end)).collect::<Vec<_>>();
        let memory = near.iter().any(|&k| w.is(k, &["memory", "ram", "mem"]));
        let cpu = near.iter().any(|&k| {
            w.is(
                k,
                &["cpu", "cpus", "utilization", "utilisation", "target", "load"],
            )
        });
        if memory && !cpu {
            d.questions.push(format!(
                "autoscaling on memory ({n}%) is not supported; the autoscaler targets CPU, so {n}% was not used"
            ));
            w.claim(i..i + len + 1);
        } else if cpu || asked {
            scale.cpu = Some(n);
            (asked, found) = (true, true);
            let end = if w.is(i + len + 1, &["cpu", "utilization", "utilisation"]) {
                i + len + 2
            } else {
                i + len + 1
            };
            w.claim(i..end);
        }
    }
    found
}

/// Records a replica count; a second, different one is a question.
fn set_replicas(d: &mut Draft, n: u32) {
    match d.replicas {
        None => d.replicas = Some(n),
        Some(old) if old != n => d.questions.push(format!(
            "the intent gives two replica counts ({old} and {n}); the plan uses {old}"
        )),
        Some(_) => {}
    }
}

/// Reads the replica count.
pub(super) fn replicas(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if !w.free(i) || counted(w, i, d) {
            continue;
        }
        keyed(w, i, d);
    }
    // "redis x3", "redis ×3"
    for i in r.clone() {
        let times = w
            .low(i)
            .strip_prefix('x')
            .or_else(|| w.low(i).strip_prefix('×'))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=100).contains(n));
        if let Some(n) = times.filter(|_| w.free(i) && i > r.start) {
            set_replicas(d, n);
            w.claim(i..i + 1);
        }
    }
    for i in r.clone() {
        if w.free(i)
            && w.is(
                i,
                &["standalone", "single-instance", "non-replicated", "unreplicated"],
            )
        {
            set_replicas(d, 1);
            w.claim(i..i + 1);
        }
    }
}

/// Reads a number of replicas at `i` ("3 replicas", "three kafka brokers",
/// "3 replicas each"); whether it did.
fn counted(w: &mut Words, i: usize, d: &mut Draft) -> bool {
    let Some((n, len)) = w.whole(i) else {
        return false;
    };
    let noun = i + len;
    let gap = usize::from(
        !w.is(noun, Class::CountNoun) && w.is(noun + 1, Class::CountNoun) && !w.is(noun, Class::Stop),
    );
    if !w.is(noun + gap, Class::CountNoun)
        || !w.all_free(i..noun + gap + 1)
        || w.is(i.wrapping_sub(1), &["every", "each"])
    {
        return false;
    }
    set_replicas(d, n);
    w.claim(i..i + len);
    w.claim(noun + gap..noun + gap + 1);
    // "redis and postgres with 3 replicas each"
    if w.is(noun + gap + 1, &["each", "apiece"]) {
        d.replicas_each = true;
        w.claim(noun + gap + 1..noun + gap + 2);
    }
    true
}

/// Reads "replicas: 3", "replica count of 3", "scale to 3", "scaled to 3"
/// at `i`.
fn keyed(w: &mut Words, i: usize, d: &mut Draft) {
    let k = if w.phrase(i, &["replica", "count"]) {
        i + 2
    } else if w.is(i, &["replicas", "replica", "instances"])
        || w.phrase(i, &["scale", "to"])
        || w.phrase(i, &["scaled", "to"])
    {
        i + 1
    } else if w.phrase(i, &["scale", "it", "to"]) {
        i + 2
    } else {
        return;
    };
    let k = w.skip(k, &["of", "=", ":", "to", "set", "is", "be"], 3);
    if let Some((n, len)) = w.whole(k).filter(|_| w.all_free(k..k + 1)) {
        if !w.is(k + len, NOT_A_COUNT) {
            set_replicas(d, n);
            w.claim(i..k + len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::builtin::sizing::tests::read;

    #[test]
    fn three_replicas_in_words() {
        assert_eq!(read("three replicas").replicas, Some(3));
        assert_eq!(read("with 5 instances").replicas, Some(5));
        assert_eq!(read("a 3-node cluster").replicas, Some(3));
        assert_eq!(read("three kafka brokers").replicas, Some(3));
        assert_eq!(read("replicas: 4").replicas, Some(4));
        assert_eq!(read("scale it to 6").replicas, Some(6));
        assert_eq!(read("a single instance").replicas, Some(1));
        assert_eq!(read("a dozen replicas").replicas, Some(12));
    }

    #[test]
    fn conflicting_replica_counts_are_a_question() {
        let d = read("3 replicas and 5 replicas");
        assert_eq!(d.replicas, Some(3));
        assert_eq!(d.questions.len(), 1);
    }

    #[test]
    fn between_3_and_12_replicas_at_70_percent_cpu() {
        let d = read("between 3 and 12 replicas at 70% CPU");
        assert_eq!(
            d.autoscale,
            Some(Scale {
                min: Some(3),
                max: Some(12),
                cpu: Some(70)
            })
        );
        assert_eq!(d.replicas, None);
        assert_eq!(d.limits.cpu, None, "70% CPU is a target, not a quantity");
    }

    #[test]
    fn autoscale_from_2_to_10() {
        assert_eq!(
            read("autoscale from 2 to 10").autoscale,
            Some(Scale {
                min: Some(2),
                max: Some(10),
                cpu: None
            })
        );
        assert_eq!(
            read("2-10 replicas").autoscale,
            Some(Scale {
                min: Some(2),
                max: Some(10),
                cpu: None
            })
        );
        assert_eq!(
            read("autoscaling with min 2 and max 8").autoscale,
            Some(Scale {
                min: Some(2),
                max: Some(8),
                cpu: None
            })
        );
        assert_eq!(
            read("scale up to 20 pods").autoscale,
            Some(Scale {
                min: None,
                max: Some(20),
                cpu: None
            })
        );
        assert_eq!(read("autoscaling").autoscale, Some(Scale::default()));
        assert_eq!(
            read("scale between 2 and 5").autoscale,
            Some(Scale {
                min: Some(2),
                max: Some(5),
                cpu: None
            })
        );
    }

    #[test]
    fn memory_autoscaling_is_a_question() {
        let d = read("autoscale at 80% memory");
        assert_eq!(d.autoscale.unwrap().cpu, None);
        assert_eq!(d.questions.len(), 1);
    }
}
