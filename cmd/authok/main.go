// Command authok runs every role of an authok-edge cluster from one binary:
//
//	authok dev      everything in one process: a single-voter control plane and an edge listener
//	authok control  a control-plane node (Raft voter): Management API, login pages, cluster membership
//	authok edge     an edge node (Raft non-voter): token issuance and discovery, proxying the rest
//	authok members  list or remove cluster members
//
// Every flag can also be set as an AUTHOK_* environment variable; see
// `authok <command> --help`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stop: stop}
	os.Exit(run(os.Args[1:], env))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed while running
	exitUsage = 2 // bad command line or configuration
)

func commands() []*command {
	return []*command{devCommand(), controlCommand(), edgeCommand(), membersCommand(), versionCommand()}
}

func run(args []string, env *environment) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printTopUsage(env.stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for _, c := range cmds {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.stderr, "authok: unknown command %q\n\n", args[0])
		printTopUsage(env.stderr, cmds)
		return exitUsage
	}
	if err := cmd.parse(args[1:], env.getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.printUsage(env.stdout)
			return exitOK
		}
		fmt.Fprintf(env.stderr, "authok %s: %v\nRun 'authok %s --help' for the flags.\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if err := cmd.run(env); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.stderr, "authok %s: invalid configuration:\n  %s\nRun 'authok %s --help' for the flags.\n",
				cmd.name, indent(ue.Error()), cmd.name)
			return exitUsage
		}
		fmt.Fprintf(env.stderr, "authok %s: %v\n", cmd.name, err)
		return exitError
	}
	return exitOK
}

// usageError marks a configuration problem (exit 2) as opposed to a
// runtime failure (exit 1).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "  "...)
		}
	}
	return string(out)
}

func printTopUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "authok: an Authok-compatible identity platform on a Raft-replicated store.")
	fmt.Fprintln(w, "\nUsage: authok <command> [flags]\n\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'authok <command> --help' for a command's flags and environment variables.")
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func versionCommand() *command {
	c := newCommand("version", "Print the version and the crypto implementation.")
	c.run = func(env *environment) error {
		fmt.Fprintf(env.stdout, "authok %s\ncrypto: %s\n", version, cryptoBackend())
		return nil
	}
	return c
}
