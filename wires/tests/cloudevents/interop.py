"""One CloudEvent over a broker, written or read by the CloudEvents Python SDK.

    interop.py send PROTOCOL MODE DESTINATION   publish the SDK's test event
    interop.py receive PROTOCOL DESTINATION     print the first event received, as JSON

PROTOCOL is nats (127.0.0.1:4222, core NATS subject), amqp (127.0.0.1:5672, queue via the
default exchange) or mqtt (127.0.0.1:1883, MQTT 5 topic); MODE is binary or structured.
`receive` prints `ready` once subscribed, then the event's attributes and data as one JSON
line. The SDK does the events and their formats: its AMQP binding (application properties
`cloudEvents_*`, here AMQP 0-9-1 headers), its HTTP binding for NATS (the same `ce-`
headers, with `datacontenttype` in `ce-datacontenttype` instead of `Content-Type`), its
JSON format for structured mode and for MQTT 5 (attributes as user properties).
"""

import asyncio
import datetime
import json
import sys

from cloudevents.core.bindings import amqp, http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

FORMAT = JSONFormat()
TIMEOUT = 20


def test_event():
    return CloudEvent(
        {
            "id": "python-1",
            "source": "/python-sdk",
            "type": "com.example.python",
            "subject": "from python",
            "time": datetime.datetime(2026, 11, 1, 12, 30, 5, tzinfo=datetime.timezone.utc),
            "datacontenttype": "application/json",
        },
        {"from": "python", "n": 7},
    )


def described(event):
    attributes = {
        name: (value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime.datetime) else value)
        for name, value in event.get_attributes().items()
    }
    data = event.get_data()
    if isinstance(data, bytes):
        data = json.loads(data)
    return json.dumps({"attributes": attributes, "data": data}, sort_keys=True)


# NATS: the HTTP binding's headers, datacontenttype moved to ce-datacontenttype.

def nats_encode(event, mode):
    message = http.to_binary(event, FORMAT) if mode == "binary" else http.to_structured(event, FORMAT)
    headers = dict(message.headers)
    if mode == "binary" and "content-type" in headers:
        headers["ce-datacontenttype"] = headers.pop("content-type")
    return headers, message.body


def nats_decode(headers, body):
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    if "ce-datacontenttype" in headers:
        headers["content-type"] = headers.pop("ce-datacontenttype")
    return http.from_http(http.HTTPMessage(headers=headers, body=body), FORMAT)


async def nats_send(mode, subject):
    import nats

    connection = await nats.connect("nats://127.0.0.1:4222")
    headers, body = nats_encode(test_event(), mode)
    await connection.publish(subject, body, headers=headers)
    await connection.flush()
    await connection.close()


async def nats_receive(subject):
    import nats

    connection = await nats.connect("nats://127.0.0.1:4222")
    subscription = await connection.subscribe(subject)
    await connection.flush()
    print("ready", flush=True)
    message = await subscription.next_msg(timeout=TIMEOUT)
    print(described(nats_decode(message.headers, message.data)), flush=True)
    await connection.close()


# AMQP 0-9-1: the AMQP binding's application properties as the message's headers.

def amqp_send(mode, queue):
    import pika

    event = test_event()
    message = amqp.to_binary(event, FORMAT) if mode == "binary" else amqp.to_structured(event, FORMAT)
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    channel = connection.channel()
    properties = pika.BasicProperties(
        content_type=message.properties.get("content-type"),
        headers=message.application_properties,
        delivery_mode=2,
    )
    channel.basic_publish("", queue, message.application_data, properties)
    connection.close()


def amqp_receive(queue):
    import pika

    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    channel = connection.channel()
    print("ready", flush=True)
    for method, properties, body in channel.consume(queue, inactivity_timeout=TIMEOUT):
        if method is None:
            sys.exit("no message")
        channel.basic_ack(method.delivery_tag)
        message = amqp.AMQPMessage(
            properties={"content-type": properties.content_type} if properties.content_type else {},
            application_properties=dict(properties.headers or {}),
            application_data=body,
        )
        print(described(amqp.from_amqp(message, FORMAT)), flush=True)
        break
    connection.close()


# MQTT 5: attributes as user properties and the content type (binary), or the JSON format.

def mqtt_client():
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", 1883)
    return client


def mqtt_send(mode, topic):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    event = test_event()
    properties = Properties(PacketTypes.PUBLISH)
    if mode == "binary":
        attributes = event.get_attributes()
        properties.ContentType = attributes["datacontenttype"]
        properties.UserProperty = [
            (name, value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime.datetime) else str(value))
            for name, value in attributes.items()
            if name != "datacontenttype"
        ]
        payload = FORMAT.write_data(event.get_data(), attributes["datacontenttype"])
    else:
        properties.ContentType = FORMAT.get_content_type()
        payload = FORMAT.write(event)
    client = mqtt_client()
    client.loop_start()
    client.publish(topic, payload, qos=1, properties=properties).wait_for_publish(TIMEOUT)
    client.loop_stop()
    client.disconnect()


def mqtt_receive(topic):
    received = asyncio.Queue()
    loop = asyncio.new_event_loop()
    client = mqtt_client()

    def on_subscribe(client, userdata, mid, reasons, properties):
        print("ready", flush=True)

    def on_message(client, userdata, message):
        loop.call_soon_threadsafe(received.put_nowait, message)

    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.subscribe(topic, qos=1)
    client.loop_start()
    message = loop.run_until_complete(asyncio.wait_for(received.get(), TIMEOUT))
    client.loop_stop()
    properties = message.properties
    content_type = getattr(properties, "ContentType", None)
    if content_type and content_type.lower().startswith("application/cloudevents"):
        event = FORMAT.read(None, message.payload)
    else:
        attributes = dict(getattr(properties, "UserProperty", []))
        attributes.pop("traceparent", None)
        if content_type:
            attributes["datacontenttype"] = content_type
        if "time" in attributes:
            attributes["time"] = datetime.datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
        attributes.pop("specversion", None)
        event = CloudEvent(attributes, FORMAT.read_data(message.payload, content_type))
    print(described(event), flush=True)
    client.disconnect()


def main():
    command, protocol = sys.argv[1], sys.argv[2]
    if command == "send":
        mode, destination = sys.argv[3], sys.argv[4]
        {"nats": lambda: asyncio.run(nats_send(mode, destination)),
         "amqp": lambda: amqp_send(mode, destination),
         "mqtt": lambda: mqtt_send(mode, destination)}[protocol]()
    else:
        destination = sys.argv[3]
        {"nats": lambda: asyncio.run(nats_receive(destination)),
         "amqp": lambda: amqp_receive(destination),
         "mqtt": lambda: mqtt_receive(destination)}[protocol]()


if __name__ == "__main__":
    main()
