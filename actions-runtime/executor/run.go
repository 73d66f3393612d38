package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

// Event builds a trigger's event for each action of a chain.
type Event interface {
	// AppendEvent appends the event JSON (API.md D.2) for the next action
	// to dst. secrets is that action's event.secrets, a JSON object;
	// prior are the commands the earlier actions of the chain emitted, in
	// order, which the event reflects where the trigger says so (for
	// credentials-exchange, accessToken.customClaims and scope).
	AppendEvent(dst []byte, secrets []byte, prior []Command) []byte
}

// Command is a command with the name of the action that emitted it.
type Command struct {
	Action string
	abi.Command
}

// Errors a Failure wraps besides sandbox's typed ones.
var (
	// ErrNotBuilt: a bound version could not be loaded on this node (its
	// build failed, it has no deployed version, the node is at its limit).
	ErrNotBuilt = errors.New("action is not built on this node")
	// ErrReported: the action reported an error itself (an exception, an
	// SDK handler's error).
	ErrReported = errors.New("action reported an error")
)

// Failure is a failed run of a chain: which action failed, how, and the
// execution record that holds the details. Its text names the action and
// the kind of failure, never event data or a secret.
type Failure struct {
	Trigger     abi.Trigger
	Action      string
	VersionID   string
	ExecutionID string // "" when none was recorded (the caller gave up)
	Err         error
}

func (f *Failure) Error() string {
	s := fmt.Sprintf("action %q failed: %v", f.Action, f.Err)
	if f.ExecutionID != "" {
		s += " (execution " + f.ExecutionID + ")"
	}
	return s
}

func (f *Failure) Unwrap() error { return f.Err }

var eventBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Run runs the actions bound to the tenant's trigger in binding order,
// as of the last completed load, and returns their commands in the order
// they were emitted. It stops after the first AccessDenied (returned as
// the last command) and at the first failure, a *Failure. A tenant with
// nothing bound returns nil, nil. Run never compiles: a version the
// loader has not loaded yet does not run, the chain as of the last
// completed load does.
func (e *Executor) Run(ctx context.Context, tenant string, t abi.Trigger, ev Event) ([]Command, error) {
	ts := e.state.Load().tenants[tenant]
	if ts == nil || !t.Valid() || len(ts.chains[t]) == 0 {
		return nil, nil
	}
	bp := eventBufs.Get().(*[]byte)
	defer eventBufs.Put(bp)
	var cmds []Command
	for i, lk := range ts.chains[t] {
		start := e.cfg.Now()
		if lk.buildErr != "" {
			return nil, e.fail(tenant, t, lk, fmt.Errorf("%w: %s", ErrNotBuilt, lk.buildErr), start)
		}
		*bp = ev.AppendEvent((*bp)[:0], lk.secrets, cmds)
		call := sandbox.Call{Trigger: t, Event: *bp, Timeout: ts.timeout}
		out, err := e.invoke(ctx, tenant, t, i, lk, call)
		if err == nil && len(out.Result.Errors) > 0 {
			err = fmt.Errorf("%w (%s)", ErrReported, out.Result.Errors[0].Name)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("action %q: %w", lk.actionName, err)
			}
			return nil, e.fail(tenant, t, lk, err, start)
		}
		for _, c := range out.Result.Commands {
			cmds = append(cmds, Command{Action: lk.actionName, Command: c})
			if _, deny := c.(abi.AccessDenied); deny {
				return cmds, nil
			}
		}
	}
	return cmds, nil
}

// invoke calls the link's version. A version closed under the call (a
// redeploy or unbind published after the caller read the chain) is
// retried once on the link now at that position, if it is the same
// action.
func (e *Executor) invoke(ctx context.Context, tenant string, t abi.Trigger, i int, lk *link, call sandbox.Call) (sandbox.Output, error) {
	out, err := lk.invoke(ctx, call)
	if !errors.Is(err, sandbox.ErrClosed) {
		return out, err
	}
	ts := e.state.Load().tenants[tenant]
	if ts == nil || i >= len(ts.chains[t]) {
		return out, err
	}
	cur := ts.chains[t][i]
	if cur == lk || cur.actionID != lk.actionID || cur.buildErr != "" {
		return out, err
	}
	return cur.invoke(ctx, call)
}

func (lk *link) invoke(ctx context.Context, call sandbox.Call) (sandbox.Output, error) {
	return lk.ver.Invoke(ctx, call)
}

// fail records the failure (rate-limited) and returns it.
func (e *Executor) fail(tenant string, t abi.Trigger, lk *link, err error, start time.Time) error {
	f := &Failure{Trigger: t, Action: lk.actionName, VersionID: lk.versionID, Err: err}
	if e.execs != nil {
		f.ExecutionID = e.execs.record(tenant, t, lk, err.Error(), start, e.cfg.Now())
	}
	return f
}
