//! Job and CronJob options: restart policy, completions, parallelism,
//! retries, time limits, clean-up and, for a CronJob, concurrency and
//! history. Null keeps the templates' defaults (`OnFailure`, 2 retries, a
//! day's TTL for a Job, `Forbid` and 3 + 3 histories for a CronJob).
//!
//! Types and checks only; `templates/job.yaml.j2` and `cronjob.yaml.j2`
//! render them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;

/// Options of a job or cron job; null keeps every default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchOptions {
    /// What happens to a failed container; null means `on_failure`.
    pub restart_policy: Option<RestartPolicy>,
    /// Successful pods needed to finish; null means 1.
    pub completions: Option<u32>,
    /// Pods running at once; null means 1.
    pub parallelism: Option<u32>,
    /// Retries before the job fails; null means 2.
    pub backoff_limit: Option<u32>,
    /// Seconds a job may run before it is stopped; null means no limit.
    pub active_deadline_seconds: Option<u32>,
    /// Seconds a finished job is kept; null means a day for a job and none for a cron job's jobs.
    pub ttl_seconds_after_finished: Option<u32>,
    /// Cron jobs: what to do when a run is still going at the next schedule; null means `forbid`.
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Cron jobs: seconds after the scheduled time a missed run may still start; null means no limit.
    pub starting_deadline_seconds: Option<u32>,
    /// Cron jobs: finished successful jobs kept; null means 3.
    pub successful_jobs_history_limit: Option<u32>,
    /// Cron jobs: failed jobs kept; null means 3.
    pub failed_jobs_history_limit: Option<u32>,
    /// Cron jobs: the schedule's time zone, e.g. `Europe/Paris`; null means the controller's.
    pub time_zone: Option<String>,
    /// Create it suspended (no runs until resumed).
    pub suspend: bool,
}

/// A job pod's restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    OnFailure,
    Never,
}

/// A cron job's concurrency policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

impl RestartPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }
}

impl ConcurrencyPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

/// Checks bounds and which options a job (not a cron job) may carry.
pub(super) fn check(c: &mut Checker, at: &str, b: &BatchOptions, cron: bool) {
    for (key, value, max) in [
        ("completions", b.completions, 10_000),
        ("parallelism", b.parallelism, 10_000),
        ("backoff_limit", b.backoff_limit, 100),
        (
            "successful_jobs_history_limit",
            b.successful_jobs_history_limit,
            100,
        ),
        ("failed_jobs_history_limit", b.failed_jobs_history_limit, 100),
    ] {
        if value.is_some_and(|v| v > max) {
            c.fail(format!("{at}/{key}"), format!("more than {max}"));
        }
    }
    if !cron {
        for (key, set) in [
            ("concurrency_policy", b.concurrency_policy.is_some()),
            ("starting_deadline_seconds", b.starting_deadline_seconds.is_some()),
            (
                "successful_jobs_history_limit",
                b.successful_jobs_history_limit.is_some(),
            ),
            ("failed_jobs_history_limit", b.failed_jobs_history_limit.is_some()),
            ("time_zone", b.time_zone.is_some()),
        ] {
            if set {
                c.fail(format!("{at}/{key}"), "only a cron_job has this option; use null");
            }
        }
    }
    if let Some(tz) = &b.time_zone {
        let ok = !tz.is_empty()
            && tz.len() <= 64
            && !tz.starts_with('/')
            && !tz.split('/').any(|s| s == "..")
            && tz
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "/_+-".contains(ch));
        if !ok {
            c.fail(
                format!("{at}/time_zone"),
                format!("{tz:?} is not a time zone name such as Europe/Paris"),
            );
        }
    }
}
