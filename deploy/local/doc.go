// Package local holds deploy/local/cluster.sh, which runs a three-voter
// cluster and an edge as separate processes on loopback, and the test that
// runs that script as a user would: a new cluster, the same cluster again,
// and a stop during start-up. The package has no Go code of its own.
package local
