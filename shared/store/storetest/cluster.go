package storetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/servetest"
	"github.com/authok-edge/authok/shared/store"
)

// Secret is the cluster secret test clusters share.
var Secret = []byte("storetest-cluster-secret")

// ClusterOptions tunes a test cluster; the zero value is a sensible default.
type ClusterOptions struct {
	Now               func() time.Time
	ReapInterval      time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	BatchApplies      bool
	TLS               *tls.Config  // mutual TLS on the Raft transport
	Logger            *slog.Logger // default: discard
	// Raft timeouts; zero means StarvedTimeouts. Only a test about
	// failover (or a benchmark) passes shorter ones, and then tolerates
	// the spurious elections they cause on a loaded machine.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout time.Duration
}

// StarvedTimeouts sets the default Raft timeouts of a test cluster: 1s
// heartbeat, election and lease. The race detector on a 2-core machine
// shared with other builds stalls goroutines for hundreds of milliseconds;
// with the production defaults (200ms, lease 100ms) a leader then misses
// its lease or a follower its heartbeat, an election follows, and writes
// in flight end with store.ErrOutcomeUnknown. Each cluster start pays one
// heartbeat timeout (1-2s) for its first election.
func StarvedTimeouts(o ClusterOptions) ClusterOptions {
	o.HeartbeatTimeout, o.ElectionTimeout, o.LeaderLeaseTimeout = time.Second, time.Second, time.Second
	return o
}

// FailoverTimeouts sets short Raft timeouts (300ms heartbeat and election,
// 150ms lease) for tests that kill a leader and wait for the next one:
// the election after the kill is quick, and the test must tolerate
// spurious ones (its writes go through ApplyAsClient or accept errors).
func FailoverTimeouts(o ClusterOptions) ClusterOptions {
	o.HeartbeatTimeout, o.ElectionTimeout, o.LeaderLeaseTimeout = 300*time.Millisecond, 300*time.Millisecond, 150*time.Millisecond
	return o
}

// FastTimeouts sets the loopback-tuned Raft timeouts the benchmarks
// measure failover with (150ms heartbeat and election, 100ms lease). Not
// for tests: on a loaded machine they cause spurious elections.
func FastTimeouts(o ClusterOptions) ClusterOptions {
	o.HeartbeatTimeout, o.ElectionTimeout, o.LeaderLeaseTimeout = 150*time.Millisecond, 150*time.Millisecond, 100*time.Millisecond
	return o
}

// waitLimit bounds every wait of the helpers (leader, readiness, catching
// up): far above what an idle machine needs, so that only a real fault,
// not a starved scheduler, ends a test.
const waitLimit = time.Minute

// Member is one node of a test cluster, with its own internal HTTP server
// on loopback, restartable on the same data dir and addresses.
type Member struct {
	ID       string
	Voter    bool
	Dir      string
	RaftAddr string
	URL      string
	Node     *store.Node

	srv  *http.Server
	opts ClusterOptions
	tb   testing.TB
}

// Cluster is a real Raft cluster of several nodes on loopback TCP.
type Cluster struct {
	tb      testing.TB
	opts    ClusterOptions
	Members []*Member
	root    string
}

// NewCluster starts voters control-plane nodes (the first bootstraps) and
// edges non-voters, and waits until every node has a leader and applied the
// membership. Everything is stopped by tb.Cleanup.
func NewCluster(tb testing.TB, voters, edges int, opts ClusterOptions) *Cluster {
	tb.Helper()
	if opts.Logger == nil {
		var w io.Writer = io.Discard
		if os.Getenv("STORETEST_LOG") != "" {
			w = os.Stderr
		}
		opts.Logger = slog.New(slog.NewTextHandler(w, nil))
	}
	if opts.HeartbeatTimeout == 0 && opts.ElectionTimeout == 0 && opts.LeaderLeaseTimeout == 0 {
		opts = StarvedTimeouts(opts)
	}
	c := &Cluster{tb: tb, opts: opts, root: tb.TempDir()}
	tb.Cleanup(c.Stop)
	for i := 0; i < voters+edges; i++ {
		id := fmt.Sprintf("control-%d", i+1)
		if i >= voters {
			id = fmt.Sprintf("edge-%d", i-voters+1)
		}
		c.AddMember(id, i < voters)
	}
	c.settle()
	return c
}

// settle waits until every running member has applied everything the
// leader has: a member that joined early may otherwise hold a later
// member in its Raft configuration (taken as soon as it is appended)
// before it applies that member's record.
func (c *Cluster) settle() {
	c.tb.Helper()
	index := c.Leader().Node.Status().AppliedIndex
	for _, m := range c.Running() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		err := m.Node.WaitApplied(ctx, index)
		cancel()
		if err != nil {
			c.tb.Fatalf("%s did not apply index %d: %v", m.ID, index, err)
		}
	}
}

// AddMember starts a new node and joins it through the first member.
func (c *Cluster) AddMember(id string, voter bool) *Member {
	c.tb.Helper()
	m := &Member{
		ID: id, Voter: voter, Dir: filepath.Join(c.root, id),
		RaftAddr: servetest.FreeAddr(c.tb), opts: c.opts, tb: c.tb,
	}
	bootstrap := len(c.Members) == 0
	m.Start(bootstrap)
	c.Members = append(c.Members, m)
	if !bootstrap {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		err := store.Join(ctx, nil, Secret, c.Members[0].URL, store.JoinRequest{
			NodeID: id, RaftAddr: m.RaftAddr, HTTPURL: m.URL, Voter: voter,
		})
		if err != nil {
			c.tb.Fatalf("join %s: %v", id, err)
		}
	}
	c.WaitReady(m)
	return m
}

// Start (re)opens the member's node on its data dir and addresses.
func (m *Member) Start(bootstrap bool) {
	m.tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if m.URL != "" {
		ln, err = net.Listen("tcp", m.URL[len("http://"):])
	}
	if err != nil {
		m.tb.Fatalf("listen: %v", err)
	}
	m.URL = "http://" + ln.Addr().String()
	node, err := store.OpenNode(store.Config{
		NodeID: m.ID, DataDir: m.Dir, RaftBind: m.RaftAddr, HTTPURL: m.URL,
		Bootstrap: bootstrap, ClusterSecret: Secret,
		HeartbeatTimeout: m.opts.HeartbeatTimeout, ElectionTimeout: m.opts.ElectionTimeout, LeaderLeaseTimeout: m.opts.LeaderLeaseTimeout,
		SnapshotThreshold: m.opts.SnapshotThreshold, TrailingLogs: m.opts.TrailingLogs,
		BatchApplies: m.opts.BatchApplies, ReapInterval: m.opts.ReapInterval, TLS: m.opts.TLS,
		Now: m.opts.Now, Logger: m.opts.Logger.With("node", m.ID),
	})
	if err != nil {
		ln.Close()
		m.tb.Fatalf("open %s: %v", m.ID, err)
	}
	m.Node = node
	m.srv = &http.Server{Handler: node.InternalHandler(), ReadHeaderTimeout: 5 * time.Second}
	go m.srv.Serve(ln)
}

// Kill stops the member abruptly (no leadership transfer).
func (m *Member) Kill() {
	if m.Node == nil {
		return
	}
	m.srv.Close()
	if err := m.Node.Close(); err != nil {
		m.tb.Logf("close %s: %v", m.ID, err)
	}
	m.Node = nil
}

// Running lists the members whose node is up.
func (c *Cluster) Running() []*Member {
	var out []*Member
	for _, m := range c.Members {
		if m.Node != nil {
			out = append(out, m)
		}
	}
	return out
}

// Leader waits for a running member to lead and returns it.
func (c *Cluster) Leader() *Member {
	c.tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, m := range c.Running() {
			if m.Node.IsLeader() {
				return m
			}
		}
		time.Sleep(5 * time.Millisecond) // polling a condition: raft has no leader-elected wait across nodes
	}
	c.tb.Fatalf("no leader within %s", waitLimit)
	return nil
}

// Follower returns a running voter that is not the leader.
func (c *Cluster) Follower() *Member {
	c.tb.Helper()
	leader := c.Leader()
	for _, m := range c.Running() {
		if m.Voter && m != leader {
			return m
		}
	}
	c.tb.Fatal("no follower")
	return nil
}

// Edges returns the running non-voters.
func (c *Cluster) Edges() []*Member {
	var out []*Member
	for _, m := range c.Running() {
		if !m.Voter {
			out = append(out, m)
		}
	}
	return out
}

// WaitReady waits until m knows a leader, is caught up, and its member
// record is replicated to it (so it can forward writes).
func (c *Cluster) WaitReady(m *Member) {
	c.tb.Helper()
	deadline := time.Now().Add(waitLimit)
	var err error
	for time.Now().Before(deadline) {
		if err = m.Node.Ready(0); err == nil {
			id, _ := m.Node.Leader()
			if _, gerr := m.Node.Get([]byte("sys/members/" + id)); gerr == nil {
				return
			} else {
				err = gerr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatalf("%s not ready within %s: %v", m.ID, waitLimit, err)
}

// Stop kills every member.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		m.Kill()
	}
}
