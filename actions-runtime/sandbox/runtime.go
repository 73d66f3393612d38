package sandbox

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config sets the runtime's limits. Zero values take the defaults.
type Config struct {
	// MemoryLimitBytes is each instance's memory ceiling (default 64 MiB).
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
	r.release(c)
	return nil
}

// Load makes the module the version named key (for instance
// tenant/action/version id) and returns it, compiling it unless the same
// content is compiled already. Loading another module under a key closes
// the previous version. Instances are pooled per key, never per content,
// so two actions never share an instance even with identical modules.
func (r *Runtime) Load(ctx context.Context, key string, wasm []byte) (*Version, error) {
	hash := sha256.Sum256(wasm)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if e, ok := r.versions[key]; ok && e.Value.(*Version).hash == hash {
		r.lru.MoveToFront(e)
		r.mu.Unlock()
		return e.Value.(*Version), nil
	}
	r.mu.Unlock()

	c, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	v := &Version{rt: r, key: key, hash: hash, c: c}

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

// compile validates and compiles wasm, sharing compiled code by content.
// The caller owns one reference.
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
	if err := checkCompiled(cm, r.cfg.MemoryLimitBytes); err != nil {
		_ = cm.Close(ctx)
		return nil, err
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
}

// Stats counts loaded versions, compiled modules and warm instances.
func (r *Runtime) Stats() Stats {
	r.mu.Lock()
	var s Stats
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
