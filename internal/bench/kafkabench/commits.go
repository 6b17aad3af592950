package kafkabench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CommitsConfig configures the commits workload (`weir bench commits`):
// offset commits of many groups, as fast as Committers committers
// (Clients connections) send them, each waiting for its answer.
type CommitsConfig struct {
	Brokers    []string      `json:"brokers"`
	Topic      string        `json:"topic"`
	Groups     int           `json:"groups"`
	Clients    int           `json:"clients"`
	Committers int           `json:"committers"`
	Duration   time.Duration `json:"duration_ns"`
}

// DefaultCommitsConfig returns 1,000 groups, 4 clients, 32 committers, 20 s.
func DefaultCommitsConfig() CommitsConfig {
	return CommitsConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "weir-bench-commits", Groups: 1000, Clients: 4, Committers: 32, Duration: 20 * time.Second}
}

// CommitsResult is the outcome of the commits workload.
type CommitsResult struct {
	Workload      string        `json:"workload"`
	Config        CommitsConfig `json:"config"`
	Commits       int64         `json:"commits"`
	Errors        int64         `json:"errors"`
	FirstError    string        `json:"first_error,omitempty"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	CommitsPerSec float64       `json:"commits_per_s"`
	Latency       Latency       `json:"latency"`
}

// RunCommits runs the commits workload: committer i commits, in turn, for
// the groups i, i+Committers, ..., an offset one higher each time, to
// partition 0 of Topic (created with one partition when absent). The
// groups are simple consumers (no members, generation -1), so the figure
// is the coordinator's and the offsets topic's, not a rebalance's.
func RunCommits(ctx context.Context, cfg CommitsConfig) (*CommitsResult, error) {
	if cfg.Groups < 1 || cfg.Clients < 1 || cfg.Committers < 1 || cfg.Duration <= 0 {
		return nil, errors.New("commits: groups, clients, committers and duration must be positive")
	}
	clients := make([]*kgo.Client, cfg.Clients)
	for i := range clients {
		cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID))
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		clients[i] = cl
	}
	if _, _, err := prepareTopic(ctx, clients[0], cfg.Topic, 1, -1, true); err != nil {
		return nil, err
	}
	var topicID [16]byte
	meta := kmsg.NewPtrMetadataRequest()
	meta.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(cfg.Topic)}}
	mresp, err := meta.RequestWith(ctx, clients[0])
	if err != nil {
		return nil, fmt.Errorf("commits: metadata: %w", err)
	}
	if len(mresp.Topics) == 1 {
		topicID = mresp.Topics[0].TopicID
	}
	res := &CommitsResult{Workload: "commits", Config: cfg}
	latency := newRecorder()
	var commits, failures atomic.Int64
	var firstErr sync.Once
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Committers {
		cl := clients[i%len(clients)]
		wg.Go(func() {
			offset := int64(0)
			for g := i; runCtx.Err() == nil; g += cfg.Committers {
				if g >= cfg.Groups {
					g, offset = i%cfg.Groups, offset+1
				}
				req := kmsg.NewPtrOffsetCommitRequest()
				req.Group, req.Generation = fmt.Sprint("weir-bench-commits-", g), -1
				req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: cfg.Topic, TopicID: topicID,
					Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset, LeaderEpoch: -1}}}}
				sent := time.Now()
				resp, err := req.RequestWith(runCtx, cl)
				if runCtx.Err() != nil {
					return
				}
				if err == nil && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
					err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
				}
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { res.FirstError = err.Error() })
					continue
				}
				latency.record(time.Since(sent))
				commits.Add(1)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Commits, res.Errors = commits.Load(), failures.Load()
	res.CommitsPerSec = float64(res.Commits) / res.Elapsed.Seconds()
	res.Latency = summarize(merged([]*recorder{latency}))
	return res, nil
}

// WriteJSON writes the result as one indented JSON object.
func (r *CommitsResult) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteText writes the result for people.
func (r *CommitsResult) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "commits: %d groups, %d committers on %d clients, %v, at %s\n", c.Groups, c.Committers, c.Clients, c.Duration, strings.Join(c.Brokers, ","))
	fmt.Fprintf(&b, "  committed %d offsets (%s commits/s) in %.2f s; %d errors", r.Commits, thousands(r.CommitsPerSec), r.Elapsed.Seconds(), r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, " (first: %s)", r.FirstError)
	}
	fmt.Fprintf(&b, "\n  commit latency %s\n", latencyText(r.Latency))
	_, err := io.WriteString(w, b.String())
	return err
}
