package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Target is the request every worker repeats.
type Target struct {
	Method      string
	Path        string // appended to each base URL
	ContentType string
	Body        []byte
}

// ClientCredentialsTarget is POST /oauth/token with a client_credentials
// form, the client authenticating with client_secret_post (API.md B.4).
func ClientCredentialsTarget(clientID, clientSecret, audience string) Target {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"audience":      {audience},
	}
	return Target{
		Method:      fasthttp.MethodPost,
		Path:        "/oauth/token",
		ContentType: "application/x-www-form-urlencoded",
		Body:        []byte(form.Encode()),
	}
}

// JWKSTarget is GET /.well-known/jwks.json (API.md B.10).
func JWKSTarget() Target {
	return Target{Method: fasthttp.MethodGet, Path: "/.well-known/jwks.json"}
}

// LoadOptions bounds and shapes one run. Duration or Requests must be set.
type LoadOptions struct {
	URLs        []*url.URL
	Target      Target
	Concurrency int
	Duration    time.Duration
	Requests    int64
	Warmup      time.Duration
	Rate        float64 // total requests per second; 0 = unthrottled
	Timeout     time.Duration
	// OnMeasure, when set, is called as the measured window opens (after
	// the warmup) and again as it closes (after every worker stopped);
	// the caller reads CPU counters there.
	OnMeasure func(start bool)
}

// LoadResult is what the measured window saw. Latencies of 200 answers
// only are in Latency; every other answer and every transport error is
// counted in Errors.
type LoadResult struct {
	Requests        int64         `json:"requests"` // completed in the window, errors included
	OK              int64         `json:"ok"`
	Errors          int64         `json:"errors"`
	TransportErrors int64         `json:"transport_errors"`
	Status          map[int]int64 `json:"status"` // non-200 answers by status
	ErrorSamples    []string      `json:"error_samples,omitempty"`
	Elapsed         time.Duration `json:"elapsed_ns"`
	Interrupted     bool          `json:"interrupted,omitempty"`
	Latency         *Histogram    `json:"-"`
	Started         time.Time     `json:"started"`
}

// Throughput is completed requests per second of the window.
func (r *LoadResult) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

const maxErrorSamples = 5

type workerResult struct {
	hist            Histogram
	requests, ok    int64
	transportErrors int64
	status          map[int]int64
	samples         []string
}

func (w *workerResult) sample(s string) {
	if len(w.samples) < maxErrorSamples {
		w.samples = append(w.samples, s)
	}
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

type runState struct {
	opts     LoadOptions
	phase    atomic.Int32
	issued   atomic.Int64 // measured requests started (Requests bound)
	slot     atomic.Int64 // next rate slot
	rate0    time.Time
	interval time.Duration
	done     chan struct{} // closed on stop, wakes rate sleepers
	stopOnce sync.Once
}

func (s *runState) stop() {
	s.stopOnce.Do(func() {
		s.phase.Store(phaseStop)
		close(s.done)
	})
}

// Run drives the target with a fixed pool of workers until the window's
// bound (Duration or Requests, within the hard caps) is reached or ctx is
// cancelled; an interrupted run still returns what it measured.
func Run(ctx context.Context, opts LoadOptions) (*LoadResult, error) {
	if len(opts.URLs) == 0 || opts.Concurrency < 1 {
		return nil, errors.New("loadgen: Run needs URLs and Concurrency ≥ 1")
	}
	if opts.Duration <= 0 && opts.Requests <= 0 {
		return nil, errors.New("loadgen: Run needs Duration or Requests")
	}
	if opts.Duration > MaxDuration || opts.Requests > MaxRequests {
		return nil, fmt.Errorf("loadgen: Run is capped at %s and %d requests", MaxDuration, MaxRequests)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	s := &runState{opts: opts, done: make(chan struct{})}
	if opts.Rate > 0 {
		s.interval = time.Duration(float64(time.Second) / opts.Rate)
	}

	workers := make([]*worker, opts.Concurrency)
	for i := range workers {
		w, err := newWorker(i, opts)
		if err != nil {
			return nil, err
		}
		workers[i] = w
	}
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()

	res := &LoadResult{Latency: NewHistogram(), Status: map[int]int64{}}
	measuring := false
	startMeasuring := func() {
		if opts.OnMeasure != nil {
			opts.OnMeasure(true)
		}
		res.Started = time.Now()
		s.phase.Store(phaseMeasure)
		measuring = true
	}
	if opts.Warmup <= 0 {
		startMeasuring() // before any worker sends
	}

	s.rate0 = time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(s)
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	interrupted := false
	wait := func(d time.Duration) bool { // false: stop early
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			interrupted = true
			return false
		case <-allDone:
			return false
		}
	}

	if measuring || wait(opts.Warmup) {
		if !measuring {
			startMeasuring()
		}
		limit := MaxDuration
		if opts.Duration > 0 {
			limit = opts.Duration
		}
		wait(limit) // with a Requests bound, workers finish by themselves
	}
	s.stop()
	<-allDone
	if measuring {
		res.Elapsed = time.Since(res.Started)
		if opts.OnMeasure != nil {
			opts.OnMeasure(false)
		}
	}
	res.Interrupted = interrupted
	for _, w := range workers {
		r := &w.res
		res.Latency.Merge(&r.hist)
		res.Requests += r.requests
		res.OK += r.ok
		res.TransportErrors += r.transportErrors
		for code, n := range r.status {
			res.Status[code] += n
		}
		for _, smp := range r.samples {
			if len(res.ErrorSamples) < maxErrorSamples {
				res.ErrorSamples = append(res.ErrorSamples, smp)
			}
		}
	}
	res.Errors = res.Requests - res.OK
	return res, nil
}

// worker owns one fasthttp HostClient (one keep-alive connection) per base
// URL and a prepared request for each.
type worker struct {
	id      int
	clients []*fasthttp.HostClient
	reqs    []*fasthttp.Request
	resp    *fasthttp.Response
	res     workerResult
}

func newWorker(id int, opts LoadOptions) (*worker, error) {
	w := &worker{id: id, resp: fasthttp.AcquireResponse()}
	w.res.hist.Reset()
	w.res.status = map[int]int64{}
	for _, u := range opts.URLs {
		hc := &fasthttp.HostClient{
			Addr:                          hostPort(u),
			IsTLS:                         u.Scheme == "https",
			MaxConns:                      1,
			ReadBufferSize:                64 << 10, // a JWKS in one read(2)
			MaxIdemponentCallAttempts:     1,        // count failures, never retry them away
			ReadTimeout:                   opts.Timeout,
			WriteTimeout:                  opts.Timeout,
			MaxIdleConnDuration:           time.Minute,
			NoDefaultUserAgentHeader:      true,
			DisableHeaderNamesNormalizing: true,
			Dial: func(addr string) (net.Conn, error) {
				return fasthttp.DialTimeout(addr, opts.Timeout)
			},
		}
		req := fasthttp.AcquireRequest()
		req.SetRequestURI(strings.TrimRight(u.String(), "/") + opts.Target.Path)
		req.Header.SetMethod(opts.Target.Method)
		if opts.Target.ContentType != "" {
			req.Header.SetContentType(opts.Target.ContentType)
		}
		if opts.Target.Body != nil {
			req.SetBody(opts.Target.Body)
		}
		w.clients = append(w.clients, hc)
		w.reqs = append(w.reqs, req)
	}
	return w, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

func (w *worker) close() {
	for _, hc := range w.clients {
		hc.CloseIdleConnections()
	}
	for _, r := range w.reqs {
		fasthttp.ReleaseRequest(r)
	}
	fasthttp.ReleaseResponse(w.resp)
}

func (w *worker) loop(s *runState) {
	opts := &s.opts
	next := w.id // round-robin over the URLs, workers staggered
	var pace *time.Timer
	for {
		phase := s.phase.Load()
		if phase == phaseStop {
			return
		}
		measured := phase == phaseMeasure
		if measured && opts.Requests > 0 && s.issued.Add(1) > opts.Requests {
			// Not s.stop(): another worker may still be pacing towards a
			// request it has claimed; each worker leaves once the count
			// is used up, and Run sees them all gone.
			return
		}
		var start time.Time
		if s.interval > 0 {
			// Open-loop pacing: request k is due at rate0 + k·interval. The
			// latency counts from that due time, so a server that falls
			// behind is not hidden by the generator waiting for it
			// (coordinated omission).
			start = s.rate0.Add(time.Duration(s.slot.Add(1)-1) * s.interval)
			if d := time.Until(start); d > 0 {
				if pace == nil {
					pace = time.NewTimer(d)
				} else {
					pace.Reset(d) // Go ≥ 1.23: no stale value to drain
				}
				select {
				case <-pace.C:
				case <-s.done:
					pace.Stop()
					return
				}
			}
		} else {
			start = time.Now()
		}
		i := next % len(w.clients)
		next++
		err := w.clients[i].Do(w.reqs[i], w.resp)
		lat := time.Since(start)
		if !measured {
			continue
		}
		r := &w.res
		r.requests++
		switch {
		case err != nil:
			r.transportErrors++
			r.sample("transport: " + err.Error())
		case w.resp.StatusCode() != fasthttp.StatusOK:
			code := w.resp.StatusCode()
			r.status[code]++
			if len(r.samples) < maxErrorSamples {
				r.sample(fmt.Sprintf("%d %s", code, truncate(w.resp.Body(), 300)))
			}
		default:
			r.ok++
			r.hist.Record(lat)
		}
	}
}
