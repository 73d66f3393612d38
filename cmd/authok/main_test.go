package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCapture(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &environment{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := run(args, e)
	return code, out.String(), errb.String()
}

func TestCommandLineErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o600)
	secret := map[string]string{"AUTHOK_CLUSTER_SECRET": "0123456789abcdef"}
	withKey := map[string]string{"AUTHOK_CLUSTER_SECRET": "0123456789abcdef", "AUTHOK_MASTER_KEY": newMasterKey(t)}
	secretFile, shortSecretFile, emptyFile := writeTemp(t, "0123456789abcdef\n"), writeTemp(t, "short\n"), writeTemp(t, "\n")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		wantErr []string
	}{
		{"no command", nil, nil, exitUsage, nil},
		{"unknown command", nil, []string{"serve"}, exitUsage, []string{`unknown command "serve"`}},
		{"unknown flag", nil, []string{"dev", "--nope"}, exitUsage, []string{"flag provided but not defined: -nope"}},
		{"stray argument", nil, []string{"dev", "extra"}, exitUsage, []string{`unexpected argument "extra"`}},
		{"bad listen", nil, []string{"dev", "--listen", "nonsense"}, exitUsage, []string{`--listen "nonsense": want host:port`}},
		{"bad issuer", nil, []string{"dev", "--issuer", "ftp://x"}, exitUsage, []string{"--issuer"}},
		{"bad log level", nil, []string{"dev", "--log-level", "loud"}, exitUsage, []string{"--log-level"}},
		{"bad metrics addr", nil, []string{"dev", "--metrics-addr", "9090"}, exitUsage, []string{`--metrics-addr "9090": want host:port`}},
		{"bad env value", map[string]string{"AUTHOK_SHUTDOWN_TIMEOUT": "soon"}, []string{"dev"}, exitUsage, []string{"AUTHOK_SHUTDOWN_TIMEOUT"}},
		{"control reports every missing flag", nil, []string{"control"}, exitUsage, []string{
			"--node-id is required", "--data-dir is required", "--http-addr is required",
			"--raft-addr is required", "--issuer is required", "the cluster secret is required: set AUTHOK_CLUSTER_SECRET, or --cluster-secret-file",
			"exactly one of --bootstrap",
		}},
		{"control with both bootstrap and join", secret, []string{"control", "--node-id", "a", "--data-dir", "d", "--http-addr", "127.0.0.1:1",
			"--raft-addr", "127.0.0.1:2", "--issuer", "http://x/", "--bootstrap", "--join", "http://127.0.0.1:3"},
			exitUsage, []string{"exactly one of --bootstrap"}},
		{"edge needs join", map[string]string{"AUTHOK_CLUSTER_SECRET": "0123456789abcdef"}, []string{"edge", "--node-id", "e", "--data-dir", "d",
			"--http-addr", "127.0.0.1:1", "--raft-addr", "127.0.0.1:2", "--issuer", "http://x/"}, exitUsage, []string{"--join is required"}},
		{"short cluster secret", map[string]string{"AUTHOK_CLUSTER_SECRET": "short"}, []string{"edge"}, exitUsage, []string{"the cluster secret must be at least 16 characters"}},
		{"short cluster secret in a file", nil, []string{"edge", "--cluster-secret-file", shortSecretFile}, exitUsage, []string{"the cluster secret must be at least 16 characters"}},
		{"empty cluster secret file", nil, []string{"control", "--cluster-secret-file", emptyFile}, exitUsage, []string{"--cluster-secret-file " + emptyFile + " is empty"}},
		{"missing cluster secret file", nil, []string{"control", "--cluster-secret-file", filepath.Join(file, "nope")}, exitUsage, []string{"--cluster-secret-file:", "not a directory"}},
		{"cluster secret both in env and file", secret, []string{"control", "--cluster-secret-file", secretFile}, exitUsage, []string{"both AUTHOK_CLUSTER_SECRET and --cluster-secret-file are set"}},
		// On a command line a secret is readable by every user of the
		// machine: refused, whatever the spelling, without echoing it.
		{"cluster secret flag on control", nil, []string{"control", "--cluster-secret", "0123456789abcdef-on-argv"}, exitUsage, []string{"--cluster-secret is not accepted on the command line", "set AUTHOK_CLUSTER_SECRET"}},
		{"cluster secret flag with =", nil, []string{"edge", "-cluster-secret=0123456789abcdef-on-argv"}, exitUsage, []string{"--cluster-secret is not accepted on the command line"}},
		{"cluster secret flag on members", nil, []string{"members", "--cluster-secret", "0123456789abcdef-on-argv"}, exitUsage, []string{"--cluster-secret is not accepted on the command line"}},
		{"half a TLS setup", nil, []string{"edge", "--tls-cert", "c.pem"}, exitUsage, []string{"--tls-cert, --tls-key and --tls-ca"}},
		{"control needs a master key", map[string]string{"AUTHOK_CLUSTER_SECRET": "0123456789abcdef"}, []string{"control", "--node-id", "a",
			"--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--issuer", "http://x/", "--bootstrap"},
			exitUsage, []string{"AUTHOK_MASTER_KEY is required"}},
		{"malformed master key", map[string]string{"AUTHOK_MASTER_KEY": "not base64!"}, []string{"dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"},
			exitUsage, []string{"AUTHOK_MASTER_KEY"}},
		{"data dir under a file", nil, []string{"dev", "--data-dir", filepath.Join(file, "sub"), "--listen", "127.0.0.1:0"},
			exitError, []string{"data dir", "not a directory"}},
		{"members without secret", nil, []string{"members"}, exitUsage, []string{"the cluster secret is required: set AUTHOK_CLUSTER_SECRET"}},

		// Caught by validation, not after the node is up. The first two use
		// no master key so that, without the check, they stop at that error
		// instead of running.
		{"http-addr without a host and no advertise", secret, edgeArgs(t, "--http-addr", ":9001"),
			exitUsage, []string{`--http-addr ":9001"`, "set --http-advertise"}},
		{"http-addr on every interface and no advertise", secret, controlArgs(t, "--http-addr", "0.0.0.0:9001"),
			exitUsage, []string{`--http-addr "0.0.0.0:9001"`, "set --http-advertise"}},
		{"raft-addr without a host and no advertise", secret, controlArgs(t, "--raft-addr", ":7001"),
			exitUsage, []string{`":7001"`, "set --raft-advertise"}},
		{"unspecified raft-advertise", secret, edgeArgs(t, "--raft-advertise", "0.0.0.0:7001"),
			exitUsage, []string{`"0.0.0.0:7001"`, "set --raft-advertise"}},
		{"unspecified http-advertise", secret, edgeArgs(t, "--http-advertise", "http://[::]:9001"),
			exitUsage, []string{`--http-advertise "http://[::]:9001"`, "no host other nodes can dial"}},
		{"control URL with a path", withKey, edgeArgs(t, "--control-url", "http://127.0.0.1:9001/x"),
			exitUsage, []string{"--control-url:", "no path"}},
		{"control URLs of mixed schemes", withKey, edgeArgs(t, "--control-url", "http://127.0.0.1:9001,https://127.0.0.1:9002"),
			exitUsage, []string{"--control-url:", "scheme https differs"}},
		{"join with a path as the default control URL", withKey, edgeArgs(t, "--join", "http://127.0.0.1:9/x"),
			exitUsage, []string{"--join (the default --control-url):", "no path"}},
		{"short bootstrap client secret", map[string]string{"AUTHOK_BOOTSTRAP_CLIENT_SECRET": "short"},
			[]string{"dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"},
			exitUsage, []string{"AUTHOK_BOOTSTRAP_CLIENT_SECRET must be at least 16 characters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCapture(t, tc.env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if strings.Contains(stderr, "on-argv") {
				t.Errorf("the secret given on the command line was echoed:\n%s", stderr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}

func TestEnvironmentFillsFlagsButCommandLineWins(t *testing.T) {
	c := devCommand()
	cfgFlag := c.fs.Lookup("listen")
	env := map[string]string{"AUTHOK_LISTEN": "127.0.0.1:9999", "AUTHOK_DATA_DIR": "/from/env"}
	if err := c.parse([]string{"--listen", "127.0.0.1:7777"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if got := cfgFlag.Value.String(); got != "127.0.0.1:7777" {
		t.Fatalf("listen = %s, want the command line's", got)
	}
	if got := c.fs.Lookup("data-dir").Value.String(); got != "/from/env" {
		t.Fatalf("data-dir = %s, want the environment's", got)
	}
}

func TestHelpListsEveryFlagWithItsEnvironmentVariable(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, out, _ := runCapture(t, nil, c.name, "--help")
			if code != exitOK {
				t.Fatalf("exit %d", code)
			}
			c.fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(out, "--"+f.Name) || !strings.Contains(out, envName(f.Name)) {
					t.Errorf("help lacks --%s / %s", f.Name, envName(f.Name))
				}
			})
		})
	}
}

// controlArgs and edgeArgs are complete command lines of a node on loopback
// (no master key: that comes from the environment), with extra appended;
// a repeated flag takes its last value.
func controlArgs(t *testing.T, extra ...string) []string {
	return append([]string{"control", "--node-id", "c1", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0",
		"--raft-addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:9/", "--bootstrap"}, extra...)
}

func edgeArgs(t *testing.T, extra ...string) []string {
	return append([]string{"edge", "--node-id", "e1", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0",
		"--raft-addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:9/", "--join", "http://127.0.0.1:9"}, extra...)
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// The cluster secret from a file (its trailing newline dropped) or the
// environment reaches the node.
func TestClusterSecretFromFileOrEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"file", nil, []string{"--cluster-secret-file", writeTemp(t, "0123456789abcdef-from-file\r\n")}},
		{"file from the environment", map[string]string{"AUTHOK_CLUSTER_SECRET_FILE": writeTemp(t, "0123456789abcdef-from-file\n")}, nil},
		{"environment", map[string]string{"AUTHOK_CLUSTER_SECRET": "0123456789abcdef-from-file"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cfg := newCommand("control", ""), &nodeConfig{}
			cfg.register(c.fs, roleControl)
			getenv := func(k string) string { return tc.env[k] }
			if err := c.parse(append(controlArgs(t)[1:], tc.args...), getenv); err != nil {
				t.Fatal(err)
			}
			cfg.readEnv(getenv)
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			if cfg.ClusterSecret != "0123456789abcdef-from-file" {
				t.Fatalf("cluster secret %q", cfg.ClusterSecret)
			}
		})
	}
}

// Only dev can follow --listen: a control node is told to give the stored
// issuer or start afresh, never to omit --issuer (it is required there).
func TestIssuerMismatchSaysHowToProceed(t *testing.T) {
	for _, tc := range []struct {
		role      role
		want, not []string
	}{
		{roleDev, []string{"give --issuer http://a/", "omit --issuer", "another --data-dir"}, nil},
		{roleControl, []string{"give --issuer http://a/", "another --data-dir"}, []string{"omit --issuer"}},
	} {
		msg := issuerMismatch(&nodeConfig{role: tc.role, Issuer: "http://b/", DataDir: "d"}, "http://a/").Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.role, msg, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(msg, n) {
				t.Errorf("%s: %q says %q", tc.role, msg, n)
			}
		}
	}
}
