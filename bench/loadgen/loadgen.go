package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Main runs the generator: args without the program name; exit code 0 on a
// clean run, 1 when the run failed or saw errors, 2 for a bad command line.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	rep, err := Execute(ctx, cfg, stderr)
	if rep != nil {
		rep.Command = append([]string{"loadgen"}, redactArgs(args)...)
		rep.WriteTable(stdout)
		if cfg.Out != "" {
			if werr := rep.WriteJSON(cfg.Out); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if rep.Result.Errors > 0 || rep.Result.Interrupted {
		return 1
	}
	return 0
}

// Execute sets up the scenario through the Management API, measures one
// signature, runs the load, measures the signature again and tears the
// fixture down. progress receives
// one line per step. The report is returned whenever the load ran, also
// together with a cleanup error.
func Execute(ctx context.Context, cfg *Config, progress io.Writer) (rep *Report, err error) {
	rep = &Report{
		Time:      time.Now().UTC(),
		GoVersion: runtime.Version(),
		Machine:   DescribeMachine(),
		Config: ReportConfig{
			Scenario: cfg.Scenario, Concurrency: cfg.Concurrency, DurationS: cfg.Duration.Seconds(),
			Requests: cfg.Requests, WarmupS: cfg.Warmup.Seconds(), Rate: cfg.Rate, ServerPID: cfg.ServerPID,
		},
	}
	for _, u := range cfg.URLs {
		rep.Config.URLs = append(rep.Config.URLs, u.String())
	}

	var target Target
	var check func(body []byte) error
	switch cfg.Scenario {
	case ScenarioJWKS:
		target, check = JWKSTarget(), checkJWKS
	case ScenarioClientCredentials:
		rep.Config.Alg = cfg.Alg
		m, err := NewMgmt(ctx, cfg.MgmtURL, cfg.ClientID, cfg.ClientSecret, cfg.MgmtAudience)
		if err != nil {
			return nil, err
		}
		f, err := CreateFixture(ctx, m, cfg.Alg, cfg.TokenLifetime)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "created resource server %s (%s, %s), client %s, client grant %s\n",
			f.ResourceServerID, f.Audience, f.Alg, f.ClientID, f.ClientGrantID)
		rep.Fixture = f
		defer func() {
			// Clean up even after Ctrl-C: a fresh context, bounded.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if derr := f.Delete(cctx, m); derr != nil {
				err = errors.Join(err, fmt.Errorf("loadgen: cleanup: %w", derr))
			} else {
				fmt.Fprintln(progress, "deleted the client grant, client and resource server")
			}
		}()
		target = ClientCredentialsTarget(f.ClientID, f.ClientSecret, f.Audience)
		check = func(body []byte) error { return checkToken(body, cfg.Alg) }
		if cfg.Action != "" {
			a, err := CreateAction(ctx, m, cfg.Action, cfg.ActionClaim)
			if err != nil {
				return nil, err
			}
			bound := time.Now()
			rep.Action = a
			fmt.Fprintf(progress, "deployed action %s (%s, %s) and bound it to %s\n", a.ID, a.Runtime, a.File, ActionTrigger)
			defer func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if derr := a.Delete(cctx, m); derr != nil {
					err = errors.Join(err, fmt.Errorf("loadgen: cleanup: %w", derr))
				} else {
					fmt.Fprintln(progress, "restored the trigger's bindings and deleted the action")
				}
			}()
			if err := a.WaitReady(ctx, cfg.URLs[0], target, bound, time.Minute); err != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "first token with %s after %.1f ms (that request: %.1f ms)\n", a.Claim, a.DeployToReadyMs, a.FirstTokenMs)
			check = func(body []byte) error {
				if err := checkToken(body, cfg.Alg); err != nil {
					return err
				}
				if ok, err := tokenHasClaim(body, a.Claim); err != nil || !ok {
					return errors.Join(err, fmt.Errorf("the access token lacks the action's claim %q", a.Claim))
				}
				return nil
			}
		}
	}

	for _, u := range cfg.URLs {
		if err := Preflight(ctx, u, target, check); err != nil {
			return nil, err
		}
	}

	measureSign := cfg.Scenario == ScenarioClientCredentials && cfg.SignOps > 0
	var signBefore SignCost
	if measureSign {
		sc, err := MeasureSign(cfg.Alg, cfg.SignOps)
		if err != nil {
			return nil, err
		}
		signBefore = sc
	}

	var (
		srv0, self0 ProcStat
		mach0       MachineStat
		kthr0, kthr uint64 // kernel threads' ticks
		srvCPU      time.Duration
		selfCPU     time.Duration
		mach        MachineStat // ticks over the window
		cpuErr      error
	)
	opts := LoadOptions{
		URLs: cfg.URLs, Target: target, Concurrency: cfg.Concurrency, Duration: cfg.Duration,
		Requests: cfg.Requests, Warmup: cfg.Warmup, Rate: cfg.Rate, Timeout: cfg.Timeout,
		OnMeasure: func(start bool) {
			self, err := ReadProcStat(0)
			cpuErr = errors.Join(cpuErr, err)
			var srv ProcStat
			if cfg.ServerPID != 0 {
				srv, err = ReadProcStat(cfg.ServerPID)
				cpuErr = errors.Join(cpuErr, err)
			}
			m, err := ReadMachineStat()
			cpuErr = errors.Join(cpuErr, err)
			k, err := KernelThreadTicks()
			cpuErr = errors.Join(cpuErr, err)
			if start {
				srv0, self0, mach0, kthr0 = srv, self, m, k
				return
			}
			srvCPU, selfCPU = srv.CPU()-srv0.CPU(), self.CPU()-self0.CPU()
			mach, kthr = m.Sub(mach0), k-kthr0
		},
	}
	if cfg.ServerPID != 0 {
		if _, err := ReadProcStat(cfg.ServerPID); err != nil {
			return nil, fmt.Errorf("loadgen: --server-pid: %w", err)
		}
	}
	fmt.Fprintf(progress, "running %s: %d workers, warmup %s\n", cfg.Scenario, cfg.Concurrency, cfg.Warmup)
	res, err := Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	if cpuErr != nil {
		return nil, cpuErr
	}
	rep.Result = newReportResult(res)
	if measureSign {
		signAfter, err := MeasureSign(cfg.Alg, cfg.SignOps)
		if err != nil {
			return nil, err
		}
		rep.Result.Signature = newSignatureCost(signBefore, signAfter)
	}
	rep.Result.GeneratorCPU = newCPUUse(0, selfCPU, res)
	if secs := res.Elapsed.Seconds(); secs > 0 {
		cores := func(ticks uint64) float64 { return TicksToDuration(ticks).Seconds() / secs }
		busy := mach.Task + mach.IRQ
		rep.Result.MachineCPU = &MachineUse{
			BusyCores:         cores(busy),
			KernelThreadCores: cores(kthr),
			IRQCores:          cores(mach.IRQ),
			OtherCores:        max(0, cores(busy-min(busy, kthr))-srvCPU.Seconds()/secs-selfCPU.Seconds()/secs),
			StealCores:        cores(mach.Steal),
		}
	}
	if cfg.ServerPID != 0 {
		rep.Result.ServerCPU = newCPUUse(cfg.ServerPID, srvCPU, res)
		if s := rep.Result.Signature; s != nil && s.YardstickUs > 0 {
			rep.Result.ServerCPUPerRequestInSignatures = rep.Result.ServerCPU.PerRequestUs / s.YardstickUs
		}
	}
	return rep, nil
}

// Preflight sends the target once to base (retrying for up to 3 s while the
// answer is not 200, so a fixture just written has time to reach an edge)
// and checks the answer; it fails with the server's body.
func Preflight(ctx context.Context, base *url.URL, t Target, check func([]byte) error) error {
	client := &http.Client{Timeout: 10 * time.Second}
	endpoint := strings.TrimRight(base.String(), "/") + t.Path
	deadline := time.Now().Add(3 * time.Second)
	for {
		var body io.Reader
		if t.Body != nil {
			body = bytes.NewReader(t.Body)
		}
		req, err := http.NewRequestWithContext(ctx, t.Method, endpoint, body)
		if err != nil {
			return err
		}
		if t.ContentType != "" {
			req.Header.Set("Content-Type", t.ContentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("loadgen: preflight %s %s: %w", t.Method, endpoint, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("loadgen: preflight %s %s: %w", t.Method, endpoint, err)
		}
		if resp.StatusCode == http.StatusOK {
			if check != nil {
				if err := check(data); err != nil {
					return fmt.Errorf("loadgen: preflight %s %s: %w", t.Method, endpoint, err)
				}
			}
			return nil
		}
		if time.Now().After(deadline) || resp.StatusCode >= 500 {
			return fmt.Errorf("loadgen: preflight %s %s: %s: %s", t.Method, endpoint, resp.Status, bytes.TrimSpace(data))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkToken verifies that a token answer holds a JWT access token signed
// with alg (from its header; the signature itself is the server's business
// and its tests').
func checkToken(body []byte, alg string) error {
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return fmt.Errorf("token answer %q: %w", truncate(body, 200), err)
	}
	header, _, ok := strings.Cut(tok.AccessToken, ".")
	if !ok {
		return fmt.Errorf("token answer without a JWT access_token: %q", truncate(body, 200))
	}
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return fmt.Errorf("access token header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("access token header %q: %w", raw, err)
	}
	if h.Alg != alg {
		return fmt.Errorf("access token signed with %q, the resource server asked for %s", h.Alg, alg)
	}
	return nil
}

func checkJWKS(body []byte) error {
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &jwks); err != nil {
		return fmt.Errorf("JWKS %q: %w", truncate(body, 200), err)
	}
	if len(jwks.Keys) == 0 {
		return errors.New("JWKS without keys")
	}
	return nil
}

// redactArgs returns args with the value of --client-secret replaced, so a
// results file never carries a secret.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "client-secret" {
			continue
		}
		if hasValue {
			out[i] = a[:strings.Index(a, "=")+1] + "REDACTED"
		} else if i+1 < len(out) {
			out[i+1] = "REDACTED"
		}
	}
	return out
}
