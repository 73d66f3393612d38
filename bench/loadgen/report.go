package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is one run's results, as written to --out.
type Report struct {
	Command   []string       `json:"command"`
	Time      time.Time      `json:"time"`
	GoVersion string         `json:"go_version"`
	Machine   Machine        `json:"machine"`
	Config    ReportConfig   `json:"config"`
	Fixture   *Fixture       `json:"fixture,omitempty"`
	Action    *ActionFixture `json:"action,omitempty"`
	Result    ReportResult   `json:"result"`
}

// Machine describes where the run happened.
type Machine struct {
	NProc               int    `json:"nproc"`
	ModelName           string `json:"model_name"`
	GOMAXPROCS          int    `json:"gomaxprocs"`
	ClockTicksPerSecond int    `json:"clock_ticks_per_second"`
}

// ReportConfig is the run's shape.
type ReportConfig struct {
	URLs        []string `json:"urls"`
	Scenario    string   `json:"scenario"`
	Alg         string   `json:"alg,omitempty"`
	Concurrency int      `json:"concurrency"`
	DurationS   float64  `json:"duration_s,omitempty"`
	Requests    int64    `json:"requests,omitempty"`
	WarmupS     float64  `json:"warmup_s"`
	Rate        float64  `json:"rate,omitempty"`
	ServerPID   int      `json:"server_pid,omitempty"`
}

// ReportResult holds the measured window's figures.
type ReportResult struct {
	Requests        int64            `json:"requests"`
	OK              int64            `json:"ok"`
	Errors          int64            `json:"errors"`
	TransportErrors int64            `json:"transport_errors"`
	Status          map[string]int64 `json:"status,omitempty"`
	ErrorSamples    []string         `json:"error_samples,omitempty"`
	Interrupted     bool             `json:"interrupted,omitempty"`
	ElapsedS        float64          `json:"elapsed_s"`
	RPS             float64          `json:"requests_per_second"`
	LatencyMs       Latency          `json:"latency_ms"` // 200 answers only
	ServerCPU       *CPUUse          `json:"server_cpu,omitempty"`
	GeneratorCPU    *CPUUse          `json:"generator_cpu,omitempty"`
	MachineCPU      *MachineUse      `json:"machine_cpu,omitempty"`
	Signature       *SignatureCost   `json:"signature,omitempty"`
	// ServerCPUPerRequestInSignatures is the server's CPU per request
	// divided by one in-process signature of the same alg.
	ServerCPUPerRequestInSignatures float64 `json:"server_cpu_per_request_in_signatures,omitempty"`
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// CPUUse is a process's CPU over the measured window.
type CPUUse struct {
	PID          int     `json:"pid,omitempty"`
	CPUSeconds   float64 `json:"cpu_s"`
	Cores        float64 `json:"cores"`          // CPU seconds per wall second
	PerRequestUs float64 `json:"per_request_us"` // per completed request
}

// SignatureCost is the signature yardstick in the report's units: one
// MeasureSign before the load and one after it, since a shared (virtual)
// machine's speed drifts between runs.
type SignatureCost struct {
	Alg    string      `json:"alg"`
	Key    string      `json:"key"`
	Ops    int         `json:"ops"` // per measurement
	Before SignMedians `json:"before"`
	After  SignMedians `json:"after"`
	// YardstickUs is what the server's CPU per request is divided by: the
	// mean of the CPU medians before and after (of the wall medians where
	// the CPU time is unknown).
	YardstickUs float64 `json:"yardstick_us"`
}

// SignMedians is one MeasureSign in microseconds.
type SignMedians struct {
	CPUUs  float64 `json:"median_cpu_us,omitempty"`
	WallUs float64 `json:"median_wall_us"`
}

func newSignatureCost(before, after SignCost) *SignatureCost {
	us := func(sc SignCost) SignMedians {
		return SignMedians{CPUUs: float64(sc.MedianCPU) / 1e3, WallUs: float64(sc.Median) / 1e3}
	}
	s := &SignatureCost{Alg: before.Alg, Key: before.Key, Ops: before.Ops, Before: us(before), After: us(after)}
	if s.Before.CPUUs > 0 && s.After.CPUUs > 0 {
		s.YardstickUs = (s.Before.CPUUs + s.After.CPUUs) / 2
	} else {
		s.YardstickUs = (s.Before.WallUs + s.After.WallUs) / 2
	}
	return s
}

// MachineUse is the whole machine's CPU over the measured window, from
// /proc/stat, in cores (CPU seconds per wall second).
type MachineUse struct {
	BusyCores float64 `json:"busy_cores"`
	// KernelThreadCores is kernel threads' CPU: work charged to no user
	// process, much of it done for the server (block I/O completion of
	// its fsyncs, deferred softirqs of loopback TCP).
	KernelThreadCores float64 `json:"kernel_thread_cores"`
	// IRQCores is interrupt and softirq time. Without
	// CONFIG_IRQ_TIME_ACCOUNTING the kernel also charges it to the task it
	// interrupted, so it overlaps the processes' figures.
	IRQCores float64 `json:"irq_cores"`
	// OtherCores is busy time that neither the server (when --server-pid
	// is given), the generator nor kernel threads account for: other
	// processes disturbing the figures (with IRQ time accounting, also
	// interrupts).
	OtherCores float64 `json:"other_cores"`
	StealCores float64 `json:"steal_cores"`
}

func newCPUUse(pid int, cpu time.Duration, res *LoadResult) *CPUUse {
	u := &CPUUse{PID: pid, CPUSeconds: cpu.Seconds()}
	if res.Elapsed > 0 {
		u.Cores = cpu.Seconds() / res.Elapsed.Seconds()
	}
	if res.Requests > 0 {
		u.PerRequestUs = float64(cpu.Microseconds()) / float64(res.Requests)
	}
	return u
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func newReportResult(res *LoadResult) ReportResult {
	h := res.Latency
	r := ReportResult{
		Requests: res.Requests, OK: res.OK, Errors: res.Errors, TransportErrors: res.TransportErrors,
		ErrorSamples: res.ErrorSamples, Interrupted: res.Interrupted,
		ElapsedS: res.Elapsed.Seconds(), RPS: res.Throughput(),
		LatencyMs: Latency{
			P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
			P999: ms(h.Quantile(0.999)), Min: ms(h.Min()), Mean: ms(h.Mean()), Max: ms(h.Max()),
		},
	}
	if len(res.Status) > 0 {
		r.Status = map[string]int64{}
		for code, n := range res.Status {
			r.Status[strconv.Itoa(code)] = n
		}
	}
	return r
}

// DescribeMachine reads nproc and the CPU model name (/proc/cpuinfo).
func DescribeMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), ClockTicksPerSecond: ClockTicksPerSecond}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.ModelName = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// WriteJSON writes the report to path (indented, mode 0644).
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func fmtDur(msv float64) string {
	switch {
	case msv <= 0:
		return "-"
	case msv < 1:
		return fmt.Sprintf("%.0fµs", msv*1000)
	case msv < 10:
		return fmt.Sprintf("%.2fms", msv)
	case msv < 1000:
		return fmt.Sprintf("%.1fms", msv)
	default:
		return fmt.Sprintf("%.2fs", msv/1000)
	}
}

// WriteTable prints the human summary.
func (r *Report) WriteTable(w io.Writer) {
	c, res := r.Config, r.Result
	name := c.Scenario
	if c.Alg != "" {
		name += " " + c.Alg
	}
	if r.Action != nil {
		name += " +" + r.Action.Runtime + " action"
	}
	rate := "max"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%.0f/s", c.Rate)
	}
	srv, mult := "-", "-"
	if res.ServerCPU != nil {
		srv = fmt.Sprintf("%.1fµs (%.2f cores)", res.ServerCPU.PerRequestUs, res.ServerCPU.Cores)
	}
	if res.ServerCPUPerRequestInSignatures > 0 {
		mult = fmt.Sprintf("%.2f × one %s signature", res.ServerCPUPerRequestInSignatures, res.Signature.Alg)
	}
	gen := "-"
	if res.GeneratorCPU != nil {
		gen = fmt.Sprintf("%.1fµs (%.2f cores)", res.GeneratorCPU.PerRequestUs, res.GeneratorCPU.Cores)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tconc\trate\treq/s\terrors\tp50\tp90\tp99\tp99.9\tserver CPU/req\tserver CPU/req in signatures\tgenerator CPU/req")
	fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		name, c.Concurrency, rate, res.RPS, res.Errors, res.Requests,
		fmtDur(res.LatencyMs.P50), fmtDur(res.LatencyMs.P90), fmtDur(res.LatencyMs.P99), fmtDur(res.LatencyMs.P999),
		srv, mult, gen)
	tw.Flush()
	fmt.Fprintf(w, "window %.1fs after %.1fs warmup; latency of 200 answers, max %s\n", res.ElapsedS, c.WarmupS, fmtDur(res.LatencyMs.Max))
	if a := r.Action; a != nil {
		fmt.Fprintf(w, "action %s (%s, sha256 %.12s) bound to %s: first token with %s %.1f ms after the bind, that request %.1f ms\n",
			a.File, a.Runtime, a.SHA256, ActionTrigger, a.Claim, a.DeployToReadyMs, a.FirstTokenMs)
	}
	if s := res.Signature; s != nil {
		fmt.Fprintf(w, "one %s signature in-process (%s, median of %d batches of %d): %.1fµs CPU before the load, %.1fµs after (wall %.1f, %.1f)\n",
			s.Alg, s.Key, min(s.Ops, 40), max(s.Ops/40, 1), s.Before.CPUUs, s.After.CPUUs, s.Before.WallUs, s.After.WallUs)
		if lo, hi := min(s.Before.CPUUs, s.After.CPUUs), max(s.Before.CPUUs, s.After.CPUUs); lo > 0 && hi/lo > 1.1 {
			fmt.Fprintln(w, "warning: the signature cost moved by more than 10% during the run; the machine's speed drifted")
		}
	}
	if m := res.MachineCPU; m != nil {
		fmt.Fprintf(w, "machine: %.2f cores busy; kernel threads %.2f, irq+softirq %.2f, other processes %.2f; stolen %.2f\n",
			m.BusyCores, m.KernelThreadCores, m.IRQCores, m.OtherCores, m.StealCores)
		if m.OtherCores > 0.1 {
			fmt.Fprintln(w, "warning: other processes used CPU during the window; the figures are disturbed")
		}
	}
	if res.ServerCPU != nil || res.GeneratorCPU != nil {
		fmt.Fprintf(w, "CPU from /proc/<pid>/stat utime+stime at %d ticks/s (USER_HZ, assumed 100 on Linux)\n", ClockTicksPerSecond)
		if res.ElapsedS < 5 {
			fmt.Fprintln(w, "warning: a tick is 10 ms; CPU figures need a window of several seconds")
		}
	}
	if res.Interrupted {
		fmt.Fprintln(w, "run interrupted: figures cover the part that ran")
	}
	for _, s := range res.ErrorSamples {
		fmt.Fprintf(w, "error: %s\n", s)
	}
}
