//! `schedule::Scheduler`: runs the service's jobs on cron expressions or intervals.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr as _;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use croner::Cron;
use futures_util::FutureExt as _;
use harness::proto::harness::schedule::{Job as JobConfig, Scheduler as SchedulerConfig, job};
use harness::runtime::{BoxError, OutputWire, Shutdown, WireError};
use opentelemetry::KeyValue;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::telemetry::{self, Red};

static RUNS: LazyLock<Red> = LazyLock::new(|| Red::new("scheduler_job", "Scheduled job runs"));

type JobFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> + Send + Sync>;

/// Runs jobs (code, registered by name with [`job`](Scheduler::job)) when the
/// configuration `harness.schedule.Scheduler` says: per job a cron expression (UTC, with
/// or without a seconds field) or an interval, and what to do when a run is due while the
/// previous one still runs — skip it (the default: a job never overlaps itself), queue it,
/// or allow it.
///
/// Every job of the code needs an entry in the configuration and every entry a job:
/// a mismatch stops the start, naming the job. Each run makes a span (with
/// `tracing::Otlp`) and counts in `scheduler_job_*` by job (with `metrics::Prometheus`);
/// a run that fails or panics is logged and counted, and the job keeps its schedule. On
/// shutdown no new run starts and the running ones finish (bounded by the runner's grace
/// period).
///
/// ```
/// let scheduler = harness_wires::schedule::Scheduler::new()
///     .job("cleanup", || async { Ok::<(), std::io::Error>(()) });
/// # let _ = scheduler;
/// ```
#[derive(Default)]
pub struct Scheduler {
    jobs: BTreeMap<String, JobFn>,
}

impl Scheduler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `run` as the job `name` (the key of `jobs` in the configuration).
    pub fn job<F, Fut, E>(mut self, name: impl Into<String>, run: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let run: JobFn = Arc::new(move || {
            let future = run();
            Box::pin(async move { future.await.map_err(Into::into) })
        });
        self.jobs.insert(name.into(), run);
        self
    }
}

/// When a job is due next.
enum Trigger {
    Cron(Box<Cron>),
    Interval(Duration),
}

impl Trigger {
    fn of(name: &str, config: &JobConfig) -> Result<Trigger, WireError> {
        match &config.trigger {
            Some(job::Trigger::Cron(expression)) => Cron::from_str(expression)
                .map(|cron| Trigger::Cron(Box::new(cron)))
                .map_err(|e| WireError::config(format!("jobs.{name}.cron: {expression:?}: {e}"))),
            Some(job::Trigger::Interval(interval)) => Duration::try_from(*interval)
                .ok()
                .filter(|d| !d.is_zero())
                .map(Trigger::Interval)
                .ok_or_else(|| {
                    WireError::config(format!("jobs.{name}.interval: must be positive"))
                }),
            None => Err(WireError::config(format!(
                "jobs.{name}: needs a cron expression or an interval"
            ))),
        }
    }

    /// Time from now to the next run, `last` being when the previous one was due.
    fn next(&self, last: Instant) -> Option<Instant> {
        match self {
            Trigger::Interval(interval) => Some(last + *interval),
            Trigger::Cron(cron) => {
                let now = Utc::now();
                let next = cron.find_next_occurrence(&now, false).ok()?;
                let wait = (next - now).to_std().unwrap_or_default();
                Some(Instant::now() + wait)
            }
        }
    }
}

impl OutputWire<SchedulerConfig> for Scheduler {
    async fn serve(self, config: SchedulerConfig, shutdown: Shutdown) -> Result<(), WireError> {
        for name in self.jobs.keys() {
            if !config.jobs.contains_key(name) {
                return Err(WireError::config(format!(
                    "job `{name}` has no entry in jobs; add jobs.{name} with a cron or an interval"
                )));
            }
        }
        let mut schedules = Vec::new();
        for (name, job) in &config.jobs {
            let Some(run) = self.jobs.get(name) else {
                return Err(WireError::config(format!(
                    "jobs.{name}: no such job in the service's code (jobs: {})",
                    self.jobs.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            };
            let trigger = Trigger::of(name, job)?;
            if job.disabled {
                tracing::info!(job = name, "job disabled");
                continue;
            }
            schedules.push((name.clone(), trigger, job.overlap(), run.clone()));
        }
        tracing::info!(jobs = schedules.len(), "scheduler running");
        let mut loops = JoinSet::new();
        for (name, trigger, overlap, run) in schedules {
            loops.spawn(schedule(name, trigger, overlap, run, shutdown.clone()));
        }
        while loops.join_next().await.is_some() {}
        Ok(())
    }
}

/// Runs one job on its trigger until shutdown, then waits for its running runs.
async fn schedule(
    name: String,
    trigger: Trigger,
    overlap: job::Overlap,
    run: JobFn,
    shutdown: Shutdown,
) {
    let name: Arc<str> = Arc::from(name);
    // SKIP and QUEUE: one run at a time; ALLOW: no bound.
    let one_at_a_time = Arc::new(Semaphore::new(1));
    let mut runs = JoinSet::new();
    let mut due = Instant::now();
    let stopping = shutdown.requested();
    tokio::pin!(stopping);
    loop {
        let Some(next) = trigger.next(due) else {
            tracing::warn!(job = &*name, "the cron expression is never due again");
            break;
        };
        due = next;
        tokio::select! {
            _ = &mut stopping => break,
            _ = tokio::time::sleep_until(next.into()) => {}
        }
        while runs.try_join_next().is_some() {}
        let permit = match overlap {
            job::Overlap::Allow => None,
            job::Overlap::Skip => match one_at_a_time.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::warn!(
                        job = &*name,
                        "previous run still running; this run is skipped"
                    );
                    continue;
                }
            },
            job::Overlap::Queue => {
                tokio::select! {
                    _ = &mut stopping => break,
                    permit = one_at_a_time.clone().acquire_owned() => Some(permit.expect("never closed")),
                }
            }
        };
        let (run, name) = (run.clone(), name.clone());
        runs.spawn(async move {
            run_once(&name, &run).await;
            drop(permit);
        });
        if matches!(trigger, Trigger::Interval(_)) && overlap != job::Overlap::Allow {
            // The next interval counts from now when a queued run started late.
            due = due.max(Instant::now());
        }
    }
    if !runs.is_empty() {
        tracing::info!(job = &*name, "waiting for the running job to finish");
    }
    while runs.join_next().await.is_some() {}
}

async fn run_once(name: &str, run: &JobFn) {
    let started = Instant::now();
    let context = telemetry::server_context(
        None,
        || Cow::Owned(format!("job {name}")),
        || vec![KeyValue::new("job.name", name.to_owned())],
    );
    let outcome = std::panic::AssertUnwindSafe(run().with_context(context.clone()))
        .catch_unwind()
        .await;
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(panic) => Some(match panic.downcast_ref::<&str>() {
            Some(text) => format!("panicked: {text}"),
            None => match panic.downcast_ref::<String>() {
                Some(text) => format!("panicked: {text}"),
                None => "panicked".to_owned(),
            },
        }),
    };
    match &error {
        None => tracing::debug!(job = name, elapsed = ?started.elapsed(), "job done"),
        Some(error) => tracing::error!(job = name, "job failed: {error}"),
    }
    let span = context.span();
    if let Some(error) = &error {
        span.set_status(opentelemetry::trace::Status::error(error.clone()));
    }
    span.end();
    if telemetry::metrics_on() {
        RUNS.record(
            vec![("job", Cow::Owned(name.to_owned()))],
            error.is_some(),
            started.elapsed(),
        );
    }
}
