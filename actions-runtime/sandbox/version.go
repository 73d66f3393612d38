package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// Version is one loaded action version: its compiled module and a bounded
// pool of warm instances. It is safe for concurrent use; each instance
// serves one invocation at a time.
type Version struct {
	rt       *Runtime
	key      string
	hash     [32]byte
	digest   [32]byte // module and load options
	c        *compiled
	init     []byte // authok_init payload, nil for none
	memLimit uint64

	mu       sync.Mutex
	idle     []*instance
	inflight int
	closed   bool
	released bool
}

// Key is the name the version was loaded under.
func (v *Version) Key() string { return v.key }

// Hash is the SHA-256 of the module's bytes.
func (v *Version) Hash() [32]byte { return v.hash }

// close drops the warm instances; invocations in flight finish, and the
// compiled code is released after the last one. Only the Runtime closes a
// version (Unload, eviction, a new Load under the key), so a loaded key
// never maps to a closed version.
func (v *Version) close() {
	v.mu.Lock()
	v.closed = true
	idle := v.idle
	v.idle = nil
	for _, in := range idle {
		v.rt.idleBytes.Add(-in.idleBytes)
	}
	release := v.inflight == 0 && !v.released
	if release {
		v.released = true
	}
	v.mu.Unlock()
	for _, in := range idle {
		in.close()
	}
	if release {
		v.rt.release(v.c)
	}
}

// Call is one invocation's input.
type Call struct {
	Trigger abi.Trigger
	// Event is the trigger's event as JSON (API.md D.2).
	Event []byte
	// Timeout is the invocation's deadline; 0 takes the runtime's default,
	// and it is capped by Config.MaxTimeout.
	Timeout time.Duration
}

// Output is what an invocation produced. Logs are filled even when
// Invoke fails. Result.Errors holds the errors the action reported itself
// (an exception, a handler's error): Invoke succeeds then, and the caller
// treats the action as failed.
type Output struct {
	Result        abi.Result
	Logs          []Log
	LogsTruncated bool
}

// instance is one instantiated module. Between invocations of its version
// its linear memory and globals persist (that is what pooling means);
// after any failure it is closed, never reused.
type instance struct {
	rt        *Runtime
	closeOnce sync.Once
	mem       *ceilingMemory // set by the allocator at instantiation
	idleBytes int64          // memory counted in Runtime.idleBytes while pooled
	mod       api.Module
	alloc     api.Function
	onTrigger api.Function
	oom       atomic.Bool
	now       atomic.Int64 // walltime granted to the guest, Unix ns
	logs      *logBuf      // current invocation's logs; nil between calls
	violation string       // set by a host function on an ABI violation
}

func (in *instance) close() {
	in.closeOnce.Do(func() {
		_ = in.mod.Close(context.Background())
		in.rt.live.Add(-1)
	})
}

// memBytes is what the instance's linear memory holds of the host's.
func (in *instance) memBytes() int64 {
	if in.mem == nil {
		return int64(in.mod.Memory().Size())
	}
	return int64(cap(in.mem.buf))
}

// Invoke runs the module for one event and decodes its result for the
// trigger. A failure wraps one of the typed errors (errors.go).
func (v *Version) Invoke(ctx context.Context, call Call) (Output, error) {
	if !call.Trigger.Valid() {
		return Output{}, fmt.Errorf("sandbox: unknown trigger %d", int32(call.Trigger))
	}
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return Output{}, ErrClosed
	}
	v.inflight++
	var in *instance
	if n := len(v.idle); n > 0 {
		in = v.idle[n-1]
		v.idle = v.idle[:n-1]
		v.rt.idleBytes.Add(-in.idleBytes)
	}
	v.mu.Unlock()

	ok := false
	defer func() { v.put(in, ok) }()
	if in == nil {
		var err error
		if in, err = v.instantiate(ctx); err != nil {
			return Output{}, err
		}
	}
	out, err := v.run(ctx, in, call)
	ok = err == nil
	return out, err
}

// put returns an instance to the pool after a clean invocation, or
// closes it.
func (v *Version) put(in *instance, ok bool) {
	v.mu.Lock()
	v.inflight--
	keep := in != nil && ok && !v.closed && len(v.idle) < v.rt.cfg.MaxIdlePerVersion
	if keep {
		in.idleBytes = in.memBytes()
		v.idle = append(v.idle, in)
		v.rt.idleBytes.Add(in.idleBytes)
	}
	release := v.closed && v.inflight == 0 && !v.released
	if release {
		v.released = true
	}
	v.mu.Unlock()
	if in != nil && !keep {
		in.close()
	}
	if release {
		v.rt.release(v.c)
	}
	if keep {
		v.rt.trimIdle()
	}
}

// Warm instantiates up to n instances ahead of calls into the version's
// idle pool (running _initialize and authok_init as a call's instance
// would), so the next calls find them warm: a node warms a version after
// loading it, before any request can reach it. The pool's bounds hold as
// for any idle instance: Warm stops at MaxIdlePerVersion idle instances
// (none when it is negative), and an instance that does not fit
// MaxIdleBytes is closed by the same trimming as after a call (idle
// instances of less recently used versions go first), which also stops
// Warm. A failure to instantiate returns its typed error (ErrInit,
// ErrTimeout, ErrTrap, ErrOutOfMemory, ErrDenied; ErrClosed for a closed
// version) and pools nothing of the failed instance.
func (v *Version) Warm(ctx context.Context, n int) error {
	for range n {
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			return ErrClosed
		}
		before := len(v.idle)
		if before >= v.rt.cfg.MaxIdlePerVersion {
			v.mu.Unlock()
			return nil
		}
		v.inflight++ // holds the compiled code while instantiating
		v.mu.Unlock()
		in, err := v.instantiate(ctx)
		if err != nil {
			v.put(nil, false)
			return fmt.Errorf("warming %s: %w", v.key, err)
		}
		v.put(in, true)
		if v.IdleInstances() <= before { // full, closed or trimmed: more would not stay
			return nil
		}
	}
	return nil
}

// IdleInstances is the number of warm instances the version holds.
func (v *Version) IdleInstances() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.idle)
}

func (v *Version) instantiate(ctx context.Context) (*instance, error) {
	cfg := v.rt.cfg
	in := &instance{rt: v.rt}
	in.now.Store(time.Now().UnixNano())
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module
		WithStartFunctions(abi.InitializeExport).
		WithStdout(streamWriter{inst: in, stream: "stdout"}).
		WithStderr(streamWriter{inst: in, stream: "stderr"}).
		WithWalltime(func() (int64, int32) {
			ns := in.now.Load()
			return ns / 1e9, int32(ns % 1e9)
		}, sys.ClockResolution(time.Millisecond)).
		// No WithSysNanotime: the monotonic clock is wazero's per-instance
		// counter, so the guest can time nothing. No WithFS, WithEnv,
		// WithArgs: nothing to find.
		WithRandSource(rand.Reader)
	ictx, cancel := context.WithTimeout(ctx, cfg.InitTimeout)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, ceilingAllocator{ceiling: v.memLimit, in: in})
	mod, err := v.rt.wr.InstantiateModule(ictx, v.c.mod, mc)
	if err != nil {
		if mod != nil {
			_ = mod.Close(context.Background())
		}
		return nil, fmt.Errorf("instantiating: %w", classify(ictx, in, err))
	}
	v.rt.live.Add(1)
	v.rt.instantiated.Add(1)
	in.mod = mod
	in.alloc = mod.ExportedFunction(abi.AllocExport)
	in.onTrigger = mod.ExportedFunction(abi.OnTriggerExport)
	if v.init != nil {
		if err := in.runInit(ictx, v.init); err != nil {
			in.close()
			return nil, err
		}
	}
	return in, nil
}

// runInit passes the version's init payload to authok_init.
func (in *instance) runInit(ctx context.Context, payload []byte) error {
	n := uint64(len(payload))
	res, err := in.alloc.Call(ctx, n)
	if err != nil {
		return fmt.Errorf("%w: authok_alloc for the init payload: %w", ErrInit, classify(ctx, in, err))
	}
	ptr := uint32(res[0])
	if n > 0 && ptr == 0 {
		return fmt.Errorf("%w: authok_alloc(%d) returned 0 for the init payload", ErrDenied, n)
	}
	if !in.mod.Memory().Write(ptr, payload) {
		return fmt.Errorf("%w: authok_alloc(%d) returned %d, outside the module's memory", ErrDenied, n, ptr)
	}
	res, err = in.mod.ExportedFunction(abi.InitExport).Call(ctx, uint64(ptr), n)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInit, abi.InitExport, classify(ctx, in, err))
	}
	if res[0] == 0 {
		return nil
	}
	mptr, mlen := uint32(res[0]>>32), uint32(res[0])
	mlen = min(mlen, abi.MaxInitMessageBytes)
	msg, ok := in.mod.Memory().Read(mptr, mlen)
	if !ok {
		return fmt.Errorf("%w: %s refused the payload with a message outside the module's memory", ErrDenied, abi.InitExport)
	}
	return fmt.Errorf("%w: %s", ErrInit, strings.ToValidUTF8(string(msg), "\uFFFD"))
}

type invocationKey struct{}

func (v *Version) run(ctx context.Context, in *instance, call Call) (Output, error) {
	timeout := call.Timeout
	if timeout <= 0 {
		timeout = v.rt.cfg.Timeout
	}
	timeout = min(timeout, v.rt.cfg.MaxTimeout)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cctx = context.WithValue(cctx, invocationKey{}, in)

	logs := &logBuf{limit: abi.MaxLogBytes}
	in.logs = logs
	in.violation = ""
	in.now.Store(time.Now().UnixNano())
	defer func() { in.logs = nil }()
	output := func() Output { return Output{Logs: logs.lines, LogsTruncated: logs.truncated} }

	n := uint64(len(call.Event))
	res, err := in.alloc.Call(cctx, n)
	if err != nil {
		return output(), fmt.Errorf("authok_alloc: %w", classify(cctx, in, err))
	}
	ptr := uint32(res[0])
	if n > 0 && ptr == 0 {
		return output(), fmt.Errorf("%w: authok_alloc(%d) returned 0", ErrDenied, n)
	}
	if !in.mod.Memory().Write(ptr, call.Event) {
		return output(), fmt.Errorf("%w: authok_alloc(%d) returned %d, outside the module's memory", ErrDenied, n, ptr)
	}
	res, err = in.onTrigger.Call(cctx, uint64(uint32(call.Trigger)), uint64(ptr), n)
	if err != nil {
		return output(), fmt.Errorf("authok_on_trigger: %w", classify(cctx, in, err))
	}
	rptr, rlen := uint32(res[0]>>32), uint32(res[0])
	if rlen > abi.MaxResultBytes {
		return output(), fmt.Errorf("%w: the result is %d bytes, the limit is %d", ErrInvalidOutput, rlen, abi.MaxResultBytes)
	}
	var data []byte
	if rlen > 0 {
		view, ok := in.mod.Memory().Read(rptr, rlen)
		if !ok {
			return output(), fmt.Errorf("%w: the result (%d bytes at %d) lies outside the module's memory", ErrDenied, rlen, rptr)
		}
		data = append([]byte(nil), view...)
	}
	result, err := abi.Decode(call.Trigger, data)
	if err != nil {
		return output(), fmt.Errorf("%w: %w", ErrInvalidOutput, err)
	}
	out := output()
	out.Result = result
	return out, nil
}

// classify maps a wazero call error to a typed failure.
func classify(ctx context.Context, in *instance, err error) error {
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case in.violation != "":
		return fmt.Errorf("%w: %s", ErrDenied, in.violation)
	case in.oom.Load():
		return fmt.Errorf("%w: memory growth past the ceiling was refused", ErrOutOfMemory)
	case isExit && exit.ExitCode() == sys.ExitCodeDeadlineExceeded:
		return ErrTimeout
	case isExit && exit.ExitCode() == sys.ExitCodeContextCanceled:
		if cerr := context.Cause(ctx); cerr != nil {
			return fmt.Errorf("canceled by the caller: %w", cerr)
		}
		return fmt.Errorf("canceled by the caller: %w", context.Canceled)
	case isExit:
		return fmt.Errorf("%w: the module exited with code %d (a reactor must return, not exit)", ErrTrap, exit.ExitCode())
	}
	// wazero appends the guest's stack trace; the first line says what
	// happened, and the rest is for a debugger, not an error message.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%w: %s", ErrTrap, msg)
}

// hostLog is authok.log(ptr, len).
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	in, _ := ctx.Value(invocationKey{}).(*instance)
	if in == nil {
		return // during _initialize: nobody to log to
	}
	ptr, n := uint32(stack[0]), uint32(stack[1])
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		in.violation = fmt.Sprintf("authok.log(%d, %d) points outside the module's memory", ptr, n)
		panic(errors.New(in.violation))
	}
	in.logs.add("log", b)
}
