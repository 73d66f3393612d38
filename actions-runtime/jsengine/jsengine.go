package jsengine

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

//go:embed all:dist
var dist embed.FS

// ErrNoEngine: the binary was built without dist/engine.wasm, so no
// JavaScript action can run on it.
var ErrNoEngine = errors.New("this binary was built without the JavaScript engine: make engine")

// MemoryLimit is the memory ceiling of each JS instance. The engine (Go's
// runtime, goja and an action's VM) holds about 40 MiB of linear memory
// once warm (bench/README.md); 128 MiB leaves an action room for its own
// data.
const MemoryLimit = 128 << 20

// Module returns the embedded engine module, or ErrNoEngine.
func Module() ([]byte, error) {
	b, err := fs.ReadFile(dist, "dist/engine.wasm")
	if err != nil || len(b) == 0 {
		return nil, ErrNoEngine
	}
	return b, nil
}

// Engine runs JavaScript actions on one engine module.
type Engine struct {
	wasm []byte
}

// Embedded is the engine built into the binary (ErrNoEngine without it).
func Embedded() (*Engine, error) {
	b, err := Module()
	if err != nil {
		return nil, err
	}
	return New(b), nil
}

// New uses wasm as the engine module (tests use jsenginetest.Engine).
func New(wasm []byte) *Engine { return &Engine{wasm: wasm} }

// Wasm is the engine module's bytes.
func (e *Engine) Wasm() []byte { return e.wasm }

// InitPayload is what the engine's authok_init receives: the action's
// source, the triggers it must have an entry point for, and the memory
// ceiling (the engine's GC keeps its heap under three quarters of it).
func InitPayload(source string, triggers []abi.Trigger) []byte {
	p := struct {
		Source      string  `json:"source"`
		Triggers    []int32 `json:"triggers"`
		MemoryLimit int64   `json:"memory_limit"`
	}{Source: source, Triggers: []int32{}, MemoryLimit: MemoryLimit}
	for _, t := range triggers {
		p.Triggers = append(p.Triggers, int32(t))
	}
	b, _ := json.Marshal(p) // a string and ints: cannot fail
	return b
}

// engineWASI are the WASI functions the engine links beyond the ABI's
// set: goja reflects over Go values, so the linker keeps every method of
// os.File and of the syscall layer, which import these. The engine never
// calls them; with no file or socket to act on they would fail anyway.
var engineWASI = []string{"fd_filestat_set_size", "fd_pread", "fd_pwrite", "fd_sync", "sock_accept", "sock_shutdown"}

// LoadOptions are the sandbox options of a JS action version: its source
// as the init payload, the engine's memory ceiling and the WASI functions
// the engine links.
func LoadOptions(source string, triggers []abi.Trigger) []sandbox.LoadOption {
	return []sandbox.LoadOption{
		sandbox.WithInit(InitPayload(source, triggers)),
		sandbox.WithMemoryLimit(MemoryLimit),
		sandbox.WithWASIImports(engineWASI...),
	}
}

// Hold compiles the engine in rt (or finds it in the compilation cache)
// and keeps it compiled until release: call it at start-up, so that no
// request ever compiles it.
func (e *Engine) Hold(ctx context.Context, rt *sandbox.Runtime) (release func(), err error) {
	release, err = rt.Hold(ctx, e.wasm)
	if err != nil {
		return nil, fmt.Errorf("jsengine: compiling the engine: %w", err)
	}
	return release, nil
}

// Load loads a JS action version under key. It does not run the source:
// each new instance does (authok_init), so a source Check refused fails
// every invocation with sandbox.ErrInit. Check before deploying.
func (e *Engine) Load(ctx context.Context, rt *sandbox.Runtime, key, source string, triggers []abi.Trigger) (*sandbox.Version, error) {
	v, err := rt.Load(ctx, key, e.wasm, LoadOptions(source, triggers)...)
	if err != nil {
		return nil, fmt.Errorf("jsengine: loading %s: %w", key, err)
	}
	return v, nil
}

// Check runs the source's top level once in a throw-away instance: a
// syntax error (with its line), a require of anything but the available
// modules (none in this version: no npm dependencies), a top-level throw,
// endless loop or memory bomb, or a missing entry point for one of the
// triggers refuses it with an error wrapping action.ErrInvalidCode (and
// the sandbox's typed errors). Other failures (the engine starting up
// before the source runs, a cancelled ctx) are not the action's and do
// not wrap action.ErrInvalidCode.
func (e *Engine) Check(ctx context.Context, rt *sandbox.Runtime, source string, triggers []abi.Trigger) error {
	err := rt.Probe(ctx, e.wasm, LoadOptions(source, triggers)...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sandbox.ErrInit) && (errors.Is(err, sandbox.ErrTimeout) || errors.Is(err, sandbox.ErrOutOfMemory) || errors.Is(err, sandbox.ErrTrap)):
		return fmt.Errorf("%w: the action's top-level code failed: %w", action.ErrInvalidCode, err)
	case errors.Is(err, sandbox.ErrInit):
		return fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
	}
	// The engine failed before the source ran (a start-up deadline on a
	// loaded node, say): not the action's fault.
	return fmt.Errorf("jsengine: checking the action: %w", err)
}
