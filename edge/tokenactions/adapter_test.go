package tokenactions

import (
	"context"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/executor"
	"github.com/authok-edge/authok/edge/token"
)

func sampleEvent() *token.ExchangeEvent {
	return &token.ExchangeEvent{
		Tenant:         "acme",
		Client:         token.ExchangeClient{ID: "c1", Name: "Machine \"one\"", Metadata: map[string]string{"tier": "gold"}},
		ResourceServer: "https://api.example.com/",
		RequestedScope: []byte("read:a  write:a"),
		Scope:          "read:a",
		CustomClaims:   map[string]any{"https://example.com/org": "o1", "https://example.com/n": 3},
		Request: token.ExchangeRequest{
			IP: netip.MustParseAddr("192.0.2.7"), Method: []byte("POST"), Hostname: []byte("acme.example.com"),
			UserAgent: []byte("test/1.0"), Language: []byte("en"),
		},
	}
}

// The event is API.md D.2's credentials-exchange event; accessToken
// reflects the earlier actions' commands; each action's secrets are the
// ones it is given.
func TestExchangeEvent(t *testing.T) {
	prior := []executor.Command{
		{Action: "a", Command: abi.SetCustomClaim{Target: abi.AccessToken, Name: "https://example.com/n", Value: json.RawMessage(`4`)}},
		{Action: "a", Command: abi.SetCustomClaim{Target: abi.AccessToken, Name: "https://example.com/new", Value: json.RawMessage(`{"x":[1]}`)}},
		{Action: "a", Command: abi.AddScope{Scope: "extra"}},
		{Action: "a", Command: abi.RemoveScope{Scope: "read:a"}},
	}
	b := exchangeEvent{sampleEvent()}.AppendEvent([]byte("junk"), []byte(`{"K":"v"}`), prior)
	if !strings.HasPrefix(string(b), "junk{") {
		t.Fatalf("AppendEvent did not append: %s", b)
	}
	var got map[string]any
	if err := json.Unmarshal(b[4:], &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	want := map[string]any{
		"secrets":         map[string]any{"K": "v"},
		"tenant":          map[string]any{"id": "acme"},
		"client":          map[string]any{"client_id": "c1", "name": "Machine \"one\"", "metadata": map[string]any{"tier": "gold"}},
		"resource_server": map[string]any{"identifier": "https://api.example.com/"},
		"request": map[string]any{"ip": "192.0.2.7", "method": "POST", "hostname": "acme.example.com",
			"user_agent": "test/1.0", "language": "en", "body": map[string]any{}},
		"transaction": map[string]any{"requested_scopes": []any{"read:a", "write:a"}},
		"accessToken": map[string]any{
			"scope": []any{"extra"},
			"customClaims": map[string]any{"https://example.com/org": "o1", "https://example.com/n": 4.0,
				"https://example.com/new": map[string]any{"x": []any{1.0}}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event:\n got %v\nwant %v", got, want)
	}

	// Nothing requested, nothing granted: empty lists, not null.
	ev := sampleEvent()
	ev.RequestedScope, ev.Scope, ev.CustomClaims, ev.Client.Metadata = nil, "", nil, nil
	ev.Request.IP = netip.Addr{}
	b = exchangeEvent{ev}.AppendEvent(nil, []byte(`{}`), nil)
	for _, frag := range []string{`"requested_scopes":[]`, `"scope":[]`, `"customClaims":{}`, `"metadata":{}`, `"ip":""`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("%s missing from %s", frag, b)
		}
	}
}

func TestCommandMapping(t *testing.T) {
	for _, tc := range []struct {
		in   abi.Command
		want token.Command
		err  bool
	}{
		{abi.SetCustomClaim{Target: abi.AccessToken, Name: "n", Value: json.RawMessage(`1`)},
			token.Command{Type: token.CommandSetCustomClaim, Action: "x", Name: "n", Value: json.RawMessage(`1`)}, false},
		{abi.AccessDenied{Reason: "no"}, token.Command{Type: token.CommandAccessDenied, Action: "x", Reason: "no"}, false},
		{abi.AddScope{Scope: "s"}, token.Command{Type: token.CommandAddScope, Action: "x", Name: "s"}, false},
		{abi.RemoveScope{Scope: "s"}, token.Command{Type: token.CommandRemoveScope, Action: "x", Name: "s"}, false},
		{abi.SetCustomClaim{Target: abi.IDToken, Name: "n", Value: json.RawMessage(`1`)}, token.Command{}, true},
		{abi.SetMetadata{Target: abi.UserMetadata, Key: "k", Value: json.RawMessage(`1`)}, token.Command{}, true},
	} {
		got, err := toTokenCommand(executor.Command{Action: "x", Command: tc.in})
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%#v: %#v, %v", tc.in, got, err)
		}
	}
}

// A tenant with nothing bound costs no allocation: every
// client_credentials request of every tenant calls the adapter.
func TestNothingBoundDoesNotAllocate(t *testing.T) {
	a := New(newExecutor(t))
	ev := sampleEvent()
	n := testing.AllocsPerRun(1000, func() {
		if cmds, err := a.CredentialsExchange(context.Background(), ev); cmds != nil || err != nil {
			t.Fatal(cmds, err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per request with nothing bound", n)
	}
}

func BenchmarkNothingBound(b *testing.B) {
	a := New(newExecutor(b))
	ev := sampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.CredentialsExchange(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

func newExecutor(tb testing.TB) *executor.Executor {
	tb.Helper()
	x, err := executor.New(context.Background(), executor.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close(context.Background()) })
	return x
}
