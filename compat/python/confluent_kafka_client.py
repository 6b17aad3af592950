#!/usr/bin/env python3
"""confluent-kafka-python (librdkafka) in Weir's compatibility suite.

Usage: confluent_kafka_client.py <bootstrap> <topic> <command> < params.json
(common.py describes the protocol). Consumption assigns partitions with
explicit offsets: librdkafka requires a group.id, but assign() joins no group
and, with enable.auto.commit off, nothing is committed. The member command
is a member of a consumer group, with the range (eager) or
cooperative-sticky assignor. The transaction commands use the transactional
producer (transactional.id); transact's consumer subscribes, a member of the
group whose offsets go into the transaction.
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
    return send(producer, topic, params["records"])


def send(producer, topic, records):
    """Produces records (JSON), each to the partition it names, waits for
    their delivery and returns where each landed."""
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


def consumer(bootstrap, **extra):
    return Consumer(config(
        bootstrap,
        **{
            "group.id": "weir-compat-unused",  # required; assign() joins no group
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",  # an offset out of range is an error, not a reset
            "enable.partition.eof": False,
            **extra,
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
        got.append(as_record(msg))
    return got


def as_record(msg):
    """The JSON form of a consumed message."""
    _, timestamp = msg.timestamp()
    return common.record(msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers(), timestamp)


def consume(bootstrap, topic, params):
    """Reads with isolation level read_uncommitted, as Kafka's consumers do
    by default (librdkafka's default is read_committed)."""
    return consume_with(consumer(bootstrap, **{"isolation.level": "read_uncommitted"}), topic, params)


def consume_with(c, topic, params):
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


def txn(call, *args):
    """Calls a transactional API, raising its Kafka error as a KafkaErr."""
    try:
        return call(*args)
    except KafkaException as e:
        raise kafka_err(e.args[0]) from e


def transactional_producer(bootstrap, txn_id, topic):
    """A producer with a transactional id, initialised (InitProducerId),
    that produces to topic. librdkafka makes it idempotent, with acks all.
    It adds a partition to the transaction (AddPartitionsToTxn) once it
    knows the topic's metadata, else a second later: the metadata is asked
    for first."""
    producer = Producer(config(bootstrap, **{"transactional.id": txn_id, "linger.ms": 5}))
    txn(producer.init_transactions, TIMEOUT)
    producer.list_topics(topic, timeout=TIMEOUT)
    return producer


def end_transaction(producer, commit):
    txn(producer.commit_transaction if commit else producer.abort_transaction, TIMEOUT)


def produce_transactions(bootstrap, topic, params):
    producer = transactional_producer(bootstrap, params["id"], topic)
    for t in params["transactions"]:
        txn(producer.begin_transaction)
        send(producer, topic, t["records"])
        end_transaction(producer, t["commit"])
    return {}


def consume_committed(bootstrap, topic, params):
    return consume_with(consumer(bootstrap, **{"isolation.level": "read_committed"}), topic, params)


def transact(bootstrap, topic, params):
    """A round of consume-transform-produce: a member of the group
    (subscribe) reads the input from the group's committed offsets, with
    read_committed, up to params["ends"]; the copies go to the output in a
    transaction, to which send_offsets_to_transaction adds the ends with
    the member's consumer_group_metadata() (its member id and generation,
    KIP-447)."""
    c = Consumer(config(
        bootstrap,
        **{
            "group.id": params["group"],
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
        },
    ))
    producer = transactional_producer(bootstrap, params["id"], params["output"])
    ends = params["ends"]
    got = []
    try:
        c.subscribe([topic])
        committed = c.committed([TopicPartition(topic, p) for p in range(len(ends))], timeout=TIMEOUT)
        nxt = [max(tp.offset, 0) for tp in committed]  # OFFSET_INVALID where none
        end = common.deadline()
        while any(n < e for n, e in zip(nxt, ends)):
            if time.monotonic() > end:
                raise RuntimeError(f"read up to {nxt} of {ends} before the deadline")
            msg = c.poll(0.2)
            if msg is None:
                continue
            if msg.error() is not None:
                raise kafka_err(msg.error())
            got.append(as_record(msg))
            nxt[msg.partition()] = msg.offset() + 1
        txn(producer.begin_transaction)
        send(producer, params["output"], got)
        offsets = [TopicPartition(topic, p, e) for p, e in enumerate(ends)]
        txn(producer.send_offsets_to_transaction, offsets, c.consumer_group_metadata(), TIMEOUT)
        end_transaction(producer, params["commit"])
    finally:
        c.close()
    return got


def fence(bootstrap, topic, params):
    """librdkafka reports a fenced producer as a fatal error, its own
    _FENCED carrying the broker's error in its message; flush() raises it."""
    first = transactional_producer(bootstrap, params["id"], topic)
    txn(first.begin_transaction)
    send(first, topic, [params["first"]])
    second = transactional_producer(bootstrap, params["id"], topic)
    fenced = None
    try:
        txn(send, first, topic, [params["late"]])
        end_transaction(first, True)
    except common.KafkaErr as e:
        fenced = {"code": e.code, "name": e.name, "message": e.message}
    txn(second.begin_transaction)
    send(second, topic, [params["second"]])
    end_transaction(second, True)
    return {"fenced": fenced}


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
