package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/broker"
)

func TestClusterInfo(t *testing.T) {
	addr := startBroker(t, broker.Config{NodeID: 7, ClusterID: "test-cluster"})
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	mustRun(t, "", "topic", "create", "a", "--partitions", "3", "-b", addr)
	mustRun(t, "", "topic", "create", "b", "--partitions", "2", "-b", addr)

	table := mustRun(t, "", "cluster", "info", "-b", addr)
	for _, want := range []string{
		"Cluster ID:  test-cluster\n",
		"Controller:  7\n",
		"Topics:      2\n",
		"Partitions:  5\n",
		fmt.Sprintf("7       %s\n", addr),
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	var info clusterInfo
	decodeJSON(t, mustRun(t, "", "cluster", "info", "-b", addr, "--output", "json"), &info)
	want := clusterInfo{ClusterID: "test-cluster", Controller: 7, Brokers: []brokerInfo{{ID: 7, Host: host, Port: int32(port)}}, Topics: 2, Partitions: 5}
	if fmt.Sprint(info) != fmt.Sprint(want) {
		t.Fatalf("json: %+v, want %+v", info, want)
	}
}
