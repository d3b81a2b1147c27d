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
    let replica_noun_at = |w: &Words, k: usize| {
        w.is(k, Class::CountNoun) || w.is(k + 1, Class::CountNoun) && !w.is(k, Class::Stop)
    };
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        // between 3 and 12 | from 2 to 10 | 2 to 10 | 2-10
        let start = if w.is(i, &["between", "from"]) { i + 1 } else { i };
        let glued = w
            .low(start)
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
        let (lo, hi, end) = if let Some((lo, hi)) = glued {
            (lo, hi, start + 1)
        } else {
            let Some((lo, l1)) = w.whole(start) else { continue };
            let sep = start + l1;
            if !w.is(sep, &["and", "to", "-"]) {
                continue;
            }
            let Some((hi, l2)) = w.whole(sep + 1) else {
                continue;
            };
            (lo, hi, sep + 1 + l2)
        };
        let scale_verb = i > r.start && w.is(i - 1, &["scale", "scales", "scaling", "scaled"]);
        if !(asked || scale_verb || replica_noun_at(w, end)) || !w.all_free(i..end) {
            continue;
        }
        scale.min = Some(lo.min(hi));
        scale.max = Some(lo.max(hi));
        let end = if w.is(end, Class::CountNoun) { end + 1 } else { end };
        w.claim(i..end);
        asked = true;
        break;
    }
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let bound = |w: &Words, k: usize| {
            w.whole(w.skip(k, &["of", "=", ":", "to"], 2))
                .map(|(n, l)| (n, w.skip(k, &["of", "=", ":", "to"], 2) + l))
        };
        // "at least 2 replicas" alone is a replica count, not autoscaling.
        let lower = w.is(i, &["min", "minimum"]) || asked && w.phrase(i, &["at", "least"]);
        let upper =
            w.is(i, &["max", "maximum"]) || w.phrase(i, &["at", "most"]) || w.phrase(i, &["up", "to"]);
        let k = if w.is(i, &["at", "up"]) { i + 2 } else { i + 1 };
        if !(lower || upper) {
            continue;
        }
        let Some((n, end)) = bound(w, k) else { continue };
        if !w.all_free(k..end)
            || w.is(
                end,
                &[
                    "%", "percent", "gb", "gi", "mb", "mi", "cpu", "cpus", "cores", "core",
                ],
            )
        {
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
        asked = true;
        let end = if w.is(end, Class::CountNoun) { end + 1 } else { end };
        w.claim(i..end);
    }
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
            asked = true;
            let end = if w.is(i + len + 1, &["cpu", "utilization", "utilisation"]) {
                i + len + 2
            } else {
                i + len + 1
            };
            w.claim(i..end);
        }
    }
    if asked {
        d.autoscale = Some(scale);
    }
}

/// Reads the replica count.
pub(super) fn replicas(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    let set = |d: &mut Draft, n: u32| match d.replicas {
        None => d.replicas = Some(n),
        Some(old) if old != n => d.questions.push(format!(
            "the intent gives two replica counts ({old} and {n}); the plan uses {old}"
        )),
        Some(_) => {}
    };
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        if let Some((n, len)) = w.whole(i) {
            let noun = i + len;
            // "3 replicas", "three kafka brokers"
            let gap = usize::from(
                !w.is(noun, Class::CountNoun) && w.is(noun + 1, Class::CountNoun) && !w.is(noun, Class::Stop),
            );
            if w.is(noun + gap, Class::CountNoun)
                && w.all_free(i..noun + gap + 1)
                && !w.is(i.wrapping_sub(1), &["every", "each"])
            {
                set(d, n);
                w.claim(i..i + len);
                w.claim(noun + gap..noun + gap + 1);
                // "redis and postgres with 3 replicas each"
                if w.is(noun + gap + 1, &["each", "apiece"]) {
                    d.replicas_each = true;
                    w.claim(noun + gap + 1..noun + gap + 2);
                }
                continue;
            }
        }
        // "replicas: 3", "replica count of 3", "scale to 3", "scaled to 3"
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
            continue;
        };
        let k = w.skip(k, &["of", "=", ":", "to", "set", "is", "be"], 3);
        if let Some((n, len)) = w.whole(k).filter(|_| w.all_free(k..k + 1)) {
            if !w.is(k + len, &["%", "percent", "gb", "gi", "mb", "mi", "cpu", "cores"]) {
                set(d, n);
                w.claim(i..k + len);
            }
        }
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
            set(d, n);
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
            set(d, 1);
            w.claim(i..i + 1);
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
