package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// starvedRaft are the Raft timeouts every authok process the tests start
// inherits (as storetest.StarvedTimeouts): with the production ones
// (200ms, lease 100ms) a loaded machine running the race detector holds
// spurious elections, and writes in flight end as of unknown outcome (503).
// A test about failover passes the flags, which win over the environment.
var starvedRaft = map[string]string{
	"AUTHOK_RAFT_HEARTBEAT_TIMEOUT":    "1s",
	"AUTHOK_RAFT_ELECTION_TIMEOUT":     "1s",
	"AUTHOK_RAFT_LEADER_LEASE_TIMEOUT": "1s",
}

// TestMain sets starvedRaft, and removes the authok binary the process
// tests build (34 MB in the temp dir) once every test has run; each
// test's own files are in t.TempDir, which the testing package removes.
func TestMain(m *testing.M) {
	for k, v := range starvedRaft {
		os.Setenv(k, v)
	}
	code := m.Run()
	if binPath != "" {
		if err := os.RemoveAll(filepath.Dir(binPath)); err != nil {
			os.Stderr.WriteString("remove the built authok binary: " + err.Error() + "\n")
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// A run of the process tests leaves nothing in the temp dir: this test
// runs one of them in a child test process with a temp dir of its own.
func TestProcessTestsLeaveNoFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	if os.Getenv("AUTHOK_TEST_CHILD") != "" {
		t.Skip("in the child")
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestDevFailsClearlyOnBusyPort$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "AUTHOK_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDevFailsClearlyOnBusyPort") {
		t.Fatalf("child test run: %v\n%s", err, out)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if len(names) > 0 {
		t.Fatalf("the process tests left %v in the temp dir", names)
	}
}
