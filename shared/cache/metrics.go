package cache

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are the cache's only tally: Stats reads them and the collector
// exports them, so a hit costs one atomic add, not two.
type counters struct {
	hits          atomic.Uint64
	_             [56]byte // hits and misses are hot on different paths; keep them on separate cache lines
	misses        atomic.Uint64
	invalidations atomic.Uint64
	stale         atomic.Uint64
}

// Stats is a snapshot of a cache's counters.
type Stats struct {
	Hits   uint64 // Gets served from memory
	Misses uint64 // Gets that read the store
	// Invalidations counts keys dropped by the apply feed (a Reset counts
	// as one).
	Invalidations uint64
	// Stale counts fills discarded because a write to their stripe was
	// applied while they were in flight.
	Stale uint64
}

// collector exports one cache's counters as constant metrics labelled with
// its name. Every cache registers its own collector: the registry accepts
// several collectors of one family when their const label values differ, so
// caches share the metric names without sharing state, and a second cache
// with the same name on the same registerer is an error, not a panic.
type collector struct {
	c                                  *counters
	hits, misses, invalidations, stale *prometheus.Desc
}

func newCollector(name string, c *counters) *collector {
	labels := prometheus.Labels{"name": name}
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("authok", "cache", metric), help, nil, labels)
	}
	return &collector{
		c:             c,
		hits:          desc("hits_total", "Cache lookups served from memory."),
		misses:        desc("misses_total", "Cache lookups that read the store."),
		invalidations: desc("invalidations_total", "Keys dropped from the cache by applied transactions."),
		stale:         desc("stale_fills_total", "Fills discarded because a write to their stripe raced them."),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.hits
	ch <- m.misses
	ch <- m.invalidations
	ch <- m.stale
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range []struct {
		d *prometheus.Desc
		v *atomic.Uint64
	}{{m.hits, &m.c.hits}, {m.misses, &m.c.misses}, {m.invalidations, &m.c.invalidations}, {m.stale, &m.c.stale}} {
		ch <- prometheus.MustNewConstMetric(p.d, prometheus.CounterValue, float64(p.v.Load()))
	}
}
