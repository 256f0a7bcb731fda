//! chekov: each course that arrives on RabbitMQ is plotted (it takes `plot_time`) and
//! logged in MariaDB, a row per course counting the plots started and finished; `GET
//! /courses` counts them. A course is acknowledged only once it is logged, so none is lost
//! when chekov stops or dies in the middle. With an `mqtt` connection, each plotted course
//! is also announced as a CloudEvent.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use harness_wires::amqp::{Consumer, Message};
use harness_wires::cloudevents::EventBuilder as _;
use harness_wires::http::Server;
use harness_wires::metrics::Prometheus;
use harness_wires::mysql::{Pool, sqlx};

harness::include_service!();

/// Topic of the announcements.
const ANNOUNCEMENTS: &str = "chekov/courses";

#[derive(Clone)]
struct Log {
    db: Pool,
    table: std::sync::Arc<str>,
    announce: Option<harness_wires::mqtt::Publisher>,
}

#[harness::main]
async fn setup(config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let table = if config.table.is_empty() {
        "chekov_courses".to_owned()
    } else {
        config.table.clone()
    };
    let log = Log {
        db: wires.db.clone(),
        table: table.into(),
        announce: wires.mqtt.clone(),
    };
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {} (course VARCHAR(255) PRIMARY KEY, started INT NOT NULL, plotted INT NOT NULL)",
        log.table
    ))
    .execute(&log.db)
    .await?;
    let plot_time = config
        .plot_time
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default();
    let courses = Consumer::new(&wires.amqp, {
        let log = log.clone();
        move |message| plot(log.clone(), plot_time, message)
    });
    let router = Router::new()
        .route("/courses", get(courses_plotted))
        .with_state(log);
    Ok(WiresOut {
        courses,
        server: Server::new(router),
        metrics: Prometheus::new(),
    })
}

/// Logs the course as started, plots it, logs it as plotted; an error (the database down)
/// gets the course requeued.
async fn plot(log: Log, plot_time: Duration, message: Message) -> anyhow::Result<()> {
    let course = String::from_utf8(message.data)?;
    let count = |column: &str| {
        format!(
            "INSERT INTO {table} (course, started, plotted) VALUES (?, {started}, {plotted}) \
             ON DUPLICATE KEY UPDATE {column} = {column} + 1",
            table = log.table,
            started = u8::from(column == "started"),
            plotted = u8::from(column == "plotted"),
        )
    };
    sqlx::query(&count("started"))
        .bind(&course)
        .execute(&log.db)
        .await?;
    tokio::time::sleep(plot_time).await;
    sqlx::query(&count("plotted"))
        .bind(&course)
        .execute(&log.db)
        .await?;
    if let Some(mqtt) = &log.announce {
        let event = mqtt
            .events()
            .event("com.acme.course.plotted")
            .subject(course)
            .build()?;
        mqtt.publish_event(ANNOUNCEMENTS, event).await?;
    }
    Ok(())
}

async fn courses_plotted(State(log): State<Log>) -> Result<String, (StatusCode, String)> {
    let plotted: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {} WHERE plotted > 0",
        log.table
    ))
    .fetch_one(&log.db)
    .await
    .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")))?;
    Ok(format!("{plotted} courses plotted\n"))
}
