package broker

// DescribeLogDirs (key 35), versions 0-4.
//
// One log directory, the node's data directory, holding every partition:
// each partition's size is the bytes of its batches (shared segments hold
// them; no file is a partition's). Topics null lists all topics; named
// topics list the named partitions that exist and omit the rest, as Kafka
// does. From version 4, the usable bytes of the file system are reported;
// its total is not known to the engine (-1).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

func (b *Broker) describeLogDirsHandler() handler {
	return handler{key: kmsg.DescribeLogDirs.Int16(), min: 0, max: 4, serve: b.describeLogDirs}
}

func (b *Broker) describeLogDirs(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = b.engine.Dir()
	dir.TotalBytes, dir.UsableBytes = -1, -1
	if free, err := b.engine.FreeSpace(); err == nil {
		dir.UsableBytes = free
	}
	if req.Topics == nil {
		for _, info := range b.engine.Topics() {
			dir.Topics = appendLogDirTopic(dir.Topics, b.engine, info.Name, allPartitions(info.Partitions))
		}
	} else {
		for _, rt := range req.Topics {
			dir.Topics = appendLogDirTopic(dir.Topics, b.engine, rt.Topic, rt.Partitions)
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return resp, nil
}

func allPartitions(n int32) []int32 {
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps
}

// appendLogDirTopic appends a topic's partitions that exist, if any.
func appendLogDirTopic(topics []kmsg.DescribeLogDirsResponseDirTopic, e *storage.Engine, name string, partitions []int32) []kmsg.DescribeLogDirsResponseDirTopic {
	st := kmsg.NewDescribeLogDirsResponseDirTopic()
	st.Topic = name
	for _, index := range partitions {
		p, err := e.Partition(name, index)
		if err != nil {
			continue
		}
		sp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		sp.Partition, sp.Size = index, p.Offsets().Size
		st.Partitions = append(st.Partitions, sp)
	}
	if len(st.Partitions) == 0 {
		return topics
	}
	return append(topics, st)
}
