package store

import (
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// nodeMetrics are a node's Prometheus metrics: Raft state and indexes read
// at scrape time, and latency histograms of writes.
type nodeMetrics struct {
	reg            prometheus.Registerer
	collectors     []prometheus.Collector
	applySeconds   prometheus.Histogram
	forwardSeconds prometheus.Histogram
}

var latencyBuckets = []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5}

func newNodeMetrics(n *Node, reg prometheus.Registerer) *nodeMetrics {
	m := &nodeMetrics{
		reg: reg,
		applySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "authok_store_apply_seconds", Help: "Time for the leader to commit and apply a write.", Buckets: latencyBuckets,
		}),
		forwardSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "authok_store_forward_seconds", Help: "Time for a write forwarded to the leader to be acknowledged, retries included.", Buckets: latencyBuckets,
		}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.collectors = []prometheus.Collector{
		m.applySeconds, m.forwardSeconds,
		gauge("authok_raft_applied_index", "Index of the last transaction applied to the local state.", func() float64 { return float64(n.st.applied.Load()) }),
		gauge("authok_raft_commit_index", "Commit index known to this node.", func() float64 { return float64(n.raft.CommitIndex()) }),
		gauge("authok_raft_last_log_index", "Index of the last entry in the local Raft log.", func() float64 { return float64(n.raft.LastIndex()) }),
		gauge("authok_raft_is_leader", "1 if this node is the leader.", func() float64 { return b2f(n.raft.State() == raft.Leader) }),
		gauge("authok_raft_leader_known", "1 if this node knows a leader.", func() float64 { id, _ := n.Leader(); return b2f(id != "") }),
		gauge("authok_raft_state", "Raft state: 0 follower, 1 candidate, 2 leader, 3 shutdown.", func() float64 { return float64(n.raft.State()) }),
		gauge("authok_raft_last_contact_seconds", "Seconds since this follower last heard from the leader (0 on the leader).", func() float64 {
			if n.raft.State() == raft.Leader {
				return 0
			}
			lc := n.raft.LastContact()
			if lc.IsZero() {
				return -1
			}
			return n.cfg.Now().Sub(lc).Seconds()
		}),
	}
	if reg != nil {
		for _, c := range m.collectors {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *nodeMetrics) unregister() {
	if m == nil || m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
