package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	ImportPath  string // build-output and build-fail
	Test        string
	Output      string
	Elapsed     float64
	FailedBuild string
}

// line is one line of a package's output and the test it belongs to.
type line struct{ test, text string }

type pkgState struct {
	lines   []line
	started []string          // top-level tests, in order
	ended   map[string]string // test -> pass, fail or skip
}

type timing struct {
	pkg, test, action string
	elapsed           time.Duration
}

// summary rebuilds plain go test output from the event stream and keeps
// the times for report.
type summary struct {
	w        io.Writer
	pkgs     map[string]*pkgState
	order    []string // packages in the order they started
	tests    []timing // top-level tests
	packages []timing
	failed   []timing // failed top-level tests, and packages that failed without a failed test
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, pkgs: map[string]*pkgState{}}
}

// read consumes the stream until EOF. A line that is not an event (go
// test prints some before it starts a package) is passed through.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20) // a test may log long lines
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Action == "" {
			fmt.Fprintln(s.w, sc.Text())
			continue
		}
		s.event(ev)
	}
	// Packages the stream never ended (go test was killed): show all they
	// printed.
	for _, name := range s.order {
		if p := s.pkgs[name]; p != nil {
			for _, l := range p.lines {
				io.WriteString(s.w, l.text)
			}
		}
	}
	return sc.Err()
}

func (s *summary) pkg(name string) *pkgState {
	p := s.pkgs[name]
	if p == nil {
		p = &pkgState{ended: map[string]string{}}
		s.pkgs[name] = p
		s.order = append(s.order, name)
	}
	return p
}

func (s *summary) event(ev event) {
	switch ev.Action {
	case "build-output":
		io.WriteString(s.w, ev.Output)
		return
	case "build-fail":
		return
	}
	p := s.pkg(ev.Package)
	switch {
	case ev.Action == "output":
		p.lines = append(p.lines, line{ev.Test, ev.Output})
	case ev.Action == "run" && !strings.Contains(ev.Test, "/"):
		p.started = append(p.started, ev.Test)
	case ev.Test != "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip"):
		p.ended[ev.Test] = ev.Action
		if !strings.Contains(ev.Test, "/") {
			t := timing{ev.Package, ev.Test, ev.Action, seconds(ev.Elapsed)}
			s.tests = append(s.tests, t)
			if ev.Action == "fail" {
				s.failed = append(s.failed, t)
			}
		}
	case ev.Test == "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip"):
		s.endPackage(ev, p)
	}
}

// endPackage prints what plain go test prints for the package: its
// closing lines, and when it failed, every line of its failed (or
// unfinished) tests and of the package itself, in order.
func (s *summary) endPackage(ev event, p *pkgState) {
	failed := ev.Action == "fail"
	for _, l := range p.lines {
		switch {
		case l.test == "" && l.text == "PASS\n":
		case l.test == "":
			io.WriteString(s.w, l.text)
		case failed && (p.ended[l.test] == "fail" || p.ended[l.test] == ""):
			io.WriteString(s.w, l.text)
		}
	}
	delete(s.pkgs, ev.Package)
	if ev.Action == "skip" { // no test files
		return
	}
	t := timing{ev.Package, "", ev.Action, seconds(ev.Elapsed)}
	s.packages = append(s.packages, t)
	for _, name := range p.started {
		if failed && p.ended[name] == "" { // a timeout or a crash ended the package
			s.failed = append(s.failed, timing{ev.Package, name + " (did not finish)", "fail", 0})
		}
	}
	if failed && !slices.ContainsFunc(s.failed, func(f timing) bool { return f.pkg == ev.Package }) {
		if ev.FailedBuild != "" {
			t.test = "[build failed]"
		}
		s.failed = append(s.failed, t)
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// report prints the slowest tests, the package times and a closing line
// that agrees with go test's exit code.
func (s *summary) report(top int, wall time.Duration, code int) {
	byTime := func(a, b timing) int {
		return cmp.Or(cmp.Compare(b.elapsed, a.elapsed), cmp.Compare(a.pkg, b.pkg), cmp.Compare(a.test, b.test))
	}
	tests := slices.SortedFunc(slices.Values(s.tests), byTime)
	pkgs := slices.SortedFunc(slices.Values(s.packages), byTime)
	fmt.Fprintf(s.w, "\n=== slowest tests (%d of %d)\n", min(top, len(tests)), len(tests))
	for _, t := range tests[:min(top, len(tests))] {
		fmt.Fprintf(s.w, "%9.2fs  %-4s  %s %s\n", t.elapsed.Seconds(), t.action, t.pkg, t.test)
	}
	fmt.Fprintf(s.w, "=== package times (%d packages, wall time %s)\n", len(pkgs), wall.Round(time.Second))
	for _, t := range pkgs {
		fmt.Fprintf(s.w, "%9.2fs  %-4s  %s\n", t.elapsed.Seconds(), t.action, t.pkg)
	}
	switch {
	case len(s.failed) > 0:
		fmt.Fprintf(s.w, "=== FAIL: %d failed (go test exit status %d)\n", len(s.failed), code)
		for _, f := range s.failed {
			fmt.Fprintf(s.w, "--- FAIL: %s %s\n", f.pkg, f.test)
		}
	case code != 0:
		fmt.Fprintf(s.w, "=== FAIL: go test exit status %d\n", code)
	default:
		fmt.Fprintf(s.w, "=== ok: %d tests in %d packages passed\n", len(tests), len(pkgs))
	}
}
