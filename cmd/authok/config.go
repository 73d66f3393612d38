package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authok-edge/authok/actions-runtime/executor"
	edgesrv "github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/bootstrap"
)

// role is what a process runs as.
type role string

const (
	roleDev     role = "dev"
	roleControl role = "control"
	roleEdge    role = "edge"
)

// nodeConfig is every setting of the three roles; which flags a role
// registers decides which fields it uses.
type nodeConfig struct {
	role role

	NodeID        string
	DataDir       string
	Listen        string // dev: the one public listener
	HTTPAddr      string // control/edge: public + internal HTTP listener
	HTTPAdvertise string // URL peers use to reach HTTPAddr
	RaftAddr      string
	RaftAdvertise string
	Issuer        string
	IssuerDerived bool // dev without --issuer: Issuer follows --listen
	Bootstrap     bool
	Join          string
	ControlURLs   listFlag // edge: where to proxy what it does not serve

	ClusterSecret     string // from AUTHOK_CLUSTER_SECRET (readEnv) or the file
	ClusterSecretFile string
	TLSCert           string
	TLSKey            string
	TLSCA             string

	HeartbeatTimeout  time.Duration
	ElectionTimeout   time.Duration
	LeaderLease       time.Duration
	SnapshotThreshold uint64
	BatchApplies      bool
	ReadyMaxLag       uint64
	ShutdownTimeout   time.Duration
	// ActionsMaxTimeout caps a tenant's Actions deadline on this node.
	ActionsMaxTimeout time.Duration

	LogLevel    string
	LogFormat   string
	DebugAddr   string
	MetricsAddr string

	// Environment-only (readEnv): the management client a new cluster
	// creates.
	BootstrapClientID     string
	BootstrapClientSecret string
}

// readEnv reads the settings that are never flags.
func (c *nodeConfig) readEnv(getenv func(string) string) {
	c.BootstrapClientID = getenv("AUTHOK_BOOTSTRAP_CLIENT_ID")
	c.BootstrapClientSecret = getenv("AUTHOK_BOOTSTRAP_CLIENT_SECRET")
	c.ClusterSecret = getenv("AUTHOK_CLUSTER_SECRET")
}

// bootstraps reports whether this node creates the default tenant.
func (c *nodeConfig) bootstraps() bool { return c.role == roleDev || c.Bootstrap }

// register adds the role's flags to fs.
func (c *nodeConfig) register(fs *flag.FlagSet, r role) {
	c.role = r
	switch r {
	case roleDev:
		fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for all state (created if missing)")
		fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address to serve every public path on")
		fs.StringVar(&c.Issuer, "issuer", "", "issuer URL of the default tenant (default http://<listen>/)")
	default:
		fs.StringVar(&c.NodeID, "node-id", "", "unique, stable id of this node (required)")
		fs.StringVar(&c.DataDir, "data-dir", "", "directory for this node's state (required)")
		fs.StringVar(&c.HTTPAddr, "http-addr", "", "address to serve HTTP on: public paths and the internal cluster API (required)")
		fs.StringVar(&c.HTTPAdvertise, "http-advertise", "", "URL other nodes use to reach --http-addr (default http://<http-addr>; required when --http-addr has no concrete host, as :9001 or 0.0.0.0:9001)")
		fs.StringVar(&c.RaftAddr, "raft-addr", "", "address the Raft transport listens on (required)")
		fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "address other nodes dial for Raft (default --raft-addr; required when --raft-addr has no concrete host, as :7001)")
		fs.StringVar(&c.Issuer, "issuer", "", "issuer URL of the default tenant, e.g. https://auth.example.com/ (required)")
		fs.StringVar(&c.Join, "join", "", "HTTP URL of any control-plane node already in the cluster")
		fs.StringVar(&c.ClusterSecretFile, "cluster-secret-file", "", "file holding the shared secret that authenticates all inter-node traffic (instead of AUTHOK_CLUSTER_SECRET; one of them is required)")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate for inter-node TLS (with --tls-key and --tls-ca)")
		fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key for inter-node TLS")
		fs.StringVar(&c.TLSCA, "tls-ca", "", "PEM CA bundle that signs every node's certificate")
		fs.DurationVar(&c.HeartbeatTimeout, "raft-heartbeat-timeout", 200*time.Millisecond, "Raft heartbeat timeout; raise for voters across regions")
		fs.DurationVar(&c.ElectionTimeout, "raft-election-timeout", 200*time.Millisecond, "Raft election timeout")
		fs.DurationVar(&c.LeaderLease, "raft-leader-lease-timeout", 100*time.Millisecond, "Raft leader lease (at most the heartbeat timeout)")
		fs.Uint64Var(&c.SnapshotThreshold, "raft-snapshot-threshold", 8192, "log entries between snapshots")
		fs.BoolVar(&c.BatchApplies, "raft-batch-applies", true, "coalesce concurrent writes on the leader into one log entry")
		fs.Uint64Var(&c.ReadyMaxLag, "ready-max-lag", 1000, "/readyz fails while the local apply index is more than this many entries behind the commit index")
	}
	if r == roleControl {
		fs.BoolVar(&c.Bootstrap, "bootstrap", false, "start a new cluster with this node as its first voter")
	}
	if r == roleEdge {
		fs.Var(&c.ControlURLs, "control-url", "comma-separated control-plane base URLs (one scheme, no path) to proxy other paths to (default --join)")
	}
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to drain requests on SIGINT/SIGTERM")
	fs.DurationVar(&c.ActionsMaxTimeout, "actions-max-timeout", executor.DefaultMaxTimeout, "the longest deadline of one Action invocation a tenant's actions_timeout_ms may ask for on this node")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "if set, serve Go's /debug/pprof profiles on this address (keep it on loopback)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "if set, serve Prometheus /metrics on this address (loopback or a private network: the public listener never serves it)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
}

// validate reports every problem at once, and fills derived defaults.
func (c *nodeConfig) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	required := func(v, flag string) {
		if strings.TrimSpace(v) == "" {
			bad("--%s is required", flag)
		}
	}
	hostPort := func(v, flag string) {
		if v == "" {
			return
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad("--%s %q: want host:port", flag, v)
		}
	}
	if c.role == roleDev {
		hostPort(c.Listen, "listen")
		if c.Issuer == "" && c.Listen != "" {
			c.Issuer, c.IssuerDerived = "http://"+c.Listen+"/", true
		}
	} else {
		required(c.NodeID, "node-id")
		required(c.DataDir, "data-dir")
		required(c.HTTPAddr, "http-addr")
		required(c.RaftAddr, "raft-addr")
		required(c.Issuer, "issuer")
		if secret, err := loadClusterSecret(c.ClusterSecret, c.ClusterSecretFile); err != nil {
			errs = append(errs, err)
		} else {
			c.ClusterSecret = secret
		}
		hostPort(c.HTTPAddr, "http-addr")
		hostPort(c.RaftAddr, "raft-addr")
		hostPort(c.RaftAdvertise, "raft-advertise")
		// The Raft transport refuses to advertise an unspecified address;
		// say so here, before the node starts.
		if advertise := cmp.Or(c.RaftAdvertise, c.RaftAddr); advertise != "" {
			if host, _, err := net.SplitHostPort(advertise); err == nil && !dialable(host) {
				bad("%q has no host other nodes can dial: set --raft-advertise to the host:port they reach this node's Raft transport at", advertise)
			}
		}
		// Peers dial the advertised URL (the join request carries it), so
		// it needs a host they can reach; the store rejects an unspecified
		// Raft address the same way.
		switch {
		case c.HTTPAdvertise != "":
			if u, ok := checkURL(c.HTTPAdvertise, "http-advertise", bad); ok && !dialable(u.Hostname()) {
				bad("--http-advertise %q: no host other nodes can dial; give this node's address or name", c.HTTPAdvertise)
			}
		case c.HTTPAddr != "":
			if host, port, err := net.SplitHostPort(c.HTTPAddr); err == nil && !dialable(host) {
				bad("--http-addr %q has no host other nodes can dial: set --http-advertise to the URL they reach this node at, e.g. http://10.0.0.1:%s", c.HTTPAddr, port)
			} else {
				c.HTTPAdvertise = "http://" + c.HTTPAddr
			}
		}
		joinOK := c.Join == ""
		if c.Join != "" {
			_, joinOK = checkURL(c.Join, "join", bad)
		}
		switch c.role {
		case roleControl:
			if c.Bootstrap == (c.Join != "") {
				bad("give exactly one of --bootstrap (new cluster) or --join URL (existing cluster)")
			}
		case roleEdge:
			required(c.Join, "join")
			name := "--control-url"
			if len(c.ControlURLs) == 0 && c.Join != "" && joinOK {
				c.ControlURLs, name = listFlag{c.Join}, "--join (the default --control-url)"
			}
			// The edge server's own check, so what passes here is what
			// edgesrv.New accepts.
			if len(c.ControlURLs) > 0 {
				eachError(edgesrv.Config{ControlURLs: c.ControlURLs}.Validate(), func(err error) { bad("%s: %w", name, err) })
			}
		}
		if (c.TLSCert == "") != (c.TLSKey == "") || (c.TLSCert != "" && c.TLSCA == "") {
			bad("inter-node TLS needs all of --tls-cert, --tls-key and --tls-ca")
		}
		if c.LeaderLease > c.HeartbeatTimeout {
			bad("--raft-leader-lease-timeout %s exceeds --raft-heartbeat-timeout %s", c.LeaderLease, c.HeartbeatTimeout)
		}
		if c.HeartbeatTimeout < 5*time.Millisecond || c.ElectionTimeout < 5*time.Millisecond {
			bad("Raft timeouts must be at least 5ms")
		}
	}
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("--issuer %q: want an absolute http(s) URL without query or fragment", c.Issuer)
		} else if !strings.HasSuffix(c.Issuer, "/") {
			c.Issuer += "/"
		}
	}
	// bootstrap has no exported check of its options; its minimum is
	// exported, and this is the rule Ensure applies to it.
	if c.bootstraps() && c.BootstrapClientSecret != "" && len(c.BootstrapClientSecret) < bootstrap.MinClientSecretLength {
		bad("AUTHOK_BOOTSTRAP_CLIENT_SECRET must be at least %d characters (or unset, to generate one)", bootstrap.MinClientSecretLength)
	}
	hostPort(c.DebugAddr, "debug-addr")
	hostPort(c.MetricsAddr, "metrics-addr")
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.ActionsMaxTimeout <= 0 || c.ActionsMaxTimeout > executor.LimitMaxTimeout {
		bad("--actions-max-timeout %v: want more than 0 and at most %v", c.ActionsMaxTimeout, executor.LimitMaxTimeout)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("--log-format %q: want text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

func checkURL(v, flag string, bad func(string, ...any)) (*url.URL, bool) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("--%s %q: want an http(s) URL like http://10.0.0.1:8080", flag, v)
		return nil, false
	}
	return u, true
}

// dialable reports whether another machine can dial host: not empty (":9001")
// and not the unspecified address (0.0.0.0, ::), which a listener accepts on
// but a peer would resolve to itself.
func dialable(host string) bool {
	if host == "" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}

// eachError calls f with every error errors.Join put into err, flattened,
// so each problem gets a line of its own.
func eachError(err error, f func(error)) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			eachError(e, f)
		}
		return
	}
	f(err)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// prepareDataDir creates the data dir and proves it is writable, so a bad
// path fails at startup with a clear message, not deep inside Pebble.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	return os.Remove(probe)
}

// tlsConfig loads inter-node TLS: this node's certificate, and the CA that
// must sign every peer's (both as client and as server).
func (c *nodeConfig) tlsConfig() (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("inter-node TLS: %w", err)
	}
	pem, err := os.ReadFile(c.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("inter-node TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("inter-node TLS CA %s: no certificates found", c.TLSCA)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
