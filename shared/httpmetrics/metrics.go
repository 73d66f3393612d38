package httpmetrics

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RouteOther is the route label of a request that matched no route (an
// unknown path, or a request rejected before routing).
const RouteOther = "other"

// methodOther is the method label of a non-standard method.
const methodOther = "other"

// Metric names, exported so dashboards and tests do not retype them.
const (
	RequestsTotalName   = "authok_http_requests_total"
	RequestDurationName = "authok_http_request_duration_seconds"
)

// durationBuckets suit a server whose fastest answers (health probes, a
// cached client_credentials grant) take tens of microseconds and whose
// slowest (proxied Management API writes through Raft) take seconds.
var durationBuckets = []float64{
	50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5, 10,
}

// Buckets returns a copy of the histogram's upper bounds, in seconds.
func Buckets() []float64 { return append([]float64(nil), durationBuckets...) }

// Metrics holds the request counter and duration histogram. A nil *Metrics
// is valid and measures nothing. Safe for concurrent use.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New creates the metrics and registers them on reg.
//
// If reg already holds metrics of the same names and labels (dev mode runs
// the edge and the control plane in one process on one registry), New reuses
// them, so every *Metrics built on one registry feeds the same series.
func New(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("httpmetrics: nil Registerer")
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: RequestsTotalName,
		Help: "HTTP requests served, by server, matched route, method and status code.",
	}, []string{"server", "route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    RequestDurationName,
		Help:    "Time from the start of an HTTP request to the return of its handler, in seconds.",
		Buckets: durationBuckets,
	}, []string{"server", "route", "method"})

	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	return &Metrics{requests: requests, duration: duration}, nil
}

// register registers c on reg, or returns the identical collector reg
// already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("httpmetrics: register: %w", err)
}

// Route returns the pre-resolved metrics of one route on one server. server
// names the server ("edge", "control"); route must come from a bounded set
// (a registered pattern, "proxy", RouteOther), never from the request.
//
// Call it once per route when the route is registered and keep the result;
// it returns nil (which measures nothing) when m is nil.
func (m *Metrics) Route(server, route string) *Route {
	if m == nil {
		return nil
	}
	return &Route{m: m, server: server, route: route}
}

// Route is the metrics of one route on one server. A nil *Route is valid and
// measures nothing. Safe for concurrent use.
type Route struct {
	m             *Metrics
	server, route string

	mu      sync.Mutex // serialises creation of series
	methods [len(methodNames)]atomic.Pointer[series]
}

// series is one (server, route, method): its histogram and the counters of
// the statuses seen so far.
type series struct {
	method   string
	duration prometheus.Observer
	statuses atomic.Pointer[[]statusCounter] // copy on write
}

type statusCounter struct {
	status  int
	counter prometheus.Counter
}

// Observe records one request: its method, the status code written and the
// time it took. It does not allocate once the (method, status) pair has been
// seen on this route.
func (r *Route) Observe(method string, status int, d time.Duration) {
	if r == nil {
		return
	}
	s := r.methods[methodIndex(method)].Load()
	if s == nil {
		s = r.newSeries(methodIndex(method))
	}
	s.duration.Observe(d.Seconds())
	s.counter(r, status).Inc()
}

// Count records one request without timing it: for requests rejected
// before a handler ran, whose duration the server does not know. Such
// requests appear in the counter but not in the histogram.
func (r *Route) Count(method string, status int) {
	if r == nil {
		return
	}
	s := r.methods[methodIndex(method)].Load()
	if s == nil {
		s = r.newSeries(methodIndex(method))
	}
	s.counter(r, status).Inc()
}

func (r *Route) newSeries(i int) *series {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.methods[i].Load(); s != nil {
		return s
	}
	method := methodNames[i]
	s := &series{
		method:   method,
		duration: r.m.duration.WithLabelValues(r.server, r.route, method),
	}
	s.statuses.Store(new([]statusCounter))
	r.methods[i].Store(s)
	return s
}

func (s *series) counter(r *Route, status int) prometheus.Counter {
	for _, sc := range *s.statuses.Load() {
		if sc.status == status {
			return sc.counter
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *s.statuses.Load()
	for _, sc := range old {
		if sc.status == status {
			return sc.counter
		}
	}
	c := r.m.requests.WithLabelValues(r.server, r.route, s.method, statusLabel(status))
	next := make([]statusCounter, len(old), len(old)+1)
	copy(next, old)
	next = append(next, statusCounter{status: status, counter: c})
	s.statuses.Store(&next)
	return c
}

func statusLabel(status int) string {
	if status < 100 || status > 999 {
		return "other"
	}
	return strconv.Itoa(status)
}

// methodNames are the method label values; the index is methodIndex's.
var methodNames = [...]string{
	methodOther,
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
}

// methodIndex folds a request method into methodNames. It does not retain
// method, so a caller may pass a string converted from a []byte that is
// reused later.
func methodIndex(method string) int {
	switch method {
	case "GET":
		return 1
	case "HEAD":
		return 2
	case "POST":
		return 3
	case "PUT":
		return 4
	case "PATCH":
		return 5
	case "DELETE":
		return 6
	case "OPTIONS":
		return 7
	case "CONNECT":
		return 8
	case "TRACE":
		return 9
	default:
		return 0
	}
}

// Counts reads back what reg holds: requests served, keyed
// "server route method status", and duration samples, keyed
// "server route method". For tests and diagnostics, not the request path.
func Counts(reg prometheus.Gatherer) (requests map[string]float64, samples map[string]uint64, err error) {
	mfs, err := reg.Gather()
	if err != nil {
		return nil, nil, fmt.Errorf("httpmetrics: gather: %w", err)
	}
	requests, samples = map[string]float64{}, map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetName() {
			case RequestsTotalName:
				requests[l["server"]+" "+l["route"]+" "+l["method"]+" "+l["status"]] = m.GetCounter().GetValue()
			case RequestDurationName:
				samples[l["server"]+" "+l["route"]+" "+l["method"]] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	return requests, samples, nil
}
