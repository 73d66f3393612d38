package sandbox

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/tetratelabs/wazero"
)

// checkBinary runs before the compiler sees a module. It walks the
// section headers and refuses
//   - a vector whose declared count exceeds its section's bytes: wazero
//     sizes some tables from the declared count before reading entries, so
//     a 60-byte module declaring 2^31 exports cost 15 s of CPU and gigabytes
//     of memory before failing (found by FuzzValidate);
//   - any import that is not a function (tables, memories, globals):
//     wazero's CompiledModule lists imported functions and memories only,
//     and ABI v1 modules define their own memory.
//
// It assumes nothing else about the binary, which the compiler validates.
func checkBinary(wasm []byte) error {
	r := reader{b: wasm}
	if string(r.bytes(4)) != "\x00asm" || r.err != nil {
		return errors.New("not a WebAssembly binary (bad magic)")
	}
	if v := r.bytes(4); r.err != nil || string(v) != "\x01\x00\x00\x00" {
		return errors.New("unsupported WebAssembly binary version")
	}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			break
		}
		s := reader{b: body}
		switch id {
		case 1, 2, 3, 4, 5, 6, 7, 9, 10, 11: // sections that open with a vector
			if n := s.u32(); s.err == nil && int64(n) > int64(len(s.b)) {
				return fmt.Errorf("section %d declares %d entries in %d bytes", id, n, len(s.b))
			}
		case 12: // data count
			if n := s.u32(); s.err == nil && int64(n) > int64(len(wasm)) {
				return fmt.Errorf("data count %d exceeds the module's size", n)
			}
		}
		if id == 2 {
			if err := checkImports(body); err != nil {
				return err
			}
		}
	}
	if r.err != nil {
		return fmt.Errorf("section headers: %w", r.err)
	}
	return nil
}

func checkImports(body []byte) error {
	s := reader{b: body}
	n := s.u32()
	for i := uint32(0); i < n && s.err == nil; i++ {
		mod := s.name()
		field := s.name()
		kind := s.byte()
		switch kind {
		case 0: // function: type index
			s.u32()
		case 1: // table: reftype, limits
			s.byte()
			s.limits()
		case 2: // memory: limits
			s.limits()
		case 3: // global: valtype, mutability
			s.byte()
			s.byte()
		default:
			s.err = fmt.Errorf("import %s.%s has unknown kind %d", mod, field, kind)
		}
		if s.err == nil && kind != 0 {
			return fmt.Errorf("import %s.%s is a %s; an action may import functions only", mod, field, [...]string{"", "table", "memory", "global"}[kind])
		}
	}
	if s.err != nil {
		return fmt.Errorf("import section: %w", s.err)
	}
	return nil
}

// reader decodes the little of the binary format checkBinary needs;
// the first error sticks.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("unexpected end of binary")

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(b&0x7f) << shift
		if b&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("LEB128 integer too long")
	return 0
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// checkCompiled holds a compiled module to ABI v1: the required exports
// with their signatures, a memory, no _start, imports only from the host
// module and the WASI subset. The error names every export or import at
// fault. The initial memory is checked per load (checkMemory), since a
// version may have its own ceiling. extraWASI are WASI functions granted
// beyond abi.WASIFunctions (WithWASIImports; nil for tenants' modules).
func checkCompiled(cm wazero.CompiledModule, extraWASI map[string]bool) error {
	var problems []string
	exports := cm.ExportedFunctions()
	for _, name := range sortedKeys(abi.RequiredExports) {
		sig := abi.RequiredExports[name]
		fn, ok := exports[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing export %q %s", name, sig))
		case !sig.Equal(fn.ParamTypes(), fn.ResultTypes()):
			problems = append(problems, fmt.Sprintf("export %q must be %s", name, sig))
		}
	}
	for name, sig := range abi.OptionalExports {
		if fn, ok := exports[name]; ok && !sig.Equal(fn.ParamTypes(), fn.ResultTypes()) {
			problems = append(problems, fmt.Sprintf("export %q must be %s", name, sig))
		}
	}
	if _, ok := exports[abi.StartExport]; ok {
		problems = append(problems, `export "_start": a WASI command module exits after main; build a reactor (Go: -buildmode=c-shared)`)
	}
	if _, ok := cm.ExportedMemories()[abi.MemoryExport]; !ok {
		problems = append(problems, `missing export "memory"`)
	}
	for _, fn := range cm.ImportedFunctions() {
		mod, name, _ := fn.Import()
		switch mod {
		case abi.WASIModule:
			if !abi.WASIFunctions[name] && !extraWASI[name] {
				problems = append(problems, fmt.Sprintf("import %s.%s is not granted to actions", mod, name))
			}
		case abi.HostModule:
			sig, ok := abi.HostFunctions[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("import %s.%s does not exist in ABI v%d", mod, name, abi.Version))
			} else if !sig.Equal(fn.ParamTypes(), fn.ResultTypes()) {
				problems = append(problems, fmt.Sprintf("import %s.%s must be %s", mod, name, sig))
			}
		default:
			problems = append(problems, fmt.Sprintf("import %s.%s: module %q is not granted to actions", mod, name, mod))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidModule, strings.Join(problems, "; "))
	}
	return nil
}

// checkMemory refuses a module whose initial memory exceeds the ceiling
// its instances would get.
func checkMemory(cm wazero.CompiledModule, ceiling uint64) error {
	if mem, ok := cm.ExportedMemories()[abi.MemoryExport]; ok && uint64(mem.Min())*65536 > ceiling {
		return fmt.Errorf("%w: memory starts at %d pages, past the ceiling of %d bytes", ErrInvalidModule, mem.Min(), ceiling)
	}
	return nil
}

// checkInit refuses an init payload for a module that cannot take one.
func checkInit(cm wazero.CompiledModule, init []byte) error {
	if init == nil {
		return nil
	}
	if _, ok := cm.ExportedFunctions()[abi.InitExport]; !ok {
		return fmt.Errorf("%w: an init payload was given but the module does not export %q", ErrInvalidModule, abi.InitExport)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
