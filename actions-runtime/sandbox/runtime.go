package sandbox

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config sets the runtime's limits. Zero values take the defaults.
type Config struct {
	// MemoryLimitBytes is each instance's memory ceiling (default 64 MiB);
	// a version may be loaded with its own (WithMemoryLimit).
	MemoryLimitBytes uint64
	// Timeout is an invocation's deadline when the caller asks for none
	// (default 100 ms); MaxTimeout caps what a caller may ask (default 5 s).
	Timeout, MaxTimeout time.Duration
	// InitTimeout bounds instantiation, _initialize included (default 2 s).
	InitTimeout time.Duration
	// MaxModuleBytes refuses larger modules before compiling (default 32 MiB).
	MaxModuleBytes int
	// MaxVersions bounds the loaded versions (an LRU; default 256). An
	// evicted version's compiled code is released once no version uses it.
	MaxVersions int
	// MaxIdlePerVersion bounds the warm instances kept per version
	// (default 4; negative keeps none, so every call instantiates).
	MaxIdlePerVersion int
	// MaxIdleBytes bounds the linear memory of all warm instances of the
	// runtime together (default 1 GiB): past it, idle instances of the
	// least recently used versions are closed. Negative: no bound.
	MaxIdleBytes int64
	// CacheDir, when set, keeps compiled code on disk across restarts.
	CacheDir string
	// Cache, when set, is used instead of one built from CacheDir, so
	// runtimes can share compiled code; the caller closes it.
	Cache wazero.CompilationCache
}

func (c Config) withDefaults() Config {
	if c.MemoryLimitBytes == 0 {
		c.MemoryLimitBytes = 64 << 20
	}
	if c.Timeout <= 0 {
		c.Timeout = 100 * time.Millisecond
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 5 * time.Second
	}
	if c.Timeout > c.MaxTimeout {
		c.Timeout = c.MaxTimeout
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = 2 * time.Second
	}
	if c.MaxModuleBytes <= 0 {
		c.MaxModuleBytes = 32 << 20
	}
	if c.MaxVersions <= 0 {
		c.MaxVersions = 256
	}
	if c.MaxIdlePerVersion == 0 {
		c.MaxIdlePerVersion = 4
	}
	if c.MaxIdleBytes == 0 {
		c.MaxIdleBytes = 1 << 30
	}
	return c
}

// Runtime compiles, caches and runs action modules. It is safe for
// concurrent use.
type Runtime struct {
	cfg       Config
	wr        wazero.Runtime
	cache     wazero.CompilationCache
	ownsCache bool

	mu       sync.Mutex
	versions map[string]*list.Element // of *Version, most recent at front
	lru      *list.List
	closed   bool

	cmu      sync.Mutex
	compiled map[[32]byte]*compiled

	idleBytes atomic.Int64 // linear memory of every warm instance
	live      atomic.Int64 // instances instantiated and not yet closed
	// instantiated counts every instance instantiated (a Probe's too),
	// closed or not: a test sees whether a call found a warm one.
	instantiated atomic.Int64
}

// compiled is one module's compiled code, shared by every version with
// the same content and released when the last one goes.
type compiled struct {
	hash [32]byte
	mod  wazero.CompiledModule
	refs int
}

// New builds a runtime: wazero with its compiler where the platform has
// one (amd64, arm64), WASI limited as abi.WASIFunctions says, and the
// authok host module.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	cfg = cfg.withDefaults()
	r := &Runtime{cfg: cfg, versions: map[string]*list.Element{}, lru: list.New(), compiled: map[[32]byte]*compiled{}}
	r.cache = cfg.Cache
	if r.cache == nil {
		r.ownsCache = true
		if cfg.CacheDir != "" {
			c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
			if err != nil {
				return nil, fmt.Errorf("sandbox: compilation cache in %s: %w", cfg.CacheDir, err)
			}
			r.cache = c
		} else {
			r.cache = wazero.NewCompilationCache()
		}
	}
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(r.cache).
		WithCloseOnContextDone(true).
		// The ceiling is enforced by ceilingAllocator (memory.go); this
		// is the wasm32 maximum, so every growth reaches the allocator.
		WithMemoryLimitPages(65536)
	r.wr = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.wr); err != nil {
		r.closeWazero(ctx)
		return nil, fmt.Errorf("sandbox: WASI: %w", err)
	}
	_, err := r.wr.NewHostModuleBuilder(abi.HostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil).
		WithParameterNames("ptr", "len").
		Export(abi.LogImport).
		Instantiate(ctx)
	if err != nil {
		r.closeWazero(ctx)
		return nil, fmt.Errorf("sandbox: host module: %w", err)
	}
	return r, nil
}

func (r *Runtime) closeWazero(ctx context.Context) {
	_ = r.wr.Close(ctx)
	if r.ownsCache {
		_ = r.cache.Close(ctx)
	}
}

// Close closes every version and the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	var vs []*Version
	for e := r.lru.Front(); e != nil; e = e.Next() {
		vs = append(vs, e.Value.(*Version))
	}
	r.versions, r.lru = map[string]*list.Element{}, list.New()
	r.mu.Unlock()
	for _, v := range vs {
		v.close()
	}
	err := r.wr.Close(ctx)
	if r.ownsCache {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Validate checks a module against ABI v1 without loading it: what an
// upload runs. Its error wraps ErrInvalidModule and names every export or
// import at fault.
func (r *Runtime) Validate(ctx context.Context, wasm []byte) error {
	c, err := r.compile(ctx, wasm)
	if err != nil {
		return err
	}
	defer r.release(c)
	return errors.Join(checkCompiled(c.mod, nil), checkMemory(c.mod, r.cfg.MemoryLimitBytes))
}

// LoadOption sets something of one loaded version.
type LoadOption func(*loadOptions)

type loadOptions struct {
	init     []byte
	memLimit uint64
	wasi     map[string]bool
}

// WithInit gives the version an init payload: every new instance gets it
// through the module's authok_init export, once, after _initialize (the
// JS engine receives the action's source this way). A module without
// authok_init is refused; an init that fails fails the instantiation
// with ErrInit and the module's message.
func WithInit(payload []byte) LoadOption {
	return func(o *loadOptions) { o.init = append([]byte{}, payload...) }
}

// WithMemoryLimit sets the version's memory ceiling per instance instead
// of Config.MemoryLimitBytes (a JS engine needs more than a small module).
func WithMemoryLimit(bytes uint64) LoadOption {
	return func(o *loadOptions) {
		if bytes > 0 {
			o.memLimit = bytes
		}
	}
}

// WithWASIImports grants the version's module these WASI preview 1
// functions beyond abi.WASIFunctions. It is for modules the project builds
// itself (the JS engine links file and socket functions it never calls,
// because goja's reflection keeps every method of os.File), never for a
// tenant's upload, which Validate holds to the ABI. With no preopened
// directory and no socket they fail as they would for any module.
func WithWASIImports(names ...string) LoadOption {
	return func(o *loadOptions) {
		if o.wasi == nil {
			o.wasi = map[string]bool{}
		}
		for _, n := range names {
			o.wasi[n] = true
		}
	}
}

func (r *Runtime) options(opts []LoadOption) loadOptions {
	o := loadOptions{memLimit: r.cfg.MemoryLimitBytes}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// digest identifies a version's content: module and options.
func (o loadOptions) digest(moduleHash [32]byte) [32]byte {
	h := sha256.New()
	h.Write(moduleHash[:])
	fmt.Fprintf(h, "%d %t %d %v\n", o.memLimit, o.init != nil, len(o.init), sortedKeys(o.wasi))
	h.Write(o.init)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// compileFor compiles wasm and checks it against the options' ceiling and
// init payload. The caller owns one reference.
func (r *Runtime) compileFor(ctx context.Context, wasm []byte, o loadOptions) (*compiled, error) {
	c, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(checkCompiled(c.mod, o.wasi), checkMemory(c.mod, o.memLimit), checkInit(c.mod, o.init)); err != nil {
		r.release(c)
		return nil, err
	}
	return c, nil
}

// Probe instantiates the module once with the options (running
// _initialize and authok_init) and closes the instance, keeping nothing
// loaded: what a deploy runs to learn that a version would start. Its
// error wraps the typed errors, ErrInit for a refused init payload.
func (r *Runtime) Probe(ctx context.Context, wasm []byte, opts ...LoadOption) error {
	o := r.options(opts)
	c, err := r.compileFor(ctx, wasm, o)
	if err != nil {
		return err
	}
	defer r.release(c)
	v := &Version{rt: r, key: "probe", c: c, init: o.init, memLimit: o.memLimit}
	in, err := v.instantiate(ctx)
	if err != nil {
		return err
	}
	in.close()
	return nil
}

// Hold compiles the module (or finds it compiled) and keeps its compiled
// code until release is called, even while no version uses it: a node
// compiles a shared module such as the JS engine once, at start-up, and
// never on a request.
func (r *Runtime) Hold(ctx context.Context, wasm []byte) (release func(), err error) {
	c, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { r.release(c) }) }, nil
}

// Load makes the module the version named key (for instance
// tenant/action/version id) and returns it, compiling it unless the same
// content is compiled already. Loading another module (or the same one
// with other options) under a key closes the previous version. Instances
// are pooled per key, never per content, so two actions never share an
// instance even with identical modules. Load does not instantiate: an
// init payload runs with each new instance (Probe runs one up front and
// keeps nothing; Version.Warm pools them ahead of calls).
func (r *Runtime) Load(ctx context.Context, key string, wasm []byte, opts ...LoadOption) (*Version, error) {
	hash := sha256.Sum256(wasm)
	o := r.options(opts)
	digest := o.digest(hash)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if e, ok := r.versions[key]; ok && e.Value.(*Version).digest == digest {
		r.lru.MoveToFront(e)
		r.mu.Unlock()
		return e.Value.(*Version), nil
	}
	r.mu.Unlock()

	c, err := r.compileFor(ctx, wasm, o)
	if err != nil {
		return nil, err
	}
	v := &Version{rt: r, key: key, hash: hash, digest: digest, c: c, init: o.init, memLimit: o.memLimit}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.release(c)
		return nil, ErrClosed
	}
	var evicted []*Version
	if e, ok := r.versions[key]; ok {
		evicted = append(evicted, e.Value.(*Version))
		r.lru.Remove(e)
	}
	r.versions[key] = r.lru.PushFront(v)
	for r.lru.Len() > r.cfg.MaxVersions {
		e := r.lru.Back()
		old := e.Value.(*Version)
		r.lru.Remove(e)
		delete(r.versions, old.key)
		evicted = append(evicted, old)
	}
	r.mu.Unlock()
	for _, old := range evicted {
		old.close()
	}
	return v, nil
}

// Get returns the loaded version named key, if any; it never compiles.
func (r *Runtime) Get(key string) (*Version, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.versions[key]
	if !ok {
		return nil, false
	}
	r.lru.MoveToFront(e)
	return e.Value.(*Version), true
}

// Unload closes the version named key, if loaded.
func (r *Runtime) Unload(key string) {
	r.mu.Lock()
	e, ok := r.versions[key]
	if ok {
		r.lru.Remove(e)
		delete(r.versions, key)
	}
	r.mu.Unlock()
	if ok {
		e.Value.(*Version).close()
	}
}

// compile compiles wasm, sharing compiled code by content; the caller
// checks it against the ABI (checkCompiled, whose grants are per load)
// and owns one reference.
func (r *Runtime) compile(ctx context.Context, wasm []byte) (*compiled, error) {
	if len(wasm) > r.cfg.MaxModuleBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidModule, len(wasm), r.cfg.MaxModuleBytes)
	}
	hash := sha256.Sum256(wasm)
	r.cmu.Lock()
	if c, ok := r.compiled[hash]; ok {
		c.refs++
		r.cmu.Unlock()
		return c, nil
	}
	r.cmu.Unlock()

	if err := checkBinary(wasm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}
	cm, err := r.wr.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}

	r.cmu.Lock()
	defer r.cmu.Unlock()
	if c, ok := r.compiled[hash]; ok { // compiled concurrently
		c.refs++
		_ = cm.Close(ctx)
		return c, nil
	}
	c := &compiled{hash: hash, mod: cm, refs: 1}
	r.compiled[hash] = c
	return c, nil
}

func (r *Runtime) release(c *compiled) {
	r.cmu.Lock()
	c.refs--
	last := c.refs == 0
	if last {
		delete(r.compiled, c.hash)
	}
	r.cmu.Unlock()
	if last {
		_ = c.mod.Close(context.Background())
	}
}

// Stats reports what the runtime holds, for metrics and tests.
type Stats struct {
	Versions, Compiled, IdleInstances int
	// IdleBytes is the linear memory the warm instances hold.
	IdleBytes int64
	// LiveInstances counts instances not yet closed: warm ones and those
	// serving a call. An instance stopped at its deadline is closed before
	// Invoke returns, so it is not counted.
	LiveInstances int64
	// Instantiations counts the instances instantiated since New (for a
	// call, a Warm or a Probe), including those closed since.
	Instantiations int64
}

// Stats counts loaded versions, compiled modules and instances.
func (r *Runtime) Stats() Stats {
	r.mu.Lock()
	s := Stats{IdleBytes: r.idleBytes.Load(), LiveInstances: r.live.Load(), Instantiations: r.instantiated.Load()}
	s.Versions = r.lru.Len()
	for e := r.lru.Front(); e != nil; e = e.Next() {
		v := e.Value.(*Version)
		v.mu.Lock()
		s.IdleInstances += len(v.idle)
		v.mu.Unlock()
	}
	r.mu.Unlock()
	r.cmu.Lock()
	s.Compiled = len(r.compiled)
	r.cmu.Unlock()
	return s
}

// trimIdle closes warm instances, oldest of the least recently used
// versions first, until their memory fits Config.MaxIdleBytes.
func (r *Runtime) trimIdle() {
	limit := r.cfg.MaxIdleBytes
	if limit < 0 || r.idleBytes.Load() <= limit {
		return
	}
	var drop []*instance
	r.mu.Lock()
	for e := r.lru.Back(); e != nil && r.idleBytes.Load() > limit; e = e.Prev() {
		v := e.Value.(*Version)
		v.mu.Lock()
		for len(v.idle) > 0 && r.idleBytes.Load() > limit {
			in := v.idle[0]
			v.idle = v.idle[1:]
			r.idleBytes.Add(-in.idleBytes)
			drop = append(drop, in)
		}
		v.mu.Unlock()
	}
	r.mu.Unlock()
	for _, in := range drop {
		in.close()
	}
}
