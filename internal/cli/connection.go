package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// defaultBrokers is where a node started with `weir serve` listens.
	defaultBrokers = "127.0.0.1:9092"
	// brokersEnv names the environment variable that replaces
	// defaultBrokers when --brokers is not given.
	brokersEnv = "WEIR_BROKERS"
	// defaultTimeout is --timeout's default.
	defaultTimeout = 10 * time.Second
)

// connection holds the persistent flags every client command shares: where
// the cluster is, how to print results, how long to wait for answers.
type connection struct {
	brokers string
	output  string
	timeout time.Duration
}

// addFlags declares the flags as persistent flags of cmd, so that cmd's
// subcommands take them too, and makes cmd's flag errors usage errors.
func (c *connection) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVarP(&c.brokers, "brokers", "b", defaultBrokers,
		"comma-separated host:port list of brokers to start from; $"+brokersEnv+" replaces the default")
	f.StringVar(&c.output, "output", "table", "output format: table (for people) or json (for scripts)")
	f.DurationVar(&c.timeout, "timeout", defaultTimeout, "how long to wait for the cluster to answer")
	cmd.SetFlagErrorFunc(FlagError)
}

// check applies $WEIR_BROKERS when --brokers was not given and validates
// the flags. Every command calls it first.
func (c *connection) check(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("brokers") {
		if env := strings.TrimSpace(os.Getenv(brokersEnv)); env != "" {
			c.brokers = env
		}
	}
	if len(c.seeds()) == 0 {
		return usageErrorf(cmd, "--brokers: no broker address given")
	}
	if c.output != "table" && c.output != "json" {
		return usageErrorf(cmd, "--output %q: want table or json", c.output)
	}
	if c.timeout <= 0 {
		return usageErrorf(cmd, "--timeout %v: want a positive duration", c.timeout)
	}
	return nil
}

// json reports whether --output json was asked for.
func (c *connection) json() bool { return c.output == "json" }

// seeds splits --brokers into addresses.
func (c *connection) seeds() []string {
	var seeds []string
	for s := range strings.SplitSeq(c.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// client connects to the cluster: it builds a kgo client with opts and
// checks that a broker answers a metadata request within the timeout, so
// that an unreachable cluster is reported at once and in the same words by
// every command. The caller closes the client.
func (c *connection) client(ctx context.Context, cmd *cobra.Command, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := c.newClient(cmd, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		cl.Close()
		return nil, reachError(c.brokers, c.timeout, err)
	}
	return cl, nil
}

// newClient builds a kgo client with opts, without talking to the cluster.
func (c *connection) newClient(cmd *cobra.Command, opts ...kgo.Opt) (*kgo.Client, error) {
	all := []kgo.Opt{
		kgo.SeedBrokers(c.seeds()...),
		kgo.DialTimeout(c.timeout),
		// How long a request may wait for its response beyond what the
		// request itself asks the broker to wait (fetch long polls).
		kgo.RequestTimeoutOverhead(c.timeout),
		kgo.RetryTimeout(c.timeout),
	}
	cl, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		return nil, usageErrorf(cmd, "--brokers %q: %v", c.brokers, err)
	}
	return cl, nil
}

// adminSession connects to the cluster for an administrative command: a
// kadm client whose requests ask the broker to finish within the timeout,
// the context for its requests (bounded by the timeout), and the function
// that cancels the context and closes the client.
func (c *connection) adminSession(cmd *cobra.Command) (*kadm.Client, context.Context, func(), error) {
	_, adm, ctx, done, err := c.clientSession(cmd)
	return adm, ctx, done, err
}

// clientSession is adminSession that also returns the kgo client beneath
// the admin client, for the requests kadm does not wrap.
func (c *connection) clientSession(cmd *cobra.Command) (*kgo.Client, *kadm.Client, context.Context, func(), error) {
	cl, err := c.client(cmd.Context(), cmd)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(min(c.timeout.Milliseconds(), 1<<31-1)))
	ctx, cancel := c.withTimeout(cmd.Context())
	return cl, adm, ctx, func() { cancel(); adm.Close() }, nil
}

// withTimeout bounds a command's requests by the timeout.
func (c *connection) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}
