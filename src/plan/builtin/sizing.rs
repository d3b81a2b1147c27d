//! Sizing: CPU, memory and storage.
//!
//! Reads "2 gigs of RAM", "half a CPU", "request 250m CPU and limit it to 1",
//! "50 GB disks", "storage class fast-ssd" and "persistent storage", and
//! writes Kubernetes quantities (`2Gi`, `500m`) into the [`Draft`]. A size
//! without a noun ("2GB") is a question, not a guess. Runs after the
//! schedule and scaling readers, so "70% CPU" is a target, not a quantity.
//! Its words are the lexicon's ([`Class::MemoryNoun`] and the rest).

use std::ops::Range;

use super::draft::Draft;
use super::lexicon::{memory_unit, Class};
use super::text::Words;

/// What a size is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    Memory,
    Cpu,
    Storage,
}

impl Quantity {
    /// The nouns that name it.
    fn noun(self) -> Class {
        match self {
            Quantity::Memory => Class::MemoryNoun,
            Quantity::Cpu => Class::CpuNoun,
            Quantity::Storage => Class::StorageNoun,
        }
    }
}

/// How far from a size its noun may be, either side ("2Gi of RAM", "RAM: 2Gi").
const NOUN_WINDOW: usize = 4;
/// How far before a size a request or limit word may be ("memory limit of 2Gi").
const SIDE_WINDOW: usize = 5;
/// How many words after the unit may still belong to the size ("2Gi of memory per pod").
const TAIL_WINDOW: usize = 3;
/// How far a size without a noun may follow the last one and inherit its
/// noun ("a memory limit of 2Gi and a request of 1Gi").
const FOLLOW_UP_WINDOW: usize = 8;
/// How far a bare size may follow a CPU count and still be its memory ("1 cpu / 2Gi each").
const PAIR_WINDOW: usize = 3;
/// A bare size from this many MiB up on a data store is its disk ("mysql with 50GB");
/// below it, a size per replica is its memory ("512Mi each").
const LARGE_MIB: f64 = 10.0 * 1024.0;

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

/// The nearest of `kinds`' nouns within [`NOUN_WINDOW`] tokens after `end`
/// or before `start`.
fn nearest(w: &Words, start: usize, end: usize, r: &Range<usize>, kinds: &[Quantity]) -> Option<Quantity> {
    let hit = |k: usize| kinds.iter().copied().find(|q| w.is(k, q.noun()));
    let mut after = None;
    for k in end..(end + NOUN_WINDOW).min(r.end) {
        if let Some(q) = hit(k) {
            after = Some((k - end, q));
            break;
        }
        if w.pause(k) || w.number(k, false).is_some() {
            break;
        }
    }
    let mut before = None;
    for k in (r.start.max(start.saturating_sub(NOUN_WINDOW))..start).rev() {
        if w.pause(k) {
            break;
        }
        if let Some(q) = hit(k) {
            before = Some((start - 1 - k, q));
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
/// nearest of the [`SIDE_WINDOW`] words before ("memory limit of 2Gi and a
/// request of 1Gi"), stopping at another quantity.
fn side(w: &Words, start: usize, end: usize, r: &Range<usize>) -> (bool, bool) {
    if end < r.end && w.is(end, Class::LimitWord) {
        return (false, true);
    }
    if end < r.end && w.is(end, Class::RequestWord) {
        return (true, false);
    }
    if w.phrase(start.saturating_sub(2), &["up", "to"]) {
        return (false, true);
    }
    for k in (r.start.max(start.saturating_sub(SIDE_WINDOW))..start).rev() {
        if w.is(k, Class::LimitWord) {
            return (false, true);
        }
        if w.is(k, Class::RequestWord) {
            return (true, false);
        }
        if !w.free(k) && w.number(k, false).is_some() {
            break;
        }
    }
    (true, true)
}

/// A number and its unit, at tokens `i` and `unit`.
struct Size {
    i: usize,
    unit: usize,
    n: f64,
}

/// What a size with a binary unit ("2Gi", "50 GB") is of, and its value.
/// `last` is the previous quantity read and where it ended. A size it
/// cannot place becomes a question (and is claimed) or, after an article, is
/// left for another reader.
fn binary(
    w: &mut Words,
    s: &Size,
    factor: f64,
    r: &Range<usize>,
    last: Option<(Quantity, usize)>,
    d: &mut Draft,
) -> Option<(Quantity, Option<String>)> {
    let (i, u) = (s.i, s.unit);
    let mib = s.n * factor;
    let value = mebibytes(mib);
    let kinds = [Quantity::Memory, Quantity::Storage, Quantity::Cpu];
    match nearest(w, i, u + 1, r, &kinds) {
        Some(Quantity::Memory) => Some((Quantity::Memory, value)),
        Some(Quantity::Storage) => Some((Quantity::Storage, value)),
        _ if w.is(i, &["a", "an"]) => None,
        // "a memory limit of 2Gi and a request of 1Gi"
        _ if last.is_some_and(|(q, at)| i - at <= FOLLOW_UP_WINDOW && q != Quantity::Cpu) => {
            Some((last.map_or(Quantity::Memory, |l| l.0), value))
        }
        // "1 cpu / 2Gi each": CPU and memory come in pairs.
        _ if last.is_some_and(|(q, at)| i - at <= PAIR_WINDOW && q == Quantity::Cpu) => {
            Some((Quantity::Memory, value))
        }
        // "memcached x2 with 512Mi each": a size per replica is its memory.
        _ if w.is(u + 1, &["each", "apiece"]) && mib < LARGE_MIB => Some((Quantity::Memory, value)),
        // "mysql with 50GB": a large bare size on a data store is its disk.
        _ if d.archetype.is_some_and(|a| a.is_stateful()) && mib >= LARGE_MIB => {
            if let Some(v) = &value {
                d.assumptions.push(format!(
                    "{v} read as the storage size (say \"of memory\" if it is RAM)"
                ));
            }
            Some((Quantity::Storage, value))
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
}

/// What the size at `s` is of, and its value, by its unit.
fn classify(
    w: &mut Words,
    s: &Size,
    r: &Range<usize>,
    last: Option<(Quantity, usize)>,
    d: &mut Draft,
) -> Option<(Quantity, Option<String>)> {
    let unit = w.low(s.unit).to_string();
    if let Some(factor) = memory_unit(&unit) {
        return binary(w, s, factor, r, last, d);
    }
    if Class::CpuNoun.holds(&unit) {
        return Some((Quantity::Cpu, cores(s.n)));
    }
    if !Class::MilliCpu.holds(&unit) || w.is(s.i, &["a", "an"]) {
        return None;
    }
    match nearest(w, s.i, s.unit + 1, r, &[Quantity::Cpu, Quantity::Memory]) {
        Some(Quantity::Memory) => Some((Quantity::Memory, mebibytes(s.n))),
        Some(_) => Some((Quantity::Cpu, cores(s.n / 1000.0))),
        None if unit != "m" => Some((Quantity::Cpu, cores(s.n / 1000.0))),
        None => None,
    }
}

/// Writes a quantity as a request, a limit or both.
fn assign(d: &mut Draft, what: Quantity, value: String, (request, limit): (bool, bool)) {
    let (req, lim) = match what {
        Quantity::Memory => (&mut d.requests.memory, &mut d.limits.memory),
        Quantity::Cpu => (&mut d.requests.cpu, &mut d.limits.cpu),
        Quantity::Storage => {
            d.storage_size = Some(value);
            return;
        }
    };
    if request {
        *req = Some(value.clone());
    }
    if limit {
        *lim = Some(value);
    }
}

/// Reads CPU, memory and storage quantities and the storage class.
pub(super) fn resources(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    // The last quantity read and where it ended, for a follow-up without a noun.
    let mut last: Option<(Quantity, usize)> = None;
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let Some((n, len)) = w.number(i, true) else {
            continue;
        };
        let size = Size { i, unit: i + len, n };
        // "a CPU target of 70%" is not one core.
        if !w.free(size.unit) || w.is(size.unit + 1, Class::UsageWord) {
            continue;
        }
        let Some((what, Some(value))) = classify(w, &size, r, last, d) else {
            continue;
        };
        let mut end = size.unit + 1;
        while end < r.end && end <= size.unit + TAIL_WINDOW && w.is(end, Class::SizeTail) {
            end += 1;
        }
        let sides = side(w, i, end, r);
        last = Some((what, end));
        w.claim(i..end);
        assign(d, what, value, sides);
    }
    storage_class(w, r, d);
    persistence(w, r, d);
}

/// Reads "persistent storage" (and "no persistence", a question) and
/// "ephemeral storage" (a question: stateful archetypes always get a volume).
fn persistence(w: &mut Words, r: &Range<usize>, d: &mut Draft) {
    for i in r.clone() {
        if w.free(i) && w.is(i, Class::PersistWord) {
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
    let memory = w.has(r.clone(), Class::MemoryNoun);
    let cpu = w.has(r.clone(), Class::CpuNoun);
    if memory == cpu || w.has(r.clone(), Class::StorageNoun) {
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
    } else if Class::CpuNoun.holds(unit) {
        (cores(n), u + 1)
    } else {
        (cores(n), u)
    };
    let Some(value) = value else { return };
    let limit = w.has(r.clone(), Class::LimitWord);
    let request = w.has(r.clone(), Class::RequestWord);
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
        let before = (r.start..i).rev().find(|&k| !w.is(k, Class::Determiner));
        let pick = if r.contains(&after) && w.free(after) && !w.is(after, Class::Stop) && !w.pause(after - 1)
        {
            Some((after, i..after + 1))
        } else {
            before
                .filter(|&b| w.free(b) && !w.is(b, Class::Stop))
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
