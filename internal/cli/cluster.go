package cli

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// NewClusterCommand returns `weir cluster`: information about the cluster.
func NewClusterCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("cluster", "Show information about the cluster")
	conn.addFlags(cmd)
	cmd.AddCommand(newClusterInfoCommand(conn))
	return cmd
}

// newClusterInfoCommand is `weir cluster info`.
func newClusterInfoCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, the controller, the brokers and how many topics and partitions there are",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			adm, ctx, done, err := conn.adminSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			metadata, err := adm.Metadata(ctx)
			if err != nil {
				return fmt.Errorf("describe cluster: %w", err)
			}
			return printClusterInfo(cmd.OutOrStdout(), conn, clusterInfoOf(metadata))
		},
	}
}

// clusterInfo is `weir cluster info --output json`.
type clusterInfo struct {
	ClusterID  string       `json:"cluster_id"`
	Controller int32        `json:"controller"`
	Brokers    []brokerInfo `json:"brokers"`
	Topics     int          `json:"topics"`
	Partitions int          `json:"partitions"`
}

// brokerInfo is one broker of a clusterInfo.
type brokerInfo struct {
	ID   int32   `json:"id"`
	Host string  `json:"host"`
	Port int32   `json:"port"`
	Rack *string `json:"rack,omitempty"`
}

// clusterInfoOf summarizes a metadata response. Internal topics are not
// counted, as `weir topic list` does not show them.
func clusterInfoOf(m kadm.Metadata) clusterInfo {
	info := clusterInfo{ClusterID: m.Cluster, Controller: m.Controller, Brokers: []brokerInfo{}}
	for _, b := range m.Brokers {
		info.Brokers = append(info.Brokers, brokerInfo{b.NodeID, b.Host, b.Port, b.Rack})
	}
	m.Topics.FilterInternal()
	for _, t := range m.Topics {
		if t.Err == nil {
			info.Topics++
			info.Partitions += len(t.Partitions)
		}
	}
	return info
}

func printClusterInfo(w io.Writer, conn *connection, info clusterInfo) error {
	if conn.json() {
		return writeJSON(w, info)
	}
	head := newTable(w)
	head.row("Cluster ID:", info.ClusterID)
	head.row("Controller:", info.Controller)
	head.row("Topics:", info.Topics)
	head.row("Partitions:", info.Partitions)
	if err := head.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	racks := false
	for _, b := range info.Brokers {
		racks = racks || b.Rack != nil
	}
	headers := []string{"BROKER", "ADDRESS"}
	if racks {
		headers = append(headers, "RACK")
	}
	brokers := newTable(w, headers...)
	for _, b := range info.Brokers {
		row := []any{b.ID, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))}
		if racks {
			row = append(row, rackName(b.Rack))
		}
		brokers.row(row...)
	}
	return brokers.flush()
}

// rackName is a broker's rack, or "-" when it has none.
func rackName(rack *string) string {
	if rack == nil {
		return "-"
	}
	return *rack
}
