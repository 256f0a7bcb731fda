//! `logging::Console` and `logging::Syslog`: outputs of the process's `tracing` logs.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::time::SystemTime;

use harness::proto::harness::logging::{
    Console as ConsoleConfig, Level as LevelConfig, Syslog as SyslogConfig, console, syslog,
};
use harness::runtime::{InputWire, WireError};
use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber, span};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Default path of the system logger's socket.
pub use harness::contract::DEFAULT_SYSLOG_SOCKET as DEV_LOG;

/// Logs written to stdout or stderr, configured by `harness.logging.Console`: records at
/// `level` and above (NOTSET: INFO), as text lines (coloured on a terminal) or JSON lines.
///
/// It replaces the runner's default stderr output when it connects. Each record carries
/// its target, fields, the spans it happened in and, while a traced request is served,
/// its `trace_id` and `span_id`, so that logs and traces join up.
#[derive(Debug)]
pub struct Console(());

/// Logs sent to the system logger, configured by `harness.logging.Syslog`: RFC 5424
/// messages over the Unix datagram socket `path` (default `/dev/log`) or over UDP to
/// `address`, with the configured facility and app name.
#[derive(Debug)]
pub struct Syslog(());

impl InputWire<ConsoleConfig> for Console {
    async fn connect(config: &ConsoleConfig) -> Result<Self, WireError> {
        let stdout = config.stream() == console::Stream::Stdout;
        let ansi = if stdout {
            std::io::IsTerminal::is_terminal(&std::io::stdout())
        } else {
            std::io::IsTerminal::is_terminal(&std::io::stderr())
        };
        let format = match config.format() {
            console::Format::Text => Format::Text { ansi },
            console::Format::Json => Format::Json,
        };
        let sink = if stdout { Sink::Stdout } else { Sink::Stderr };
        install(Output {
            level: level(config.level()),
            format,
            sink,
        })?;
        Ok(Console(()))
    }
}

impl InputWire<SyslogConfig> for Syslog {
    async fn connect(config: &SyslogConfig) -> Result<Self, WireError> {
        let sink = match harness::contract::syslog_socket(config) {
            None => {
                let address =
                    harness::socket::SocketAddress::from_socket("address", config.address.as_ref())
                        .map_err(WireError::config)?;
                let socket = UdpSocket::bind(("0.0.0.0", 0)).map_err(WireError::other)?;
                socket
                    .connect((address.host.as_str(), address.port))
                    .map_err(|e| WireError::connect(format!("syslog at {address}: {e}")))?;
                Sink::Udp(socket)
            }
            Some(path) => {
                let socket = UnixDatagram::unbound().map_err(WireError::other)?;
                socket
                    .connect(path)
                    .map_err(|e| WireError::connect(format!("syslog at {path}: {e}")))?;
                Sink::Unix(socket)
            }
        };
        // The proto's numbers are harness's, not syslog's codes.
        let facility = match config.facility() {
            syslog::Facility::Notset | syslog::Facility::User => 1,
            syslog::Facility::Local0 => 16,
            syslog::Facility::Local1 => 17,
            syslog::Facility::Local2 => 18,
            syslog::Facility::Local3 => 19,
            syslog::Facility::Local4 => 20,
            syslog::Facility::Local5 => 21,
            syslog::Facility::Local6 => 22,
            syslog::Facility::Local7 => 23,
        };
        let app = if config.app.is_empty() {
            std::env::args_os()
                .next()
                .and_then(|arg0| {
                    std::path::Path::new(&arg0)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "-".to_owned())
        } else {
            config.app.clone()
        };
        install(Output {
            level: level(config.level()),
            format: Format::Syslog {
                facility,
                app: printable(&app, 48),
                host: printable(&hostname(), 255),
                pid: std::process::id(),
            },
            sink,
        })?;
        Ok(Syslog(()))
    }
}

fn install(output: Output) -> Result<(), WireError> {
    if harness::runtime::logs::add_output(Box::new(output)) {
        Ok(())
    } else {
        Err(WireError::other(
            "another tracing subscriber is installed; logging wires need the runner's",
        ))
    }
}

fn level(level: LevelConfig) -> Level {
    match level {
        LevelConfig::Notset | LevelConfig::Info => Level::INFO,
        LevelConfig::Debug => Level::DEBUG,
        LevelConfig::Warning => Level::WARN,
        LevelConfig::Error | LevelConfig::Critical => Level::ERROR,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

/// RFC 5424 header fields are printable US-ASCII without spaces.
fn printable(text: &str, max: usize) -> String {
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}

enum Format {
    Text {
        ansi: bool,
    },
    Json,
    Syslog {
        facility: u8,
        app: String,
        host: String,
        pid: u32,
    },
}

enum Sink {
    Stdout,
    Stderr,
    Unix(UnixDatagram),
    Udp(UdpSocket),
}

/// One log output: a level, a format, a sink.
struct Output {
    level: Level,
    format: Format,
    sink: Sink,
}

/// A span's fields, recorded when it opens.
struct SpanFields(Map<String, Value>);

#[derive(Default)]
struct Fields {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl<S> Layer<S> for Output
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<SpanFields>().is_some() {
            return; // another logging wire recorded them
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        extensions.insert(SpanFields(fields.fields));
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(known)) = extensions.get_mut::<SpanFields>() {
            known.extend(fields.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > self.level {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let spans: Vec<(&'static str, Map<String, Value>)> = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let fields = span
                            .extensions()
                            .get::<SpanFields>()
                            .map(|f| f.0.clone())
                            .unwrap_or_default();
                        (span.name(), fields)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let trace = if crate::telemetry::tracing_on() {
            let context = opentelemetry::Context::current();
            let span = context.span();
            let ids = span.span_context();
            ids.is_valid()
                .then(|| (ids.trace_id().to_string(), ids.span_id().to_string()))
        } else {
            None
        };
        let record = Record {
            level: *meta.level(),
            target: meta.target(),
            message: fields.message.unwrap_or_default(),
            fields: fields.fields,
            spans,
            trace,
        };
        let line = match &self.format {
            Format::Text { ansi } => record.text(*ansi, true),
            Format::Json => record.json(),
            Format::Syslog {
                facility,
                app,
                host,
                pid,
            } => {
                let severity = match record.level {
                    Level::ERROR => 3,
                    Level::WARN => 4,
                    Level::INFO => 6,
                    _ => 7,
                };
                format!(
                    "<{}>1 {} {host} {app} {pid} - - {}",
                    u32::from(*facility) * 8 + severity,
                    timestamp(),
                    record.text(false, false)
                )
            }
        };
        match &self.sink {
            Sink::Stdout => {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
            Sink::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Sink::Unix(socket) => {
                let _ = socket.send(line.as_bytes());
            }
            Sink::Udp(socket) => {
                let _ = socket.send(line.as_bytes());
            }
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(self.level.into())
    }
}

struct Record {
    level: Level,
    target: &'static str,
    message: String,
    fields: Map<String, Value>,
    spans: Vec<(&'static str, Map<String, Value>)>,
    trace: Option<(String, String)>,
}

impl Record {
    /// `2026-01-02T03:04:05.678Z  INFO span{a=1}: target: message k=v trace_id=…`
    fn text(&self, ansi: bool, with_time: bool) -> String {
        let mut line = String::with_capacity(128);
        if with_time {
            line.push_str(&timestamp());
            line.push(' ');
            let (colour, reset) = if ansi {
                let colour = match self.level {
                    Level::ERROR => "\x1b[31m",
                    Level::WARN => "\x1b[33m",
                    Level::INFO => "\x1b[32m",
                    Level::DEBUG => "\x1b[34m",
                    Level::TRACE => "\x1b[35m",
                };
                (colour, "\x1b[0m")
            } else {
                ("", "")
            };
            let _ = write!(line, "{colour}{:>5}{reset} ", self.level.as_str());
        }
        for (name, fields) in &self.spans {
            line.push_str(name);
            if !fields.is_empty() {
                line.push('{');
                push_pairs(&mut line, fields);
                line.push('}');
            }
            line.push_str(": ");
        }
        line.push_str(self.target);
        line.push_str(": ");
        line.push_str(&self.message);
        if !self.fields.is_empty() {
            line.push(' ');
            push_pairs(&mut line, &self.fields);
        }
        if let Some((trace_id, span_id)) = &self.trace {
            let _ = write!(line, " trace_id={trace_id} span_id={span_id}");
        }
        line
    }

    fn json(&self) -> String {
        let mut object = Map::new();
        object.insert("timestamp".into(), Value::String(timestamp()));
        object.insert("level".into(), Value::String(self.level.as_str().into()));
        object.insert("target".into(), Value::String(self.target.into()));
        object.insert("message".into(), Value::String(self.message.clone()));
        if !self.fields.is_empty() {
            object.insert("fields".into(), Value::Object(self.fields.clone()));
        }
        if !self.spans.is_empty() {
            let spans = self
                .spans
                .iter()
                .map(|(name, fields)| {
                    let mut span = fields.clone();
                    span.insert("name".into(), Value::String((*name).into()));
                    Value::Object(span)
                })
                .collect();
            object.insert("spans".into(), Value::Array(spans));
        }
        if let Some((trace_id, span_id)) = &self.trace {
            object.insert("trace_id".into(), Value::String(trace_id.clone()));
            object.insert("span_id".into(), Value::String(span_id.clone()));
        }
        Value::Object(object).to_string()
    }
}

fn push_pairs(line: &mut String, fields: &Map<String, Value>) {
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            line.push(' ');
        }
        match value {
            Value::String(text) if !text.contains([' ', '"', '=']) && !text.is_empty() => {
                let _ = write!(line, "{key}={text}");
            }
            other => {
                let _ = write!(line, "{key}={other}");
            }
        }
    }
}

/// Now in RFC 3339, UTC, milliseconds: `2026-01-02T03:04:05.678Z`.
fn timestamp() -> String {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    // Count in 400-year eras from 0000-03-01, whose leap day falls last in each year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(59), (1970, 3, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
    }

    #[test]
    fn records_as_text_and_json() {
        let mut fields = Map::new();
        fields.insert("user".into(), Value::String("kirk".into()));
        fields.insert("note".into(), Value::String("two words".into()));
        let mut span = Map::new();
        span.insert("id".into(), 7.into());
        let record = Record {
            level: Level::WARN,
            target: "bridge",
            message: "shields low".into(),
            fields,
            spans: vec![("request", span)],
            trace: Some(("ab".repeat(16), "cd".repeat(8))),
        };
        assert_eq!(
            record.text(false, false),
            format!(
                "request{{id=7}}: bridge: shields low user=kirk note=\"two words\" trace_id={} span_id={}",
                "ab".repeat(16),
                "cd".repeat(8)
            )
        );
        let text = record.text(true, true);
        assert!(
            text.contains("\x1b[33m WARN\x1b[0m request{id=7}"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&record.json()).unwrap();
        assert_eq!(json["level"], "WARN");
        assert_eq!(json["message"], "shields low");
        assert_eq!(json["fields"]["user"], "kirk");
        assert_eq!(json["spans"][0]["name"], "request");
        assert_eq!(json["spans"][0]["id"], 7);
        assert_eq!(json["trace_id"], "ab".repeat(16));
    }

    /// A Syslog wire sends RFC 5424 datagrams to its socket.
    #[tokio::test]
    async fn syslog_sends_rfc5424_datagrams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        let config = SyslogConfig {
            app: "kirk".into(),
            facility: syslog::Facility::Local3 as i32,
            level: LevelConfig::Info as i32,
            path: path.display().to_string(),
            address: None,
        };
        Syslog::connect(&config).await.unwrap();
        tracing::info!(target: "bridge", captain = "kirk", "engage");
        tracing::debug!(target: "bridge", "not sent: below the level");
        tracing::warn!(target: "bridge", "red alert");
        let mut buffer = [0u8; 2048];
        let n = server.recv(&mut buffer).unwrap();
        let first = String::from_utf8_lossy(&buffer[..n]).into_owned();
        // LOCAL3 (19) * 8 + informational (6) = 158.
        assert!(first.starts_with("<158>1 "), "{first}");
        assert!(first.contains(" kirk "), "{first}");
        assert!(
            first.ends_with("- - bridge: engage captain=kirk"),
            "{first}"
        );
        let n = server.recv(&mut buffer).unwrap();
        let second = String::from_utf8_lossy(&buffer[..n]).into_owned();
        assert!(second.starts_with("<156>1 "), "{second}");
        assert!(second.ends_with("- - bridge: red alert"), "{second}");
    }
}
