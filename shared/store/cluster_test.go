package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

// waitLimit bounds the waits of these tests: far above what an idle
// machine needs, so that only a fault, not a starved scheduler, fails them.
const waitLimit = time.Minute

// applyAsClient is a write by a test that is not about ambiguous outcomes.
func applyAsClient(t *testing.T, n *store.Node, txn store.Txn) (store.Result, error) {
	t.Helper()
	return storetest.ApplyAsClient(ctxT(t, waitLimit), t, n, txn)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// The conformance suite through a follower: every write is forwarded to the
// leader and must behave exactly as on the local store.
func TestClusterConformanceViaFollower(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		c := storetest.NewCluster(t, 3, 0, storetest.ClusterOptions{Now: now, ReapInterval: 20 * time.Millisecond})
		return c.Follower().Node
	})
}

func TestClusterConformanceViaLeaderBatched(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		c := storetest.NewCluster(t, 3, 0, storetest.ClusterOptions{Now: now, ReapInterval: 20 * time.Millisecond, BatchApplies: true})
		return c.Leader().Node
	})
}

func put(k, v string) store.Op { return store.Put([]byte(k), []byte(v)) }

func TestClusterWriteOnLeaderReachesEveryEdge(t *testing.T) {
	c := storetest.NewCluster(t, 3, 2, storetest.ClusterOptions{})
	res, err := applyAsClient(t, c.Leader().Node, store.Txn{Ops: []store.Op{put("t/x/client/1", "v1")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Running() {
		if err := m.Node.WaitApplied(ctxT(t, waitLimit), res.Index); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		it, err := m.Node.Get([]byte("t/x/client/1"))
		if err != nil || string(it.Value) != "v1" || it.Version != res.Index {
			t.Fatalf("%s: got %+v, %v", m.ID, it, err)
		}
	}
}

func TestClusterWriteOnEdgeIsForwardedAndReadable(t *testing.T) {
	c := storetest.NewCluster(t, 3, 2, storetest.ClusterOptions{})
	for i, edge := range c.Edges() {
		key := fmt.Sprintf("flow/%d", i)
		res, err := applyAsClient(t, edge.Node, store.Txn{
			Conds: []store.Cond{store.Absent([]byte(key))},
			Ops:   []store.Op{put(key, "from "+edge.ID)},
		})
		if err != nil {
			t.Fatalf("%s: %v", edge.ID, err)
		}
		// Read-your-writes: no waiting here.
		it, err := edge.Node.Get([]byte(key))
		if err != nil || it.Version != res.Index {
			t.Fatalf("%s: own write not visible on return: %+v, %v", edge.ID, it, err)
		}
		// Single use holds across the cluster: the same Absent txn from
		// the other edge conflicts.
		other := c.Edges()[(i+1)%2]
		_, err = applyAsClient(t, other.Node, store.Txn{
			Conds: []store.Cond{store.Absent([]byte(key))},
			Ops:   []store.Op{put(key, "second")},
		})
		if !store.IsConflict(err) {
			t.Fatalf("second consumer via %s: %v, want conflict", other.ID, err)
		}
	}
}

func TestClusterLeaderFailoverKeepsAcknowledgedWrites(t *testing.T) {
	// About failover: short timeouts make the election after the kill
	// quick; the writers accept every error, spurious elections included.
	c := storetest.NewCluster(t, 3, 2, storetest.FailoverTimeouts(storetest.ClusterOptions{}))
	var (
		mu    sync.Mutex
		acked = map[string]uint64{}
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	// Writers through each edge and each voter keep writing while the
	// leader dies; only acknowledged writes are owed.
	for _, m := range c.Running() {
		wg.Add(1)
		go func(m *storetest.Member) {
			defer wg.Done()
			node := m.Node
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w/%s/%d", m.ID, i)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				res, err := node.Apply(ctx, store.Txn{Ops: []store.Op{put(key, "v")}})
				cancel()
				if err == nil {
					mu.Lock()
					acked[key] = res.Index
					mu.Unlock()
				}
				if err != nil && strings.Contains(err.Error(), "closed") {
					return
				}
			}
		}(m)
	}
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	// Kill the leader once writes are flowing, and stop the writers once
	// more have been acknowledged after the failover.
	waitFor(t, "10 acknowledged writes", func() bool { return ackedCount() >= 10 })
	old := c.Leader()
	killed := time.Now()
	old.Kill()
	newLeader := c.Leader()
	if newLeader == old {
		t.Fatal("killed leader still leads")
	}
	t.Logf("new leader %s after %s", newLeader.ID, time.Since(killed))
	// A write through the new leader succeeds.
	if _, err := applyAsClient(t, newLeader.Node, store.Txn{Ops: []store.Op{put("after-failover", "ok")}}); err != nil {
		t.Fatal(err)
	}
	before := ackedCount()
	waitFor(t, "10 writes acknowledged after the failover", func() bool { return ackedCount() >= before+10 })
	close(stop)
	wg.Wait()

	var maxIdx uint64
	for _, idx := range acked {
		maxIdx = max(maxIdx, idx)
	}
	for _, m := range c.Running() {
		if err := m.Node.WaitApplied(ctxT(t, waitLimit), maxIdx); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		for key, idx := range acked {
			it, err := m.Node.Get([]byte(key))
			if err != nil || it.Version != idx {
				t.Fatalf("%s lost acknowledged write %s@%d: %+v, %v", m.ID, key, idx, it, err)
			}
		}
	}
	t.Logf("%d acknowledged writes present on %d survivors", len(acked), len(c.Running()))
}

// waitFor polls cond (a state of goroutines that have no channel to wait
// on) until it holds or waitLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, waitLimit)
		}
	}
}

func TestClusterLateEdgeCatchesUpBySnapshot(t *testing.T) {
	c := storetest.NewCluster(t, 3, 0, storetest.ClusterOptions{SnapshotThreshold: 64, TrailingLogs: 16})
	leader := c.Leader()
	var last store.Result
	for i := 0; i < 300; i++ {
		var err error
		last, err = applyAsClient(t, leader.Node, store.Txn{Ops: []store.Op{put(fmt.Sprintf("k/%03d", i), "v")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := leader.Node.Raft().Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	edge := c.AddMember("edge-late", false)
	if err := edge.Node.WaitApplied(ctxT(t, waitLimit), last.Index); err != nil {
		t.Fatal(err)
	}
	items, _, err := edge.Node.Scan([]byte("k/"), nil, 1000)
	if err != nil || len(items) != 300 {
		t.Fatalf("late edge has %d keys, %v", len(items), err)
	}
	snaps, _ := filepath.Glob(filepath.Join(edge.Dir, "snapshots", "snapshots", "*", "state.bin"))
	if len(snaps) == 0 {
		t.Fatal("late edge caught up without installing a snapshot; the test proves nothing")
	}
}

func TestClusterEdgeRestartCatchesUp(t *testing.T) {
	c := storetest.NewCluster(t, 3, 1, storetest.ClusterOptions{})
	edge := c.Edges()[0]
	leader := c.Leader()
	first, err := applyAsClient(t, leader.Node, store.Txn{Ops: []store.Op{put("before", "1")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Node.WaitApplied(ctxT(t, waitLimit), first.Index); err != nil {
		t.Fatal(err)
	}
	edge.Kill()
	var last store.Result
	for i := 0; i < 50; i++ {
		if last, err = applyAsClient(t, leader.Node, store.Txn{Ops: []store.Op{put(fmt.Sprintf("during/%d", i), "v")}}); err != nil {
			t.Fatal(err)
		}
	}
	edge.Start(false)
	// Its own data is there at once, before any contact with the leader.
	if it, err := edge.Node.Get([]byte("before")); err != nil || it.Version != first.Index {
		t.Fatalf("restarted edge lost its data: %+v, %v", it, err)
	}
	if err := edge.Node.WaitApplied(ctxT(t, waitLimit), last.Index); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.Node.Get([]byte("during/49")); err != nil {
		t.Fatal(err)
	}
}

func TestClusterRejectsWrongSecret(t *testing.T) {
	c := storetest.NewCluster(t, 1, 0, storetest.ClusterOptions{})
	err := store.Join(ctxT(t, waitLimit), nil, []byte("wrong"), c.Members[0].URL, store.JoinRequest{
		NodeID: "intruder", RaftAddr: "127.0.0.1:1", HTTPURL: "http://127.0.0.1:1", Voter: true,
	})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("join with the wrong secret: %v", err)
	}
	// Unsigned requests to the internal API are refused too.
	resp, err := http.Get(c.Members[0].URL + "/internal/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned status request: %d", resp.StatusCode)
	}
}

func TestClusterMembersAndRemove(t *testing.T) {
	c := storetest.NewCluster(t, 3, 0, storetest.ClusterOptions{})
	// Listed from a follower straight after the join: the follower may hold
	// the edge in its configuration before it applied the edge's record.
	c.AddMember("edge-1", false)
	ms, err := store.ListMembers(ctxT(t, waitLimit), nil, storetest.Secret, c.Follower().URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 {
		t.Fatalf("members = %+v", ms)
	}
	roles := map[string]string{}
	leaders := 0
	for _, m := range ms {
		roles[m.NodeID] = m.Role
		if !m.Reachable || m.AppliedIndex == 0 || m.LastContact == nil {
			t.Fatalf("member %+v lacks its state", m)
		}
		if m.Leader {
			leaders++
		}
	}
	if roles["edge-1"] != "nonvoter" || roles["control-2"] != "voter" || leaders != 1 {
		t.Fatalf("roles %v leaders %d", roles, leaders)
	}
	edge := c.Edges()[0]
	if err := store.Remove(ctxT(t, waitLimit), nil, storetest.Secret, c.Follower().URL, edge.ID); err != nil {
		t.Fatal(err)
	}
	ms, _ = store.ListMembers(ctxT(t, waitLimit), nil, storetest.Secret, c.Leader().URL)
	if len(ms) != 3 {
		t.Fatalf("after remove: %+v", ms)
	}
	err = store.Remove(ctxT(t, waitLimit), nil, storetest.Secret, c.Leader().URL, "nobody")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("removing a non-member: %v", err)
	}
}

func TestNodeReopenKeepsEverything(t *testing.T) {
	c := storetest.NewCluster(t, 1, 0, storetest.ClusterOptions{})
	m := c.Members[0]
	res, err := m.Node.Apply(ctxT(t, waitLimit), store.Txn{Ops: []store.Op{put("keep", "me")}})
	if err != nil {
		t.Fatal(err)
	}
	m.Kill()
	m.Start(true) // bootstrap on existing state is a no-op
	if it, err := m.Node.Get([]byte("keep")); err != nil || it.Version != res.Index {
		t.Fatalf("after reopen: %+v, %v", it, err)
	}
	c.Leader()
	if _, err := m.Node.Apply(ctxT(t, waitLimit), store.Txn{Conds: []store.Cond{store.AtVersion([]byte("keep"), res.Index)}, Ops: []store.Op{put("keep", "v2")}}); err != nil {
		t.Fatal(err)
	}
}

func TestClusterOverMutualTLS(t *testing.T) {
	server, _ := store.TestTLSConfigs(t)
	c := storetest.NewCluster(t, 3, 1, storetest.ClusterOptions{TLS: server})
	res, err := applyAsClient(t, c.Edges()[0].Node, store.Txn{Ops: []store.Op{put("over-tls", "yes")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Running() {
		if err := m.Node.WaitApplied(ctxT(t, waitLimit), res.Index); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
	}
}

// A write made while the leader hands leadership over is retried, not
// reported as of unknown outcome: raft refuses it before it reaches the
// log. The transfer targets a stopped follower that is behind, so it stays
// in progress until it times out (after the election timeout) and the old
// leader carries on.
func TestClusterWriteDuringLeadershipTransfer(t *testing.T) {
	c := storetest.NewCluster(t, 3, 0, storetest.ClusterOptions{})
	leader := c.Leader()
	var target *storetest.Member
	for _, m := range c.Members {
		if m != leader {
			target = m
		}
	}
	target.Kill()
	// One write it misses: the transfer waits for it to catch up.
	if _, err := applyAsClient(t, leader.Node, store.Txn{Ops: []store.Op{put("before-transfer", "v")}}); err != nil {
		t.Fatal(err)
	}
	leader.Node.StartLeadershipTransfer(target.ID, target.RaftAddr)
	// Wait until the leader loop has taken the transfer up: from then on it
	// refuses barriers (and writes) until the transfer times out.
	waitFor(t, "transfer in progress", func() bool {
		return errors.Is(leader.Node.Raft().Barrier(waitLimit).Error(), raft.ErrLeadershipTransferInProgress)
	})
	res, err := leader.Node.Apply(ctxT(t, waitLimit), store.Txn{Ops: []store.Op{put("during-transfer", "v")}})
	if err != nil {
		t.Fatalf("write during a leadership transfer: %v", err)
	}
	if it, err := leader.Node.Get([]byte("during-transfer")); err != nil || it.Version != res.Index {
		t.Fatalf("after the write: %+v, %v", it, err)
	}
}
