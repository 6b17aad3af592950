#!/usr/bin/env python3
"""kafka-python in Weir's compatibility suite.

Usage: kafka_python_client.py <bootstrap> <topic> <command> < params.json
(common.py describes the protocol). kafka-python guesses the broker's version
from ApiVersions; it needs no api_version hint against Weir. Consumption
assigns partitions with group_id=None: no group API is used, but for the
member command, a member of a consumer group (range assignor, eager). The
snappy, lz4 and zstd codecs need python3-snappy, python3-lz4 and
python3-zstandard.
"""

import contextlib
import time

import kafka
import kafka.errors as errors
from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.coordinator.assignors.range import RangePartitionAssignor

import common

TIMEOUT_MS = 30000  # for each request the client makes


def kafka_err(e):
    """A common.KafkaErr from a kafka-python exception that carries a code."""
    return common.KafkaErr(e.errno, getattr(e, "message", type(e).__name__), str(e))


def raise_for_code(code, message):
    if code != 0:
        cls = errors.for_code(code)
        raise common.KafkaErr(code, cls.message, message or cls.description)


def admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="weir-compat", request_timeout_ms=TIMEOUT_MS)


@contextlib.contextmanager
def admin_call(bootstrap):
    """An admin client, closed after the block; a Kafka error with a code
    raised in the block becomes a common.KafkaErr."""
    a = admin(bootstrap)
    try:
        yield a
    except errors.KafkaError as e:
        if e.errno is None:
            raise
        raise kafka_err(e) from e
    finally:
        a.close()


def version(bootstrap, topic, params):
    return f"kafka-python {kafka.__version__}"


def create(bootstrap, topic, params):
    with admin_call(bootstrap) as a:
        a.create_topics([NewTopic(topic, params["partitions"], params["replicas"], topic_configs=params["configs"])])
    return {}


CODECS = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def produce(bootstrap, topic, params):
    if params.get("idempotent", False):
        raise RuntimeError(f"kafka-python {kafka.__version__} has no idempotent producer (enable_idempotence came in 2.2)")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="weir-compat",
        compression_type=CODECS[params["codec"]],
        acks="all",
        linger_ms=5,
        retries=0,  # so that a bad request fails at once
        request_timeout_ms=TIMEOUT_MS,
    )
    try:
        futures = [
            producer.send(
                topic,
                key=common.unb64(r["key"]),
                value=common.unb64(r["value"]),
                partition=r["partition"],
                timestamp_ms=r["timestamp"],
                headers=[(h["key"], common.unb64(h["value"])) for h in r["headers"]],
            )
            for r in params["records"]
        ]
        producer.flush(TIMEOUT_MS / 1000)
        positions = []
        for f in futures:
            try:
                md = f.get(timeout=TIMEOUT_MS / 1000)
            except errors.KafkaError as e:
                if e.errno is None:
                    raise
                raise kafka_err(e) from e
            positions.append({"partition": md.partition, "offset": md.offset})
    finally:
        producer.close()
    return positions


def consumer(bootstrap):
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="weir-compat",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",  # an offset out of range is an error, not a reset
        fetch_max_wait_ms=100,
        request_timeout_ms=TIMEOUT_MS + 5000,  # must exceed the session timeout
    )


def read(c, count):
    got = []
    end = common.deadline()
    while len(got) < count:
        if time.monotonic() > end:
            raise RuntimeError(f"consumed {len(got)} of {count} records before the deadline")
        try:
            batches = c.poll(timeout_ms=500)
        except errors.KafkaError as e:
            if e.errno is None:
                raise
            raise kafka_err(e) from e
        for records in batches.values():
            for m in records:
                got.append(common.record(m.partition, m.offset, m.key, m.value, m.headers, m.timestamp))
    return got


def consume(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(params["partitions"])]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got = common.sort_records(read(c, len(params["want"])))
    finally:
        c.close()
    common.check(got, params["want"])
    return got


def offsets_for_times(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        tp = TopicPartition(topic, params["partition"])
        offsets = []
        for ts in params["timestamps"]:
            found = c.offsets_for_times({tp: ts})[tp]
            offsets.append(-1 if found is None else found.offset)  # None when no record is that recent
    finally:
        c.close()
    return offsets


def consume_from(bootstrap, topic, params):
    c = consumer(bootstrap)
    try:
        tp = TopicPartition(topic, params["partition"])
        c.assign([tp])
        c.seek(tp, params["offset"])
        got = read(c, len(params["want"]))
    finally:
        c.close()
    common.check(got, params["want"])
    return got


def metadata(bootstrap, topic, params):
    # kafka-python's metadata requests (version 1) always allow
    # auto-creation.
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="weir-compat")
    try:
        partitions = producer.partitions_for(topic)
    finally:
        producer.close()
    return len(partitions)


def delete(bootstrap, topic, params):
    with admin_call(bootstrap) as a:
        a.delete_topics([topic])
    return {}


def describe_configs(bootstrap, topic, params):
    a = admin(bootstrap)
    try:
        responses = a.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={n: None for n in params["names"]})])
    finally:
        a.close()
    got = {}
    for response in responses:
        for code, message, _type, _name, entries in response.resources:
            raise_for_code(code, message)
            for entry in entries:
                got[entry[0]] = entry[1]
    return got


def alter_configs(bootstrap, topic, params):
    a = admin(bootstrap)
    try:
        response = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=params["configs"])])
    finally:
        a.close()
    for code, message, _type, _name in response.resources:
        raise_for_code(code, message)
    return {}


def member(bootstrap, topic, params, m):
    """A member of a consumer group (common.Member), with the range
    assignor: kafka-python's auto-commit, and its final commit in close()."""

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            m.revoked([tp.partition for tp in revoked if tp.topic == topic])

        def on_partitions_assigned(self, assigned):
            m.assigned([tp.partition for tp in assigned if tp.topic == topic])

    if params["protocol"] != "eager":
        raise ValueError(f"kafka-python has no {params['protocol']} rebalancing")
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=params["name"],
        group_id=params["group"],
        partition_assignment_strategy=[RangePartitionAssignor],
        session_timeout_ms=params["session_timeout_ms"],
        heartbeat_interval_ms=params["heartbeat_interval_ms"],
        max_poll_interval_ms=params["rebalance_timeout_ms"],  # kafka-python's rebalance timeout
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        auto_commit_interval_ms=1000,
        fetch_max_wait_ms=250,
        request_timeout_ms=TIMEOUT_MS + 5000,  # must exceed the session timeout
    )
    c.subscribe([topic], listener=Listener())
    while not m.stopping():
        for records in c.poll(timeout_ms=100).values():
            for r in records:
                m.record(r.partition, r.offset, r.value)
    m.give_up()
    c.close(autocommit=True)


if __name__ == "__main__":
    common.main(globals())
