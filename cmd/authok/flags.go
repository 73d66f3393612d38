package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its flags, every one of which can also be set
// through an AUTHOK_* environment variable, and what it runs.
type command struct {
	name    string
	summary string
	usage   string // extra text for --help (environment-only settings, examples)
	fs      *flag.FlagSet
	run     func(env *environment) error
}

// envName is the environment variable for a flag: AUTHOK_ + the flag name in
// upper snake case (--raft-addr -> AUTHOK_RAFT_ADDR).
func envName(flagName string) string {
	return "AUTHOK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func newCommand(name, summary string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // we print usage and errors ourselves
	return &command{name: name, summary: summary, fs: fs}
}

// parse reads the command line, then fills every flag not given there from
// its environment variable. A flag on the command line wins.
func (c *command) parse(args []string, getenv func(string) string) error {
	if err := checkRefusedFlags(args); err != nil {
		return err
	}
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if c.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", c.fs.Arg(0))
	}
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []string
	c.fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("invalid environment: %s", strings.Join(errs, "; "))
	}
	return nil
}

// printUsage lists every flag with its environment variable and default.
func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: authok %s [flags]\n\n%s\n\nFlags (each also settable as the environment variable shown):\n", c.name, c.summary)
	var flags []*flag.Flag
	c.fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		typ, help := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + typ
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s%s\n        %s%s\n        env %s\n", f.Name, typ, help, def, envName(f.Name))
	}
	if c.usage != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.usage))
	}
}

// listFlag is a comma-separated list of strings.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// environment is what a command runs with: its output streams, the
// process environment, and how it learns it should stop.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stop           <-chan os.Signal
}
