// Package loadgen is the load generator behind `go run ./bench/cmd/loadgen`.
//
// It owns: the command line and its validation (Config), the fixtures a
// scenario needs, created and deleted through the real Management API
// (Fixture), the load itself (Run: a fixed pool of workers, each with its
// own fasthttp keep-alive connection per target URL), a fixed-memory
// log-linear latency histogram (Histogram), CPU accounting from
// /proc/<pid>/stat and /proc/stat (ReadProcStat, ReadMachineStat,
// KernelThreadTicks: the server's, the generator's, and whatever else
// disturbed the window), the in-process cost of one raw signature
// (MeasureSign) and the report (Report: a table on stdout and a JSON file).
//
// It must never:
//   - send load to a non-loopback address unless --allow-remote is given
//     (the workplace forbids load on anything but the local machine);
//   - run unbounded: every run needs --duration or --requests, both capped
//     (MaxDuration, MaxRequests);
//   - take shortcuts around the product: fixtures are made with a
//     Management API token obtained by client_credentials, exactly as a
//     tenant would, and deleted again at the end (also after Ctrl-C);
//   - allocate or lock on the per-request path beyond what fasthttp needs:
//     the generator shares the machine's cores with the server it measures,
//     so every worker records into its own histogram and counters, merged
//     once at the end.
//
// CPU times come from /proc in clock ticks. Linux reports them in units of
// USER_HZ, which is 100 on every Linux ABI Go supports; the package uses
// 100 (ClockTicksPerSecond) instead of calling sysconf(_SC_CLK_TCK) through
// cgo, and says so in the report.
package loadgen
