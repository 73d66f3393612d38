package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/authok-edge/authok/shared/store"
)

func membersCommand() *command {
	c := newCommand("members", "List the cluster's members (role, state, last contact, applied index), or remove one.")
	c.usage = "Environment-only settings (secrets never go on a command line):\n  AUTHOK_CLUSTER_SECRET  the cluster secret (or --cluster-secret-file)"
	var (
		url, secretFile, remove string
		asJSON                  bool
	)
	c.fs.StringVar(&url, "url", "http://127.0.0.1:9001", "HTTP URL of any control-plane node")
	c.fs.StringVar(&secretFile, "cluster-secret-file", "", "file holding the cluster secret (instead of AUTHOK_CLUSTER_SECRET; one of them is required)")
	c.fs.StringVar(&remove, "remove", "", "remove the node with this id instead of listing")
	c.fs.BoolVar(&asJSON, "json", false, "print the listing as JSON")
	c.run = func(env *environment) error {
		secret, err := loadClusterSecret(env.getenv("AUTHOK_CLUSTER_SECRET"), secretFile)
		if err != nil {
			return usageError{err}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if remove != "" {
			if err := store.Remove(ctx, nil, []byte(secret), url, remove); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "removed %s\n", remove)
			return nil
		}
		ms, err := store.ListMembers(ctx, nil, []byte(secret), url)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ms)
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tROLE\tSTATE\tLEADER\tAPPLIED\tLAST CONTACT\tRAFT\tHTTP")
		for _, m := range ms {
			state, contact := m.State, "-"
			if !m.Reachable {
				state = "unreachable: " + m.Error
			}
			if m.LastContact != nil {
				contact = time.Since(*m.LastContact).Round(time.Millisecond).String() + " ago"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%s\t%s\t%s\n", m.NodeID, m.Role, state, m.Leader, m.AppliedIndex, contact, m.RaftAddr, m.HTTPURL)
		}
		return tw.Flush()
	}
	return c
}
