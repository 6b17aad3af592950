// Package storagebench measures the storage engine (internal/storage)
// against the targets of Weir's storage issue, and is what `weir bench
// storage` and the Go benchmarks of this package run.
//
// # Workloads
//
//	append16    durable appends (the default policy) of --batch-size batches
//	            of --record-size records, from --writers writers over
//	            --partitions partitions (16). Each writer keeps up to
//	            --inflight appends waiting for their fsync, as a producer's
//	            max.in.flight does: it appends, hands the result to its own
//	            waiter goroutine, which calls Engine.WaitDurable in order,
//	            and appends again unless --inflight appends are waiting.
//	            Reports MB/s of batch bytes acknowledged durable, appends/s,
//	            fsyncs/s and the append-to-durable latency.
//	append100k  the same over 100,000 partitions of one topic.
//	million     1,000,000 partitions (1,000 topics of 1,000), one small batch
//	            each, appended by a child process, which reports its
//	            resident memory and is then killed with SIGKILL; a second
//	            child reopens (recovery after a crash), checks every batch
//	            is there, and closes; a third reopens after that clean
//	            shutdown.
//	read        one partition of --read-mib MiB, read once to warm the page
//	            cache, then timed reading it whole with Partition.Read.
//	recovery    a child appends --log-gib GiB durably and is killed with
//	            SIGKILL once every append is acknowledged; a second child
//	            times storage.Open and checks the data.
//	diskuse     retention.bytes topics, a compacted topic with overwritten
//	            keys and tombstones, and DeleteRecords, with the cleaner run
//	            between rounds of writes; disk use against live bytes.
//
// Throughput workloads (append16, append100k, read) run --runs times on a
// fresh engine each and report the median. Every figure is printed beside
// its reference: the machine's sequential write bandwidth, measured in the
// same run on the same file system by the exact command
//
//	dd if=/dev/zero of=DIR/dd.tmp bs=1M count=2048 conv=fdatasync
//
// or the append16 figure of the same run. The disks this runs on are
// shared and noisy (dd alone moves by a factor of several within minutes),
// so the append runs are interleaved with dd:
//
//	dd, append16 run 1, dd, append100k run 1, dd, append16 run 2, dd, ...
//
// each run in a fresh directory removed (and synced) before the next dd.
// Each run's ratio is to the mean of the dd just before and just after it;
// the median of those ratios is what append16's target judges. append100k
// is judged by its median over append16's median, and each of its runs is
// also given as a ratio to the append16 run just before it. The other
// workloads have a dd before and after them, and their figures are set
// beside the median of every dd of the run.
//
// # Child processes
//
// The crash workloads need a process to kill. The caller supplies
// Config.Child, which returns a command that runs RunChild with the spec it
// is given (the weir binary re-executes itself as `weir bench storage
// --child=SPEC`; this package's tests re-execute the test binary). A child
// speaks on stdout in lines "ready JSON" and "result JSON"; its stderr goes
// to the parent's.
package storagebench
