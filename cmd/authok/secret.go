package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// minClusterSecret is the shortest cluster secret a node accepts.
const minClusterSecret = 16

// clusterSecretHelp says how to pass the cluster secret; every message
// about it ends with this.
const clusterSecretHelp = "set AUTHOK_CLUSTER_SECRET, or --cluster-secret-file (AUTHOK_CLUSTER_SECRET_FILE) to a file that holds it"

// refusedFlags are secrets that once were flags: on a command line they
// are visible to every user of the machine (ps, /proc/<pid>/cmdline) and
// land in shell history, so they are refused rather than read.
var refusedFlags = map[string]string{
	"cluster-secret": clusterSecretHelp,
}

// checkRefusedFlags refuses a secret on the command line, without
// echoing its value. Arguments after "--" are not flags.
func checkRefusedFlags(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if how, ok := refusedFlags[name]; ok {
			return fmt.Errorf("--%s is not accepted on the command line, where other users of the machine can read it: %s", name, how)
		}
	}
	return nil
}

// loadClusterSecret returns the cluster secret from the environment
// (value) or from file, exactly one of which must be given. A file's
// trailing newline is not part of the secret.
func loadClusterSecret(value, file string) (string, error) {
	switch {
	case value != "" && file != "":
		return "", errors.New("both AUTHOK_CLUSTER_SECRET and --cluster-secret-file are set: give one")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--cluster-secret-file: %w", err)
		}
		value = strings.TrimRight(string(b), "\r\n")
		if value == "" {
			return "", fmt.Errorf("--cluster-secret-file %s is empty", file)
		}
	case value == "":
		return "", errors.New("the cluster secret is required: " + clusterSecretHelp)
	}
	if len(value) < minClusterSecret {
		return "", fmt.Errorf("the cluster secret must be at least %d characters", minClusterSecret)
	}
	return value, nil
}
