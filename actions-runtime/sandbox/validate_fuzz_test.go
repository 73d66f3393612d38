package sandbox

import (
	"errors"
	"strings"
	"testing"
)

// FuzzValidate feeds arbitrary bytes (seeded with real modules) to the
// validator: it never panics, it refuses with ErrInvalidModule, and what
// it accepts loads and holds the ABI's exports.
func FuzzValidate(f *testing.F) {
	for _, name := range []string{"minimal", "echo", "sock", "envimport", "hostfn", "noexports", "exit"} {
		f.Add(wat(f, name))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x05\x01\x01a\x01b"))
	r := newRuntime(f, Config{MemoryLimitBytes: 1 << 20, MaxModuleBytes: 1 << 16})
	f.Fuzz(func(t *testing.T, wasm []byte) {
		_ = checkBinary(wasm) // must not panic on any input
		err := r.Validate(ctx, wasm)
		if err != nil {
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidModule", err)
			}
			return
		}
		c, err := r.compile(ctx, wasm)
		if err != nil {
			t.Fatalf("accepted, then refused: %v", err)
		}
		defer r.release(c)
		for _, name := range []string{"authok_abi_v1", "authok_alloc", "authok_on_trigger"} {
			if _, ok := c.mod.ExportedFunctions()[name]; !ok {
				t.Fatalf("accepted without %s", name)
			}
		}
	})
}

func TestCheckBinary(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "bad magic"},
		{"version 2", "\x00asm\x02\x00\x00\x00", "version"},
		{"no sections", "\x00asm\x01\x00\x00\x00", ""},
		{"section past the end", "\x00asm\x01\x00\x00\x00\x01\x7f", "unexpected end"},
		{"memory import", "\x00asm\x01\x00\x00\x00\x02\x08\x01\x01a\x01b\x02\x00\x01", "import a.b is a memory"},
		{"table import", "\x00asm\x01\x00\x00\x00\x02\x09\x01\x01a\x01t\x01\x70\x00\x01", "import a.t is a table"},
		{"function import", "\x00asm\x01\x00\x00\x00\x02\x07\x01\x01a\x01f\x00\x00", ""},
		{"2^31 exports in 6 bytes", "\x00asm\x01\x00\x00\x00\x07\x06\xff\xff\xff\xff\x07\x00", "declares 2147483647 entries in 1 bytes"},
		{"unknown kind", "\x00asm\x01\x00\x00\x00\x02\x07\x01\x01a\x01f\x09\x00", "unknown kind 9"},
		{"overlong LEB128", "\x00asm\x01\x00\x00\x00\x02\x06\xff\xff\xff\xff\xff\xff", "LEB128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkBinary([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
