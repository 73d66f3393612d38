package sandbox

import (
	"errors"
	"os"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

// TestCompilationCacheOnDisk: a runtime with CacheDir writes compiled code
// there, and a second runtime (a restarted node) loads and runs from it.
func TestCompilationCacheOnDisk(t *testing.T) {
	dir := t.TempDir()
	minimal := wat(t, "minimal")
	for i := range 2 {
		r, err := New(ctx, Config{CacheDir: dir})
		if err != nil {
			t.Fatalf("New %d: %v", i, err)
		}
		v, err := r.Load(ctx, "k", minimal)
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
		if _, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
			t.Fatalf("Invoke %d: %v", i, err)
		}
		if err := r.Close(ctx); err != nil {
			t.Fatalf("Close %d: %v", i, err)
		}
		if _, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); !errors.Is(err, ErrClosed) {
			t.Errorf("Invoke after Close = %v, want ErrClosed", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("nothing cached in %s (%v)", dir, err)
	}
}
