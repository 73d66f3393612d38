package httpmetrics_test

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/shared/httpmetrics"
)

type observation struct {
	server, route, method string
	status                int
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name     string
		observe  []observation
		counters map[string]float64 // "server route method status" -> count
		samples  map[string]uint64  // "server route method" -> histogram count
	}{
		{
			name: "one request",
			observe: []observation{
				{"edge", "/healthz", "GET", 200},
			},
			counters: map[string]float64{"edge /healthz GET 200": 1},
			samples:  map[string]uint64{"edge /healthz GET": 1},
		},
		{
			name: "statuses and methods are separate series",
			observe: []observation{
				{"control", "/api/v1/users/{id}", "GET", 200},
				{"control", "/api/v1/users/{id}", "GET", 200},
				{"control", "/api/v1/users/{id}", "GET", 404},
				{"control", "/api/v1/users/{id}", "DELETE", 204},
			},
			counters: map[string]float64{
				"control /api/v1/users/{id} GET 200":    2,
				"control /api/v1/users/{id} GET 404":    1,
				"control /api/v1/users/{id} DELETE 204": 1,
			},
			samples: map[string]uint64{
				"control /api/v1/users/{id} GET":    3,
				"control /api/v1/users/{id} DELETE": 1,
			},
		},
		{
			name: "unknown methods fold into other",
			observe: []observation{
				{"edge", "proxy", "PROPFIND", 405},
				{"edge", "proxy", "get", 405},
				{"edge", "proxy", "BREW", 405},
			},
			counters: map[string]float64{"edge proxy other 405": 3},
			samples:  map[string]uint64{"edge proxy other": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m, err := httpmetrics.New(reg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			routes := map[[2]string]*httpmetrics.Route{}
			for _, o := range tt.observe {
				k := [2]string{o.server, o.route}
				if routes[k] == nil {
					routes[k] = m.Route(o.server, o.route)
				}
				routes[k].Observe(o.method, o.status, 100*time.Microsecond)
			}
			counters, samples := gather(t, reg)
			assertEqualMaps(t, "counters", counters, tt.counters)
			assertEqualMaps(t, "histogram counts", samples, tt.samples)
		})
	}
}

func TestNewReusesRegisteredMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := httpmetrics.New(reg)
	if err != nil {
		t.Fatalf("first New: %v", err)
	}
	b, err := httpmetrics.New(reg)
	if err != nil {
		t.Fatalf("second New on the same registry: %v", err)
	}
	a.Route("edge", "proxy").Observe("GET", 200, time.Millisecond)
	b.Route("edge", "proxy").Observe("GET", 200, time.Millisecond)
	counters, _ := gather(t, reg)
	assertEqualMaps(t, "counters", counters, map[string]float64{"edge proxy GET 200": 2})
}

func TestNewErrors(t *testing.T) {
	conflicting := prometheus.NewRegistry()
	conflicting.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{
		Name: httpmetrics.RequestsTotalName, Help: "same name, other labels",
	}))
	tests := []struct {
		name string
		reg  prometheus.Registerer
	}{
		{name: "nil registerer", reg: nil},
		{name: "name taken with other labels", reg: conflicting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := httpmetrics.New(tt.reg); err == nil {
				t.Fatal("New: got nil error")
			}
		})
	}
}

func TestNilIsNoop(t *testing.T) {
	var m *httpmetrics.Metrics
	r := m.Route("edge", "/healthz")
	if r != nil {
		t.Fatalf("nil Metrics: Route = %v, want nil", r)
	}
	r.Observe("GET", 200, time.Millisecond) // must not panic
}

func TestBucketsStartAt50us(t *testing.T) {
	b := httpmetrics.Buckets()
	if len(b) == 0 || b[0] != 50e-6 {
		t.Fatalf("first bucket = %v, want 50µs", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("buckets not increasing at %d: %v", i, b)
		}
	}
}

func TestObserveConcurrent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := httpmetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Route("edge", "/oauth/token")
	const goroutines, perG = 16, 200
	statuses := []int{200, 400, 401, 500}
	methods := []string{"GET", "POST"}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				r.Observe(methods[(g+i)%2], statuses[i%len(statuses)], time.Microsecond)
			}
		})
	}
	wg.Wait()
	counters, _ := gather(t, reg)
	var total float64
	for _, v := range counters {
		total += v
	}
	if want := float64(goroutines * perG); total != want {
		t.Fatalf("total = %v, want %v", total, want)
	}
	if len(counters) != len(methods)*len(statuses) {
		t.Fatalf("series = %d, want %d: %v", len(counters), len(methods)*len(statuses), counters)
	}
}

func TestObserveDoesNotAllocate(t *testing.T) {
	m, err := httpmetrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := m.Route("edge", "/healthz")
	method := []byte("GET")
	r.Observe("GET", 200, time.Microsecond) // first use creates the series
	allocs := testing.AllocsPerRun(1000, func() {
		r.Observe(string(method), 200, time.Microsecond)
	})
	if allocs != 0 {
		t.Fatalf("Observe allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkObserve(b *testing.B) {
	m, err := httpmetrics.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	r := m.Route("edge", "/oauth/token")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe("POST", 200, 80*time.Microsecond)
		}
	})
}

// gather returns the request counters and histogram sample counts in reg.
func gather(t *testing.T, reg prometheus.Gatherer) (map[string]float64, map[string]uint64) {
	t.Helper()
	counters, samples, err := httpmetrics.Counts(reg)
	if err != nil {
		t.Fatal(err)
	}
	return counters, samples
}

func assertEqualMaps[V comparable](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s[%q] = %v, want %v (all: %v)", what, k, g, w, got)
		}
	}
}

func TestCountDoesNotTime(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := httpmetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Route("edge", httpmetrics.RouteOther)
	r.Count("POST", 413)
	r.Count("POST", 413)
	counters, samples := gather(t, reg)
	assertEqualMaps(t, "counters", counters, map[string]float64{"edge other POST 413": 2})
	assertEqualMaps(t, "histogram counts", samples, map[string]uint64{"edge other POST": 0})
	var nilRoute *httpmetrics.Route
	nilRoute.Count("GET", 200) // must not panic
}
