//! `schedule::Scheduler`: triggers, overlap, failures and shutdown. Interval tests run on
//! tokio's paused clock, so they wait for no real time.
#![cfg(feature = "schedule")]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use harness::prost_types;
use harness::proto::harness::schedule::{Job, Scheduler as Config, job};
use harness::runtime::{OutputWire as _, Shutdown};
use harness_wires::schedule::Scheduler;
use tokio::sync::mpsc;

fn every(seconds: i64, overlap: job::Overlap) -> Job {
    Job {
        trigger: Some(job::Trigger::Interval(prost_types::Duration {
            seconds,
            nanos: 0,
        })),
        overlap: overlap as i32,
        disabled: false,
    }
}

fn config(jobs: &[(&str, Job)]) -> Config {
    Config {
        jobs: jobs
            .iter()
            .map(|(name, job)| ((*name).to_owned(), job.clone()))
            .collect::<HashMap<_, _>>(),
    }
}

#[tokio::test(start_paused = true)]
async fn an_interval_job_runs_again_and_again_even_after_failing() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let scheduler = Scheduler::new().job("tick", move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let tx = tx.clone();
        async move {
            tx.send(n).unwrap();
            match n {
                1 => Err("the first run fails".into()),
                2 => panic!("the second run panics"),
                _ => Ok::<(), Box<dyn std::error::Error + Send + Sync>>(()),
            }
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving =
        tokio::spawn(scheduler.serve(config(&[("tick", every(10, job::Overlap::Skip))]), shutdown));
    for expected in 1..=4 {
        assert_eq!(rx.recv().await, Some(expected));
    }
    trigger.trigger();
    serving.await.unwrap().unwrap();
}

/// A run that lasts longer than the interval: by default the due runs are skipped, so at
/// most one runs at a time; with ALLOW they overlap.
#[tokio::test(start_paused = true)]
async fn runs_do_not_overlap_unless_allowed() {
    for (overlap, may_overlap) in [
        (job::Overlap::Skip, false),
        (job::Overlap::Queue, false),
        (job::Overlap::Allow, true),
    ] {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let (now, peak, count) = (running.clone(), most.clone(), started.clone());
        let scheduler = Scheduler::new().job("slow", move || {
            let (now, peak, count) = (now.clone(), peak.clone(), count.clone());
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(at_once, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(25)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok::<(), std::io::Error>(())
            }
        });
        let (trigger, shutdown) = Shutdown::channel();
        let serving =
            tokio::spawn(scheduler.serve(config(&[("slow", every(10, overlap))]), shutdown));
        while started.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        trigger.trigger();
        serving.await.unwrap().unwrap();
        assert_eq!(
            running.load(Ordering::SeqCst),
            0,
            "{overlap:?}: runs finished before serve returned"
        );
        let peak = most.load(Ordering::SeqCst);
        if may_overlap {
            assert!(peak > 1, "{overlap:?}: {peak}");
        } else {
            assert_eq!(peak, 1, "{overlap:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_the_running_job_finish() {
    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let finished = Arc::new(AtomicUsize::new(0));
    let done = finished.clone();
    let scheduler = Scheduler::new().job("long", move || {
        let (started, mut release, done) = (started_tx.clone(), release_rx.clone(), done.clone());
        async move {
            started.send(()).unwrap();
            release.wait_for(|go| *go).await.unwrap();
            done.fetch_add(1, Ordering::SeqCst);
            Ok::<(), std::io::Error>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving =
        tokio::spawn(scheduler.serve(config(&[("long", every(5, job::Overlap::Skip))]), shutdown));
    started_rx.recv().await.unwrap();
    trigger.trigger();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!serving.is_finished());
    release_tx.send(true).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_cron_job_runs() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let scheduler = Scheduler::new().job("every-second", move || {
        let tx = tx.clone();
        async move {
            let _ = tx.send(());
            Ok::<(), std::io::Error>(())
        }
    });
    let cron = Job {
        trigger: Some(job::Trigger::Cron("* * * * * *".into())),
        ..Default::default()
    };
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(scheduler.serve(config(&[("every-second", cron)]), shutdown));
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    trigger.trigger();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn jobs_and_configuration_must_match() {
    let (_trigger, shutdown) = Shutdown::channel();
    let ok = || async { Ok::<(), std::io::Error>(()) };
    let error = Scheduler::new()
        .job("cleanup", ok)
        .serve(config(&[]), shutdown.clone())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("job `cleanup` has no entry in jobs"),
        "{error}"
    );
    let error = Scheduler::new()
        .job("cleanup", ok)
        .serve(
            config(&[
                ("cleanup", every(1, job::Overlap::Skip)),
                ("cleanpu", every(1, job::Overlap::Skip)),
            ]),
            shutdown.clone(),
        )
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("jobs.cleanpu: no such job"),
        "{error}"
    );
    let bad = Job {
        trigger: Some(job::Trigger::Cron("61 * * * *".into())),
        ..Default::default()
    };
    let error = Scheduler::new()
        .job("cleanup", ok)
        .serve(config(&[("cleanup", bad)]), shutdown)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("jobs.cleanup.cron: \"61 * * * *\""),
        "{error}"
    );
}
