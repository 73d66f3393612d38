package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/servetest"
	"github.com/authok-edge/authok/shared/store"
)

// These tests start the real binary, as an operator would, with the
// documented flags and environment variables.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func authokBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process-level test; run without -short")
	}
	buildOnce.Do(func() {
		if buildErr = ensureEngine(); buildErr != nil { // as make build does
			return
		}
		dir, err := os.MkdirTemp("", "authok-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authok")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running authok process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *servetest.SyncBuffer
	stderr *servetest.SyncBuffer
	done   chan struct{}
	err    error
}

func start(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stdout: &servetest.SyncBuffer{}, stderr: &servetest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(authokBinary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("process did not stop on SIGTERM; stderr:\n%s", p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) waitExit(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		p.t.Fatalf("process still running after %s", d)
		return -1
	}
}

// waitReady polls /readyz until 200, for up to a minute: seconds on a
// starved machine (a join, an election), and only a fault takes longer.
func waitReady(t testing.TB, p *proc, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("process exited (%v) before ready; stderr:\n%s", p.err, p.stderr)
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/readyz never 200 (last: %s); stderr:\n%s", base, last, p.stderr)
}

type credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Issuer       string `json:"issuer"`
}

func readCredentials(t testing.TB, dataDir string) credentials {
	t.Helper()
	path := filepath.Join(dataDir, "bootstrap.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap.json mode %v, want 0600", fi.Mode().Perm())
	}
	var c credentials
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		t.Fatalf("bootstrap.json = %s (%v)", data, err)
	}
	return c
}

// devServer is a ready `authok dev` on a free loopback port.
type devServer struct {
	p                   *proc
	addr, base, dataDir string
	creds               credentials // from its bootstrap.json
}

// startDev starts `authok dev` with a new data dir (under one that does
// not exist yet, which dev must create) and waits until it is ready.
func startDev(t *testing.T) devServer {
	t.Helper()
	d := devServer{dataDir: filepath.Join(t.TempDir(), "data"), addr: servetest.FreeAddr(t)}
	d.base = "http://" + d.addr
	d.p = start(t, nil, "dev", "--data-dir", d.dataDir, "--listen", d.addr)
	waitReady(t, d.p, d.base)
	d.creds = readCredentials(t, d.dataDir)
	return d
}

func TestDevStartsBootstrapsAndRestartsWithItsData(t *testing.T) {
	dev := startDev(t)
	p, addr, base, dataDir, creds := dev.p, dev.addr, dev.base, dev.dataDir, dev.creds
	if creds.Issuer != base+"/" {
		t.Fatalf("issuer %q, want %s/", creds.Issuer, base)
	}
	if !strings.Contains(p.stdout.String(), creds.ClientSecret) {
		t.Fatalf("the generated secret was not printed once on stdout:\n%s", p.stdout)
	}
	// Public: health; metrics only on --metrics-addr (firstrun_test.go).
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 404} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("GET %s: %v %v, want %d", path, resp, err, want)
		}
		resp.Body.Close()
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}

	// Restart on the same data: same tenant, same client, no new secret.
	p2 := start(t, nil, "dev", "--data-dir", dataDir, "--listen", addr)
	waitReady(t, p2, base)
	if strings.Contains(p2.stdout.String(), "client_secret") {
		t.Fatalf("restart printed new credentials:\n%s", p2.stdout)
	}
	if again := readCredentials(t, dataDir); again != creds {
		t.Fatalf("credentials changed across restart: %+v vs %+v", again, creds)
	}
	if code := p2.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// What is in the store is what the file says: read the state directly.
	key, err := secretbox.LoadOrCreateDevKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenLocalWith(filepath.Join(dataDir, "state"), store.LocalOptions{ReapInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := repo.New(st, key)
	if err != nil {
		t.Fatal(err)
	}
	tenants, _, err := r.ListTenants(context.Background(), "", 10)
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants = %+v, %v; want exactly one", tenants, err)
	}
	client, err := r.GetClient(context.Background(), tenants[0].Name, creds.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if client.ClientSecret.Reveal() != creds.ClientSecret {
		t.Fatal("stored client secret differs from bootstrap.json")
	}
}

func TestDevUsesBootstrapCredentialsFromEnvironment(t *testing.T) {
	dataDir := t.TempDir()
	addr := servetest.FreeAddr(t)
	p := start(t, []string{"AUTHOK_BOOTSTRAP_CLIENT_ID=ci-admin", "AUTHOK_BOOTSTRAP_CLIENT_SECRET=ci-admin-secret-0123456789",
		"AUTHOK_MASTER_KEY=" + newMasterKey(t)}, "dev", "--data-dir", dataDir, "--listen", addr)
	waitReady(t, p, "http://"+addr)
	if c := readCredentials(t, dataDir); c.ClientID != "ci-admin" || c.ClientSecret != "ci-admin-secret-0123456789" {
		t.Fatalf("credentials %+v", c)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "master.key")); !os.IsNotExist(err) {
		t.Fatal("dev wrote a master.key although AUTHOK_MASTER_KEY was set")
	}
	p.stop()
}

func TestDevFailsClearlyOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := start(t, nil, "dev", "--data-dir", t.TempDir(), "--listen", ln.Addr().String())
	if code := p.waitExit(20 * time.Second); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(p.stderr.String(), "address already in use") {
		t.Fatalf("stderr: %s", p.stderr)
	}
}

// A stop signal ends a node that is still trying to join (here a URL no
// one listens on) at once, as a clean stop: it used to be noticed only
// after the join gave up, two minutes later.
func TestEdgeStopsPromptlyWhileJoining(t *testing.T) {
	dead, httpAddr := servetest.FreeAddr(t), servetest.FreeAddr(t)
	p := start(t, []string{"AUTHOK_CLUSTER_SECRET=process-test-cluster-secret", "AUTHOK_MASTER_KEY=" + newMasterKey(t)},
		"edge", "--node-id", "e1", "--raft-addr", servetest.FreeAddr(t), "--http-addr", httpAddr,
		"--data-dir", t.TempDir(), "--issuer", "http://"+dead+"/", "--join", "http://"+dead)
	// Serving (and so past everything before the join) but never ready.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never served /healthz: %v; stderr:\n%s", err, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few join attempts
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(10 * time.Second); code != exitOK {
		t.Fatalf("exit %d after SIGTERM while joining, want %d; stderr:\n%s", code, exitOK, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "stopping") {
		t.Fatalf("no stopping log line; stderr:\n%s", p.stderr)
	}
}

func newMasterKey(t testing.TB) string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// A 3-voter control plane and an edge, each its own process, started with
// the documented flags.
func TestClusterOfProcesses(t *testing.T) {
	secret := "process-test-cluster-secret"
	env := []string{"AUTHOK_CLUSTER_SECRET=" + secret, "AUTHOK_MASTER_KEY=" + newMasterKey(t)}
	root := t.TempDir()
	type node struct {
		id, http string
		p        *proc
	}
	var controls []*node
	issuer := ""
	for i := 1; i <= 3; i++ {
		n := &node{id: fmt.Sprintf("c%d", i), http: servetest.FreeAddr(t)}
		if issuer == "" {
			issuer = "http://" + n.http + "/"
		}
		args := []string{"control", "--node-id", n.id, "--raft-addr", servetest.FreeAddr(t), "--http-addr", n.http,
			"--data-dir", filepath.Join(root, n.id), "--issuer", issuer}
		if i == 1 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", "http://"+controls[0].http)
		}
		n.p = start(t, env, args...)
		waitReady(t, n.p, "http://"+n.http)
		controls = append(controls, n)
	}
	edgeHTTP := servetest.FreeAddr(t)
	edge := start(t, env, "edge", "--node-id", "e1", "--raft-addr", servetest.FreeAddr(t), "--http-addr", edgeHTTP,
		"--data-dir", filepath.Join(root, "e1"), "--issuer", issuer, "--join", "http://"+controls[1].http)
	waitReady(t, edge, "http://"+edgeHTTP)
	readCredentials(t, filepath.Join(root, "c1"))

	// The members listing, through the CLI, from the edge's point of view too.
	members := func(url string) []store.Member {
		t.Helper()
		cmd := exec.Command(authokBinary(t), "members", "--url", url, "--json")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("authok members: %v", err)
		}
		var ms []store.Member
		if err := json.Unmarshal(out, &ms); err != nil {
			t.Fatalf("members output %s: %v", out, err)
		}
		return ms
	}
	ms := members("http://" + controls[2].http)
	roles := map[string]string{}
	for _, m := range ms {
		roles[m.NodeID] = m.Role
		if !m.Reachable || m.AppliedIndex == 0 {
			t.Fatalf("member %+v not reporting", m)
		}
	}
	if fmt.Sprint(roles) != "map[c1:voter c2:voter c3:voter e1:nonvoter]" {
		t.Fatalf("roles = %v", roles)
	}

	// One origin: the edge proxies what it does not serve to the control plane.
	resp, err := http.Get("http://" + edgeHTTP + "/api/v1/no-such-resource")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte(`"statusCode":404`)) {
		t.Fatalf("proxied answer %d %s", resp.StatusCode, body)
	}

	// Kill the bootstrap node (likely the leader) hard; the rest carry on.
	controls[0].p.cmd.Process.Signal(syscall.SIGKILL)
	<-controls[0].p.done
	for _, base := range []string{"http://" + controls[1].http, "http://" + controls[2].http, "http://" + edgeHTTP} {
		waitReady(t, edge, base)
	}
	ms = members("http://" + controls[1].http)
	for _, m := range ms {
		if m.NodeID == "c1" && m.Reachable {
			t.Fatalf("killed node reported reachable: %+v", m)
		}
	}
	for _, p := range []*proc{edge, controls[1].p, controls[2].p} {
		if code := p.stop(); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, p.stderr)
		}
	}
}
