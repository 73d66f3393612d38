package store

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Config describes one Raft member.
type Config struct {
	NodeID   string // unique and stable across restarts
	DataDir  string // holds raft/, state/ and snapshots/
	RaftBind string // TCP address the Raft transport listens on
	// RaftAdvertise is the address peers dial; default RaftBind.
	RaftAdvertise string
	// HTTPURL is this node's internal HTTP base URL (http://host:port), where
	// peers reach InternalHandler for forwarded writes and status.
	HTTPURL string
	// Bootstrap makes a fresh node the single voter of a new cluster.
	Bootstrap bool
	// ClusterSecret authenticates every inter-node connection and request.
	ClusterSecret []byte
	// TLS, when set, wraps the Raft transport (both directions); peers must
	// present certificates the config trusts. HTTPClient should match.
	TLS *tls.Config
	// Transport overrides the TCP transport (dev mode runs in memory).
	Transport raft.Transport

	HeartbeatTimeout   time.Duration // default 200ms (loopback/LAN); raise for voters across regions
	ElectionTimeout    time.Duration // default 200ms
	LeaderLeaseTimeout time.Duration // default 100ms
	// CommitTimeout is how long the leader waits for more writes before
	// telling followers the new commit index; it bounds how soon an idle
	// edge sees a write. Default 5ms.
	CommitTimeout     time.Duration
	SnapshotInterval  time.Duration // default 30s
	SnapshotThreshold uint64        // default 8192 entries
	TrailingLogs      uint64        // default 10240 entries

	// BatchApplies coalesces concurrent writes on the leader into one log
	// entry (group commit).
	BatchApplies bool
	// ApplyTimeout bounds a write whose context has no deadline; default 10s.
	ApplyTimeout time.Duration
	ReapInterval time.Duration // default 1s, <0 disables

	Now        func() time.Time
	Logger     *slog.Logger
	HTTPClient *http.Client
	// Registerer receives the node's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatTimeout, 200*time.Millisecond)
	def(&c.ElectionTimeout, 200*time.Millisecond)
	def(&c.LeaderLeaseTimeout, 100*time.Millisecond)
	def(&c.SnapshotInterval, 30*time.Second)
	def(&c.ApplyTimeout, 10*time.Second)
	def(&c.CommitTimeout, 5*time.Millisecond)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
}

// Node is a member of a Raft cluster: a voter on the control plane or a
// non-voter at the edge. Reads are local; writes go through the leader.
type Node struct {
	cfg     Config
	st      *state
	logs    *logStore
	snaps   raft.SnapshotStore
	trans   raft.Transport
	raft    *raft.Raft
	reaper  *reaper
	batcher *batcher
	metrics *nodeMetrics
	log     *slog.Logger

	stop chan struct{}
	bg   sync.WaitGroup
	// leaderChanged is closed and replaced whenever raft reports a new
	// leader, so writes waiting out an election retry at once.
	leaderMu      sync.Mutex
	leaderChanged chan struct{}
	closeMu       sync.Mutex
	isClosed      bool
}

var _ Store = (*Node)(nil)

// OpenNode starts a Raft member on cfg.DataDir.
func OpenNode(cfg Config) (*Node, error) {
	cfg.setDefaults()
	if cfg.NodeID == "" {
		return nil, errors.New("store: node id is required")
	}
	if cfg.Transport == nil && cfg.RaftBind == "" {
		return nil, errors.New("store: raft bind address is required")
	}
	for _, d := range []string{"raft", "state", "snapshots"} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("store: data dir: %w", err)
		}
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), stop: make(chan struct{}), leaderChanged: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			n.closeResources()
		}
	}()
	var err error
	if n.st, err = openState(filepath.Join(cfg.DataDir, "state"), false, cfg.Now, n.log); err != nil {
		return nil, err
	}
	if n.logs, err = openLogStore(filepath.Join(cfg.DataDir, "raft"), n.log); err != nil {
		return nil, err
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: slogWriter{n.log}})
	if n.snaps, err = raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.DataDir, "snapshots"), 2, hlog); err != nil {
		return nil, fmt.Errorf("store: snapshot store: %w", err)
	}
	if err := n.catchUpFromSnapshot(); err != nil {
		return nil, err
	}
	n.trans = cfg.Transport
	if n.trans == nil {
		layer, err := newAuthLayer(cfg.RaftBind, cfg.RaftAdvertise, cfg.ClusterSecret, cfg.TLS)
		if err != nil {
			return nil, err
		}
		n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: layer, MaxPool: 4, Timeout: 5 * time.Second, Logger: hlog,
		})
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	// The state lives in Pebble and survives restarts; raft must not wipe
	// it by restoring the last snapshot on every start (catchUpFromSnapshot
	// covers the case where the state is older than the snapshot).
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = hlog
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("store: raft config: %w", err)
	}

	hasState, err := raft.HasExistingState(n.logs, n.logs, n.snaps)
	if err != nil {
		return nil, fmt.Errorf("store: inspect raft state: %w", err)
	}
	if cfg.Bootstrap && !hasState {
		boot := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr(),
		}}}
		if err := raft.BootstrapCluster(rc, n.logs, n.logs, n.snaps, n.trans, boot); err != nil {
			return nil, fmt.Errorf("store: bootstrap: %w", err)
		}
	}
	cached, err := raft.NewLogCache(512, n.logs)
	if err != nil {
		return nil, fmt.Errorf("store: log cache: %w", err)
	}
	if n.raft, err = raft.NewRaft(rc, fsm{n.st}, cached, n.logs, n.snaps, n.trans); err != nil {
		return nil, fmt.Errorf("store: start raft: %w", err)
	}
	n.metrics = newNodeMetrics(n, cfg.Registerer)
	n.watchLeader()
	if cfg.BatchApplies {
		n.batcher = startBatcher(n)
	}
	n.reaper = startReaper(n, n.st, cfg.Now, cfg.ReapInterval, n.IsLeader, n.log)
	n.bg.Add(1)
	go n.publishSelf()
	ok = true
	return n, nil
}

// catchUpFromSnapshot restores the newest snapshot when the state on disk
// is older than it. The state is written without fsync (the Raft log is the
// durable record), so after a machine crash it can lag the snapshot, and
// the log entries in between may have been compacted away.
func (n *Node) catchUpFromSnapshot() error {
	metas, err := n.snaps.List()
	if err != nil {
		return fmt.Errorf("store: list snapshots: %w", err)
	}
	if len(metas) == 0 || metas[0].Index <= n.st.applied.Load() {
		return nil
	}
	_, rc, err := n.snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("store: open snapshot %s: %w", metas[0].ID, err)
	}
	defer rc.Close()
	n.log.Info("store: state behind snapshot, restoring", "applied", n.st.applied.Load(), "snapshot", metas[0].Index)
	return n.st.restore(rc)
}

// Raft exposes the underlying raft for membership and diagnostics.
func (n *Node) Raft() *raft.Raft { return n.raft }

// ID is this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// IsLeader reports whether this node is the leader now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's id and Raft address ("" if unknown).
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

func (n *Node) Get(key []byte) (Item, error) { return n.st.get(key) }
func (n *Node) Scan(prefix, after []byte, limit int) ([]Item, []byte, error) {
	return n.st.scan(prefix, after, limit)
}
func (n *Node) AppliedIndex() uint64 { return n.st.applied.Load() }
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.st.waitApplied(ctx, index)
}
func (n *Node) Subscribe(fn func(Event)) func() { return n.st.subscribe(fn) }

// ErrOutcomeUnknown means a write may or may not have been committed: the
// leader was lost after the write was handed to it. The caller must re-read
// before deciding to retry.
var ErrOutcomeUnknown = errors.New("store: write outcome unknown (leader lost after the write was sent)")

// ErrNoLeader means no leader could be reached before the deadline.
var ErrNoLeader = errors.New("store: no leader reachable")

// errNodeClosed is returned by writes on a node that is shutting down.
var errNodeClosed = errors.New("store: node closed")

// errNotLeader is a retryable refusal: the node asked was not the leader.
var errNotLeader = errors.New("store: not the leader")

// Apply commits txn through the leader and returns once this node has
// applied it. Leader changes are retried with backoff until the context's
// deadline (or ApplyTimeout); a write is never silently dropped: the call
// returns its result, a *ConflictError, ErrOutcomeUnknown or ErrNoLeader.
func (n *Node) Apply(ctx context.Context, txn Txn) (Result, error) {
	if err := txn.Validate(); err != nil {
		return Result{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ApplyTimeout)
		defer cancel()
	}
	start := time.Now()
	backoff := 5 * time.Millisecond
	var lastErr error
	for attempt := 0; ; attempt++ {
		var (
			res Result
			err error
		)
		if n.IsLeader() {
			res, err = n.applyOnLeader(ctx, txn)
		} else {
			res, err = n.forward(ctx, txn)
			if err == nil {
				n.metrics.forwardSeconds.Observe(time.Since(start).Seconds())
			}
		}
		if err == nil {
			// Read-your-writes: the index is committed; wait for it here.
			if werr := n.st.waitApplied(ctx, res.Index); werr != nil {
				return Result{}, fmt.Errorf("store: write committed at %d but not yet applied here: %w", res.Index, werr)
			}
			return res, nil
		}
		if !errors.Is(err, errNotLeader) && !errors.Is(err, ErrNoLeader) {
			return Result{}, err
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("%w after %d attempts in %s: %v", ErrNoLeader, attempt+1, time.Since(start).Round(time.Millisecond), lastErr)
		case <-n.stop:
			return Result{}, errNodeClosed
		case <-n.leaderSignal():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// leaderSignal returns a channel closed at the next leader change. It is
// fetched per wait, so a retry never sleeps through an election result.
func (n *Node) leaderSignal() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderChanged
}

func (n *Node) watchLeader() {
	obs := make(chan raft.Observation, 16)
	observer := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(observer)
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer n.raft.DeregisterObserver(observer)
		for {
			select {
			case <-n.stop:
				return
			case <-obs:
				n.leaderMu.Lock()
				close(n.leaderChanged)
				n.leaderChanged = make(chan struct{})
				n.leaderMu.Unlock()
			}
		}
	}()
}

// applyOnLeader proposes txn on this node, which believes it leads.
func (n *Node) applyOnLeader(ctx context.Context, txn Txn) (Result, error) {
	if txn.Now.IsZero() {
		txn.Now = n.cfg.Now()
	}
	start := time.Now()
	var (
		res Result
		err error
	)
	if n.batcher != nil {
		res, err = n.batcher.submit(ctx, txn)
	} else {
		res, err = n.propose(ctx, encodeTxnCmd(txn), 1)
	}
	if err == nil || IsConflict(err) {
		n.metrics.applySeconds.Observe(time.Since(start).Seconds())
	}
	return res, err
}

// propose hands one encoded entry to raft and returns the outcome of its
// single transaction; batches use proposeBatch.
func (n *Node) propose(ctx context.Context, data []byte, _ int) (Result, error) {
	results, index, err := n.proposeEntry(ctx, data)
	if err != nil {
		return Result{}, err
	}
	if results[0] != nil {
		return Result{}, results[0]
	}
	return Result{Index: index}, nil
}

func (n *Node) proposeEntry(ctx context.Context, data []byte) ([]error, uint64, error) {
	timeout := n.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := n.raft.Apply(data, timeout)
	// A future raft has queued but not taken up is never answered once raft
	// shuts down, so never wait for it past the deadline or the node's end.
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err())
	case <-n.stop:
		return nil, 0, errNodeClosed
	}
	if err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader):
			return nil, 0, errNotLeader
		case errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Refused before it reached the log (raft answers it from the
			// leader loop): retry, here or at the next leader. Every
			// graceful stop of a leader transfers leadership first.
			return nil, 0, fmt.Errorf("%w: leadership transfer in progress", errNotLeader)
		case errors.Is(err, raft.ErrLeadershipLost):
			return nil, 0, ErrOutcomeUnknown
		case errors.Is(err, raft.ErrEnqueueTimeout):
			return nil, 0, fmt.Errorf("store: raft did not accept the write in time: %w", err)
		case errors.Is(err, raft.ErrRaftShutdown):
			return nil, 0, errNodeClosed
		}
		return nil, 0, fmt.Errorf("store: raft apply: %w", err)
	}
	resp, ok := f.Response().(applyResponse)
	if !ok {
		return nil, 0, fmt.Errorf("store: unexpected apply response %T", f.Response())
	}
	return resp.results, f.Index(), nil
}

// Ready reports whether this node can serve: a leader is known, it has
// heard from it recently, and its state is within maxLag entries of the
// commit index it has learned.
func (n *Node) Ready(maxLag uint64) error {
	id, _ := n.Leader()
	if id == "" {
		return errors.New("no leader known")
	}
	if !n.IsLeader() {
		if last := n.raft.LastContact(); time.Since(last) > 10*n.cfg.HeartbeatTimeout+5*time.Second {
			return fmt.Errorf("no contact with leader %s since %s", id, last.Format(time.RFC3339))
		}
	}
	commit, applied := n.raft.CommitIndex(), n.st.applied.Load()
	if commit > applied && commit-applied > maxLag {
		return fmt.Errorf("applied index %d is %d behind commit %d", applied, commit-applied, commit)
	}
	return nil
}

// Shutdown stops the node gracefully: a leader hands leadership over first
// so the cluster does not wait for an election timeout.
func (n *Node) Shutdown() error {
	if n.IsLeader() && len(n.voters()) > 1 {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			n.log.Warn("store: leadership transfer before shutdown failed", "err", err)
		}
	}
	return n.Close()
}

// Close stops the node at once, as a crash would (minus the data loss).
func (n *Node) Close() error {
	n.closeMu.Lock()
	if n.isClosed {
		n.closeMu.Unlock()
		return nil
	}
	n.isClosed = true
	n.closeMu.Unlock()
	close(n.stop)
	n.reaper.stop()
	var errs []error
	if err := n.raft.Shutdown().Error(); err != nil {
		errs = append(errs, err)
	}
	if n.batcher != nil {
		n.batcher.stop()
	}
	n.bg.Wait()
	n.metrics.unregister()
	errs = append(errs, n.closeResources())
	return errors.Join(errs...)
}

func (n *Node) closeResources() error {
	var errs []error
	if c, ok := n.trans.(io.Closer); ok && n.trans != nil {
		errs = append(errs, c.Close())
	}
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	if n.st != nil {
		errs = append(errs, n.st.close())
	}
	return errors.Join(errs...)
}

func (n *Node) voters() []raft.Server {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var vs []raft.Server
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			vs = append(vs, s)
		}
	}
	return vs
}

// slogWriter carries hclog's lines into slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	level := slog.LevelWarn
	// hclog lines read "<timestamp> [LEVEL]  raft: message: k=v ...".
	if i := strings.Index(line, " ["); i >= 0 {
		if j := strings.Index(line[i:], "] "); j > 0 {
			switch line[i+2 : i+j] {
			case "ERROR":
				level = slog.LevelError
			case "INFO":
				level = slog.LevelInfo
			case "DEBUG", "TRACE":
				level = slog.LevelDebug
			}
			line = strings.TrimSpace(line[i+j+2:])
		}
	}
	w.log.Log(context.Background(), level, line, "component", "raft")
	return len(p), nil
}

// jsonBody marshals v for an internal request.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return b
}
