package action

import (
	"errors"
	"testing"
)

func TestParseRuntime(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Kind
		err  bool
	}{
		{"", KindJS, false},
		{"node16", KindJS, false},
		{"node18", KindJS, false},
		{"node20", KindJS, false},
		{"wasm", KindWasm, false},
		{"node12", 0, true},
		{"WASM", 0, true},
		{"python", 0, true},
	} {
		got, err := ParseRuntime(tc.name)
		if tc.err {
			if !errors.Is(err, ErrUnknownRuntime) {
				t.Errorf("ParseRuntime(%q) error = %v, want ErrUnknownRuntime", tc.name, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRuntime(%q) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
