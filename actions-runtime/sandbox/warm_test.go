package sandbox

import (
	"errors"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

// TestWarmThenInvoke: a warmed instance is idle in Stats, and the next
// call runs on it without instantiating another; a JS-style init payload
// runs at Warm, not at the call.
func TestWarmThenInvoke(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(t testing.TB) []byte
		opts []LoadOption
		want string // the claim the call sets
	}{
		{"minimal", func(t testing.TB) []byte { return wat(t, "minimal") }, nil, `"gold"`},
		{"init payload", func(t testing.TB) []byte { return wat(t, "init") }, []LoadOption{WithInit(claimResult("warm"))}, `"warm"`},
		{"Go SDK", sdkGuest, nil, `"sdk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, Config{})
			v, err := r.Load(ctx, "t/a/v1", tc.mod(t), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if s := r.Stats(); s.Instantiations != 0 || s.IdleInstances != 0 {
				t.Fatalf("after Load: %+v, want nothing instantiated", s)
			}
			if err := v.Warm(ctx, 1); err != nil {
				t.Fatalf("Warm: %v", err)
			}
			s := r.Stats()
			if s.Instantiations != 1 || s.IdleInstances != 1 || s.LiveInstances != 1 || s.IdleBytes <= 0 || v.IdleInstances() != 1 {
				t.Fatalf("after Warm: %+v (version idle %d), want one idle instance", s, v.IdleInstances())
			}
			out, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{"client":{"client_id":"c1"},"secrets":{"TIER":"sdk"}}`)})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			c := claims(t, out)
			if got := string(c["https://example.com/tier"]) + string(c["https://example.com/v"]); got != tc.want {
				t.Errorf("claim %s, want %s", got, tc.want)
			}
			if s := r.Stats(); s.Instantiations != 1 || s.IdleInstances != 1 {
				t.Errorf("after the call: %+v, want it served by the warm instance (1 instantiation) and pooled again", s)
			}
		})
	}
}

// TestWarmBounds: Warm stops at MaxIdlePerVersion (none when negative),
// its instances count against MaxIdleBytes like any idle one, and a
// closed version refuses it.
func TestWarmBounds(t *testing.T) {
	mod := wat(t, "minimal")
	probe := newRuntime(t, Config{})
	if err := load(t, probe, "probe", mod).Warm(ctx, 1); err != nil {
		t.Fatal(err)
	}
	per := probe.Stats().IdleBytes

	t.Run("per version", func(t *testing.T) {
		r := newRuntime(t, Config{MaxIdlePerVersion: 2})
		v := load(t, r, "k", mod)
		if err := v.Warm(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if err := v.Warm(ctx, 1); err != nil { // full already: instantiates nothing
			t.Fatal(err)
		}
		if s := r.Stats(); s.IdleInstances != 2 || s.Instantiations != 2 || s.LiveInstances != 2 {
			t.Errorf("Warm(5) then Warm(1) with 2 per version: %+v, want 2 instantiated and idle", s)
		}
		if err := v.Warm(ctx, 0); err != nil {
			t.Errorf("Warm(0) = %v", err)
		}
	})
	t.Run("none kept", func(t *testing.T) {
		r := newRuntime(t, Config{MaxIdlePerVersion: -1})
		if err := load(t, r, "k", mod).Warm(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if s := r.Stats(); s.Instantiations != 0 || s.LiveInstances != 0 {
			t.Errorf("Warm with no idle instances allowed: %+v, want nothing instantiated", s)
		}
	})
	t.Run("idle bytes", func(t *testing.T) {
		r := newRuntime(t, Config{MaxIdleBytes: 2 * per})
		old := load(t, r, "old", mod)
		if err := old.Warm(ctx, 1); err != nil {
			t.Fatal(err)
		}
		v := load(t, r, "new", mod)
		if err := v.Warm(ctx, 4); err != nil {
			t.Fatal(err)
		}
		s := r.Stats()
		if s.IdleBytes > 2*per || s.IdleInstances != 2 || s.LiveInstances != 2 {
			t.Errorf("Stats = %+v, want at most %d idle bytes: 2 instances", s, 2*per)
		}
		if old.IdleInstances() != 0 || v.IdleInstances() != 2 {
			t.Errorf("idle: old %d, new %d; want the least recently used version's dropped first (0, 2)", old.IdleInstances(), v.IdleInstances())
		}
		// Warm stops once its instance no longer fits: 2 fit, a third
		// would be trimmed, so 3 were instantiated for "new", not 4.
		if s.Instantiations != 4 {
			t.Errorf("instantiated %d in all, want 4 (1 for old, 3 for new)", s.Instantiations)
		}
	})
	t.Run("closed", func(t *testing.T) {
		r := newRuntime(t, Config{})
		v := load(t, r, "k", mod)
		r.Unload("k")
		if err := v.Warm(ctx, 1); !errors.Is(err, ErrClosed) {
			t.Errorf("Warm of an unloaded version = %v, want ErrClosed", err)
		}
		if s := r.Stats(); s.Instantiations != 0 {
			t.Errorf("%+v, want nothing instantiated", s)
		}
	})
}

// TestWarmFailure: an instance that fails to start is a typed error and
// is never pooled; the version stays loaded.
func TestWarmFailure(t *testing.T) {
	r := newRuntime(t, Config{})
	for _, tc := range []struct {
		key  string
		mod  []byte
		opts []LoadOption
		want []error
	}{
		{"trap", wat(t, "inittrap"), nil, []error{ErrTrap}},
		{"refused", wat(t, "init"), []LoadOption{WithInit([]byte("!nope"))}, []error{ErrInit}},
	} {
		v, err := r.Load(ctx, tc.key, tc.mod, tc.opts...)
		if err != nil {
			t.Fatalf("Load %s: %v", tc.key, err)
		}
		err = v.Warm(ctx, 2)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: Warm = %v, want %v", tc.key, err, w)
			}
		}
		if v.IdleInstances() != 0 {
			t.Errorf("%s: a failed instance was pooled", tc.key)
		}
	}
	if s := r.Stats(); s.IdleInstances != 0 || s.LiveInstances != 0 || s.Versions != 2 {
		t.Errorf("after failed warms: %+v, want both versions loaded and nothing live", s)
	}
}
