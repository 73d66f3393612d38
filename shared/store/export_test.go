package store

import "github.com/hashicorp/raft"

// TestTLSConfigs exposes the test CA's configurations to store_test.
var TestTLSConfigs = testTLS

// StartLeadershipTransfer asks n, the leader, to hand leadership to the
// server id at addr, without waiting for the outcome.
func (n *Node) StartLeadershipTransfer(id, addr string) {
	n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(addr))
}
