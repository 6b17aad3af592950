// Command nexmark generates Nexmark events into a topic, runs a Nexmark
// query against brokers as a flow application with exactly-once
// processing, and benchmarks the queries end to end against a Weir broker.
//
//	nexmark generate -b 127.0.0.1:9092 -topic events -events 1000000 [-partitions 1] [-rate 0] [-span 30s]
//	nexmark run      -b 127.0.0.1:9092 -query q5 -input events -output q5 [-batch]
//	nexmark bench    -weir /tmp/weir -queries q0,q1,q2 -events 1000000 -runs 3 [-batch]
//
// generate writes the events of flow/nexmark's generator (Beam's and
// Flink's parameters) to a topic, created if missing: -events of them (0:
// without end), -rate a second of wall-clock time (0: as fast as the
// broker takes them), spread over -span of event time (or -event-rate
// events a second of event time), scrambled in groups of -out-of-order.
//
// run runs one query (q0 ... q8) from -input to -output (created with the
// input's partition count if missing) until interrupted, exactly once
// unless -at-least-once. With -batch it runs in flow's batch mode: it reads
// the input up to its end as of the start, closes every window and
// auction, and exits.
//
// bench measures a query's events per CPU second of the flow process, end
// to end: it starts a broker (weir serve, the binary given by -weir, as a
// process of its own, on a fresh data directory; or uses -b), writes
// -events events into an input topic once, then for each query and run
// starts `nexmark run` as a child process with a fresh application id and
// output topic, reads the output (read_committed) until it is the whole
// answer over those events (checked against flow/nexmark's reference:
// the rows of a stream, the latest rows of a table) and the application
// has committed the whole input, and reads the child's CPU time
// (user+system, /proc/<pid>/stat) at that moment. With -batch the
// children run with -batch: the run must end with the child exiting by
// itself with status 0, its output the answer at the end of input (every
// window closed, every auction settled) and its whole input committed; its
// CPU time is that of its whole life (its rusage at exit). It prints a line per run and a table of medians. -cpu-profile-dir
// keeps each run's CPU profile.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "generate":
		err = generate(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nexmark:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: nexmark generate|run|bench [flags] (nexmark COMMAND -h lists a command's flags)")
	os.Exit(2)
}
