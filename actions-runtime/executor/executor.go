package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/jsengine"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// Defaults of Config.
const (
	// DefaultTimeout is an invocation's deadline when the tenant sets none
	// (API.md: 100 ms).
	DefaultTimeout = 100 * time.Millisecond
	// DefaultMaxTimeout caps what a tenant may ask for.
	DefaultMaxTimeout = time.Second
	// LimitMaxTimeout is the most MaxTimeout may be: an invocation holds a
	// token request (and a worker) for that long.
	LimitMaxTimeout = 30 * time.Second
	// DefaultMaxVersions bounds the versions a node keeps loaded.
	DefaultMaxVersions = 512
	// DefaultExecutionInterval is the least time between two execution
	// records of one version on one node.
	DefaultExecutionInterval = time.Second
)

// Config configures an Executor.
type Config struct {
	// Store is the node's replica, which the executor subscribes to, and
	// Repo reads and writes the action records on it. Both are needed by
	// Start, not by the Runner methods (Check, Test).
	Store store.Store
	Repo  *repo.Repo
	// NodeID names this node in build status records.
	NodeID string
	// Sandbox sets the runtime's limits; its CacheDir (for instance
	// <data-dir>/wazero-cache) keeps compiled code across restarts.
	// Sandbox.MaxTimeout is set to MaxTimeout and Sandbox.MaxVersions to
	// MaxVersions plus room for Test runs.
	Sandbox sandbox.Config
	// MaxTimeout caps a tenant's Actions deadline (default
	// DefaultMaxTimeout); a tenant without one gets DefaultTimeout.
	MaxTimeout time.Duration
	// MaxVersions bounds the versions this node keeps loaded (default
	// DefaultMaxVersions); a bound version past it is not loaded and is
	// reported failed, so the runtime's LRU never evicts a bound version.
	MaxVersions int
	// ExecutionInterval is the least time between two execution records
	// of one version (default DefaultExecutionInterval).
	ExecutionInterval time.Duration
	Logger            *slog.Logger
	// JS is the JavaScript engine (jsengine.Embedded); nil runs no
	// JavaScript action: their versions are reported failed and Check
	// refuses them.
	JS *jsengine.Engine
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Executor runs deployed Actions on a node; see the package doc. It is
// safe for concurrent use.
type Executor struct {
	cfg Config
	rt  *sandbox.Runtime
	rec records
	log *slog.Logger

	state atomic.Pointer[snapshot]

	// Dirty tenants, filled by the store subscription and drained by the
	// loader goroutine.
	dmu      sync.Mutex
	dirty    map[string]bool
	dirtyAll bool
	wake     chan struct{}

	tests  chan struct{} // Test runs in flight
	jsOnce sync.Once
	// compiling is set while the JS engine compiles; wazero cannot stop a
	// compilation, so Close does not wait for one (see close).
	compiling atomic.Bool
	closeOnce sync.Once
	jsRelease func()
	loader    *loader
	execs     *executions
	started   bool
	cancel    context.CancelFunc
	done      chan struct{}
	unsub     func()
	loadedCh  chan struct{} // closed after the first complete load
}

// snapshot is what requests read: every tenant's chains, replaced whole
// (copy on write) by the loader.
type snapshot struct {
	tenants map[string]*tenantState
}

type tenantState struct {
	timeout time.Duration
	chains  [maxTrigger + 1][]*link
}

const maxTrigger = abi.SendPhoneMessage

// link is one binding of a chain as loaded on this node.
type link struct {
	actionID, actionName string
	versionID            string
	number               int
	key                  string // the sandbox key
	secrets              []byte // event.secrets, encoded once
	ver                  invoker
	// buildErr is why the version could not be loaded here; a request
	// that reaches it fails with it.
	buildErr string
}

// invoker is a loaded version: a module's (*sandbox.Version) or a
// JavaScript action's.
type invoker interface {
	Invoke(ctx context.Context, call sandbox.Call) (sandbox.Output, error)
}

// New builds an executor and its sandbox runtime. Nothing is loaded until
// Start.
func New(ctx context.Context, cfg Config) (*Executor, error) {
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = DefaultMaxTimeout
	}
	if cfg.MaxTimeout > LimitMaxTimeout {
		return nil, fmt.Errorf("executor: MaxTimeout %v exceeds %v", cfg.MaxTimeout, LimitMaxTimeout)
	}
	if cfg.MaxVersions <= 0 {
		cfg.MaxVersions = DefaultMaxVersions
	}
	if cfg.ExecutionInterval <= 0 {
		cfg.ExecutionInterval = DefaultExecutionInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sc := cfg.Sandbox
	sc.MaxTimeout = cfg.MaxTimeout
	sc.Timeout = min(DefaultTimeout, cfg.MaxTimeout)
	// Room above MaxVersions for Test runs, so they never evict a bound
	// version.
	sc.MaxVersions = cfg.MaxVersions + maxConcurrentTests
	rt, err := sandbox.New(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	e := &Executor{
		cfg:      cfg,
		rt:       rt,
		log:      cfg.Logger.With("component", "actions"),
		dirty:    map[string]bool{},
		wake:     make(chan struct{}, 1),
		loadedCh: make(chan struct{}),
		tests:    make(chan struct{}, maxConcurrentTests),
	}
	e.state.Store(&snapshot{tenants: map[string]*tenantState{}})
	return e, nil
}

// Start subscribes to the store and starts loading in the background: it
// returns at once. The first load reads every tenant; afterwards only
// tenants whose action records changed are reloaded.
func (e *Executor) Start() error {
	if e.cfg.Store == nil || e.cfg.Repo == nil {
		return errors.New("executor: Start needs Config.Store and Config.Repo")
	}
	if e.cfg.NodeID == "" {
		return errors.New("executor: Start needs Config.NodeID")
	}
	if e.started {
		return errors.New("executor: started twice")
	}
	e.started = true
	if e.rec == nil {
		e.rec = repoRecords{e.cfg.Repo}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	e.execs = newExecutions(e)
	e.loader = newLoader(e)
	// Subscribe before the first full load, so no change between the two
	// is missed.
	e.unsub = e.cfg.Store.Subscribe(e.onEvent)
	e.markAll()
	go func() {
		defer close(e.done)
		if ctx.Err() == nil { // not when closed before it began
			e.holdJS(ctx) // before the first load, off every request
		}
		e.loader.run(ctx)
	}()
	go e.execs.run(ctx)
	return nil
}

// Prepare compiles the JavaScript engine now, unless it is already (Start
// does so itself): a control plane that only checks and tests actions
// calls it at start-up, in the background, so that no Management API
// request compiles the engine.
func (e *Executor) Prepare(ctx context.Context) { e.holdJS(ctx) }

// Loaded is closed once the first complete load after Start has finished
// (for readiness and tests).
func (e *Executor) Loaded() <-chan struct{} { return e.loadedCh }

// Close stops loading and closes the runtime; runs in flight finish
// first. Later calls do nothing.
func (e *Executor) Close(ctx context.Context) error {
	var err error
	e.closeOnce.Do(func() { err = e.close(ctx) })
	return err
}

func (e *Executor) close(ctx context.Context) error {
	if e.started {
		e.unsub()
		e.cancel()
		if err := e.waitUnlessCompiling(e.done); err != nil {
			return err
		}
		e.execs.close(ctx)
	}
	// Waits for a Prepare in flight (unless it is compiling), and stops
	// later ones.
	prepared := make(chan struct{})
	go func() { e.jsOnce.Do(func() {}); close(prepared) }()
	if err := e.waitUnlessCompiling(prepared); err != nil {
		return err
	}
	if e.jsRelease != nil {
		e.jsRelease()
	}
	return e.rt.Close(ctx)
}

// errStillCompiling: Close found the JavaScript engine compiling.
var errStillCompiling = errors.New("executor: closed while the JavaScript engine was compiling; the compilation cannot be interrupted and ends with the process")

// waitUnlessCompiling waits for done, but returns errStillCompiling at
// once when the JavaScript engine is compiling: a compilation takes
// seconds (minutes under the race detector) and cannot be interrupted,
// and a node asked to stop must stop promptly. The runtime is then left
// open for the process's exit to reclaim.
func (e *Executor) waitUnlessCompiling(done <-chan struct{}) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			if e.compiling.Load() {
				return errStillCompiling
			}
		}
	}
}

// Bound reports whether the tenant has at least one action bound to the
// trigger as of the last completed load. It does not allocate: callers
// check it first so a tenant with nothing bound costs a map lookup.
func (e *Executor) Bound(tenant string, t abi.Trigger) bool {
	ts := e.state.Load().tenants[tenant]
	return ts != nil && t.Valid() && len(ts.chains[t]) > 0
}

// Stats reports what the sandbox holds.
func (e *Executor) Stats() sandbox.Stats { return e.rt.Stats() }
