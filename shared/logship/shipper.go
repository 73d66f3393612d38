package logship

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// Defaults for the zero values of Config.
const (
	DefaultCapacity      = 16384
	DefaultMaxBytes      = 64 << 20
	DefaultBatchSize     = 1024
	DefaultFlushInterval = time.Second
	DefaultRetention     = 30 * 24 * time.Hour
	DefaultApplyTimeout  = 10 * time.Second
	// DefaultQuotaBytes bounds one tenant's stored log batches.
	DefaultQuotaBytes = 64 << 20
	// DefaultAggregateWindow and DefaultAggregateKeys: see Event.Aggregate.
	DefaultAggregateWindow = time.Minute
	DefaultAggregateKeys   = 256
	maxBackoff             = 30 * time.Second
	// conflictRetries is how many times a batch whose usage condition
	// failed (another node wrote the tenant's logs meanwhile) is rebuilt
	// at once before it waits out a backoff.
	conflictRetries = 4
)

// Applier is where batches go: the store (store.Local or store.Node; an
// edge's writes are forwarded to the leader).
type Applier interface {
	Apply(ctx context.Context, txn store.Txn) (store.Result, error)
}

// Config configures a Shipper. Only Store is required.
type Config struct {
	// Store is where batches go. To enforce QuotaBytes it must also be a
	// Reader (store.Local and store.Node are).
	Store Applier
	// Capacity is how many events the ring holds before dropping the
	// oldest. Default DefaultCapacity.
	Capacity int
	// MaxBytes is how many bytes of encoded events (their buffers'
	// capacity) the ring holds before dropping the oldest, whatever their
	// number; at least MaxEventBytes. Default DefaultMaxBytes.
	MaxBytes int
	// BatchSize is the most events one transaction carries. Default
	// DefaultBatchSize.
	BatchSize int
	// FlushInterval is the longest an event waits before its batch is
	// shipped. Default DefaultFlushInterval.
	FlushInterval time.Duration
	// Retention is how long the store keeps an event (its key expires at
	// date + Retention). Default DefaultRetention.
	Retention time.Duration
	// ApplyTimeout bounds one batch's transaction. Default
	// DefaultApplyTimeout.
	ApplyTimeout time.Duration
	// QuotaBytes bounds each tenant's stored log batches (keys and
	// values): a batch that would exceed it deletes the tenant's oldest
	// batches in its own transaction. Default DefaultQuotaBytes; negative
	// ships without a quota (tests whose Store cannot be read).
	QuotaBytes int64
	// AggregateWindow is how long events of one aggregation key
	// (Event.Aggregate) are counted into one summary. Default
	// DefaultAggregateWindow.
	AggregateWindow time.Duration
	// AggregateKeys bounds the distinct aggregation keys of one window;
	// beyond it, events go to their tenant's catch-all. Default
	// DefaultAggregateKeys.
	AggregateKeys int
	// Now stamps events without a date and closes aggregation windows;
	// default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Registerer receives the authok_logship_* metrics; nil leaves them
	// unregistered (Stats still counts).
	Registerer prometheus.Registerer
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("logship: Config.Store is required"))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Capacity", int64(c.Capacity)}, {"BatchSize", int64(c.BatchSize)},
		{"FlushInterval", int64(c.FlushInterval)}, {"Retention", int64(c.Retention)},
		{"ApplyTimeout", int64(c.ApplyTimeout)}, {"MaxBytes", int64(c.MaxBytes)},
		{"AggregateWindow", int64(c.AggregateWindow)}, {"AggregateKeys", int64(c.AggregateKeys)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("logship: Config.%s is negative", f.name))
		}
	}
	if c.MaxBytes > 0 && c.MaxBytes < MaxEventBytes {
		errs = append(errs, fmt.Errorf("logship: Config.MaxBytes %d is below one event's bound MaxEventBytes (%d)", c.MaxBytes, MaxEventBytes))
	}
	if _, ok := c.Store.(Reader); c.Store != nil && c.QuotaBytes >= 0 && !ok {
		errs = append(errs, errors.New("logship: Config.Store cannot be read (Get, Scan), so the log quota cannot be enforced; set QuotaBytes negative to ship without one"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	c.Capacity = cmp.Or(c.Capacity, DefaultCapacity)
	c.MaxBytes = cmp.Or(c.MaxBytes, DefaultMaxBytes)
	c.BatchSize = cmp.Or(c.BatchSize, DefaultBatchSize)
	c.BatchSize = min(c.BatchSize, c.Capacity)
	c.FlushInterval = cmp.Or(c.FlushInterval, DefaultFlushInterval)
	c.Retention = cmp.Or(c.Retention, DefaultRetention)
	c.ApplyTimeout = cmp.Or(c.ApplyTimeout, DefaultApplyTimeout)
	c.QuotaBytes = cmp.Or(c.QuotaBytes, DefaultQuotaBytes)
	c.AggregateWindow = cmp.Or(c.AggregateWindow, DefaultAggregateWindow)
	c.AggregateKeys = cmp.Or(c.AggregateKeys, DefaultAggregateKeys)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Shipper is the ring and its shipping goroutine. Record is safe for
// concurrent use, and a nil *Shipper records nothing.
type Shipper struct {
	cfg    Config
	reader Reader // nil without a quota
	agg    *aggregator

	mu    sync.Mutex
	ring  []entry
	head  uint64 // sequence number of the oldest event held
	tail  uint64 // sequence number the next event gets
	bytes int    // the held events' cap(value), at most cfg.MaxBytes

	shipMu sync.Mutex // one batch in flight at a time

	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wake    chan struct{}
	done    chan struct{}
	started atomic.Bool
	closed  atomic.Bool
	unreg   func()

	counters
}

type entry struct {
	tenant string
	id     [IDLength]byte
	date   time.Time
	value  []byte
}

// New builds a Shipper. Start runs its goroutine; Close stops it.
func New(cfg Config) (*Shipper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Shipper{
		cfg:   cfg,
		agg:   newAggregator(cfg.AggregateWindow, cfg.AggregateKeys),
		ring:  make([]entry, cfg.Capacity),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		unreg: func() {},
	}
	if cfg.QuotaBytes > 0 {
		s.reader = cfg.Store.(Reader) // Validate checked
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if reg := cfg.Registerer; reg != nil {
		col := newCollector(s)
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("logship: register metrics: %w", err)
		}
		s.unreg = func() { reg.Unregister(col) }
	}
	return s, nil
}

// Start runs the shipping goroutine until Close.
func (s *Shipper) Start() {
	if s.started.Swap(true) {
		return
	}
	go s.run()
}

// Record encodes e and queues it for shipping; it never blocks on the
// store. With the ring full, by count or by bytes, the oldest events are
// dropped until the new one fits. e and its slices are not kept. An event
// with an aggregation key may be counted instead (see Event.Aggregate).
func (s *Shipper) Record(e *Event) {
	if s == nil || e.Tenant == "" {
		return
	}
	date := e.Date
	if date.IsZero() {
		date = s.cfg.Now()
	}
	if e.Aggregate != "" {
		record, summaries := s.agg.admit(e, date)
		s.recordAll(summaries)
		if !record {
			s.aggregated.Add(1)
			return
		}
	}
	s.record(e, date)
}

// recordAll records the summaries of a closed aggregation window.
func (s *Shipper) recordAll(summaries []Event) {
	for i := range summaries {
		s.record(&summaries[i], summaries[i].Date)
	}
}

// record encodes e, dated date, into the ring.
func (s *Shipper) record(e *Event, date time.Time) {
	// The ULID's 80 random bits only need to be unique, not secret: the
	// runtime's per-thread generator, without a lock.
	var ent [10]byte
	binary.LittleEndian.PutUint64(ent[0:8], rand.Uint64())
	binary.LittleEndian.PutUint16(ent[8:10], uint16(rand.Uint32()))
	var id [IDLength]byte
	appendID(id[:0], date, ent)
	hint := e.sizeHint()
	value := e.appendJSON(make([]byte, 0, hint), id[:], date)
	if len(value) > hint {
		// Escaping outgrew the hint (a rare, odd event) and append grew
		// the buffer by its own rule: keep an exact copy, so that what
		// the ring counts, cap(value), is at most MaxEventBytes (as the
		// hint is).
		value = append(make([]byte, 0, len(value)), value...)
	}
	size := cap(value) // what the ring keeps alive

	s.mu.Lock()
	// size <= MaxBytes (Validate), so this stops once the ring is empty
	// at the latest.
	for s.tail-s.head == uint64(len(s.ring)) || (s.bytes+size > s.cfg.MaxBytes && s.tail > s.head) {
		s.dropOldest()
	}
	s.ring[s.tail%uint64(len(s.ring))] = entry{tenant: e.Tenant, id: id, date: date, value: value}
	s.tail++
	s.bytes += size
	full := s.tail-s.head >= uint64(s.cfg.BatchSize)
	s.mu.Unlock()
	s.recorded.Add(1)
	if full {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// dropOldest drops the oldest event held; s.mu is held.
func (s *Shipper) dropOldest() {
	old := &s.ring[s.head%uint64(len(s.ring))]
	s.bytes -= cap(old.value)
	*old = entry{}
	s.head++
	s.dropped.Add(1)
}

// Close stops the goroutine and ships what is left until ctx ends; the
// error says how many events were not shipped. Record after Close drops.
func (s *Shipper) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	if s.started.Load() {
		<-s.done
	}
	defer s.unreg()
	// What the open window counted is recorded now, not lost.
	s.recordAll(s.agg.roll(s.cfg.Now(), true))
	for {
		n, err := s.shipOnce(ctx)
		if err != nil || ctx.Err() != nil {
			if left := s.Buffered(); left > 0 {
				return fmt.Errorf("logship: %d events not shipped: %w", left, errors.Join(err, ctx.Err()))
			}
			return nil
		}
		if n == 0 {
			return nil
		}
	}
}

// Flush ships everything queued now, for tests and orderly handovers.
func (s *Shipper) Flush(ctx context.Context) error {
	for {
		n, err := s.shipOnce(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Buffered is how many events wait in the ring.
func (s *Shipper) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.tail - s.head)
}

func (s *Shipper) run() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	var backoff time.Duration
	var retry <-chan time.Time // set while waiting out a failure
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-retry:
			retry = nil
		case <-t.C:
		case <-s.wake:
		}
		if retry != nil {
			continue
		}
		if err := s.drain(s.ctx); err != nil {
			if s.ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), maxBackoff)
			s.cfg.Logger.Warn("logship: shipping log events failed; retrying",
				"err", err, "buffered", s.Buffered(), "retry_in", backoff)
			retry = time.After(backoff)
			continue
		}
		backoff = 0
	}
}

// drain ships batches until less than a full batch was left.
func (s *Shipper) drain(ctx context.Context) error {
	for {
		n, err := s.shipOnce(ctx)
		if err != nil || n == 0 || s.Buffered() < s.cfg.BatchSize {
			return err
		}
	}
}

// shipOnce ships the oldest batch and reports how many events it held.
func (s *Shipper) shipOnce(ctx context.Context) (int, error) {
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	s.recordAll(s.agg.roll(s.cfg.Now(), false))
	s.mu.Lock()
	first := s.head
	var batch []entry
	size := 0
	for seq := first; seq < s.tail && len(batch) < s.cfg.BatchSize; seq++ {
		e := s.ring[seq%uint64(len(s.ring))]
		if size += len(e.value); size > maxShipBytes && len(batch) > 0 {
			break
		}
		batch = append(batch, e)
	}
	n := uint64(len(batch))
	s.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	if err := s.apply(ctx, batch); err != nil {
		s.failed.Add(1)
		return 0, fmt.Errorf("logship: apply %d events: %w", n, err)
	}
	s.mu.Lock()
	// Events dropped meanwhile moved head already; free only what is
	// still held.
	end := first + n
	for seq := max(s.head, first); seq < end; seq++ {
		e := &s.ring[seq%uint64(len(s.ring))]
		s.bytes -= cap(e.value)
		*e = entry{}
	}
	s.head = max(s.head, end)
	s.mu.Unlock()
	s.shipped.Add(n)
	return int(n), nil
}

// apply writes batch in one transaction. A transaction whose usage
// condition failed (another node wrote one of its tenants' logs since the
// usage was read) is rebuilt from the new usage and tried again.
func (s *Shipper) apply(ctx context.Context, batch []entry) error {
	for attempt := 0; ; attempt++ {
		txn, err := s.batchTxn(batch)
		if err != nil || len(txn.Ops) == 0 {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
		_, err = s.cfg.Store.Apply(actx, txn)
		var conflict *store.ConflictError
		if errors.As(err, &conflict) && attempt < conflictRetries {
			// Read the write that moved the usage before rebuilding, when
			// the store can wait for it (a follower may not have it yet).
			if w, ok := s.cfg.Store.(interface {
				WaitApplied(context.Context, uint64) error
			}); ok {
				err = w.WaitApplied(actx, conflict.Actual)
			}
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		cancel()
		return err
	}
}

// batchTxn stores batch as one key per tenant (batch.go): the key is its
// smallest event id, the expiry its newest event's date plus Retention;
// with a quota, each tenant's share also rewrites its usage and deletes
// its oldest batches when it would exceed the quota (quota.go).
func (s *Shipper) batchTxn(batch []entry) (store.Txn, error) {
	var txn store.Txn
	now := s.cfg.Now()
	byTenant := make(map[string][]entry, 1)
	var order []string
	for _, e := range batch {
		if _, seen := byTenant[e.tenant]; !seen {
			order = append(order, e.tenant)
		}
		byTenant[e.tenant] = append(byTenant[e.tenant], e)
	}
	for _, tenant := range order {
		events := byTenant[tenant]
		first, newest := events[0].id, events[0].date
		for _, e := range events[1:] {
			if string(e.id[:]) < string(first[:]) {
				first = e.id
			}
			if e.date.After(newest) {
				newest = e.date
			}
		}
		put := store.PutExpiring(repo.LogKey(tenant, string(first[:])), encodeBatch(events), newest.Add(s.cfg.Retention))
		if s.reader == nil {
			txn.Ops = append(txn.Ops, put)
			continue
		}
		conds, ops, stored, err := quotaOps(s.reader, s.cfg.QuotaBytes, tenant, put, now)
		if err != nil {
			return store.Txn{}, err
		}
		if !stored {
			s.overQuota.Add(uint64(len(events)))
			s.cfg.Logger.Warn("logship: a batch of log events exceeds the tenant's whole quota; not stored",
				"tenant", tenant, "events", len(events), "bytes", len(put.Key)+len(put.Value), "quota", s.cfg.QuotaBytes)
			continue
		}
		txn.Conds = append(txn.Conds, conds...)
		txn.Ops = append(txn.Ops, ops...)
	}
	return txn, nil
}

// counters are the shipper's tally; Stats reads them and the collector
// exports them.
type counters struct {
	recorded, dropped, shipped, failed, aggregated, overQuota atomic.Uint64
}

// Stats is a snapshot of a shipper's counters.
type Stats struct {
	Recorded uint64 // events given to Record
	Dropped  uint64 // events dropped because the ring was full (by count or bytes)
	Shipped  uint64 // events written to the store
	Failed   uint64 // batches whose transaction failed (and were retried)
	// Aggregated counts events counted into a summary instead of
	// recorded (Event.Aggregate).
	Aggregated uint64
	// OverQuota counts events not stored because their batch alone
	// exceeded the tenant's quota.
	OverQuota uint64
	Buffered  int // events waiting now
	// BufferedBytes is what the waiting events hold, at most
	// Config.MaxBytes.
	BufferedBytes int
}

// Stats returns the counters.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	buffered, bytes := int(s.tail-s.head), s.bytes
	s.mu.Unlock()
	return Stats{
		Recorded: s.recorded.Load(), Dropped: s.dropped.Load(),
		Shipped: s.shipped.Load(), Failed: s.failed.Load(), Buffered: buffered, BufferedBytes: bytes,
		Aggregated: s.aggregated.Load(), OverQuota: s.overQuota.Load(),
	}
}

type collector struct {
	s                                                        *Shipper
	recorded, dropped, shipped, failed, n, bytes, aggregated *prometheus.Desc
}

func newCollector(s *Shipper) *collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("authok", "logship", name), help, nil, nil)
	}
	return &collector{
		s:          s,
		recorded:   d("events_recorded_total", "Log events recorded on this node."),
		dropped:    d("events_dropped_total", "Log events dropped because the in-memory buffer was full (by count or by bytes)."),
		shipped:    d("events_shipped_total", "Log events written to the store."),
		failed:     d("batches_failed_total", "Batches of log events whose store transaction failed (they are retried)."),
		n:          d("events_buffered", "Log events waiting to be shipped."),
		bytes:      d("buffered_bytes", "Bytes held by the log events waiting to be shipped."),
		aggregated: d("events_aggregated_total", "Log events counted into an aggregated summary event instead of recorded one by one."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.recorded
	ch <- c.dropped
	ch <- c.shipped
	ch <- c.failed
	ch <- c.n
	ch <- c.bytes
	ch <- c.aggregated
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(c.recorded, prometheus.CounterValue, float64(st.Recorded))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(c.shipped, prometheus.CounterValue, float64(st.Shipped))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(st.Failed))
	ch <- prometheus.MustNewConstMetric(c.n, prometheus.GaugeValue, float64(st.Buffered))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.BufferedBytes))
	ch <- prometheus.MustNewConstMetric(c.aggregated, prometheus.CounterValue, float64(st.Aggregated))
}
