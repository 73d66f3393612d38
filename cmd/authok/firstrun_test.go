package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// /metrics is served on --metrics-addr only: the public listener answers
// 404 and the operator's listener has the Raft gauges and the request
// counters of the public one. Profiles share the listener when
// --debug-addr is the same address.
func TestMetricsOnTheOperatorListenerOnly(t *testing.T) {
	addr, ops := servetest.FreeAddr(t), servetest.FreeAddr(t)
	p := start(t, nil, "dev", "--data-dir", t.TempDir(), "--listen", addr, "--metrics-addr", ops, "--debug-addr", ops)
	base := "http://" + addr
	waitReady(t, p, base)
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get(base + "/metrics"); code != 404 {
		t.Fatalf("public /metrics: %d, want 404", code)
	}
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, body := get("http://" + ops + "/metrics")
	if code != 200 {
		t.Fatalf("operator /metrics: %d", code)
	}
	for _, want := range []string{"authok_raft_applied_index", `authok_http_requests_total{method="POST",route="/oauth/token",server="edge",status="401"} 1`, `route="/metrics",server="edge",status="404"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("operator /metrics lacks %s", want)
		}
	}
	if code, _ := get("http://" + ops + "/debug/pprof/cmdline"); code != 200 {
		t.Fatalf("profiles on the shared operator listener: %d", code)
	}
	if code, _ := get("http://" + ops + "/healthz"); code != 404 {
		t.Fatalf("operator listener serves /healthz: %d (it serves metrics and profiles only)", code)
	}
	p.stop()
}

// dev without --issuer follows --listen across restarts: discovery, tokens
// and the Management API answer for the new address, and bootstrap.json
// says so. An explicit --issuer that differs from the stored one is a
// configuration error that says how to proceed; one that matches starts.
func TestDevRestartOnAnotherListenFollowsIt(t *testing.T) {
	dev := startDev(t)
	if code := dev.p.stop(); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, dev.p.stderr)
	}

	moved := servetest.FreeAddr(t)
	base := "http://" + moved
	p := start(t, nil, "dev", "--data-dir", dev.dataDir, "--listen", moved)
	waitReady(t, p, base)
	if strings.Contains(p.stderr.String(), "not applied") {
		t.Fatalf("restart ignored the new issuer; stderr:\n%s", p.stderr)
	}
	creds := readCredentials(t, dev.dataDir)
	if creds.Issuer != base+"/" || creds.ClientID != dev.creds.ClientID || creds.ClientSecret != dev.creds.ClientSecret {
		t.Fatalf("bootstrap.json after the move = %+v, was %+v", creds, dev.creds)
	}
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || disc.Issuer != base+"/" || disc.TokenEndpoint != base+"/oauth/token" {
		t.Fatalf("discovery after the move = %+v, %v", disc, err)
	}
	// The management client gets a token for the moved Management API,
	// and the API accepts it; the token carries the new issuer.
	m := newMgmt(t, base, creds)
	var settings map[string]any
	m.do("GET", "/tenants/settings", nil, 200, &settings)
	verifyWithDiscovery(t, base+"/", base+"/api/v1/", m.token)
	if code := p.stop(); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr)
	}

	// An explicit issuer other than the stored one: exit 2, with the ways out.
	bad := start(t, nil, "dev", "--data-dir", dev.dataDir, "--listen", servetest.FreeAddr(t), "--issuer", "http://auth.example.test/")
	if code := bad.waitExit(30 * time.Second); code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, bad.stderr)
	}
	for _, want := range []string{"--issuer http://auth.example.test/ differs from " + base + "/", "give --issuer " + base + "/", "omit --issuer", "another --data-dir"} {
		if !strings.Contains(bad.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, bad.stderr)
		}
	}
	// The stored issuer given explicitly (as behind a proxy): it starts,
	// on another listener, and the tenant stays where it is.
	other := servetest.FreeAddr(t)
	same := start(t, nil, "dev", "--data-dir", dev.dataDir, "--listen", other, "--issuer", base+"/")
	waitReady(t, same, "http://"+other)
	if c := readCredentials(t, dev.dataDir); c.Issuer != base+"/" {
		t.Fatalf("an explicit, matching issuer moved the tenant: %+v", c)
	}
	same.stop()
}
