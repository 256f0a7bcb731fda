//! CloudEvents 1.0 on the messaging wires (NATS, AMQP, MQTT), with the types of the
//! `cloudevents-sdk` crate.
//!
//! A publisher configured with `cloudevents` (`harness.cloudevents.CloudEvents`) writes an
//! [`Event`] in the configured content mode, as each protocol binding says:
//!
//! | mode | NATS | AMQP 0-9-1 | MQTT 5 |
//! | --- | --- | --- | --- |
//! | binary | `ce-*` headers (values percent-encoded), data as payload | `cloudEvents_*` headers, `datacontenttype` as `content_type` | user properties named as the attributes, `datacontenttype` as the content type |
//! | structured | JSON payload, header `Content-Type: application/cloudevents+json` | JSON body, `content_type` `application/cloudevents+json` | JSON payload, content type `application/cloudevents+json` |
//!
//! Subscribers made with `events` read both modes and hand the handler the typed event.
//! [`Events::event`] starts an event as the service's publisher fills it: a fresh `id`
//! (UUID v4), `time` now, and the configured `source` (default `/PROGRAM`).

use std::borrow::Cow;
use std::sync::Arc;

use cloudevents::event::SpecVersion;
use cloudevents::message::{
    BinaryDeserializer, BinarySerializer, MessageAttributeValue, Result as MessageResult,
};
use harness::proto::harness::cloudevents::{CloudEvents as Config, cloud_events::Mode};

pub use cloudevents as sdk;
pub use cloudevents::{AttributesReader, Data, Event, EventBuilder, EventBuilderV10};

/// Media type of the JSON event format (structured mode).
pub const JSON_FORMAT: &str = "application/cloudevents+json";

/// Why a message is not a CloudEvent, or an event cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// A binary-mode message without `specversion`.
    #[error("not a CloudEvent: no specversion attribute")]
    NotAnEvent,
    /// Structured mode in a format other than JSON.
    #[error("unsupported CloudEvents format {0}")]
    Format(String),
    /// An attribute or the JSON event is malformed.
    #[error("invalid CloudEvent: {0}")]
    Invalid(#[from] cloudevents::message::Error),
    /// The structured event is not valid JSON of an event.
    #[error("invalid CloudEvent JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A header value that is not valid percent-encoded UTF-8.
    #[error("invalid CloudEvent header {0}")]
    Header(String),
}

/// How a publisher writes events, from its configuration.
#[derive(Debug, Clone)]
pub struct Events {
    structured: bool,
    source: Arc<str>,
}

impl Events {
    /// The publisher's settings; unset: binary mode, source `/PROGRAM`.
    pub(crate) fn new(config: Option<&Config>) -> Events {
        let source = config
            .map(|c| c.source.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("/{}", crate::telemetry::program_name()));
        Events {
            structured: config.is_some_and(|c| c.mode() == Mode::Structured),
            source: source.into(),
        }
    }

    /// `source` of the events the service publishes.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether events are written in structured mode (else binary).
    pub fn structured(&self) -> bool {
        self.structured
    }

    /// An event of type `ty` with a fresh id (UUID v4), `time` now and the service's
    /// source; add `subject`, `data`… and `build()` it.
    pub fn event(&self, ty: impl Into<String>) -> EventBuilderV10 {
        EventBuilderV10::new()
            .id(uuid::Uuid::new_v4().to_string())
            .source(self.source.to_string())
            .ty(ty)
            .time(chrono::Utc::now())
    }

    /// The event as the configured mode writes it.
    pub(crate) fn encode(&self, event: Event) -> Result<Encoded, EventError> {
        if self.structured {
            return Ok(Encoded::Structured(serde_json::to_vec(&event)?));
        }
        Ok(event.deserialize_binary(Collect::default())?)
    }
}

/// An event as a binding writes it.
#[derive(Debug)]
pub(crate) enum Encoded {
    /// Attributes (names without prefix, canonical string values; `datacontenttype` apart,
    /// for the bindings that carry it as the content type) and data.
    Binary {
        attributes: Vec<(String, String)>,
        datacontenttype: Option<String>,
        data: Vec<u8>,
    },
    /// The JSON event format, of media type [`JSON_FORMAT`].
    Structured(Vec<u8>),
}

/// Collects an event's attributes for a binary-mode message.
#[derive(Default)]
struct Collect {
    attributes: Vec<(String, String)>,
    datacontenttype: Option<String>,
}

impl BinarySerializer<Encoded> for Collect {
    fn set_spec_version(mut self, spec_version: SpecVersion) -> MessageResult<Self> {
        self.attributes
            .push(("specversion".to_owned(), spec_version.to_string()));
        Ok(self)
    }

    fn set_attribute(mut self, name: &str, value: MessageAttributeValue) -> MessageResult<Self> {
        if name == "datacontenttype" {
            self.datacontenttype = Some(value.to_string());
        } else {
            self.attributes.push((name.to_owned(), canonical(&value)));
        }
        Ok(self)
    }

    fn set_extension(mut self, name: &str, value: MessageAttributeValue) -> MessageResult<Self> {
        self.attributes.push((name.to_owned(), canonical(&value)));
        Ok(self)
    }

    fn end_with_data(self, data: Vec<u8>) -> MessageResult<Encoded> {
        Ok(Encoded::Binary {
            attributes: self.attributes,
            datacontenttype: self.datacontenttype,
            data,
        })
    }

    fn end(self) -> MessageResult<Encoded> {
        self.end_with_data(Vec::new())
    }
}

/// The canonical string form of an attribute value; timestamps in RFC 3339 with `Z`.
fn canonical(value: &MessageAttributeValue) -> String {
    match value {
        MessageAttributeValue::DateTime(time) => {
            time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        }
        other => other.to_string(),
    }
}

/// Whether a content type is a CloudEvents event format (structured mode).
pub(crate) fn is_structured(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        t.len() >= 23 && t.as_bytes()[..23].eq_ignore_ascii_case(b"application/cloudevents")
    })
}

/// The event of a received message: structured when `content_type` says so (JSON only),
/// else binary from `attributes` (names without their binding's prefix, lower case;
/// `datacontenttype` included when the binding carries it apart) and `body` as data.
pub(crate) fn decode(
    content_type: Option<&str>,
    attributes: Vec<(String, String)>,
    body: &[u8],
) -> Result<Event, EventError> {
    if is_structured(content_type) {
        let media = content_type.unwrap_or_default();
        let format = media.split(';').next().unwrap_or_default().trim();
        if !format.eq_ignore_ascii_case(JSON_FORMAT) {
            return Err(EventError::Format(format.to_owned()));
        }
        return Ok(serde_json::from_slice(body)?);
    }
    BinaryEvent {
        attributes,
        data: body.to_vec(),
    }
    .into_event()
    .map_err(|error| match error {
        cloudevents::message::Error::WrongEncoding {} => EventError::NotAnEvent,
        other => EventError::Invalid(other),
    })
}

/// A binary-mode message's attributes and data.
struct BinaryEvent {
    attributes: Vec<(String, String)>,
    data: Vec<u8>,
}

impl BinaryDeserializer for BinaryEvent {
    fn deserialize_binary<R: Sized, V: BinarySerializer<R>>(
        mut self,
        mut visitor: V,
    ) -> MessageResult<R> {
        let Some(position) = self
            .attributes
            .iter()
            .position(|(name, _)| name == "specversion")
        else {
            return Err(cloudevents::message::Error::WrongEncoding {});
        };
        let (_, version) = self.attributes.swap_remove(position);
        let spec_version = SpecVersion::try_from(version.as_str())?;
        let known = spec_version.attribute_names();
        visitor = visitor.set_spec_version(spec_version)?;
        for (name, value) in self.attributes {
            let value = MessageAttributeValue::String(value);
            visitor = if known.contains(&name.as_str()) {
                visitor.set_attribute(&name, value)?
            } else {
                visitor.set_extension(&name, value)?
            };
        }
        if self.data.is_empty() {
            visitor.end()
        } else {
            visitor.end_with_data(self.data)
        }
    }
}

/// The event's data as bytes (JSON data serialized), or `None` without data.
pub fn data_bytes(event: &Event) -> Option<Cow<'_, [u8]>> {
    match event.data()? {
        Data::Binary(bytes) => Some(Cow::Borrowed(bytes)),
        Data::String(text) => Some(Cow::Borrowed(text.as_bytes())),
        Data::Json(value) => serde_json::to_vec(value).ok().map(Cow::Owned),
    }
}

/// Characters a NATS header value percent-encodes (NATS binding 3.1.3.2): controls, space,
/// `"` and `%`; non-ASCII is always encoded.
const HEADER_ESCAPES: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'%');

/// An attribute value as a NATS header value.
#[cfg_attr(not(feature = "nats"), allow(dead_code))]
pub(crate) fn header_encode(value: &str) -> Cow<'_, str> {
    percent_encoding::utf8_percent_encode(value, HEADER_ESCAPES).into()
}

/// A NATS header value as an attribute value: a double-quoted string unescaped, then one
/// round of percent-decoding to UTF-8.
#[cfg_attr(not(feature = "nats"), allow(dead_code))]
pub(crate) fn header_decode(name: &str, value: &str) -> Result<String, EventError> {
    let value = value.trim();
    let unquoted: Cow<'_, str> = match value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => {
            let mut text = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                text.push(if c == '\\' {
                    chars.next().unwrap_or(c)
                } else {
                    c
                });
            }
            Cow::Owned(text)
        }
        None => Cow::Borrowed(value),
    };
    percent_encoding::percent_decode_str(&unquoted)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| EventError::Header(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(structured: bool) -> Events {
        Events::new(Some(&Config {
            mode: if structured {
                Mode::Structured as i32
            } else {
                Mode::Binary as i32
            },
            source: "/orders".into(),
        }))
    }

    fn order() -> Event {
        events(false)
            .event("com.acme.order.created")
            .subject("order 7")
            .data("application/json", serde_json::json!({"id": 7}))
            .build()
            .unwrap()
    }

    #[test]
    fn the_publisher_fills_id_time_and_source() {
        let event = order();
        assert_eq!(event.source().to_string(), "/orders");
        assert_eq!(event.id().len(), 36);
        assert!(event.time().is_some());
        assert_ne!(order().id(), event.id(), "ids are fresh");
        let unset = Events::new(None);
        assert!(!unset.structured());
        assert!(unset.source().starts_with('/'), "{}", unset.source());
    }

    #[test]
    fn binary_mode_round_trips() {
        let event = order();
        let Encoded::Binary {
            attributes,
            datacontenttype,
            data,
        } = events(false).encode(event.clone()).unwrap()
        else {
            panic!("binary expected")
        };
        assert_eq!(datacontenttype.as_deref(), Some("application/json"));
        assert!(attributes.contains(&("specversion".into(), "1.0".into())));
        assert!(attributes.contains(&("subject".into(), "order 7".into())));
        let time = attributes.iter().find(|(n, _)| n == "time").unwrap();
        assert!(time.1.ends_with('Z'), "{}", time.1);
        let mut with_type = attributes;
        with_type.push(("datacontenttype".into(), "application/json".into()));
        let back = decode(Some("application/json"), with_type, &data).unwrap();
        assert_eq!(back.id(), event.id());
        assert_eq!(back.ty(), "com.acme.order.created");
        assert_eq!(back.subject(), Some("order 7"));
        assert_eq!(back.time(), event.time());
        let json: serde_json::Value = serde_json::from_slice(&data_bytes(&back).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"id": 7}));
    }

    #[test]
    fn structured_mode_round_trips_and_is_detected_by_content_type() {
        let event = order();
        let Encoded::Structured(body) = events(true).encode(event.clone()).unwrap() else {
            panic!("structured expected")
        };
        let back = decode(
            Some("Application/CloudEvents+JSON; charset=utf-8"),
            vec![],
            &body,
        )
        .unwrap();
        assert_eq!(back, event);
        assert!(matches!(
            decode(Some("application/cloudevents+avro"), vec![], &body),
            Err(EventError::Format(_))
        ));
    }

    #[test]
    fn a_plain_message_is_not_an_event() {
        assert!(matches!(
            decode(Some("text/plain"), vec![("id".into(), "1".into())], b"hi"),
            Err(EventError::NotAnEvent)
        ));
        let missing_type = vec![
            ("specversion".into(), "1.0".into()),
            ("id".into(), "1".into()),
            ("source".into(), "/x".into()),
        ];
        assert!(matches!(
            decode(None, missing_type, b""),
            Err(EventError::Invalid(_))
        ));
    }

    #[test]
    fn nats_header_values_are_percent_encoded() {
        let text = "Euro \u{20AC} \u{1F600}";
        assert_eq!(header_encode(text), "Euro%20%E2%82%AC%20%F0%9F%98%80");
        assert_eq!(header_decode("x", &header_encode(text)).unwrap(), text);
        assert_eq!(header_decode("x", "\"a \\\"b\\\"\"").unwrap(), "a \"b\"");
        assert!(header_decode("x", "%C0%A0").is_err(), "overlong UTF-8");
    }
}
