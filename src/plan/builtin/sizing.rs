//! Sizing: CPU, memory and storage.
//!
//! Reads "2 gigs of RAM", "half a CPU", "request 250m CPU and limit it to 1",
//! "50 GB disks", "storage class fast-ssd" and "persistent storage", and
//! writes Kubernetes quantities (`2Gi`, `500m`) into the [`Draft`]. A size
//! without a noun ("2GB") is a question, not a guess. Runs after the
//! schedule and scaling readers, so "70% CPU" is a target, not a quantity.

use std::ops::Range;

use super::draft::Draft;
use super::text::{Words, DETERMINERS, STOP};

const MEMORY_NOUNS: &[&str] = &["ram", "memory", "mem", "heap"];
const STORAGE_NOUNS: &[&str] = &[
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
];
const CPU_NOUNS: &[&str] = &[
    "cpu",
    "cpus",
    "core",
    "cores",
    "vcpu",
    "vcpus",
    "processor",
    "processors",
];
const LIMIT_WORDS: &[&str] = &[
    "limit", "limits", "max", "maximum", "most", "capped", "cap", "ceiling",
];
const REQUEST_WORDS: &[&str] = &[
    "request",
    "requests",
    "reserve",
    "reserved",
    "least",
    "minimum",
    "min",
    "guaranteed",
    "guarantee",
];

/// A binary size unit and its factor in MiB.
fn memory_unit(u: &str) -> Option<f64> {
    Some(match u {
        "gb" | "gig" | "gigs" | "gigabyte" | "gigabytes" | "gi" | "gib" | "g" => 1024.0,
        "mb" | "meg" | "megs" | "megabyte" | "megabytes" | "mi" | "mib" => 1.0,
        "tb" | "tib" | "ti" | "terabyte" | "terabytes" | "t" => 1024.0 * 1024.0,
        _ => return None,
    })
}

/// Formats MiB as the largest whole binary unit (`1536` → `1536Mi`, `2048` → `2Gi`).
fn mebibytes(mib: f64) -> Option<String> {
    if !(mib.is_finite() && mib > 0.0) {
        return None;
    }
    if mib >= 1024.0 * 1024.0 && (mib / (1024.0 * 1024.0)).fract() == 0.0 {
        return Some(format!("{}Ti", mib / (1024.0 * 1024.0)));
    }
    if mib >= 1024.0 && (mib / 1024.0).fract() == 0.0 {
        return Some(format!("{}Gi", mib / 1024.0));
    }
    if mib.fract() == 0.0 {
        return Some(format!("{mib}Mi"));
    }
    Some(format!("{}Ki", (mib * 1024.0).round().max(1.0)))
}

/// Formats cores as a CPU quantity (`0.5` → `500m`, `2` → `2`).
fn cores(n: f64) -> Option<String> {
    if !(n.is_finite() && n > 0.0) {
        return None;
    }
    let milli = (n * 1000.0).round();
    Some(if milli % 1000.0 == 0.0 {
        format!("{}", milli / 1000.0)
    } else {
        format!("{milli}m")
    })
}

/// The nearest noun in `nouns` within four tokens after `end` or before `start`.
fn nearest(w: &Words, start: usize, end: usize, r: &Range<usize>, nouns: &[&[&str]]) -> Option<usize> {
    let hit = |k: usize| nouns.iter().position(|set| w.is(k, set));
    let mut after = None;
    for k in end..(end + 4).min(r.end) {
        if let Some(n) = hit(k) {
            after = Some((k - end, n));
            break;
        }
        if w.pause(k) || w.number(k, false).is_some() {
            break;
        }
    }
    let mut before = None;
    for k in (r.start.max(start.saturating_sub(4))..start).rev() {
        if w.pause(k) {
            break;
        }
        if let Some(n) = hit(k) {
            before = Some((start - 1 - k, n));
            break;
        }
    }
    match (after, before) {
        (Some(a), Some(b)) if b.0 < a.0 => Some(b.1),
        (Some(a), _) => Some(a.1),
        (None, b) => b.map(|b| b.1),
    }
}

/// Says whether a quantity is a (request, limit), or both. The word right
/// after it decides first ("1Gi memory request and a 2Gi limit"), then the
/// nearest of the five words before ("memory limit of 2Gi and a request of
/// 1Gi"), stopping at another quantity.
fn side(w: &Words, start: usize, end: usize, r: &Range<usize>) -> (bool, bool) {
    if end < r.end && w.is(end, LIMIT_WORDS) {
        return (false, true);
    }
    if end < r.end && w.is(end, REQUEST_WORDS) {
        return (true, false);
    }
    if w.phrase(start.saturating_sub(2), &["up", "to"]) {
        return (false, true);
    }
    for k in (r.start.max(start.saturating_sub(5))..start).rev() {
        if w.is(k, LIMIT_WORDS) {
            return (false, true);
        }
        if w.is(k, REQUEST_WORDS) {
            return (true, false);
        }
        if !w.free(k) && w.number(k, false).is_some() {
            break;
        }
    }
    (true, true)
}

/// Reads CPU, memory and storage quantities and the storage class.
pub(super) fn resources(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    // The kind and end of the last quantity read, for a follow-up without a noun.
    let mut last: Option<(&str, usize)> = None;
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let Some((n, len)) = w.number(i, true) else {
            continue;
        };
        let u = i + len;
        if !w.free(u) {
            continue;
        }
        let unit = w.low(u).to_string();
        let article = w.is(i, &["a", "an"]);
        // "a CPU target of 70%" is not one core.
        if w.is(
            u + 1,
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
        ) {
            continue;
        }
        let kind = if let Some(f) = memory_unit(&unit) {
            match nearest(w, i, u + 1, r, &[MEMORY_NOUNS, STORAGE_NOUNS, CPU_NOUNS]) {
                Some(0) => Some(("memory", mebibytes(n * f))),
                Some(1) => Some(("storage", mebibytes(n * f))),
                _ if article => None,
                // "a memory limit of 2Gi and a request of 1Gi"
                _ if last.is_some_and(|(what, at)| i - at <= 8 && what != "cpu") => {
                    Some((last.map_or("memory", |l| l.0), mebibytes(n * f)))
                }
                // "1 cpu / 2Gi each": CPU and memory come in pairs.
                _ if last.is_some_and(|(what, at)| i - at <= 3 && what == "cpu") => {
                    Some(("memory", mebibytes(n * f)))
                }
                // "memcached x2 with 512Mi each": a size per replica is its memory.
                _ if w.is(u + 1, &["each", "apiece"]) && n * f < 10.0 * 1024.0 => {
                    Some(("memory", mebibytes(n * f)))
                }
                // "mysql with 50GB": a large bare size on a data store is its disk.
                _ if d.archetype.is_some_and(|a| a.is_stateful()) && n * f >= 10.0 * 1024.0 => {
                    let size = mebibytes(n * f);
                    if let Some(s) = &size {
                        d.assumptions.push(format!(
                            "{s} read as the storage size (say \"of memory\" if it is RAM)"
                        ));
                    }
                    Some(("storage", size))
                }
                _ => {
                    d.questions.push(format!(
                        "\"{} {}\" was not used: say whether it is memory (\"{0} {1} of memory\") or storage \
                         (\"{0} {1} of storage\")",
                        w.raw(i),
                        w.raw(u)
                    ));
                    w.claim(i..u + 1);
                    None
                }
            }
        } else if CPU_NOUNS.contains(&unit.as_str()) {
            Some(("cpu", cores(n)))
        } else if ["m", "millicores", "millicore", "millicpu", "millicpus", "milli"].contains(&unit.as_str())
            && !article
        {
            match nearest(w, i, u + 1, r, &[CPU_NOUNS, MEMORY_NOUNS]) {
                Some(1) => Some(("memory", mebibytes(n))),
                Some(0) => Some(("cpu", cores(n / 1000.0))),
                _ if unit != "m" => Some(("cpu", cores(n / 1000.0))),
                _ => None,
            }
        } else {
            None
        };
        let Some((what, Some(value))) = kind else { continue };
        let mut end = u + 1;
        while end < r.end
            && end < u + 4
            && w.is(
                end,
                &[
                    "of", "ram", "memory", "mem", "cpu", "cpus", "storage", "disk", "disks", "volume",
                    "volumes", "per", "replica", "pod", "each", "apiece", "instance",
                ],
            )
        {
            end += 1;
        }
        let (request, limit) = side(w, i, end, r);
        last = Some((what, end));
        w.claim(i..end);
        match what {
            "memory" => {
                if request {
                    d.requests.memory = Some(value.clone());
                }
                if limit {
                    d.limits.memory = Some(value);
                }
            }
            "cpu" => {
                if request {
                    d.requests.cpu = Some(value.clone());
                }
                if limit {
                    d.limits.cpu = Some(value);
                }
            }
            _ => {
                d.storage_size = Some(value);
            }
        }
    }
    storage_class(w, r, d);
    for i in r.clone() {
        if w.free(i)
            && w.is(
                i,
                &[
                    "persistent",
                    "persistence",
                    "persist",
                    "persisted",
                    "durable",
                    "durability",
                ],
            )
        {
            let negated = i > r.start && w.is(i - 1, &["no", "without", "non"]);
            if negated {
                d.questions.push(
                    "the intent asks for no persistence; stateful archetypes always get a volume in this plan — \
                     say so in review if data must not be kept"
                        .into(),
                );
            } else {
                d.persistent = true;
            }
            let end = if w.is(i + 1, &["storage", "volume", "volumes", "disk", "disks"]) {
                i + 2
            } else {
                i + 1
            };
            w.claim(i.saturating_sub(usize::from(negated))..end);
        }
    }
    for i in r.clone() {
        if w.free(i) && w.is(i, &["ephemeral", "in-memory"]) && w.is(i + 1, &["storage", "only", "cache"]) {
            d.questions.push(
                "ephemeral storage was asked for; stateful archetypes get a persistent volume in this plan"
                    .into(),
            );
            w.claim(i..i + 2);
        }
    }
}

/// Reads "set the memory limit of api to 2Gi": a quantity after `to` whose
/// noun is elsewhere in the clause (too far for [`resources`]). Only when
/// the clause names exactly one of memory and CPU.
pub(super) fn set_to(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    let memory = w.has(r.clone(), MEMORY_NOUNS);
    let cpu = w.has(r.clone(), CPU_NOUNS);
    if memory == cpu || w.has(r.clone(), STORAGE_NOUNS) {
        return;
    }
    let Some(k) = r.clone().find(|&k| w.free(k) && w.is(k, &["to", "="])) else {
        return;
    };
    let Some((n, len)) = w.number(k + 1, false).filter(|_| w.free(k + 1)) else {
        return;
    };
    let u = k + 1 + len;
    let unit = if u < r.end && w.free(u) { w.low(u) } else { "" };
    let (value, end) = if memory {
        (memory_unit(unit).and_then(|f| mebibytes(n * f)), u + 1)
    } else if unit == "m" || unit == "millicores" {
        (cores(n / 1000.0), u + 1)
    } else if CPU_NOUNS.contains(&unit) {
        (cores(n), u + 1)
    } else {
        (cores(n), u)
    };
    let Some(value) = value else { return };
    let limit = w.has(r.clone(), LIMIT_WORDS);
    let request = w.has(r.clone(), REQUEST_WORDS);
    let (request, limit) = match (request, limit) {
        (true, false) => (true, false),
        (false, true) => (false, true),
        _ => (true, true),
    };
    let (req, lim) = if memory {
        (&mut d.requests.memory, &mut d.limits.memory)
    } else {
        (&mut d.requests.cpu, &mut d.limits.cpu)
    };
    if request {
        *req = Some(value.clone());
    }
    if limit {
        *lim = Some(value);
    }
    w.claim(k..end);
}

/// Reads "storage class fast-ssd", "storageclass: x", "the fast-ssd storage class".
fn storage_class(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        let len = if w.phrase(i, &["storage", "class"]) {
            2
        } else if w.is(i, &["storageclass", "storage-class", "storageclassname"]) {
            1
        } else {
            continue;
        };
        if !w.all_free(i..i + len) {
            continue;
        }
        let after = w.skip(i + len, &["of", "=", ":", "called", "named", "is"], 2);
        let before = (r.start..i).rev().find(|&k| !w.is(k, DETERMINERS));
        let pick = if r.contains(&after) && w.free(after) && !w.is(after, STOP) && !w.pause(after - 1) {
            Some((after, i..after + 1))
        } else {
            before
                .filter(|&b| w.free(b) && !w.is(b, STOP))
                .map(|b| (b, b..i + len))
        };
        if let Some((at, claim)) = pick {
            d.storage_class = Some(w.low(at).to_string());
            w.claim(claim);
            return;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::plan::builtin::scaling::{autoscaling, replicas};

    /// Runs the sizing readers (autoscaling, resources, replicas) over `text`.
    pub(in crate::plan::builtin) fn read(text: &str) -> Draft {
        let mut w = Words::new(text);
        let r = 0..w.len();
        let mut d = Draft::default();
        autoscaling(&mut w, &r, &mut d);
        resources(&mut w, &r, &mut d);
        replicas(&mut w, &r, &mut d);
        d
    }

    #[test]
    fn two_gigs_of_ram_is_2gi() {
        let d = read("2 gigs of RAM");
        assert_eq!(d.requests.memory.as_deref(), Some("2Gi"));
        assert_eq!(d.limits.memory.as_deref(), Some("2Gi"));
        assert_eq!(read("2GB memory").limits.memory.as_deref(), Some("2Gi"));
        assert_eq!(read("memory 512Mi").limits.memory.as_deref(), Some("512Mi"));
        assert_eq!(read("1.5 GB of RAM").limits.memory.as_deref(), Some("1536Mi"));
        assert_eq!(read("a gig of memory").limits.memory.as_deref(), Some("1Gi"));
    }

    #[test]
    fn half_a_cpu_is_500m() {
        assert_eq!(read("half a CPU").limits.cpu.as_deref(), Some("500m"));
        assert_eq!(read("0.5 CPU").requests.cpu.as_deref(), Some("500m"));
        assert_eq!(read("2 cores").limits.cpu.as_deref(), Some("2"));
        assert_eq!(read("250m CPU").limits.cpu.as_deref(), Some("250m"));
        assert_eq!(read("a quarter of a core").limits.cpu.as_deref(), Some("250m"));
        assert_eq!(read("one CPU").limits.cpu.as_deref(), Some("1"));
    }

    #[test]
    fn limits_and_requests_are_told_apart() {
        let d = read("request 250m CPU and limit it to 1 CPU, memory limit 1Gi");
        assert_eq!(d.requests.cpu.as_deref(), Some("250m"));
        assert_eq!(d.limits.cpu.as_deref(), Some("1"));
        assert_eq!(d.limits.memory.as_deref(), Some("1Gi"));
        assert_eq!(d.requests.memory, None);
    }

    #[test]
    fn fifty_gb_disks_are_storage() {
        assert_eq!(read("50 GB disks").storage_size.as_deref(), Some("50Gi"));
        assert_eq!(read("50Gi of storage").storage_size.as_deref(), Some("50Gi"));
        assert_eq!(
            read("with 100GB persistent volumes").storage_size.as_deref(),
            Some("100Gi")
        );
        assert_eq!(read("disk size 1TB").storage_size.as_deref(), Some("1Ti"));
    }

    #[test]
    fn a_large_bare_size_on_a_data_store_is_its_disk() {
        let mut w = Words::new("mysql with 50GB and 2 cores / 4Gi");
        let r = 0..w.len();
        let mut d = Draft {
            archetype: Some(crate::spec::Archetype::Mysql),
            ..Draft::default()
        };
        resources(&mut w, &r, &mut d);
        assert_eq!(d.storage_size.as_deref(), Some("50Gi"));
        assert_eq!(d.limits.memory.as_deref(), Some("4Gi"));
        assert_eq!(d.assumptions.len(), 1);
    }

    #[test]
    fn a_size_without_a_noun_is_a_question() {
        let d = read("redis with 2GB");
        assert_eq!((d.storage_size, d.limits.memory), (None, None));
        assert_eq!(d.questions.len(), 1);
    }

    #[test]
    fn a_follow_up_quantity_inherits_its_noun() {
        let d = read("a memory limit of 2Gi and a request of 1Gi");
        assert_eq!(d.limits.memory.as_deref(), Some("2Gi"));
        assert_eq!(d.requests.memory.as_deref(), Some("1Gi"));
    }

    #[test]
    fn memory_and_storage_in_one_sentence() {
        let d = read("4GB of RAM and 20GB of disk");
        assert_eq!(d.limits.memory.as_deref(), Some("4Gi"));
        assert_eq!(d.storage_size.as_deref(), Some("20Gi"));
    }

    #[test]
    fn storage_class_is_read_either_side() {
        assert_eq!(
            read("storage class fast-ssd").storage_class.as_deref(),
            Some("fast-ssd")
        );
        assert_eq!(
            read("on the gp3 storage class").storage_class.as_deref(),
            Some("gp3")
        );
        assert_eq!(
            read("storageClass: premium-rwo").storage_class.as_deref(),
            Some("premium-rwo")
        );
    }

    #[test]
    fn persistent_storage_is_noticed() {
        assert!(read("with persistent storage").persistent);
        assert!(!read("with no persistence").persistent);
    }

    #[test]
    fn quantity_formatting() {
        assert_eq!(mebibytes(512.0).as_deref(), Some("512Mi"));
        assert_eq!(mebibytes(0.5).as_deref(), Some("512Ki"));
        assert_eq!(cores(1.5).as_deref(), Some("1500m"));
        assert_eq!(cores(0.0), None);
    }
}
