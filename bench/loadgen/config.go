package loadgen

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Hard caps: the generator refuses runs beyond them.
const (
	MaxDuration    = 10 * time.Minute
	MaxWarmup      = 2 * time.Minute
	MaxRequests    = 10_000_000
	MaxConcurrency = 1024
)

// Scenarios.
const (
	ScenarioClientCredentials = "client-credentials"
	ScenarioJWKS              = "jwks"
)

// Algs lists the signing algorithms --alg accepts (the resource server's
// signing_alg for the client-credentials scenario).
var Algs = []string{"RS256", "ES256", "PS256", "EdDSA"}

// Config is one run's command line, validated by Validate.
type Config struct {
	URLs          []*url.URL // edge base URLs, used round-robin
	Scenario      string
	Concurrency   int
	Duration      time.Duration // measured window (after Warmup)
	Requests      int64         // measured requests (after Warmup)
	Warmup        time.Duration
	Rate          float64 // total requests per second over all workers; 0 = as fast as possible
	Timeout       time.Duration
	Alg           string
	MgmtURL       *url.URL
	MgmtAudience  string
	ClientID      string
	ClientSecret  string
	BootstrapFile string
	TokenLifetime int
	ServerPID     int
	Out           string
	AllowRemote   bool
	SignOps       int
	Action        string // client-credentials: a .js or .wasm action bound for the run
	ActionClaim   string // the claim the action sets, checked in the tokens
}

// Bootstrap is the file `authok dev` writes to <data-dir>/bootstrap.json.
type Bootstrap struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Audience     string `json:"audience"`
	TokenURL     string `json:"token_url"`
	Issuer       string `json:"issuer"`
}

// ParseConfig parses the command line (without the program name) and
// validates it. getenv supplies AUTHOK_BOOTSTRAP_CLIENT_ID and
// AUTHOK_BOOTSTRAP_CLIENT_SECRET as defaults for the management client;
// --bootstrap-file, when given, is read here. Usage and flag errors go to
// usage. Every problem is reported at once.
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(usage)
	var (
		urls, mgmtURL string
		cfg           Config
	)
	fs.StringVar(&urls, "url", "", "edge base URL(s), comma-separated, used round-robin (loopback only unless --allow-remote)")
	fs.StringVar(&cfg.Scenario, "scenario", ScenarioClientCredentials, "client-credentials | jwks")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "workers, each with its own keep-alive connection per URL")
	fs.DurationVar(&cfg.Duration, "duration", 0, "measured window after warmup (max 10m); this or --requests is required")
	fs.Int64Var(&cfg.Requests, "requests", 0, "measured requests after warmup (max 10M); this or --duration is required")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "load before the measured window, not recorded (max 2m)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "total requests per second over all workers (0 = as fast as the workers go)")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request read and write timeout")
	fs.StringVar(&cfg.Alg, "alg", "RS256", "client-credentials: the resource server's signing_alg (RS256|ES256|PS256|EdDSA)")
	fs.StringVar(&mgmtURL, "mgmt-url", "", "Management API base URL (default: the first --url)")
	fs.StringVar(&cfg.MgmtAudience, "mgmt-audience", "", "Management API audience (default: bootstrap file's audience, else <issuer>api/v1/ from discovery)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "Management API client id (default: bootstrap file, else $AUTHOK_BOOTSTRAP_CLIENT_ID)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "Management API client secret (default: bootstrap file, else $AUTHOK_BOOTSTRAP_CLIENT_SECRET)")
	fs.StringVar(&cfg.BootstrapFile, "bootstrap-file", "", "bootstrap.json written by authok dev ({client_id, client_secret, audience, token_url, issuer})")
	fs.IntVar(&cfg.TokenLifetime, "token-lifetime", 3600, "client-credentials: token_lifetime (s) of the bench resource server")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "PID of a local server process whose CPU is measured (optional)")
	fs.StringVar(&cfg.Out, "out", "", "write the results as JSON to this file")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow non-loopback URLs (load on non-local addresses is forbidden here)")
	fs.IntVar(&cfg.SignOps, "sign-ops", 2000, "client-credentials: in-process signatures timed for the per-signature cost (0 = skip)")
	fs.StringVar(&cfg.Action, "action", "", "client-credentials: a .js or .wasm action to deploy and bind to credentials-exchange for the run")
	fs.StringVar(&cfg.ActionClaim, "action-claim", "https://example.com/tier", "client-credentials: the claim --action sets; tokens are checked for it")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("loadgen: unexpected arguments %q", fs.Args())
	}

	var errs []error
	for _, raw := range strings.Split(urls, ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		u, err := parseBaseURL(raw, cfg.AllowRemote)
		if err != nil {
			errs = append(errs, fmt.Errorf("--url: %w", err))
			continue
		}
		cfg.URLs = append(cfg.URLs, u)
	}
	if urls == "" {
		errs = append(errs, errors.New("--url is required"))
	}
	if mgmtURL != "" {
		u, err := parseBaseURL(mgmtURL, cfg.AllowRemote)
		if err != nil {
			errs = append(errs, fmt.Errorf("--mgmt-url: %w", err))
		}
		cfg.MgmtURL = u
	} else if len(cfg.URLs) > 0 {
		cfg.MgmtURL = cfg.URLs[0]
	}
	if cfg.Scenario == ScenarioClientCredentials {
		if err := cfg.resolveCredentials(getenv); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, cfg.validate()...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("loadgen: invalid command line:\n%w", errors.Join(errs...))
	}
	return &cfg, nil
}

// resolveCredentials fills the management client's id, secret and audience:
// flags first, then the bootstrap file, then the environment.
func (c *Config) resolveCredentials(getenv func(string) string) error {
	if c.BootstrapFile != "" {
		data, err := os.ReadFile(c.BootstrapFile)
		if err != nil {
			return fmt.Errorf("--bootstrap-file: %w", err)
		}
		var b Bootstrap
		if err := json.Unmarshal(data, &b); err != nil {
			return fmt.Errorf("--bootstrap-file %s: %w", c.BootstrapFile, err)
		}
		c.ClientID = cmp.Or(c.ClientID, b.ClientID)
		c.ClientSecret = cmp.Or(c.ClientSecret, b.ClientSecret)
		c.MgmtAudience = cmp.Or(c.MgmtAudience, b.Audience)
		if c.MgmtAudience == "" && b.Issuer != "" {
			c.MgmtAudience = b.Issuer + "api/v1/"
		}
	}
	if getenv != nil {
		c.ClientID = cmp.Or(c.ClientID, getenv("AUTHOK_BOOTSTRAP_CLIENT_ID"))
		c.ClientSecret = cmp.Or(c.ClientSecret, getenv("AUTHOK_BOOTSTRAP_CLIENT_SECRET"))
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return errors.New("client-credentials needs the Management API client: --client-id/--client-secret, --bootstrap-file, or AUTHOK_BOOTSTRAP_CLIENT_ID/SECRET")
	}
	return nil
}

func (c *Config) validate() []error {
	var errs []error
	switch c.Scenario {
	case ScenarioClientCredentials:
		if !validAlg(c.Alg) {
			errs = append(errs, fmt.Errorf("--alg %q: want one of %s", c.Alg, strings.Join(Algs, ", ")))
		}
		if c.TokenLifetime <= 0 {
			errs = append(errs, errors.New("--token-lifetime must be positive"))
		}
		if c.Action != "" {
			if ext := strings.ToLower(filepath.Ext(c.Action)); ext != ".js" && ext != ".wasm" {
				errs = append(errs, fmt.Errorf("--action %s: want a .js or .wasm file", c.Action))
			}
			if c.ActionClaim == "" {
				errs = append(errs, errors.New("--action-claim must name the claim the action sets"))
			}
		}
	case ScenarioJWKS:
		if c.Action != "" {
			errs = append(errs, errors.New("--action needs --scenario client-credentials"))
		}
	default:
		errs = append(errs, fmt.Errorf("--scenario %q: want %s or %s", c.Scenario, ScenarioClientCredentials, ScenarioJWKS))
	}
	if c.Duration == 0 && c.Requests == 0 {
		errs = append(errs, errors.New("the run is unbounded: give --duration or --requests"))
	}
	if c.Duration < 0 || c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("--duration %s: want at most %s", c.Duration, MaxDuration))
	}
	if c.Requests < 0 || c.Requests > MaxRequests {
		errs = append(errs, fmt.Errorf("--requests %d: want at most %d", c.Requests, MaxRequests))
	}
	if c.Warmup < 0 || c.Warmup > MaxWarmup {
		errs = append(errs, fmt.Errorf("--warmup %s: want 0..%s", c.Warmup, MaxWarmup))
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency %d: want 1..%d", c.Concurrency, MaxConcurrency))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("--rate %g: want ≥ 0", c.Rate))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("--timeout must be positive"))
	}
	if c.ServerPID < 0 {
		errs = append(errs, fmt.Errorf("--server-pid %d: want a PID", c.ServerPID))
	}
	if c.SignOps < 0 || c.SignOps > 100_000 {
		errs = append(errs, fmt.Errorf("--sign-ops %d: want 0..100000", c.SignOps))
	}
	return errs
}

func validAlg(alg string) bool {
	for _, a := range Algs {
		if a == alg {
			return true
		}
	}
	return false
}

// parseBaseURL accepts an http(s) URL without query or fragment and, unless
// allowRemote, only a loopback host: localhost or a loopback IP literal.
// Host names are not resolved, so a name that happens to point at 127.0.0.1
// is still refused.
func parseBaseURL(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: want scheme://host[:port][/path] only", raw)
	}
	if !allowRemote && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%q is not a loopback address; load on non-local addresses is forbidden (--allow-remote overrides)", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
