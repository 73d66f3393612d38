package store_test

// Benchmarks of the replicated store on a real loopback cluster (Raft over
// TCP, Pebble on disk, everything in one process). Figures and commands are
// in bench/README.md. Latencies are collected per operation and reported as
// percentiles with b.ReportMetric; nothing here asserts on time.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/cache"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

// percentile returns the p-th percentile (0 < p <= 100, nearest rank) of ds,
// which it sorts in place; zero for no samples.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(p/100*float64(len(ds))+0.999999) - 1
	return ds[min(max(rank, 0), len(ds)-1)]
}

// reportLatency reports the p50 and p99 of ds in unit ("µs" or "ms") under
// the given metric prefix ("" gives "p50-µs").
func reportLatency(b *testing.B, ds []time.Duration, prefix, unit string) {
	b.Helper()
	scale := float64(time.Microsecond)
	if unit == "ms" {
		scale = float64(time.Millisecond)
	}
	b.ReportMetric(float64(percentile(ds, 50))/scale, prefix+"p50-"+unit)
	b.ReportMetric(float64(percentile(ds, 99))/scale, prefix+"p99-"+unit)
}

const benchKeySpace = 4096

func benchKey(prefix string, i int) []byte {
	return fmt.Appendf(nil, "bench/%s/%04d", prefix, i%benchKeySpace)
}

func putTxn(key, value []byte) store.Txn {
	return store.Txn{Ops: []store.Op{store.Put(key, value)}}
}

func applyOnce(b *testing.B, n *store.Node, txn store.Txn) store.Result {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := n.Apply(ctx, txn)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkApplySingleKey measures one-Put transactions through the leader:
// one writer at a time, then 64 concurrent writers without and with group
// commit (Config.BatchApplies).
func BenchmarkApplySingleKey(b *testing.B) {
	clusters := map[bool]*storetest.Cluster{}
	cluster := func(batched bool) *storetest.Cluster {
		if c, ok := clusters[batched]; ok {
			return c
		}
		c := storetest.NewCluster(b, 3, 0, storetest.FastTimeouts(storetest.ClusterOptions{BatchApplies: batched}))
		clusters[batched] = c
		return c
	}
	value := storetest.BenchValue(0)

	b.Run("serial", func(b *testing.B) {
		leader := cluster(false).Leader().Node
		lat := make([]time.Duration, 0, 1024)
		i := 0
		for b.Loop() {
			start := time.Now()
			applyOnce(b, leader, putTxn(benchKey("apply", i), value))
			lat = append(lat, time.Since(start))
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		reportLatency(b, lat, "", "ms")
	})
	concurrent := func(batched bool) func(*testing.B) {
		return func(b *testing.B) {
			const workers = 64
			leader := cluster(batched).Leader().Node
			lats := make([][]time.Duration, workers)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						start := time.Now()
						_, err := leader.Apply(ctx, putTxn(benchKey("apply", i), value))
						lats[w] = append(lats[w], time.Since(start))
						cancel()
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			reportLatency(b, slices.Concat(lats...), "", "ms")
		}
	}
	b.Run("concurrent-64", concurrent(false))
	b.Run("concurrent-64-batched", concurrent(true))
}

// BenchmarkEdgeVisibility measures how long after the leader's Apply
// returns the write is readable on an edge. The edge's subscriber stamps the
// arrival: it runs once the entry is committed to the edge's Pebble, so Get
// already returns the value at that instant.
func BenchmarkEdgeVisibility(b *testing.B) {
	c := storetest.NewCluster(b, 3, 1, storetest.FastTimeouts(storetest.ClusterOptions{}))
	leader, edge := c.Leader().Node, c.Edges()[0].Node

	type arrival struct {
		index uint64
		at    time.Time
	}
	arrivals := make(chan arrival, 4096)
	defer edge.Subscribe(func(ev store.Event) {
		select {
		case arrivals <- arrival{ev.Index, time.Now()}:
		default: // never block the apply path; the waiter below times out
		}
	})()

	value := storetest.BenchValue(0)
	lat := make([]time.Duration, 0, 1024)
	early := 0
	i := 0
	for b.Loop() {
		res := applyOnce(b, leader, putTxn(benchKey("vis", i), value))
		done := time.Now()
		i++
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case a := <-arrivals:
				if a.index < res.Index {
					continue // an older write (membership, reaper)
				}
				d := a.at.Sub(done)
				if d < 0 {
					early++ // the edge applied it before the leader's Apply returned
					d = 0
				}
				lat = append(lat, d)
				break wait
			case <-timeout:
				b.Fatalf("index %d not applied on the edge within 10s", res.Index)
			}
		}
	}
	reportLatency(b, lat, "", "µs")
	b.ReportMetric(float64(early)/float64(len(lat)), "early-frac")
}

// maxKills bounds the kills of one BenchmarkFailover sub-benchmark: each
// takes about a second of wall time with the restart. Run it with
// -benchtime=20x.
const maxKills = 20

// BenchmarkFailover kills the leader and measures the time from the kill to
// the first write a surviving voter gets acknowledged by the new leader. The
// killed member is restarted on its data dir, and the cluster waited on to
// be whole, with the timer stopped.
//
// retry-50ms retries Node.Apply with 50ms contexts until one succeeds;
// one-apply makes a single call with a 10s context and relies on Apply's own
// retry loop, as a request handler would. elect-* is the time until a
// survivor reports itself leader, lag-* the time from then to the ack.
// ns/op is overridden with the mean failover (iterations past maxKills do
// nothing).
func BenchmarkFailover(b *testing.B) {
	c := storetest.NewCluster(b, 3, 0, storetest.FastTimeouts(storetest.ClusterOptions{}))
	b.Run("retry-50ms", func(b *testing.B) { benchFailover(b, c, 50*time.Millisecond) })
	b.Run("one-apply", func(b *testing.B) { benchFailover(b, c, 10*time.Second) })
}

func benchFailover(b *testing.B, c *storetest.Cluster, perAttempt time.Duration) {
	value := storetest.BenchValue(0)
	var (
		failovers, elections, lags []time.Duration
		attempts                   int
		i                          int
	)
	for b.Loop() {
		if len(failovers) >= maxKills {
			continue
		}
		old := c.Leader()
		var survivors []*storetest.Member
		for _, m := range c.Running() {
			if m.Voter && m != old {
				survivors = append(survivors, m)
			}
		}
		via := survivors[i%len(survivors)]
		key := benchKey("failover", i)
		i++

		start := time.Now()
		old.Kill()
		elected := make(chan time.Duration, 1)
		go func() {
			for {
				for _, m := range survivors {
					if m.Node.IsLeader() {
						elected <- time.Since(start)
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
		for {
			attempts++
			ctx, cancel := context.WithTimeout(context.Background(), perAttempt)
			_, err := via.Node.Apply(ctx, putTxn(key, value))
			cancel()
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrNoLeader) && !errors.Is(err, store.ErrOutcomeUnknown) && !errors.Is(err, context.DeadlineExceeded) {
				b.Logf("failover write through %s: %v", via.ID, err)
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no write acknowledged within 30s of killing %s: %v", old.ID, err)
			}
		}
		d := time.Since(start)
		e := <-elected
		failovers, elections, lags = append(failovers, d), append(elections, e), append(lags, d-e)

		b.StopTimer()
		old.Start(false)
		for _, m := range c.Running() {
			c.WaitReady(m)
		}
		b.StartTimer()
	}
	if len(failovers) == 0 {
		return
	}
	if b.N > maxKills {
		b.Logf("b.N=%d: only %d kills performed (use -benchtime=%dx)", b.N, maxKills, maxKills)
	}
	var sum time.Duration
	for _, d := range failovers {
		sum += d
	}
	k := float64(len(failovers))
	b.ReportMetric(float64(sum.Nanoseconds())/k, "ns/op")
	b.ReportMetric(k, "kills")
	b.ReportMetric(float64(attempts)/k, "attempts/kill")
	reportLatency(b, failovers, "", "ms")
	reportLatency(b, elections, "elect-", "ms")
	reportLatency(b, lags, "lag-", "ms")
}

const getKeys = 1024

// readCluster starts a 3-voter, 1-edge cluster holding getKeys client
// documents and returns the edge (reads are served at the edge) and keys.
func readCluster(b *testing.B) (*store.Node, [][]byte) {
	b.Helper()
	c := storetest.NewCluster(b, 3, 1, storetest.FastTimeouts(storetest.ClusterOptions{}))
	keys := make([][]byte, getKeys)
	var ops []store.Op
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "t/acme/client/%04d", i)
		ops = append(ops, store.Put(keys[i], storetest.BenchValue(i)))
	}
	res := applyOnce(b, c.Leader().Node, store.Txn{Ops: ops})
	edge := c.Edges()[0].Node
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := edge.WaitApplied(ctx, res.Index); err != nil {
		b.Fatal(err)
	}
	return edge, keys
}

// BenchmarkNodeGet reads an edge's Pebble directly: raw is Get alone,
// decoded adds the JSON decoding every read would pay without the cache.
func BenchmarkNodeGet(b *testing.B) {
	node, keys := readCluster(b)
	for _, decode := range []bool{false, true} {
		name := "raw"
		if decode {
			name = "decoded"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				it, err := node.Get(keys[i%getKeys])
				if err != nil {
					b.Fatal(err)
				}
				if decode {
					if _, err := storetest.DecodeBenchClient(it); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
		})
	}
}

// BenchmarkNodeCachedGet reads the same keys through a cache.Cache over the
// edge node, after warming it (every read is a hit).
func BenchmarkNodeCachedGet(b *testing.B) {
	node, keys := readCluster(b)
	c, err := cache.New(node, storetest.DecodeBenchClient, cache.Options{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		for _, k := range keys {
			if _, err := c.Get(k); err != nil {
				b.Fatal(err)
			}
		}
	}
	warm := c.Stats()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Get(keys[i%getKeys]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	st := c.Stats()
	hits, misses := st.Hits-warm.Hits, st.Misses-warm.Misses
	b.ReportMetric(float64(hits)/float64(hits+misses), "hit-ratio")
}
