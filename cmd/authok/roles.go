package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/authok-edge/authok/actions-runtime/executor"
	"github.com/authok-edge/authok/actions-runtime/jsengine"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/control/mgmtapi"
	controlsrv "github.com/authok-edge/authok/control/server"
	"github.com/authok-edge/authok/edge/discovery"
	edgesrv "github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/edge/token"
	"github.com/authok-edge/authok/edge/tokenactions"
	"github.com/authok-edge/authok/shared/bootstrap"
	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
)

const envOnlyUsage = `Environment-only settings (secrets never go on a command line):
  AUTHOK_MASTER_KEY               32 random bytes, standard base64, that encrypt secrets at rest.
                                  Every node of a cluster needs the same key. Required by control
                                  and edge; dev generates <data-dir>/master.key (0600) if unset.
                                  Make one with: head -c 32 /dev/urandom | base64
  AUTHOK_BOOTSTRAP_CLIENT_ID      client_id of the management client a new cluster creates
  AUTHOK_BOOTSTRAP_CLIENT_SECRET  its client_secret (at least 16 characters)
                                  Both are generated when unset, printed once and written to
                                  <data-dir>/bootstrap.json (0600).`

// clusterSecretUsage is the environment-only setting of control and edge.
const clusterSecretUsage = `
  AUTHOK_CLUSTER_SECRET           shared secret (at least 16 characters) that authenticates all
                                  inter-node traffic; the same on every node. Or put it in a file
                                  (mode 0600) and give --cluster-secret-file. Refused as a flag.`

func devCommand() *command {
	c := newCommand("dev", "Run everything in one process: a single-voter control plane and an edge listener, data in a local folder.")
	cfg := &nodeConfig{}
	cfg.register(c.fs, roleDev)
	c.usage = envOnlyUsage
	c.run = func(env *environment) error { return runNode(cfg, env) }
	return c
}

func controlCommand() *command {
	c := newCommand("control", "Run a control-plane node (Raft voter): Management API, login pages, cluster membership.")
	cfg := &nodeConfig{}
	cfg.register(c.fs, roleControl)
	c.usage = envOnlyUsage + clusterSecretUsage + `

Example, voters of a cluster on one machine whose edge will serve http://127.0.0.1:8080/
(deploy/local/cluster.sh starts the whole cluster; README "Running a cluster"):
  bin/authok control --node-id c1 --raft-addr 127.0.0.1:7001 --http-addr 127.0.0.1:9001 --data-dir d/c1 --issuer http://127.0.0.1:8080/ --bootstrap
  bin/authok control --node-id c2 --raft-addr 127.0.0.1:7002 --http-addr 127.0.0.1:9002 --data-dir d/c2 --issuer http://127.0.0.1:8080/ --join http://127.0.0.1:9001
  (with AUTHOK_CLUSTER_SECRET and AUTHOK_MASTER_KEY set alike for every node)`
	c.run = func(env *environment) error { return runNode(cfg, env) }
	return c
}

func edgeCommand() *command {
	c := newCommand("edge", "Run an edge node (Raft non-voter): serves the hot paths from its local replica and proxies the rest.")
	cfg := &nodeConfig{}
	cfg.register(c.fs, roleEdge)
	c.usage = envOnlyUsage + clusterSecretUsage + `

Example, an edge of the cluster in "authok control --help", serving the issuer's address:
  bin/authok edge --node-id e1 --raft-addr 127.0.0.1:7101 --http-addr 127.0.0.1:8080 --data-dir d/e1 --issuer http://127.0.0.1:8080/ \
    --join http://127.0.0.1:9001 --control-url http://127.0.0.1:9001,http://127.0.0.1:9002,http://127.0.0.1:9003`
	c.run = func(env *environment) error { return runNode(cfg, env) }
	return c
}

// runNode is the composition root of every serving role.
func runNode(cfg *nodeConfig, env *environment) error {
	cfg.readEnv(env.getenv)
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	if cfg.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(env.stderr, opts))
	} else {
		logger = slog.New(slog.NewTextHandler(env.stderr, opts))
	}
	logger = logger.With("role", string(cfg.role))

	if err := prepareDataDir(cfg.DataDir); err != nil {
		return err
	}
	// Before anything in the data dir is read or created (dev's master
	// key, the store): a second process stops here with the holder's PID.
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	box, err := masterKey(cfg, env)
	if err != nil {
		return err
	}
	tlsConf, err := cfg.tlsConfig()
	if err != nil {
		return usageError{err}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	httpMetrics, err := httpmetrics.New(reg)
	if err != nil {
		return err
	}

	addr := cfg.HTTPAddr
	if cfg.role == roleDev {
		addr = cfg.Listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()

	internalClient := &http.Client{Timeout: 15 * time.Second}
	if tlsConf != nil {
		internalClient.Transport = &http.Transport{TLSClientConfig: tlsConf}
	}
	scfg := store.Config{
		NodeID:             cfg.NodeID,
		DataDir:            cfg.DataDir,
		RaftBind:           cfg.RaftAddr,
		RaftAdvertise:      cfg.RaftAdvertise,
		HTTPURL:            cfg.HTTPAdvertise,
		Bootstrap:          cfg.Bootstrap,
		ClusterSecret:      []byte(cfg.ClusterSecret),
		TLS:                tlsConf,
		HeartbeatTimeout:   cfg.HeartbeatTimeout,
		ElectionTimeout:    cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLease,
		SnapshotThreshold:  cfg.SnapshotThreshold,
		BatchApplies:       cfg.BatchApplies,
		Logger:             logger,
		HTTPClient:         internalClient,
		Registerer:         reg,
	}
	if cfg.role == roleDev {
		// One voter in one process: no network transport, and a secret no
		// one else knows for the (unmounted) internal API.
		scfg.NodeID, scfg.Bootstrap, scfg.BatchApplies = "dev", true, true
		_, scfg.Transport = raft.NewInmemTransport("dev")
		scfg.ClusterSecret = make([]byte, 32)
		rand.Read(scfg.ClusterSecret)
		cfg.ReadyMaxLag = 1000
	}
	node, err := store.OpenNode(scfg)
	if err != nil {
		return err
	}
	defer node.Close()

	runsBootstrap := cfg.bootstraps()
	var bootstrapping health.Switch
	if runsBootstrap {
		bootstrapping.Set(errors.New("creating the default tenant"))
	}
	ready := health.Func(func() error {
		if err := node.Ready(cfg.ReadyMaxLag); err != nil {
			return err
		}
		return bootstrapping.Ready()
	})

	km := keys.New(node, box)
	defer km.Close()
	rp, err := repo.New(node, box)
	if err != nil {
		return err
	}

	// Actions: one executor per node. Control planes check and test code
	// with it (the Management API's Runner); edges run the bound actions.
	actions, err := newExecutor(cfg, scfg.NodeID, node, rp, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := actions.Close(context.Background()); err != nil {
			logger.Warn("closing the Actions runtime", "err", err)
		}
	}()

	internal := node.InternalHandler()
	var serve func(net.Listener) error
	var shutdown func(context.Context) error
	var control *controlsrv.Server
	if cfg.role != roleEdge {
		control = controlsrv.New(controlsrv.Config{Checker: ready, Metrics: httpMetrics, Logger: logger, MaxRequestBodyBytes: maxUploadBytes})
		api, err := mgmtapi.New(mgmtapi.Config{Repo: rp, Verifier: km, Keys: mgmtapi.KeysFromManager(km), Logger: logger, Runner: actions})
		if err != nil {
			return err
		}
		api.Register(control.Handle)
		if cfg.role == roleControl {
			control.Handle(store.InternalPrefix, internal)
		}
		serve, shutdown = control.Serve, control.Shutdown
	}
	var logs *logship.Shipper
	if cfg.role != roleControl {
		ecfg := edgesrv.Config{Checker: ready, Metrics: httpMetrics, Logger: logger, MaxRequestBodyBytes: maxUploadBytes}
		if cfg.role == roleDev {
			ecfg.ControlHandler = control.Handler()
		} else {
			ecfg.ControlURLs = cfg.ControlURLs
			ecfg.ControlTLSConfig = tlsConf
		}
		edge, err := edgesrv.New(ecfg)
		if err != nil {
			return err
		}
		if err := actions.Start(); err != nil {
			return err
		}
		if logs, err = mountEdgeEndpoints(edge, node, rp, km, tokenactions.New(actions), reg, logger); err != nil {
			return err
		}
		if cfg.role == roleEdge {
			// The edge answers the internal API itself (its status for the
			// members listing); it must never be proxied to the control plane.
			h := fasthttpadaptor.NewFastHTTPHandler(internal)
			for _, r := range internalRoutes {
				edge.Handle(r.method, r.path, h)
			}
		}
		serve, shutdown = edge.Serve, edge.Shutdown
	}
	if cfg.role == roleControl {
		// The JS engine compiles once, now, off every Management API request.
		go actions.Prepare(context.Background())
	}
	stopOperator, err := serveOperator(cfg.MetricsAddr, cfg.DebugAddr, reg, logger)
	if err != nil {
		return err
	}
	defer stopOperator()
	// Serving starts at once (/readyz says what the node still waits for);
	// joining and bootstrapping run under ctx, which a stop signal cancels,
	// so a stop ends them at once and is a clean stop, not a failure.
	ctx, cancel := stopContext(env.stop)
	defer cancel()
	failed := make(chan error, 2) // one from each goroutine at most
	go func() { failed <- fmt.Errorf("serve: %w", serve(ln)) }()
	logger.Info("serving", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "data_dir", cfg.DataDir)
	go func() {
		if cfg.Join != "" {
			if err := joinCluster(ctx, cfg, internalClient, logger); err != nil {
				failed <- err
				return
			}
		}
		if runsBootstrap {
			res, err := ensureDefaultTenant(ctx, node, box, km, cfg)
			if err != nil {
				failed <- err
				return
			}
			if slices.Contains(res.Ignored, "issuer") {
				failed <- usageError{issuerMismatch(cfg, res.Issuer)}
				return
			}
			// Credentials first: whoever waits for /readyz may read them next.
			reportBootstrap(env, logger, cfg, res)
			bootstrapping.Set(nil)
		}
	}()

	select {
	case <-ctx.Done():
	case err := <-failed:
		if ctx.Err() == nil {
			return err
		}
		// The stop signal cut it short: stop as asked.
	}
	logger.Info("stopping", "signal", stopCause(ctx))
	drain, drainCancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer drainCancel()
	if err := shutdown(drain); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	// Before the log shipper and the store: a failing action's execution
	// record and log event are written through them.
	if err := actions.Close(drain); err != nil {
		logger.Warn("closing the Actions runtime", "err", err)
	}
	if logs != nil {
		if err := logs.Close(drain); err != nil {
			logger.Warn("shipping the last log events", "err", err)
		}
	}
	if err := node.Shutdown(); err != nil {
		return fmt.Errorf("stop store: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// stopSignal is the cause of a context that stopContext cancelled.
type stopSignal struct{ os.Signal }

func (s stopSignal) Error() string { return "stopped by " + s.String() }

// stopContext returns a context cancelled, with a stopSignal as its cause,
// when stop delivers a signal; everything the node waits on runs under it.
// A nil stop (tests of the command line) never cancels it.
func stopContext(stop <-chan os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		select {
		case sig := <-stop:
			cancel(stopSignal{sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// stopCause names the signal that cancelled ctx.
func stopCause(ctx context.Context) string {
	var s stopSignal
	if errors.As(context.Cause(ctx), &s) {
		return s.String()
	}
	return ""
}

// joinCluster asks the cluster at --join to add this node, retrying until
// it answers, ctx ends or two minutes pass.
func joinCluster(ctx context.Context, cfg *nodeConfig, client *http.Client, logger *slog.Logger) error {
	req := store.JoinRequest{NodeID: cfg.NodeID, RaftAddr: raftAdvertise(cfg), HTTPURL: cfg.HTTPAdvertise, Voter: cfg.role == roleControl}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := store.Join(ctx, client, []byte(cfg.ClusterSecret), cfg.Join, req); err != nil {
		return fmt.Errorf("join the cluster via %s: %w", cfg.Join, err)
	}
	logger.Info("joined the cluster", "via", cfg.Join, "voter", req.Voter)
	return nil
}

// mountEdgeEndpoints registers what an edge serves itself: the token
// endpoint and discovery, on the cached directory of the local replica.
func mountEdgeEndpoints(edge *edgesrv.Server, node *store.Node, rp *repo.Repo, km *keys.Manager, actions token.Actions, reg prometheus.Registerer, logger *slog.Logger) (*logship.Shipper, error) {
	dir, err := directory.New(directory.Config{Store: node, Repo: rp, Signers: km, Registerer: reg})
	if err != nil {
		return nil, err
	}
	logs, err := logship.New(logship.Config{Store: node, Registerer: reg, Logger: logger})
	if err != nil {
		return nil, err
	}
	logs.Start()
	tok, err := token.New(token.Config{Directory: dir, Store: node, Logs: logs, Logger: logger, Actions: actions})
	if err != nil {
		return nil, err
	}
	disc, err := discovery.New(discovery.Config{Tenants: dir, Keys: km, Store: node, Logger: logger})
	if err != nil {
		return nil, err
	}
	edge.Handle("POST", "/oauth/token", tok.Serve)
	edge.Handle("GET", "/.well-known/jwks.json", disc.ServeJWKS)
	edge.Handle("GET", "/.well-known/openid-configuration", disc.ServeConfiguration)
	return logs, nil
}

// newExecutor builds the node's Actions executor: compiled code cached in
// <data-dir>/wazero-cache across restarts, the embedded JavaScript engine
// (a binary built without `make engine` runs WebAssembly actions only,
// and says so).
func newExecutor(cfg *nodeConfig, nodeID string, node *store.Node, rp *repo.Repo, logger *slog.Logger) (*executor.Executor, error) {
	js, err := jsengine.Embedded()
	if err != nil {
		logger.Warn("JavaScript actions are off on this node", "err", err)
		js = nil
	}
	x, err := executor.New(context.Background(), executor.Config{
		Store: node, Repo: rp, NodeID: nodeID, JS: js, Logger: logger,
		MaxTimeout: cfg.ActionsMaxTimeout,
		Sandbox:    sandbox.Config{CacheDir: filepath.Join(cfg.DataDir, "wazero-cache")},
	})
	if err != nil {
		return nil, fmt.Errorf("actions runtime: %w", err)
	}
	return x, nil
}

// maxUploadBytes is the request body limit of both servers: the largest
// Management API upload, an action's module as base64 in JSON (4/3 of
// the module limit) with room for the other fields. The edge proxies the
// Management API, so it takes the same.
const maxUploadBytes = mgmtapi.DefaultMaxModuleBytes/3*4 + 256<<10

var internalRoutes = []struct{ method, path string }{
	{"POST", "/internal/v1/store/apply"},
	{"POST", "/internal/v1/cluster/join"},
	{"POST", "/internal/v1/cluster/remove"},
	{"GET", "/internal/v1/cluster/members"},
	{"GET", "/internal/v1/status"},
}

func raftAdvertise(cfg *nodeConfig) string {
	if cfg.RaftAdvertise != "" {
		return cfg.RaftAdvertise
	}
	return cfg.RaftAddr
}

// masterKey loads AUTHOK_MASTER_KEY; only dev may fall back to a key file
// it generates in the data dir.
func masterKey(cfg *nodeConfig, env *environment) (secretbox.Key, error) {
	if v := env.getenv("AUTHOK_MASTER_KEY"); v != "" {
		k, err := secretbox.ParseMasterKey(v)
		if err != nil {
			return secretbox.Key{}, usageError{fmt.Errorf("AUTHOK_MASTER_KEY: %w", err)}
		}
		return k, nil
	}
	if cfg.role != roleDev {
		return secretbox.Key{}, usageError{errors.New("AUTHOK_MASTER_KEY is required (32 random bytes, standard base64; the same on every node): generate one with 'head -c 32 /dev/urandom | base64'")}
	}
	return secretbox.LoadOrCreateDevKey(cfg.DataDir)
}

// ensureDefaultTenant waits for the store to take writes, then creates
// the default tenant and management client unless they exist.
func ensureDefaultTenant(ctx context.Context, node *store.Node, box secretbox.Key, km *keys.Manager, cfg *nodeConfig) (bootstrap.Result, error) {
	for node.Ready(cfg.ReadyMaxLag) != nil {
		select {
		case <-ctx.Done():
			return bootstrap.Result{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	opts := bootstrap.Options{
		Issuer:       cfg.Issuer,
		FollowIssuer: cfg.IssuerDerived,
		ClientID:     cfg.BootstrapClientID,
		ClientSecret: cfg.BootstrapClientSecret,
		Keys:         km,
	}
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		res, err := bootstrap.Ensure(c, node, box, opts)
		cancel()
		if err == nil {
			return res, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return bootstrap.Result{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return bootstrap.Result{}, fmt.Errorf("create the default tenant: %w", lastErr)
}

// issuerMismatch explains an --issuer that differs from the one the
// default tenant has: every token and client of the tenant carries the
// issuer, so an explicit one never moves it.
func issuerMismatch(cfg *nodeConfig, stored string) error {
	ways := fmt.Sprintf("give --issuer %s", stored)
	if cfg.role == roleDev {
		ways += ", or omit --issuer (dev then follows --listen and moves the tenant)"
	}
	return fmt.Errorf("--issuer %s differs from %s, the issuer of the default tenant in %s, which an explicit --issuer does not change: %s, or use another --data-dir for a new tenant",
		cfg.Issuer, stored, cfg.DataDir, ways)
}

func reportBootstrap(env *environment, logger *slog.Logger, cfg *nodeConfig, res bootstrap.Result) {
	if len(res.Ignored) > 0 {
		logger.Warn("the default tenant already exists; these settings were not applied", "ignored", strings.Join(res.Ignored, ","))
	}
	if res.MovedFrom != "" {
		logger.Info("the default tenant follows --listen: moved to the new issuer", "from", res.MovedFrom, "issuer", res.Issuer)
		// The credentials file names the issuer, audience and token URL.
		if err := bootstrap.WriteCredentialsFile(cfg.DataDir, res); err != nil {
			logger.Error("writing bootstrap credentials", "err", err)
		}
	}
	if !res.Created {
		logger.Info("default tenant ready", "tenant", res.Tenant, "issuer", res.Issuer, "client_id", res.ClientID)
		return
	}
	if err := bootstrap.WriteCredentialsFile(cfg.DataDir, res); err != nil {
		logger.Error("writing bootstrap credentials", "err", err)
	}
	fmt.Fprintf(env.stdout, `Created the default tenant %q (issuer %s).
Management API client (shown once; also in %s/%s, mode 0600):
  client_id:     %s
  client_secret: %s
  audience:      %s
  token URL:     %s
`, res.Tenant, res.Issuer, cfg.DataDir, bootstrap.CredentialsFile, res.ClientID, res.ClientSecret.Reveal(), res.Audience, res.TokenURL())
}
