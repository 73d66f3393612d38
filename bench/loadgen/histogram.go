package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram in the spirit of HdrHistogram:
// values (nanoseconds) below 256 get one bucket each; above, every power of
// two is split into 128 equal buckets, so a bucket is at most 1/128 (0.78%)
// of its lower bound wide and a reported percentile (the bucket's midpoint)
// is within 0.4% of a recorded value. Memory is fixed (histBuckets counters,
// ~35 KiB) and Record neither allocates nor locks; a Histogram is not safe
// for concurrent use, so each worker owns one and they are merged at the end.
type Histogram struct {
	counts   [histBuckets]uint64
	total    uint64
	min, max int64
	sum      float64
}

const (
	histSubBits  = 7
	histSubCount = 1 << histSubBits // buckets per power of two
	// histMaxValue caps recorded values at ~36.6 minutes; larger ones are
	// clamped (a run is capped at MaxDuration anyway).
	histMaxValue = 1<<41 - 1
	histMaxExp   = 41 - (histSubBits + 1)
	histBuckets  = histMaxExp*histSubCount + 2*histSubCount
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.Reset()
	return h
}

// Reset empties h.
func (h *Histogram) Reset() {
	*h = Histogram{min: math.MaxInt64}
}

func histIndex(v int64) int {
	e := bits.Len64(uint64(v)) - (histSubBits + 1)
	if e < 0 {
		e = 0
	}
	return e*histSubCount + int(v>>uint(e))
}

// histBounds returns the lowest value of bucket i and the bucket's width.
func histBounds(i int) (lower, width int64) {
	if i < 2*histSubCount {
		return int64(i), 1
	}
	e := i/histSubCount - 1
	m := int64(i - e*histSubCount)
	return m << uint(e), 1 << uint(e)
}

// Record adds one latency. Negative values count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > histMaxValue {
		v = histMaxValue
	}
	h.counts[histIndex(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the exact mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the value below or at which a fraction q (0..1) of the
// recorded values lie: the midpoint of the bucket holding the
// ceil(q·count)-th smallest value, clamped to the exact min and max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	rank = min(rank, h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lower, width := histBounds(i)
			v := lower + width/2
			v = max(v, h.min)
			v = min(v, h.max)
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
