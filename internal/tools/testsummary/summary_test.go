package main

import (
	"strings"
	"testing"
	"time"
)

// Streams as go test -json writes them (shapes copied from Go 1.26 runs).
const (
	passing = `{"Action":"start","Package":"m/ok"}
{"Action":"run","Package":"m/ok","Test":"TestA"}
{"Action":"output","Package":"m/ok","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"m/ok","Test":"TestA","Output":"    a_test.go:3: chatter of a passing test\n"}
{"Action":"output","Package":"m/ok","Test":"TestA","Output":"--- PASS: TestA (2.50s)\n"}
{"Action":"pass","Package":"m/ok","Test":"TestA","Elapsed":2.5}
{"Action":"run","Package":"m/ok","Test":"TestB"}
{"Action":"pass","Package":"m/ok","Test":"TestB","Elapsed":0.5}
{"Action":"output","Package":"m/ok","Output":"PASS\n"}
{"Action":"output","Package":"m/ok","Output":"ok  \tm/ok\t3.100s\n"}
{"Action":"pass","Package":"m/ok","Elapsed":3.1}
`
	failing = `{"Action":"start","Package":"m/bad"}
{"Action":"run","Package":"m/bad","Test":"TestF"}
{"Action":"output","Package":"m/bad","Test":"TestF","Output":"=== RUN   TestF\n"}
{"Action":"run","Package":"m/bad","Test":"TestF/good"}
{"Action":"output","Package":"m/bad","Test":"TestF/good","Output":"    f_test.go:5: chatter of a passing subtest\n"}
{"Action":"pass","Package":"m/bad","Test":"TestF/good","Elapsed":0}
{"Action":"run","Package":"m/bad","Test":"TestF/bad"}
{"Action":"output","Package":"m/bad","Test":"TestF/bad","Output":"    f_test.go:6: boom\n"}
{"Action":"output","Package":"m/bad","Test":"TestF/bad","Output":"--- FAIL: TestF/bad (0.00s)\n"}
{"Action":"fail","Package":"m/bad","Test":"TestF/bad","Elapsed":0}
{"Action":"output","Package":"m/bad","Test":"TestF","Output":"--- FAIL: TestF (1.00s)\n"}
{"Action":"fail","Package":"m/bad","Test":"TestF","Elapsed":1}
{"Action":"run","Package":"m/bad","Test":"TestP"}
{"Action":"output","Package":"m/bad","Test":"TestP","Output":"    p_test.go:1: chatter of a passing test\n"}
{"Action":"pass","Package":"m/bad","Test":"TestP","Elapsed":7}
{"Action":"output","Package":"m/bad","Output":"FAIL\n"}
{"Action":"output","Package":"m/bad","Output":"FAIL\tm/bad\t8.000s\n"}
{"Action":"fail","Package":"m/bad","Elapsed":8}
`
	buildFailure = `{"ImportPath":"m/nobuild [m/nobuild.test]","Action":"build-output","Output":"# m/nobuild [m/nobuild.test]\n"}
{"ImportPath":"m/nobuild [m/nobuild.test]","Action":"build-output","Output":"b_test.go:3:32: undefined: undefined\n"}
{"ImportPath":"m/nobuild [m/nobuild.test]","Action":"build-fail"}
{"Action":"start","Package":"m/nobuild"}
{"Action":"output","Package":"m/nobuild","Output":"FAIL\tm/nobuild [build failed]\n"}
{"Action":"fail","Package":"m/nobuild","Elapsed":0.004,"FailedBuild":"m/nobuild [m/nobuild.test]"}
`
	timeout = `{"Action":"start","Package":"m/hang"}
{"Action":"run","Package":"m/hang","Test":"TestHang"}
{"Action":"output","Package":"m/hang","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"m/hang","Test":"TestHang","Output":"panic: test timed out after 3s\n"}
{"Action":"output","Package":"m/hang","Output":"FAIL\tm/hang\t3.074s\n"}
{"Action":"fail","Package":"m/hang","Elapsed":3.074}
`
	noTests = `{"Action":"start","Package":"m/none"}
{"Action":"output","Package":"m/none","Output":"?   \tm/none\t[no test files]\n"}
{"Action":"skip","Package":"m/none","Elapsed":0}
`
	cut = `{"Action":"start","Package":"m/cut"}
{"Action":"run","Package":"m/cut","Test":"TestCut"}
{"Action":"output","Package":"m/cut","Test":"TestCut","Output":"last words before the stream ended\n"}
`
)

func TestSummary(t *testing.T) {
	tests := []struct {
		name     string
		stream   string
		code     int
		want     []string // in this order
		unwanted []string
	}{
		{"a passing package shows its ok line only", passing, 0,
			[]string{"ok  \tm/ok\t3.100s\n", "2.50s  pass  m/ok TestA\n", "0.50s  pass  m/ok TestB\n", "3.10s  pass  m/ok\n", "=== ok: 2 tests in 1 packages passed\n"},
			[]string{"chatter", "PASS\n", "FAIL"}},
		{"a failed test shows all its output, in order", failing, 1,
			[]string{"=== RUN   TestF\n", "    f_test.go:6: boom\n", "--- FAIL: TestF/bad (0.00s)\n", "--- FAIL: TestF (1.00s)\n", "FAIL\nFAIL\tm/bad\t8.000s\n",
				"7.00s  pass  m/bad TestP\n", "1.00s  fail  m/bad TestF\n", "=== FAIL: 1 failed (go test exit status 1)\n--- FAIL: m/bad TestF\n"},
			[]string{"chatter"}},
		{"a build failure shows the compiler's errors", buildFailure, 1,
			[]string{"b_test.go:3:32: undefined: undefined\n", "FAIL\tm/nobuild [build failed]\n", "--- FAIL: m/nobuild [build failed]\n"}, nil},
		{"a timeout shows the unfinished test", timeout, 1,
			[]string{"=== RUN   TestHang\npanic: test timed out after 3s\nFAIL\tm/hang\t3.074s\n", "--- FAIL: m/hang TestHang (did not finish)\n"}, nil},
		{"a package without tests is not timed", noTests, 0,
			[]string{"?   \tm/none\t[no test files]\n", "(0 packages,"}, nil},
		{"a cut stream shows what it had", cut, 2,
			[]string{"last words before the stream ended\n", "=== FAIL: go test exit status 2\n"}, []string{"=== ok"}},
		{"text that is not an event passes through", "go: downloading example.com/x v1.0.0\n" + passing, 0,
			[]string{"go: downloading example.com/x v1.0.0\n", "ok  \tm/ok"}, nil},
		{"an exit status go test reports wins over a clean stream", passing, 1,
			[]string{"=== FAIL: go test exit status 1\n"}, []string{"=== ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			s := newSummary(&out)
			if err := s.read(strings.NewReader(tc.stream)); err != nil {
				t.Fatal(err)
			}
			s.report(15, time.Second, tc.code)
			got := out.String()
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (or has it out of order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, u := range tc.unwanted {
				if strings.Contains(got, u) {
					t.Fatalf("output has %q:\n%s", u, got)
				}
			}
		})
	}
}

// Only the slowest top tests are listed, slowest first; every package is.
func TestReportTop(t *testing.T) {
	var out strings.Builder
	s := newSummary(&out)
	if err := s.read(strings.NewReader(passing + failing)); err != nil {
		t.Fatal(err)
	}
	s.report(2, time.Second, 1)
	got := out.String()
	want := "=== slowest tests (2 of 4)\n     7.00s  pass  m/bad TestP\n     2.50s  pass  m/ok TestA\n=== package times (2 packages, wall time 1s)\n     8.00s  fail  m/bad\n     3.10s  pass  m/ok\n"
	if !strings.Contains(got, want) {
		t.Fatalf("report:\n%s\nwant:\n%s", got, want)
	}
}

// The exit code is go test's own; a go command that cannot run is 2.
func TestRunExitCode(t *testing.T) {
	tests := []struct {
		goCmd string
		want  int
	}{
		{"true", 0},
		{"false", 1},
		{"/nonexistent/go", 2},
	}
	for _, tc := range tests {
		if got := run(tc.goCmd, 15, nil); got != tc.want {
			t.Errorf("run(%q) = %d, want %d", tc.goCmd, got, tc.want)
		}
	}
}
