package examples

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dev is a running `authok dev`.
type dev struct {
	url       string // http://127.0.0.1:PORT
	bootstrap string // path of its bootstrap.json
	dir       string // its temp dir
}

// cleanEnv is the test's environment without AUTHOK_ settings, so a
// developer's shell cannot change what the examples run against.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHOK_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startDev builds cmd/authok and runs `authok dev` until the test ends.
func startDev(t *testing.T) dev {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the authok binary; run without -short")
	}
	dir := t.TempDir() // holds the binary too: nothing is left behind
	bin := filepath.Join(dir, "authok")
	build := exec.Command("go", "build", "-o", bin, "./cmd/authok")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	cmd := exec.Command(bin, "dev", "--listen", addr, "--data-dir", filepath.Join(dir, "data"))
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-done:
			t.Errorf("authok dev exited early: %v\n%s", err, logs.String())
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("authok dev did not stop cleanly: %v\n%s", err, logs.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("authok dev ignored SIGTERM\n%s", logs.String())
		}
	})

	d := dev{url: "http://" + addr, bootstrap: filepath.Join(dir, "data", "bootstrap.json"), dir: dir}
	deadline := time.Now().Add(90 * time.Second)
	for {
		// readyz is 200 only once the default tenant exists and
		// bootstrap.json holds the management client's credentials.
		resp, err := http.Get(d.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if _, err := os.Stat(d.bootstrap); err == nil {
					return d
				}
			}
		}
		select {
		case err := <-done:
			t.Fatalf("authok dev exited: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("authok dev not ready after 90s\n%s", logs.String())
		}
	}
}

// run runs an example and returns its exit code, stdout and stderr.
func run(t *testing.T, dir string, env []string, name string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit) && ctx.Err() == nil:
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", name, args, err, stdout.String(), stderr.String())
	return 0, "", ""
}

// wrongSecret writes a copy of the bootstrap credentials with another
// secret.
func wrongSecret(t *testing.T, d dev) string {
	t.Helper()
	b, err := os.ReadFile(d.bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"client_secret": "`))
	if i < 0 {
		t.Fatalf("no client_secret in %s", d.bootstrap)
	}
	i += len(`"client_secret": "`)
	copy(b[i:], "not-the-secret")
	p := filepath.Join(d.dir, "wrong-secret.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// missing skips the test, except under CI (CI=true), where .ci/run
// installs what the examples need: there a missing tool is a failure, so
// the examples cannot stop being run unnoticed.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "%s is not installed (.ci/run installs it: apt-get install -y %s)", tool, strings.Join(tools, " "))
		}
	}
}

func TestExamplesAgainstDev(t *testing.T) {
	d := startDev(t)

	t.Run("curl", func(t *testing.T) {
		needTools(t, "bash", "curl", "jq", "openssl")
		env := cleanEnv("AUTHOK_URL="+d.url, "AUTHOK_BOOTSTRAP="+d.bootstrap)
		tests := []struct {
			name      string
			env       []string
			wantCode  int
			wantOut   string // in stdout
			wantError string // in stderr
		}{
			{"the worked example", env, 0, "m2m.sh: token for https://orders.example.com/ verified", ""},
			{"another API on the same data", append(env, "AUTHOK_API=urn:example:orders"), 0, "m2m.sh: token for urn:example:orders verified", ""},
			{"the same API again is a conflict", env, 5, "", `API not created: {"statusCode":409,"error":"Conflict"`},
			{"a wrong bootstrap secret", cleanEnv("AUTHOK_URL="+d.url, "AUTHOK_BOOTSTRAP="+wrongSecret(t, d)), 5, "", `no management token: {"error":"invalid_client"`},
			{"no server", cleanEnv("AUTHOK_URL=http://127.0.0.1:1", "AUTHOK_BOOTSTRAP="+d.bootstrap), 7, "", "Failed to connect"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out, errOut := run(t, ".", tt.env, "bash", "m2m.sh")
				if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantError) {
					t.Fatalf("exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tt.wantCode, tt.wantOut, out, tt.wantError, errOut)
				}
			})
		}
	})

	t.Run("README", func(t *testing.T) {
		needTools(t, "bash", "curl", "jq")
		// The README's "What works today" example, run as written but
		// for the server's address and data dir.
		snippet := shBlockAfter(t, filepath.Join("..", "..", "README.md"), "What works today")
		snippet = strings.ReplaceAll(snippet, "http://127.0.0.1:8080", d.url)
		snippet = strings.ReplaceAll(snippet, "creds=data/bootstrap.json", "creds="+d.bootstrap)
		code, out, errOut := run(t, ".", cleanEnv(), "bash", "-euo", "pipefail", "-c", snippet)
		var meta struct {
			Page, PageSize, Total, Length *int
		}
		err := json.Unmarshal([]byte(out), &meta)
		if code != 0 || err != nil || meta.Page == nil || meta.Total == nil || *meta.Total < 1 {
			t.Fatalf("README example: exit %d, meta %+v (%v)\nstdout:\n%s\nstderr:\n%s\nscript:\n%s", code, meta, err, out, errOut, snippet)
		}
	})

	t.Run("node SDK", func(t *testing.T) {
		needTools(t, "node")
		if _, err := os.Stat(filepath.Join("node", "node_modules", "auth0", "package.json")); err != nil {
			missing(t, "docs/examples/node/node_modules is missing: run `npm ci` there (.ci/run does)")
		}
		env := cleanEnv("AUTHOK_URL="+d.url, "AUTHOK_BOOTSTRAP="+d.bootstrap)
		tests := []struct {
			name      string
			env       []string
			wantCode  int
			wantOut   string
			wantError string
		}{
			{"the worked example", env, 0, "m2m.js: token for https://orders-node.example.com/ verified", ""},
			{"the same API again is a conflict", env, 1, "", "m2m.js: 409 conflict: A resource server with identifier"},
			{"a wrong bootstrap secret", cleanEnv("AUTHOK_URL="+d.url, "AUTHOK_BOOTSTRAP="+wrongSecret(t, d)), 1, "", `"error":"invalid_client"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out, errOut := run(t, "node", tt.env, "node", "m2m.js")
				if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantError) {
					t.Fatalf("exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tt.wantCode, tt.wantOut, out, tt.wantError, errOut)
				}
			})
		}
	})
}

// shBlockAfter returns the first ```sh block after marker in a Markdown
// file.
func shBlockAfter(t *testing.T, path, marker string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, found := strings.Cut(string(b), marker)
	_, rest, ok := strings.Cut(rest, "\n```sh\n")
	block, _, closed := strings.Cut(rest, "\n```")
	if !found || !ok || !closed {
		t.Fatalf("no sh block after %q in %s", marker, path)
	}
	return block
}

// TestDocsQuoteTheScript keeps docs/api.md's worked example true: every
// command line of its sh blocks is a line of m2m.sh, which the test above
// runs.
func TestDocsQuoteTheScript(t *testing.T) {
	docQuotesScript(t, "api.md", "## Worked example", "m2m.sh", 10)
}

// docQuotesScript checks that every command line of the sh blocks under
// the heading section of docs/<doc> is a line of the script, and that
// there are at least min of them (the section or its blocks did not move).
func docQuotesScript(t *testing.T, doc, section, scriptName string, minLines int) {
	t.Helper()
	script, err := os.ReadFile(scriptName)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for l := range strings.Lines(string(script)) {
		lines[strings.TrimSpace(l)] = true
	}
	f, err := os.Open(filepath.Join("..", doc))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var inSection, inBlock bool
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			inSection = strings.HasPrefix(l, section)
		case inSection && strings.HasPrefix(l, "```"):
			inBlock = !inBlock && strings.TrimPrefix(l, "```") == "sh"
		case inSection && inBlock:
			cmd := strings.TrimSpace(l)
			if cmd == "" || strings.HasPrefix(cmd, "#") {
				continue
			}
			checked++
			if !lines[cmd] {
				t.Errorf("docs/%s shows %q, which docs/examples/%s does not run", doc, cmd, scriptName)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < minLines {
		t.Fatalf("found %d command lines under docs/%s's %q; the section or its sh blocks moved", checked, doc, section)
	}
}
