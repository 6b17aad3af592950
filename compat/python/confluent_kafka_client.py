#!/usr/bin/env python3
"""confluent-kafka-python (librdkafka) in Weir's compatibility suite.

Usage: confluent_kafka_client.py <bootstrap> <topic> <command> < params.json
(common.py describes the protocol). Consumption assigns partitions with
explicit offsets: librdkafka requires a group.id, but assign() joins no group
and, with enable.auto.commit off, nothing is committed. The member command
is a member of a consumer group, with the range (eager) or
cooperative-sticky assignor.
"""

import time

import confluent_kafka
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import common

TIMEOUT = 30  # seconds, for each request the client makes


def config(bootstrap, **extra):
    conf = {"bootstrap.servers": bootstrap, "client.id": "weir-compat"}
    conf.update(extra)
    return conf


def kafka_err(err):
    """A common.KafkaErr from a librdkafka KafkaError."""
    return common.KafkaErr(err.code(), err.name(), err.str())


def wait(futures):
    """Waits for admin futures, raising the first Kafka error."""
    for f in futures.values():
        try:
            f.result(timeout=TIMEOUT)
        except KafkaException as e:
            raise kafka_err(e.args[0]) from e


def version(bootstrap, topic, params):
    return f"confluent-kafka {confluent_kafka.version()[0]} (librdkafka {confluent_kafka.libversion()[0]})"


def create(bootstrap, topic, params):
    admin = AdminClient(config(bootstrap))
    new = NewTopic(topic, num_partitions=params["partitions"], replication_factor=params["replicas"],
                   config=params["configs"])
    wait(admin.create_topics([new], operation_timeout=TIMEOUT))
    return {}


def produce(bootstrap, topic, params):
    """Produces with the plain producer, or with librdkafka's idempotent
    one when params["idempotent"] is true (it needs retries, and sets acks
    to all and at most 5 requests in flight itself)."""
    if params.get("idempotent", False):
        settings = {"enable.idempotence": True}
    else:
        settings = {
            "enable.idempotence": False,
            "message.send.max.retries": 0,  # so that a bad request fails at once
        }
    producer = Producer(config(
        bootstrap,
        **{"compression.type": params["codec"], "acks": "all", "linger.ms": 5},
        **settings,
    ))
    records = params["records"]
    positions = [None] * len(records)
    errors = []

    def delivered(i):
        def report(err, msg):
            if err is not None:
                errors.append(err)
            else:
                positions[i] = {"partition": msg.partition(), "offset": msg.offset()}
        return report

    for i, r in enumerate(records):
        producer.produce(
            topic,
            key=common.unb64(r["key"]),
            value=common.unb64(r["value"]),
            partition=r["partition"],
            timestamp=r["timestamp"],
            headers=[(h["key"], common.unb64(h["value"])) for h in r["headers"]],
            on_delivery=delivered(i),
        )
    remaining = producer.flush(TIMEOUT)
    if errors:
        raise kafka_err(errors[0])
    if remaining:
        raise RuntimeError(f"{remaining} records not delivered within {TIMEOUT}s")
    return positions


def consumer(bootstrap):
    return Consumer(config(
        bootstrap,
        **{
            "group.id": "weir-compat-unused",  # required; assign() joins no group
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",  # an offset out of range is an error, not a reset
            "enable.partition.eof": False,
        },
    ))


def read(c, count):
    """Polls count records, raising the first error."""
    got = []
    end = common.deadline()
    while len(got) < count:
        if time.monotonic() > end:
            raise RuntimeError(f"consumed {len(got)} of {count} records before the deadline")
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            err = msg.error()
            if err.code() == KafkaError._AUTO_OFFSET_RESET and "Offset out of range" in err.str():
                # librdkafka wraps the broker's error in a local one.
                raise common.KafkaErr(KafkaError.OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE", err.str())
            raise kafka_err(err)
        _, timestamp = msg.timestamp()
        got.append(common.record(msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers(), timestamp))
    return got


def consume(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(params["partitions"])])
        got = common.sort_records(read(c, len(params["want"])))
    finally:
        c.close()
    common.check(got, params["want"])
    return got


def offsets_for_times(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        offsets = []
        for ts in params["timestamps"]:
            [tp] = c.offsets_for_times([TopicPartition(topic, params["partition"], ts)], timeout=TIMEOUT)
            if tp.error is not None:
                raise kafka_err(tp.error)
            offsets.append(tp.offset)  # -1 (OFFSET_END) when no record is that recent
    finally:
        c.close()
    return offsets


def consume_from(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        c.assign([TopicPartition(topic, params["partition"], params["offset"])])
        got = read(c, len(params["want"]))
    finally:
        c.close()
    common.check(got, params["want"])
    return got


def metadata(bootstrap, topic, params):
    # A producer's metadata requests allow auto-creation
    # (allow.auto.create.topics is true for producers).
    producer = Producer(config(bootstrap))
    md = producer.list_topics(topic, timeout=TIMEOUT)
    t = md.topics[topic]
    if t.error is not None:
        raise kafka_err(t.error)
    return len(t.partitions)


def delete(bootstrap, topic, params):
    admin = AdminClient(config(bootstrap))
    wait(admin.delete_topics([topic], operation_timeout=TIMEOUT))
    return {}


def describe_configs(bootstrap, topic, params):
    admin = AdminClient(config(bootstrap))
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    for f in futures.values():
        try:
            entries = f.result(timeout=TIMEOUT)
        except KafkaException as e:
            raise kafka_err(e.args[0]) from e
        return {name: entries[name].value for name in params["names"] if name in entries}
    raise RuntimeError("no result")


def alter_configs(bootstrap, topic, params):
    admin = AdminClient(config(bootstrap))
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config=params["configs"])
    wait(admin.alter_configs([resource]))
    return {}


STRATEGIES = {"eager": "range", "cooperative": "cooperative-sticky"}


def member(bootstrap, topic, params, m):
    """A member of a consumer group (common.Member): librdkafka's
    auto-commit of what poll() returned, and its final commit in close()."""
    c = Consumer(config(
        bootstrap,
        **{
            "client.id": params["name"],
            "group.id": params["group"],
            "partition.assignment.strategy": STRATEGIES[params["protocol"]],
            "session.timeout.ms": params["session_timeout_ms"],
            "heartbeat.interval.ms": params["heartbeat_interval_ms"],
            "max.poll.interval.ms": params["rebalance_timeout_ms"],  # librdkafka's rebalance timeout
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000,
            "fetch.wait.max.ms": 250,
        },
    ))

    def partitions(tps):
        return [tp.partition for tp in tps if tp.topic == topic]

    c.subscribe(
        [topic],
        on_assign=lambda _, tps: m.assigned(partitions(tps)),
        on_revoke=lambda _, tps: m.revoked(partitions(tps)),
        on_lost=lambda _, tps: m.revoked(partitions(tps), "lost"),
    )
    while not m.stopping():
        msg = c.poll(0.1)
        if msg is None:
            continue
        if msg.error() is not None:
            m.error(msg.error().str())
            continue
        m.record(msg.partition(), msg.offset(), msg.value())
    m.give_up()
    c.close()


if __name__ == "__main__":
    common.main(globals())
