package executor

import (
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
)

// BenchmarkRun is the executor's cost per request for a chain of one
// warm action: building the event with the action's secrets, the
// invocation, decoding the commands. The chain is installed directly, as
// the loader would publish it.
//
//	go test -run '^$' -bench Run -count 5 ./actions-runtime/executor
func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		name    string
		runtime string
		module  func(b *testing.B) []byte
		source  string
	}{
		{"minimal-wat", "wasm", func(b *testing.B) []byte { return sandboxtest.WAT(b, "../sandbox/testdata/wat/minimal.wat") }, ""},
		{"go-sdk", "wasm", func(b *testing.B) []byte { return guest(b) }, ""},
		{"js", "node18", nil, jsTier},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{}
			if tc.runtime != "wasm" {
				cfg.JS = jsEngine(b)
			}
			x := startExecutorTB(b, cfg)
			v := versionRec{Runtime: tc.runtime, Source: tc.source, Triggers: ce,
				Secrets: map[string]string{"CLAIM": "https://example.com/t", "VALUE": "v"}}
			if tc.module != nil {
				v.Module = tc.module(b)
			}
			lk := &link{actionName: tc.name, key: "bench/" + tc.name}
			if err := x.load(ctx, lk, v); err != nil {
				b.Fatal(err)
			}
			ts := &tenantState{timeout: x.deadline(0)}
			ts.chains[abi.CredentialsExchange] = []*link{lk}
			x.publish("acme", ts)
			ev := testEvent{scope: "read:a"}
			if _, err := x.Run(ctx, "acme", abi.CredentialsExchange, ev); err != nil { // warm
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if cmds, err := x.Run(ctx, "acme", abi.CredentialsExchange, ev); err != nil || len(cmds) == 0 {
					b.Fatal(cmds, err)
				}
			}
		})
	}
}
