//! Value checks shared by the spec's checkers and by `lift`: Kubernetes
//! quantities, DNS names, URL paths, environment-variable names, image
//! references and cron expressions, each checked character by character.
//! Pure functions of one string; collecting problems is `check`'s job.

fn split_number(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok_and(|n| n > 0.0 && n.is_finite())
}

pub(crate) fn is_cpu(s: &str) -> bool {
    let (num, unit) = split_number(s);
    is_number(num) && (unit.is_empty() || unit == "m")
}

pub(crate) fn is_memory(s: &str) -> bool {
    let (num, unit) = split_number(s);
    is_number(num) && ["", "Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"].contains(&unit)
}

/// A memory quantity in bytes (`4Gi`, `512M`, `1073741824`), or `None`
/// when it is not one [`is_memory`] accepts.
pub(crate) fn memory_bytes(s: &str) -> Option<f64> {
    let (num, unit) = split_number(s);
    let factor = match unit {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    is_number(num)
        .then(|| num.parse::<f64>().ok())
        .flatten()
        .map(|n| n * factor)
}

pub(super) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

pub(crate) fn is_url_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 256
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c))
}

pub(crate) fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn check_image(image: &str) -> Result<(), String> {
    let ok_chars = image
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c));
    if image.is_empty() || image.len() > 255 || !ok_chars {
        return Err(format!("{image:?} is not an image reference"));
    }
    if image.starts_with(['-', '/', '.', ':']) || image.contains("..") || image.contains("//") {
        return Err(format!("{image:?} is not an image reference"));
    }
    Ok(())
}

/// The `@daily`-style schedule macros Kubernetes CronJobs accept.
pub(crate) const CRON_MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Checks a five-field cron expression (numbers, `*`, ranges, steps, lists,
/// and the names of months and weekdays) or a `@daily`-style macro.
pub(crate) fn check_cron(expr: &str) -> Result<(), String> {
    if CRON_MACROS.contains(&expr) {
        return Ok(());
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{expr:?} is not a cron expression with 5 fields"));
    }
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (lo, hi)) in fields.iter().zip(ranges) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(step) = step {
                if step.parse::<u32>().map_or(true, |n| n == 0) {
                    return Err(format!("{expr:?}: bad step in {part:?}"));
                }
            }
            if range == "*" {
                continue;
            }
            for bound in range.split('-') {
                let ok = match bound.parse::<u32>() {
                    Ok(n) => (lo..=hi).contains(&n),
                    Err(_) => bound.len() == 3 && bound.chars().all(|c| c.is_ascii_alphabetic()),
                };
                if !ok {
                    return Err(format!("{expr:?}: {bound:?} is out of range {lo}-{hi}"));
                }
            }
        }
    }
    Ok(())
}
