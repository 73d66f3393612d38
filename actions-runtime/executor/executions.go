package executor

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/shared/model"
)

// executionQueue bounds the execution records waiting to be written;
// past it a failure is counted as suppressed instead.
const executionQueue = 64

// executions writes execution records of failed runs, at most one per
// version per ExecutionInterval on this node: an action failing on every
// request must not turn each request into a Raft write. A failure that is
// not recorded gets the id of the last record of its version and is
// counted in the next one (Suppressed). Records are written by one
// goroutine, off the request path.
type executions struct {
	e *Executor

	mu     sync.Mutex
	byVer  map[string]*execLimit
	queue  chan queuedExecution
	closed bool
}

type execLimit struct {
	last       time.Time
	lastID     string
	suppressed int
}

type queuedExecution struct {
	tenant string
	rec    executionRec
}

func newExecutions(e *Executor) *executions {
	return &executions{e: e, byVer: map[string]*execLimit{}, queue: make(chan queuedExecution, executionQueue)}
}

// record notes a failure and returns the id of the execution record that
// accounts for it ("" when none could be made).
func (x *executions) record(tenant string, t abi.Trigger, lk *link, msg string, start, end time.Time) string {
	key := lk.key
	if key == "" {
		key = tenant + "\x00" + lk.actionID
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	lim := x.byVer[key]
	if lim == nil {
		if len(x.byVer) > 4*x.e.cfg.MaxVersions { // forget stale limits
			clear(x.byVer)
		}
		lim = &execLimit{}
		x.byVer[key] = lim
	}
	if x.closed || (!lim.last.IsZero() && end.Sub(lim.last) < x.e.cfg.ExecutionInterval) {
		lim.suppressed++
		return lim.lastID
	}
	id, err := model.NewExecutionID(rand.Reader, end)
	if err != nil {
		lim.suppressed++
		return lim.lastID
	}
	q := queuedExecution{tenant: tenant, rec: executionRec{
		ID: id, Trigger: t, ActionName: lk.actionName, VersionID: lk.versionID,
		Error: msg, Suppressed: lim.suppressed, StartedAt: start, EndedAt: end,
	}}
	select {
	case x.queue <- q:
	default: // the writer is behind: count it instead
		lim.suppressed++
		return lim.lastID
	}
	lim.last, lim.lastID, lim.suppressed = end, id, 0
	return id
}

// run writes queued records until ctx ends.
func (x *executions) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-x.queue:
			x.write(ctx, q)
		}
	}
}

func (x *executions) write(ctx context.Context, q queuedExecution) {
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := x.e.rec.putExecution(wctx, q.tenant, q.rec); err != nil {
		x.e.log.Warn("actions: recording a failed execution", "tenant", q.tenant, "execution_id", q.rec.ID, "err", err)
	}
}

// close stops taking records and writes what is queued, until ctx ends.
func (x *executions) close(ctx context.Context) {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	for {
		select {
		case q := <-x.queue:
			x.write(ctx, q)
		default:
			return
		}
	}
}
