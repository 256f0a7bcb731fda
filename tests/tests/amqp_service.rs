//! The example service chekov (an `amqp::Consumer` logging each course in MariaDB) as a
//! real process against the machine's RabbitMQ and MariaDB: SIGTERM under a stream of
//! courses loses none and handles none twice; SIGKILL in the middle of a course gets that
//! course redelivered to the next instance.

use std::time::Duration;

use harness::proto::harness::amqp::{Consumer as ConsumerConfig, Publisher as PublisherConfig};
use harness::proto::harness::mysql::Dsn;
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_tests::{Service, eventually, free_port, unique};
use harness_wires::amqp::lapin::options::QueueDeleteOptions;
use harness_wires::amqp::{Consumer, Message, Publisher};
use harness_wires::mysql::{Pool, sqlx};

fn chekov_yaml(queue: &str, table: &str, plot_ms: u32, port: u16) -> String {
    let plot = f64::from(plot_ms) / 1000.0;
    format!(
        "plot_time: {plot}s\ntable: {table}\namqp:\n  url: amqp://127.0.0.1:5672/%2f\n  name: chekov-test\ndb:\n  value: mysql://root@127.0.0.1:3306/test\n  min_size: 1\n  max_size: 8\nconsole:\n  level: INFO\ncourses:\n  queue: {queue}\n  max_concurrency: 4\n  prefetch: 16\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n"
    )
}

fn start(queue: &str, table: &str, plot_ms: u32) -> (Service, u16) {
    let port = free_port();
    let yaml = chekov_yaml(queue, table, plot_ms, port);
    let mut service = Service::start("chekov", &[("chekov.yaml", &yaml)], &["chekov.yaml"]);
    service.wait_listening(port);
    (service, port)
}

async fn amqp() -> Publisher {
    Publisher::connect(&PublisherConfig {
        url: "amqp://127.0.0.1:5672/%2f".into(),
        name: "chekov-test-sender".into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn db() -> Pool {
    Pool::connect(&Dsn {
        value: "mysql://root@127.0.0.1:3306/test".into(),
        min_size: 1,
        max_size: 2,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Declares the queue as chekov does, so that courses published before it runs are kept.
async fn declare(amqp: &Publisher, queue: &str) {
    let (trigger, shutdown) = Shutdown::channel();
    trigger.trigger();
    let config = ConsumerConfig {
        queue: queue.into(),
        ..Default::default()
    };
    Consumer::new(amqp, |_: Message| async { Ok::<(), String>(()) })
        .serve(config, shutdown)
        .await
        .unwrap();
}

/// (course, started, plotted) of every logged course, by course.
async fn logged(db: &Pool, table: &str) -> Vec<(String, i32, i32)> {
    let exists: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'test' AND table_name = ?",
    )
    .bind(table)
    .fetch_one(db)
    .await
    .unwrap();
    if exists == 0 {
        return Vec::new();
    }
    sqlx::query_as(&format!(
        "SELECT course, started, plotted FROM {table} ORDER BY course"
    ))
    .fetch_all(db)
    .await
    .unwrap()
}

async fn clean_up(amqp: &Publisher, db: &Pool, queue: &str, table: &str) {
    let channel = amqp.connection().create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
        .execute(db)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_a_stream_of_courses_loses_none_and_plots_none_twice() {
    const COURSES: usize = 200;
    let queue = unique("chekov-stream");
    let table = unique("chekov_stream");
    let (amqp, db) = (amqp().await, db().await);
    declare(&amqp, &queue).await;
    let (first, _) = start(&queue, &table, 10);

    // The stream: published while chekov runs, and on after the SIGTERM.
    let sender = amqp.clone();
    let route = queue.clone();
    let stream = tokio::spawn(async move {
        for i in 0..COURSES {
            sender
                .publish(&route, format!("course-{i:03}"))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    assert!(
        eventually(600, || async {
            logged(&db, &table).await.len() >= COURSES / 4
        })
        .await,
        "chekov plotted too few courses"
    );
    let exit = tokio::task::spawn_blocking(move || first.stop())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    let before = logged(&db, &table).await;
    assert!(
        before.len() < COURSES,
        "the SIGTERM came too late to prove anything"
    );
    // Whatever was started before the SIGTERM was finished in the drain.
    for (course, started, plotted) in &before {
        assert_eq!((started, plotted), (&1, &1), "{course}");
    }
    stream.await.unwrap();

    let (second, _) = start(&queue, &table, 1);
    // Every course logged and plotted: a row appears when its plot starts, so the row
    // count alone would read the last course mid-plot.
    let plotted = |all: &[(String, i32, i32)]| {
        all.len() == COURSES && all.iter().all(|(_, _, plotted)| *plotted > 0)
    };
    assert!(
        eventually(600, || async { plotted(&logged(&db, &table).await) }).await,
        "some courses were lost: {} of {COURSES} logged",
        logged(&db, &table).await.len()
    );
    let exit = tokio::task::spawn_blocking(move || second.stop())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    let all = logged(&db, &table).await;
    for (i, (course, started, plotted)) in all.iter().enumerate() {
        assert_eq!(course, &format!("course-{i:03}"));
        assert_eq!(
            (started, plotted),
            (&1, &1),
            "{course}: (plots started, plots finished)"
        );
    }
    clean_up(&amqp, &db, &queue, &table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_mid_course_gets_it_redelivered() {
    let queue = unique("chekov-kill");
    let table = unique("chekov_kill");
    let (amqp, db) = (amqp().await, db().await);
    declare(&amqp, &queue).await;
    // Plotting takes far longer than the test: the course is mid-way when chekov dies.
    let (first, _) = start(&queue, &table, 600_000);
    amqp.publish(&queue, "course-kill").await.unwrap();
    assert!(
        eventually(600, || async {
            logged(&db, &table).await == [("course-kill".to_owned(), 1, 0)]
        })
        .await,
        "the course never started"
    );
    first.signal("KILL");
    let exit = tokio::task::spawn_blocking(move || first.wait())
        .await
        .unwrap();
    assert_eq!(exit.code(), None, "killed by a signal");

    let (second, _) = start(&queue, &table, 1);
    assert!(
        eventually(600, || async {
            logged(&db, &table).await == [("course-kill".to_owned(), 2, 1)]
        })
        .await,
        "the course was not redelivered: {:?}",
        logged(&db, &table).await
    );
    let exit = tokio::task::spawn_blocking(move || second.stop())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    clean_up(&amqp, &db, &queue, &table).await;
}
