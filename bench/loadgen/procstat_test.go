package loadgen

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A real line (from a Linux 6.x kernel) with the comm replaced.
const statTail = " S 1 4242 4242 0 -1 4194560 26157 0 0 0 1234 567 0 0 20 0 9 0 1846372 1473675264 9840 18446744073709551615 1 1 0 0 0 0 0 0 16384 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    ProcStat
		wantErr string
	}{
		{"plain", "4242 (authok)" + statTail, ProcStat{PID: 4242, Comm: "authok", State: "S", PPID: 1, UTime: 1234, STime: 567}, ""},
		{"comm with spaces and parentheses", "77 (a) b (c d) )" + statTail, ProcStat{PID: 77, Comm: "a) b (c d) ", State: "S", PPID: 1, UTime: 1234, STime: 567}, ""},
		{"comm looking like fields", "9 (x 1 2 3) S 4 5)" + statTail, ProcStat{PID: 9, Comm: "x 1 2 3) S 4 5", State: "S", PPID: 1, UTime: 1234, STime: 567}, ""},
		{"empty comm", "1 ()" + statTail, ProcStat{PID: 1, Comm: "", State: "S", PPID: 1, UTime: 1234, STime: 567}, ""},
		{"no comm", "1 authok S 1 2", ProcStat{}, "no (comm)"},
		{"truncated", "1 (authok) S 1 4242 4242 0 -1", ProcStat{}, "fields after comm"},
		{"bad utime", "1 (authok) S 1 4242 4242 0 -1 4194560 26157 0 0 0 x 567 0", ProcStat{}, "utime"},
		{"bad pid", "pid (authok)" + statTail, ProcStat{}, "pid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcStat([]byte(tt.line))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestProcStatCPU(t *testing.T) {
	s := ProcStat{UTime: 150, STime: 50}
	if got := s.CPU(); got != 2*time.Second {
		t.Errorf("CPU() = %v, want 2s at 100 ticks/s", got)
	}
}

func TestReadProcStatSelfAndPID(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	self, err := ReadProcStat(0)
	if err != nil {
		t.Fatal(err)
	}
	byPID, err := ReadProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.PID != os.Getpid() || byPID.PID != os.Getpid() || self.Comm == "" {
		t.Errorf("self = %+v, by pid = %+v, want pid %d", self, byPID, os.Getpid())
	}
	if _, err := ReadProcStat(1 << 30); err == nil {
		t.Error("ReadProcStat of a missing pid: no error")
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (authok)" + statTail))
	f.Add([]byte("1 ((()))) ) S"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseProcStat(data)
		if err == nil && strings.Count(string(data), "(") == 0 {
			t.Errorf("parsed %q without a (comm): %+v", data, s)
		}
	})
}

func TestParseMachineStat(t *testing.T) {
	data := "cpu  1000 20 300 50000 40 5 6 7 99 0\ncpu0 500 10 150 25000 20 2 3 3 0 0\nintr 1 2 3\n"
	got, err := ParseMachineStat([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if want := (MachineStat{Task: 1000 + 20 + 300, IRQ: 5 + 6, Idle: 50040, Steal: 7}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		if _, err := ParseMachineStat([]byte(bad)); err == nil {
			t.Errorf("ParseMachineStat(%q): no error", bad)
		}
	}
	if _, err := os.Stat("/proc/stat"); err == nil {
		if s, err := ReadMachineStat(); err != nil || s.Task+s.Idle == 0 {
			t.Errorf("ReadMachineStat = %+v, %v", s, err)
		}
		if _, err := KernelThreadTicks(); err != nil {
			t.Error(err)
		}
	}
}
