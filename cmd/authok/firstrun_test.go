package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/servetest"
)

// What a new user meets on the second command: the binary run as a child
// process, as in process_test.go.

// A second process on a data dir in use stops at once with exit 2, naming
// the process that holds it; the first keeps serving, and once it stops
// the data dir is free again.
func TestSecondProcessOnADataDirInUseNamesTheHolder(t *testing.T) {
	dev := startDev(t)
	second := start(t, nil, "dev", "--data-dir", dev.dataDir, "--listen", servetest.FreeAddr(t))
	if code := second.waitExit(20 * time.Second); code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, second.stderr)
	}
	want := fmt.Sprintf("data dir %s is in use by another authok process (PID %d)", dev.dataDir, dev.p.cmd.Process.Pid)
	if !strings.Contains(second.stderr.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, second.stderr)
	}
	waitReady(t, dev.p, dev.base) // the first is unharmed
	if code := dev.p.stop(); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, dev.p.stderr)
	}
	again := start(t, nil, "dev", "--data-dir", dev.dataDir, "--listen", dev.addr)
	waitReady(t, again, dev.base)
	again.stop()
}

// The control and edge roles take the same lock.
func TestControlOnADataDirInUseNamesTheHolder(t *testing.T) {
	dev := startDev(t)
	env := []string{"AUTHOK_CLUSTER_SECRET=process-test-cluster-secret", "AUTHOK_MASTER_KEY=" + newMasterKey(t)}
	p := start(t, env, "control", "--node-id", "c1", "--raft-addr", servetest.FreeAddr(t), "--http-addr", servetest.FreeAddr(t),
		"--data-dir", dev.dataDir, "--issuer", "http://127.0.0.1:9/", "--bootstrap")
	if code := p.waitExit(20 * time.Second); code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), fmt.Sprintf("(PID %d)", dev.p.cmd.Process.Pid)) {
		t.Fatalf("stderr does not name the holder:\n%s", p.stderr)
	}
}

// A secret on the command line is refused before the node starts (any
// user of the machine can read a process's arguments); the same node
// starts with it in a file.
func TestClusterSecretOnTheCommandLineIsRefused(t *testing.T) {
	const secret = "process-test-cluster-secret"
	httpAddr := servetest.FreeAddr(t)
	args := []string{"control", "--node-id", "c1", "--raft-addr", servetest.FreeAddr(t), "--http-addr", httpAddr,
		"--data-dir", t.TempDir(), "--issuer", "http://" + httpAddr + "/", "--bootstrap"}
	env := []string{"AUTHOK_MASTER_KEY=" + newMasterKey(t)}
	p := start(t, env, append(args, "--cluster-secret", secret)...)
	if code := p.waitExit(20 * time.Second); code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, p.stderr)
	}
	stderr := p.stderr.String()
	for _, want := range []string{"--cluster-secret is not accepted on the command line", "AUTHOK_CLUSTER_SECRET", "--cluster-secret-file"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, secret) {
		t.Errorf("stderr echoes the secret:\n%s", stderr)
	}

	file := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = start(t, env, append(args, "--cluster-secret-file", file)...)
	waitReady(t, p, "http://"+httpAddr)
	// members authenticates with the same secret from the environment.
	cmd := exec.Command(authokBinary(t), "members", "--url", "http://"+httpAddr)
	cmd.Env = append(os.Environ(), "AUTHOK_CLUSTER_SECRET="+secret)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "c1") {
		t.Fatalf("authok members: %v\n%s", err, out)
	}
	if code := p.stop(); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr)
	}
}
