package sandbox

import (
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

func TestSDKGuest(t *testing.T) {
	r := newRuntime(t, Config{Timeout: 2 * time.Second})
	v := load(t, r, "tenant/sdk/v1", sdkGuest(t))
	out, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{"secrets":{"TIER":"gold"},"client":{"client_id":"c1"}}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if got := string(claims(t, out)["https://example.com/tier"]); got != `"gold"` {
		t.Errorf("tier = %s", got)
	}
	if len(out.Logs) != 1 || out.Logs[0] != (Log{Stream: "log", Text: "client c1"}) {
		t.Errorf("logs = %#v", out.Logs)
	}
	out, err = v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{"client":{"client_id":"blocked"}}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if len(out.Result.Commands) != 1 || out.Result.Commands[0] != (abi.AccessDenied{Reason: "this client gets no tokens"}) {
		t.Errorf("commands = %#v", out.Result.Commands)
	}
	out, err = v.Invoke(ctx, Call{Trigger: abi.PostLogin, Event: []byte(`{}`)})
	if err != nil || len(out.Result.Errors) != 1 || out.Result.Errors[0].Message != "no handler for trigger 1" {
		t.Errorf("an unhandled trigger: %#v, %v", out.Result.Errors, err)
	}
}

// TestSDKGuestCollectsGarbage: a Go guest is entered through an export and
// never yields to its scheduler, and the clock it reads is the sandbox's
// (1 ms per read); without the SDK yielding after each call, the guest's
// garbage collector stalled after ~17,500 calls and the heap grew by every
// call's garbage until the instance hit its memory ceiling (a token
// request failed "out of memory" every ~20,000 calls per instance).
func TestSDKGuestCollectsGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("25,000 calls")
	}
	r := newRuntime(t, Config{Timeout: 10 * time.Second, MemoryLimitBytes: 64 << 20, MaxIdlePerVersion: 1})
	v := load(t, r, "tenant/sdk-gc/v1", sdkGuest(t))
	call := Call{Trigger: abi.SendPhoneMessage, Event: []byte(`{}`)}
	for i := range 25_000 {
		if _, err := v.Invoke(ctx, call); err != nil {
			t.Fatalf("call %d: %v (stats %+v)", i, err, r.Stats())
		}
	}
	if s := r.Stats(); s.Instantiations != 1 || s.IdleBytes > 32<<20 {
		t.Errorf("after 25,000 calls of 10 KB garbage: %d instantiations, %d bytes of memory; want 1 instance under 32 MiB", s.Instantiations, s.IdleBytes)
	}
}
