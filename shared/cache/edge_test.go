package cache

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

// An object cached at an edge and then updated through the leader is never
// served stale once the edge's apply index passes the write: checked on a
// real 3-voter + 1-edge Raft cluster, with readers racing the replication.
func TestEdgeCacheNeverStaleAfterApplyIndexPassesWrite(t *testing.T) {
	c := storetest.NewCluster(t, 3, 1, storetest.ClusterOptions{BatchApplies: true})
	leader, edge := c.Leader().Node, c.Edges()[0].Node
	key := []byte("t/acme/client/app")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := storetest.ApplyAsClient(ctx, t, leader, store.Txn{Ops: []store.Op{store.Put(key, []byte(`{"name":"v0"}`))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.WaitApplied(ctx, first.Index); err != nil {
		t.Fatal(err)
	}
	ec, err := New(edge, storetest.DecodeBenchClient, Options{Name: "edge"})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if got, err := ec.Get(key); err != nil || got.Version != first.Index {
		t.Fatalf("first read: %+v, %v", got, err)
	}

	var (
		mu     sync.Mutex
		writes []uint64 // indexes of acknowledged writes to key, ascending
	)
	// lastWriteAtOrBelow is the newest acknowledged write the edge had
	// applied when it reported applied.
	lastWriteAtOrBelow := func(applied uint64) uint64 {
		mu.Lock()
		defer mu.Unlock()
		i := sort.Search(len(writes), func(i int) bool { return writes[i] > applied })
		if i == 0 {
			return 0
		}
		return writes[i-1]
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reads := 0; ; reads++ {
				select {
				case <-stop:
					return
				default:
				}
				applied := edge.AppliedIndex()
				got, err := ec.Get(key)
				if err != nil {
					errs <- err
					return
				}
				if want := lastWriteAtOrBelow(applied); got.Version < want {
					errs <- fmt.Errorf("stale: served version %d after the edge applied %d (write at %d)", got.Version, applied, want)
					return
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		res, err := storetest.ApplyAsClient(ctx, t, leader, store.Txn{Ops: []store.Op{store.Put(key, fmt.Appendf(nil, `{"name":"v%d"}`, i))}})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		writes = append(writes, res.Index)
		mu.Unlock()
		if i%20 == 0 {
			// The direct form of the guarantee: once the edge has applied
			// the write, the very next read returns it.
			if err := edge.WaitApplied(ctx, res.Index); err != nil {
				t.Fatal(err)
			}
			got, err := ec.Get(key)
			if err != nil || got.Version < res.Index || got.Name != fmt.Sprintf("v%d", i) {
				t.Fatalf("after the edge applied %d: %+v, %v", res.Index, got, err)
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := ec.Stats(); s.Hits == 0 || s.Invalidations == 0 {
		t.Fatalf("the cache did no work: %+v", s)
	}
}
