package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/servetest"
)

// TestClusterScript runs cluster.sh as a user would: a new cluster, stopped
// with Ctrl-C's signal; the same data root again (it used to hang: c1 waited
// for its own readiness, alone, before the other voters started); and a
// SIGTERM while the nodes start (the script used to carry on waiting). After
// each stop, no process the script started may be left.
func TestClusterScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four authok processes; run without -short")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" { // .ci/run installs it: missing is a failure there
				t.Fatalf("cluster.sh needs %s, which is not installed", tool)
			}
			t.Skipf("cluster.sh needs %s, which is not installed", tool)
		}
	}
	if signal.Ignored(os.Interrupt) {
		// A go test started in the background of a shell runs with SIGINT
		// ignored; the script would inherit that, and bash cannot trap a
		// signal ignored on entry. Handling it here makes exec give the
		// script the default disposition (Ctrl-C did nothing here anyway).
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		t.Cleanup(func() { signal.Stop(c) })
	}
	began := time.Now()
	bin := buildAuthok(t)
	t.Logf("built authok in %s", time.Since(began).Round(time.Millisecond))
	p := pickPorts(t)
	root := t.TempDir()

	s := startScript(t, bin, p, root)
	s.waitFor("cluster up")
	t.Logf("new cluster up at %s", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(s.out.String(), "cluster up (new cluster)") {
		t.Errorf("first run does not say it created a cluster:\n%s", s.out)
	}
	checkCluster(t, bin, p, root)
	// What the script tells the user to run, checkCluster ran.
	if hint := bin + " members --cluster-secret-file " + filepath.Join(root, "cluster.secret") + " --url " + p.controlURL(); !strings.Contains(s.out.String(), hint) {
		t.Errorf("the script does not print %q:\n%s", hint, s.out)
	}
	s.stop(syscall.SIGINT, 130)

	s = startScript(t, bin, p, root)
	s.waitFor("cluster up")
	t.Logf("existing cluster up at %s", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(s.out.String(), "cluster up (existing cluster)") {
		t.Errorf("second run does not say it started the existing cluster:\n%s", s.out)
	}
	checkCluster(t, bin, p, root) // the same credentials: the same cluster
	s.stop(syscall.SIGTERM, 143)

	// A stop while the nodes start, on a new data root: the script must end
	// and take every node with it.
	early := t.TempDir()
	s = startScript(t, bin, p, early)
	s.waitFor("nodes started")
	s.stop(syscall.SIGTERM, 143)
	if strings.Contains(s.out.String(), "cluster up") {
		t.Fatalf("the cluster came up before the signal, so start-up was not interrupted:\n%s", s.out)
	}
}

// buildAuthok builds the binary once into the test's temp dir (removed
// afterwards), for the script's AUTHOK_BIN.
func buildAuthok(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "authok")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/authok-edge/authok/cmd/authok").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ports are the script's three port settings.
type ports struct{ edge, control, raft int }

func (p ports) edgeURL() string    { return fmt.Sprintf("http://127.0.0.1:%d", p.edge) }
func (p ports) controlURL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.control) }

// pickPorts finds bases whose ports, as the script derives them, are all
// free: Raft base..base+2 and base+100, control base..base+2, the edge's.
// Each is held until all are chosen, so no two overlap.
func pickPorts(t *testing.T) ports {
	t.Helper()
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	grab := func(offsets ...int) int {
		for range 100 {
			_, port, _ := net.SplitHostPort(servetest.FreeAddr(t))
			base, _ := strconv.Atoi(port)
			var got []net.Listener
			for _, off := range offsets {
				ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
				if err != nil {
					break
				}
				got = append(got, ln)
			}
			held = append(held, got...)
			if len(got) == len(offsets) {
				return base
			}
		}
		t.Fatalf("no free run of loopback ports at offsets %v", offsets)
		return 0
	}
	return ports{raft: grab(0, 1, 2, 100), control: grab(0, 1, 2), edge: grab(0)}
}

// script is one run of cluster.sh, in a process group of its own so that
// every process it started can be found.
type script struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *servetest.SyncBuffer
	done    chan struct{}
	stopped bool // stop saw the group empty: nothing to clean up
}

func startScript(t *testing.T, bin string, p ports, root string) *script {
	t.Helper()
	s := &script{t: t, out: &servetest.SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command("./cluster.sh", root)
	// The developer's own AUTHOK_* settings must not leak into the run.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AUTHOK_") })
	s.cmd.Env = append(env,
		"AUTHOK_BIN="+bin,
		"AUTHOK_LOCAL_EDGE_PORT="+strconv.Itoa(p.edge),
		"AUTHOK_LOCAL_CONTROL_PORT="+strconv.Itoa(p.control),
		"AUTHOK_LOCAL_RAFT_PORT="+strconv.Itoa(p.raft),
		// Raft timeouts for a starved test machine (as storetest and the
		// cmd/authok process tests use): the 200ms defaults hold spurious
		// elections when -race and other packages' tests share two cores.
		"AUTHOK_RAFT_HEARTBEAT_TIMEOUT=1s",
		"AUTHOK_RAFT_ELECTION_TIMEOUT=1s",
		"AUTHOK_RAFT_LEADER_LEASE_TIMEOUT=1s",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		if !s.stopped { // whatever a failed run left behind
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			for _, pid := range s.nodePIDs() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		<-s.done
		if t.Failed() {
			logTails(t, root)
		}
	})
	return s
}

// waitFor waits until the script has printed text. The bound only keeps a
// hang from lasting forever; it is not a speed requirement.
func (s *script) waitFor(text string) {
	s.t.Helper()
	s.waitUntil("the script to print "+strconv.Quote(text), func() bool { return strings.Contains(s.out.String(), text) })
}

func (s *script) waitUntil(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.After(3 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-s.done:
			if cond() {
				return
			}
			s.t.Fatalf("the script exited (%v) before %s:\n%s", s.cmd.ProcessState, what, s.out)
		case <-deadline:
			s.t.Fatalf("gave up waiting for %s:\n%s", what, s.out)
		case <-tick.C:
		}
	}
}

// stop signals the script alone (not its process group, as a terminal
// would), and checks that it exits with wantCode having stopped every node.
func (s *script) stop(sig syscall.Signal, wantCode int) {
	s.t.Helper()
	sent := time.Now()
	defer func() { s.t.Logf("stopped by %v in %s", sig, time.Since(sent).Round(time.Millisecond)) }()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal the script: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("the script did not exit after %v:\n%s", sig, s.out)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != wantCode {
		s.t.Errorf("after %v the script exited %d, want %d:\n%s", sig, code, wantCode, s.out)
	}
	// The nodes run in process groups of their own; what else the script
	// started (curl, sleep) shares its group, which it leads.
	pids := s.nodePIDs()
	if len(pids) != 4 {
		s.t.Fatalf("the script named %d node pids, want 4:\n%s", len(pids), s.out)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			s.t.Fatalf("node pid %d still exists after the script exited (kill -0: %v):\n%s", pid, err, s.out)
		}
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		s.t.Fatalf("processes of the script's group are still running after it exited (kill -0: %v):\n%s", err, s.out)
	}
	s.stopped = true
	if !strings.Contains(s.out.String(), "cluster.sh: stopped") {
		s.t.Errorf("the script did not report stopping its nodes:\n%s", s.out)
	}
}

// nodePIDs are the pids the script printed as it started the nodes.
func (s *script) nodePIDs() []int {
	var pids []int
	for _, m := range nodePID.FindAllStringSubmatch(s.out.String(), -1) {
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
	}
	return pids
}

var nodePID = regexp.MustCompile(`\b[ce]\d \(pid (\d+)\)`)

// checkCluster lists the members as the script tells the user to, and gets
// a token and discovery through the edge with the bootstrap credentials.
func checkCluster(t *testing.T, bin string, p ports, root string) {
	t.Helper()
	secretFile := filepath.Join(root, "cluster.secret")
	members := exec.Command(bin, "members", "--cluster-secret-file", secretFile, "--url", p.controlURL(), "--json")
	members.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AUTHOK_") })
	out, err := members.Output()
	if err != nil {
		t.Fatalf("authok members: %v\n%s", err, out)
	}
	var ms []struct {
		NodeID    string `json:"node_id"`
		Role      string `json:"role"`
		Leader    bool   `json:"leader"`
		Reachable bool   `json:"reachable"`
	}
	if err := json.Unmarshal(out, &ms); err != nil {
		t.Fatalf("authok members --json: %v\n%s", err, out)
	}
	got, leaders := map[string]string{}, 0
	for _, m := range ms {
		if !m.Reachable {
			t.Errorf("member %s unreachable", m.NodeID)
		}
		if m.Leader {
			leaders++
		}
		got[m.NodeID] = m.Role
	}
	want := map[string]string{"c1": "voter", "c2": "voter", "c3": "voter", "e1": "nonvoter"}
	if fmt.Sprint(got) != fmt.Sprint(want) || leaders != 1 {
		t.Errorf("members = %v with %d leader(s), want %v with one\n%s", got, leaders, want, out)
	}

	var creds struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Audience     string `json:"audience"`
		TokenURL     string `json:"token_url"`
	}
	b, err := os.ReadFile(filepath.Join(root, "c1", "bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	if want := p.edgeURL() + "/oauth/token"; creds.TokenURL != want {
		t.Errorf("token URL %q, want the edge's %q", creds.TokenURL, want)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.PostForm(p.edgeURL()+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {creds.ClientID},
		"client_secret": {creds.ClientSecret}, "audience": {creds.Audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || tok.AccessToken == "" {
		t.Errorf("token through the edge: status %d, decode %v, access_token %q", resp.StatusCode, err, tok.AccessToken)
	}

	resp, err = client.Get(p.edgeURL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || disc.Issuer != p.edgeURL()+"/" {
		t.Errorf("discovery through the edge: status %d, decode %v, issuer %q, want %q", resp.StatusCode, err, disc.Issuer, p.edgeURL()+"/")
	}
}

// logTails logs the end of every node's log, to explain a failure.
func logTails(t *testing.T, root string) {
	logs, _ := filepath.Glob(filepath.Join(root, "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("--- end of %s:\n%s", l, b)
	}
}
