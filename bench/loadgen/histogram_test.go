package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	values := []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 12345, 1 << 20, 1<<20 + 1, 987654321, histMaxValue}
	for v := int64(1); v < histMaxValue; v = v*3 + 1 {
		values = append(values, v, v-1, v+1)
	}
	for _, v := range values {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d, outside 0..%d", v, i, histBuckets-1)
		}
		lower, width := histBounds(i)
		if v < lower || v >= lower+width {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, lower, lower+width)
		}
		if lower >= 256 && float64(width)/float64(lower) > 1.0/128 {
			t.Errorf("bucket %d: width %d is more than 1/128 of %d", i, width, lower)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"uniform 1µs..100ms", func(i int) time.Duration { return time.Duration(i+1) * 1000 }, 100_000},
		{"lognormal around 1ms", func(int) time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*0.8) * 1e6)
		}, 200_000},
		{"bimodal 200µs and 30ms", func(i int) time.Duration {
			if i%100 < 97 {
				return 200*time.Microsecond + time.Duration(rng.IntN(50_000))
			}
			return 30*time.Millisecond + time.Duration(rng.IntN(5_000_000))
		}, 100_000},
		{"sub-microsecond", func(i int) time.Duration { return time.Duration(i % 300) }, 30_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram()
			exact := make([]time.Duration, tt.n)
			for i := range exact {
				exact[i] = tt.gen(i)
				h.Record(exact[i])
			}
			slices.Sort(exact)
			if h.Count() != uint64(tt.n) {
				t.Fatalf("Count = %d, want %d", h.Count(), tt.n)
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := exact[int(math.Ceil(q*float64(tt.n)))-1]
				got := h.Quantile(q)
				if diff := math.Abs(float64(got-want)) / float64(want); diff > 0.01 && math.Abs(float64(got-want)) > 1 {
					t.Errorf("p%g = %v, exact %v (off by %.2f%%)", q*100, got, want, diff*100)
				}
			}
			if h.Min() != exact[0] || h.Max() != exact[tt.n-1] {
				t.Errorf("min/max = %v/%v, want %v/%v", h.Min(), h.Max(), exact[0], exact[tt.n-1])
			}
		})
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 10_000 {
		d := time.Duration(i*i) + time.Microsecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	for _, q := range []float64{0.1, 0.5, 0.99, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged p%g = %v, want %v", q*100, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Errorf("merged count/min/max/mean differ")
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 || a.Min() != 0 || a.Mean() != 0 {
		t.Errorf("reset histogram not empty")
	}
}

func TestHistogramClampsOutOfRange(t *testing.T) {
	h := NewHistogram()
	h.Record(-5)
	h.Record(100 * time.Hour)
	if h.Min() != 0 || h.Max() != histMaxValue {
		t.Errorf("min/max = %v/%v, want 0/%v", h.Min(), h.Max(), time.Duration(histMaxValue))
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	h := NewHistogram()
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234567) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * 1000)
	}
}
