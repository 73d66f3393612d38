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
