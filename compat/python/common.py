"""Plumbing shared by the Python clients of Weir's compatibility suite.

A client script is run as

    python3 <script> <bootstrap> <topic> <command>

with the command's parameters as JSON on stdin (internal/compat/script_test.go
is the other side). It prints {"result": ...} on stdout, or
{"error": {"code": n, "name": "...", "message": "..."}} when the client
reported a Kafka error; on anything else (a check of the script's own that
failed, an exception) it exits non-zero with a message on stderr.

The command "produce" takes "idempotent": true for the client's idempotent
producer, where it has one. A client with transactions has four more
commands: "produce_transactions" (its transactional producer runs the
transactions given, each committed or aborted), "consume_committed"
("consume" with isolation level read_committed), "transact" (a round of
consume-transform-produce that sends the consumer group's offsets in the
transaction) and "fence" (a second producer of a transactional id fences a
first one, whose error is reported as {"fenced": {"code", "name",
"message"}}).

Records travel as JSON objects: partition, offset, key, value, headers (a
list of {"key", "value"}), timestamp (milliseconds); bytes in base64, null
for a null key or value.

The command "member" is different: it runs a member of a consumer group for
the group scenario (internal/compat/group_test.go) until stdin closes. Its
parameters are the first line of stdin: group, name (the client ID),
protocol (eager or cooperative), session_timeout_ms, heartbeat_interval_ms,
rebalance_timeout_ms. It prints its events as JSON lines (Member), gives up
what it still owns, commits, leaves the group and exits 0 once stdin closes;
the suite kills it with SIGKILL to see what the group does without it.
"""

import base64
import json
import sys
import threading
import time
import traceback


class KafkaErr(Exception):
    """A Kafka error the client reported: a code and the client's name for it."""

    def __init__(self, code, name, message):
        super().__init__(f"{name} ({code}): {message}")
        self.code, self.name, self.message = code, name, message


class Mismatch(Exception):
    """What the client consumed is not what the suite produced."""


def unb64(s):
    return None if s is None else base64.b64decode(s)


def b64(b):
    return None if b is None else base64.b64encode(bytes(b)).decode("ascii")


def record(partition, offset, key, value, headers, timestamp):
    """The JSON form of a consumed record; headers are (name, bytes) pairs."""
    return {
        "partition": partition,
        "offset": offset,
        "key": b64(key),
        "value": b64(value),
        "headers": [{"key": k, "value": b64(v)} for k, v in (headers or [])],
        "timestamp": timestamp,
    }


def short(x):
    s = repr(x)
    return s if len(s) <= 80 else s[:80] + "..."


def check(got, want):
    """Compares consumed records with the expected ones, field by field."""
    for i, (g, w) in enumerate(zip(got, want)):
        for field in ("partition", "offset", "key", "value", "timestamp", "headers"):
            if g[field] != w[field]:
                raise Mismatch(
                    f"record {i} (partition {w['partition']}, offset {w['offset']}): "
                    f"{field} is {short(g[field])}, want {short(w[field])}"
                )
    if len(got) != len(want):
        raise Mismatch(f"consumed {len(got)} records, want {len(want)}")


def sort_records(records):
    records.sort(key=lambda r: (r["partition"], r["offset"]))
    return records


def deadline(seconds=45):
    """A time.monotonic() deadline, inside the Go side's timeout."""
    return time.monotonic() + seconds


class Member:
    """The reporting side of a group member: each event is a JSON line on
    stdout, stamped with the time in microseconds (the suite puts the events
    of all members in order by it). Partitions are reported as they are
    assigned and revoked, not as whole assignments."""

    def __init__(self):
        self.owned = set()
        self._closed = threading.Event()
        threading.Thread(target=self._watch_stdin, daemon=True).start()

    def _watch_stdin(self):
        sys.stdin.read()
        self._closed.set()

    def stopping(self):
        """Whether stdin closed: the member must stop, commit and leave."""
        return self._closed.is_set()

    def emit(self, event, **fields):
        line = json.dumps({"event": event, "time": time.time_ns() // 1000, **fields})
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def assigned(self, partitions):
        self.owned.update(partitions)
        self.emit("assigned", partitions=sorted(partitions))

    def revoked(self, partitions, event="revoked"):
        """Reports those of the partitions the member owns: a client's
        revocation after give_up() repeats it."""
        partitions = self.owned.intersection(partitions)
        if partitions:
            self.owned.difference_update(partitions)
            self.emit(event, partitions=sorted(partitions))

    def give_up(self):
        """Before closing: the member consumes no more, so what it still
        owns is given up now, whether or not its client says so later."""
        if self.owned:
            self.revoked(list(self.owned))

    def record(self, partition, offset, value):
        self.emit("record", partition=partition, offset=offset, value=value.decode("utf-8", "replace"))

    def error(self, message):
        self.emit("error", message=message)


def run_member(namespace, bootstrap, topic):
    params = json.loads(sys.stdin.readline())
    try:
        namespace["member"](bootstrap, topic, params, Member())
    except Exception:  # noqa: BLE001 -- any failure is reported with its trace
        traceback.print_exc()
        sys.exit("member: the client failed")


# COMMANDS are what every client script defines, each a function of
# (bootstrap, topic, params) returning what to report; TXN_COMMANDS those
# of a client with transactions (internal/compat/txn_test.go).
COMMANDS = ("version", "create", "produce", "consume", "offsets_for_times", "consume_from",
            "metadata", "delete", "describe_configs", "alter_configs")
TXN_COMMANDS = ("produce_transactions", "consume_committed", "transact", "fence")


def main(namespace):
    """Runs the command named on the command line with the JSON on stdin;
    namespace is the client script's globals(), which define COMMANDS."""
    commands = {name: namespace[name] for name in COMMANDS}
    commands.update({name: namespace[name] for name in TXN_COMMANDS if name in namespace})
    if len(sys.argv) != 4:
        sys.exit(f"usage: {sys.argv[0]} <bootstrap> <topic> <command>")
    bootstrap, topic, command = sys.argv[1:]
    if command == "member":
        run_member(namespace, bootstrap, topic)
        return
    if command not in commands:
        sys.exit(f"unknown command {command!r}; commands: {', '.join(sorted(commands))}")
    params = json.load(sys.stdin)
    try:
        result = commands[command](bootstrap, topic, params)
    except KafkaErr as e:
        json.dump({"error": {"code": e.code, "name": e.name, "message": e.message}}, sys.stdout)
        return
    except Mismatch as e:
        sys.exit(f"{command}: {e}")
    except Exception:  # noqa: BLE001 -- any other failure is reported with its trace
        traceback.print_exc()
        sys.exit(f"{command}: the client failed")
    json.dump({"result": result}, sys.stdout)
