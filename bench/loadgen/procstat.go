package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ClockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every Linux ABI Go supports; the package
// uses that constant rather than sysconf(_SC_CLK_TCK) (which needs cgo).
const ClockTicksPerSecond = 100

// ProcStat is the part of /proc/<pid>/stat the generator needs.
type ProcStat struct {
	PID   int
	Comm  string // without the surrounding parentheses
	State string
	PPID  int
	UTime uint64 // clock ticks in user mode
	STime uint64 // clock ticks in kernel mode
}

// CPU is the process's total CPU time.
func (s ProcStat) CPU() time.Duration {
	return TicksToDuration(s.UTime + s.STime)
}

// TicksToDuration converts clock ticks to time.
func TicksToDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * (time.Second / ClockTicksPerSecond)
}

// ParseProcStat parses the contents of /proc/<pid>/stat (proc(5)). The
// command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so the fields after it are found from the last ')'.
func ParseProcStat(data []byte) (ProcStat, error) {
	data = bytes.TrimSpace(data)
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: no (comm) in %q", truncate(data, 80))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: pid: %w", err)
	}
	// Fields from 3 (state) on; utime is field 14, stime field 15.
	rest := bytes.Fields(data[closing+1:])
	const utimeIdx, stimeIdx = 14 - 3, 15 - 3
	if len(rest) <= stimeIdx {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: %d fields after comm, want at least %d", len(rest), stimeIdx+1)
	}
	s := ProcStat{PID: pid, Comm: string(data[open+1 : closing]), State: string(rest[0])}
	if s.PPID, err = strconv.Atoi(string(rest[1])); err != nil {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: ppid: %w", err)
	}
	if s.UTime, err = strconv.ParseUint(string(rest[utimeIdx]), 10, 64); err != nil {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: utime: %w", err)
	}
	if s.STime, err = strconv.ParseUint(string(rest[stimeIdx]), 10, 64); err != nil {
		return ProcStat{}, fmt.Errorf("loadgen: /proc stat: stime: %w", err)
	}
	return s, nil
}

// ReadProcStat reads /proc/<pid>/stat; pid 0 means the calling process
// (/proc/self/stat).
func ReadProcStat(pid int) (ProcStat, error) {
	name := "/proc/self/stat"
	if pid != 0 {
		name = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return ProcStat{}, fmt.Errorf("loadgen: %w", err)
	}
	return ParseProcStat(data)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// MachineStat is the machine-wide CPU time from the "cpu" line of
// /proc/stat, in clock ticks summed over all cores.
type MachineStat struct {
	Task  uint64 // user, nice, system: time charged to some task
	IRQ   uint64 // irq, softirq: charged to no task (loopback TCP lands here)
	Idle  uint64 // idle and iowait
	Steal uint64 // taken by the hypervisor
}

// Sub is the difference s − o.
func (s MachineStat) Sub(o MachineStat) MachineStat {
	return MachineStat{Task: s.Task - o.Task, IRQ: s.IRQ - o.IRQ, Idle: s.Idle - o.Idle, Steal: s.Steal - o.Steal}
}

// ParseMachineStat parses /proc/stat (proc(5)); guest time is already part
// of user time there and is not added again.
func ParseMachineStat(data []byte) (MachineStat, error) {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 || string(f[0]) != "cpu" {
			continue
		}
		if len(f) < 9 {
			return MachineStat{}, fmt.Errorf("loadgen: /proc/stat: %d fields on the cpu line, want at least 9", len(f))
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(string(f[i+1]), 10, 64)
			if err != nil {
				return MachineStat{}, fmt.Errorf("loadgen: /proc/stat: field %d: %w", i+1, err)
			}
			v[i] = n
		}
		// user nice system idle iowait irq softirq steal
		return MachineStat{Task: v[0] + v[1] + v[2], IRQ: v[5] + v[6], Idle: v[3] + v[4], Steal: v[7]}, nil
	}
	return MachineStat{}, fmt.Errorf("loadgen: /proc/stat: no cpu line")
}

// ReadMachineStat reads /proc/stat.
func ReadMachineStat() (MachineStat, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineStat{}, fmt.Errorf("loadgen: %w", err)
	}
	return ParseMachineStat(data)
}

// KernelThreadTicks sums utime+stime of every kernel thread (kthreadd,
// PID 2, and its children): work such as block I/O completion and
// deferred softirqs that the kernel does on behalf of, among others, the
// measured server, but charges to no user process. Processes that vanish
// while /proc is read are skipped.
func KernelThreadTicks() (uint64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("loadgen: %w", err)
	}
	var sum uint64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := ReadProcStat(pid)
		if err != nil {
			continue
		}
		if s.PID == 2 || s.PPID == 2 {
			sum += s.UTime + s.STime
		}
	}
	return sum, nil
}
