package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Member records live in the replicated store so every node can find every
// other node's internal HTTP URL (a follower forwards writes to the
// leader's). They are written by the leader on join and by each node for
// itself when its addresses change.
const memberPrefix = "sys/members/"

func memberKey(id string) []byte { return []byte(memberPrefix + id) }

// memberRecord is the stored part of a member.
type memberRecord struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	HTTPURL  string `json:"http_url"`
}

// JoinRequest asks the cluster to add a node.
type JoinRequest struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	HTTPURL  string `json:"http_url"`
	Voter    bool   `json:"voter"`
}

func (r JoinRequest) validate() error {
	var problems []string
	if r.NodeID == "" {
		problems = append(problems, "node_id is required")
	}
	if _, _, err := net.SplitHostPort(r.RaftAddr); err != nil {
		problems = append(problems, fmt.Sprintf("raft_addr %q is not host:port", r.RaftAddr))
	}
	if !strings.HasPrefix(r.HTTPURL, "http://") && !strings.HasPrefix(r.HTTPURL, "https://") {
		problems = append(problems, fmt.Sprintf("http_url %q is not an http(s) URL", r.HTTPURL))
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: invalid join request: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Member is one server of the cluster as the members listing reports it.
type Member struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	HTTPURL  string `json:"http_url,omitempty"`
	Role     string `json:"role"` // voter | nonvoter
	Leader   bool   `json:"leader"`
	// From the member itself; empty when it could not be reached.
	State        string     `json:"state,omitempty"` // Leader, Follower, Candidate
	Reachable    bool       `json:"reachable"`
	LastContact  *time.Time `json:"last_contact,omitempty"`
	AppliedIndex uint64     `json:"applied_index"`
	CommitIndex  uint64     `json:"commit_index"`
	Error        string     `json:"error,omitempty"`
}

// Status is what a node reports about itself.
type Status struct {
	NodeID       string     `json:"node_id"`
	State        string     `json:"state"`
	LeaderID     string     `json:"leader_id"`
	Term         uint64     `json:"term"`
	AppliedIndex uint64     `json:"applied_index"`
	CommitIndex  uint64     `json:"commit_index"`
	LastLogIndex uint64     `json:"last_log_index"`
	LastContact  *time.Time `json:"last_contact,omitempty"` // with the leader; now, on the leader
}

// Status reports this node's Raft state.
func (n *Node) Status() Status {
	leaderID, _ := n.Leader()
	s := Status{
		NodeID:       n.cfg.NodeID,
		State:        n.raft.State().String(),
		LeaderID:     leaderID,
		AppliedIndex: n.st.applied.Load(),
		CommitIndex:  n.raft.CommitIndex(),
		LastLogIndex: n.raft.LastIndex(),
	}
	stats := n.raft.Stats()
	fmt.Sscan(stats["term"], &s.Term)
	if n.IsLeader() {
		now := time.Now().UTC()
		s.LastContact = &now
	} else if lc := n.raft.LastContact(); !lc.IsZero() {
		lc = lc.UTC()
		s.LastContact = &lc
	}
	return s
}

func (n *Node) record(id string) (memberRecord, bool) {
	it, err := n.st.get(memberKey(id))
	if err != nil {
		return memberRecord{}, false
	}
	var r memberRecord
	if json.Unmarshal(it.Value, &r) != nil {
		return memberRecord{}, false
	}
	return r, true
}

func (n *Node) leaderURL() (string, error) {
	id, _ := n.Leader()
	if id == "" {
		return "", ErrNoLeader
	}
	if id == n.cfg.NodeID {
		return "", errNotLeader // we are, or were a moment ago: retry locally
	}
	rec, ok := n.record(id)
	if !ok || rec.HTTPURL == "" {
		return "", fmt.Errorf("%w: leader %s has no known HTTP URL yet", ErrNoLeader, id)
	}
	return rec.HTTPURL, nil
}

// publishSelf keeps this node's member record current, so peers can reach
// it after an address change. It retries until it succeeds or the node stops.
func (n *Node) publishSelf() {
	defer n.bg.Done()
	if n.cfg.HTTPURL == "" {
		return
	}
	want := memberRecord{NodeID: n.cfg.NodeID, RaftAddr: string(n.trans.LocalAddr()), HTTPURL: n.cfg.HTTPURL}
	for {
		if got, ok := n.record(n.cfg.NodeID); ok && got == want {
			return
		}
		if id, _ := n.Leader(); id != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := n.Apply(ctx, Txn{Ops: []Op{Put(memberKey(n.cfg.NodeID), jsonBody(want))}})
			cancel()
			if err == nil {
				return
			}
		}
		select {
		case <-n.stop:
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// join adds (or re-adds with new addresses) a server; leader only.
func (n *Node) join(ctx context.Context, req JoinRequest) error {
	if err := req.validate(); err != nil {
		return err
	}
	if !n.IsLeader() {
		return errNotLeader
	}
	timeout := 10 * time.Second
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("store: read configuration: %w", err)
	}
	present := false
	for _, s := range f.Configuration().Servers {
		sameID, sameAddr := s.ID == raft.ServerID(req.NodeID), s.Address == raft.ServerAddress(req.RaftAddr)
		switch {
		case sameID && sameAddr && (s.Suffrage == raft.Voter) == req.Voter:
			present = true
		case sameID:
			// Same node, new address or role: replace its entry.
			if err := n.raft.RemoveServer(s.ID, 0, timeout).Error(); err != nil {
				return fmt.Errorf("store: replace %s: %w", s.ID, err)
			}
		case sameAddr:
			return fmt.Errorf("store: raft address %s already belongs to node %s", req.RaftAddr, s.ID)
		}
	}
	if !present {
		var add raft.IndexFuture
		if req.Voter {
			add = n.raft.AddVoter(raft.ServerID(req.NodeID), raft.ServerAddress(req.RaftAddr), 0, timeout)
		} else {
			add = n.raft.AddNonvoter(raft.ServerID(req.NodeID), raft.ServerAddress(req.RaftAddr), 0, timeout)
		}
		if err := add.Error(); err != nil {
			return fmt.Errorf("store: add %s: %w", req.NodeID, err)
		}
		n.log.Info("store: member added", "id", req.NodeID, "raft", req.RaftAddr, "voter", req.Voter)
	}
	rec := memberRecord{NodeID: req.NodeID, RaftAddr: req.RaftAddr, HTTPURL: req.HTTPURL}
	_, err := n.Apply(ctx, Txn{Ops: []Op{Put(memberKey(req.NodeID), jsonBody(rec))}})
	return err
}

// remove takes a server out of the cluster; leader only.
func (n *Node) remove(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return errNotLeader
	}
	if id == "" {
		return errors.New("store: node_id is required")
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	found := false
	for _, s := range f.Configuration().Servers {
		found = found || s.ID == raft.ServerID(id)
	}
	if !found {
		return fmt.Errorf("%w: node %s", ErrUnknownMember, id)
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, 10*time.Second).Error(); err != nil {
		return fmt.Errorf("store: remove %s: %w", id, err)
	}
	_, err := n.Apply(ctx, Txn{Ops: []Op{Delete(memberKey(id))}})
	return err
}

// ErrUnknownMember is returned when removing a node that is not a member.
var ErrUnknownMember = errors.New("store: not a member")

// Members lists the cluster's servers with each one's own report of its
// state, fetched concurrently with a short timeout.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	n.catchUpWithLeader(ctx)
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("store: read configuration: %w", err)
	}
	leaderID, _ := n.Leader()
	servers := f.Configuration().Servers
	out := make([]Member, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		m := Member{NodeID: string(s.ID), RaftAddr: string(s.Address), Role: "nonvoter", Leader: string(s.ID) == leaderID}
		if s.Suffrage == raft.Voter {
			m.Role = "voter"
		}
		if rec, ok := n.record(m.NodeID); ok {
			m.HTTPURL = rec.HTTPURL
		}
		out[i] = m
		wg.Add(1)
		go func(m *Member) {
			defer wg.Done()
			var st Status
			var err error
			if m.NodeID == n.cfg.NodeID {
				st = n.Status()
			} else if m.HTTPURL == "" {
				err = errors.New("no HTTP URL recorded")
			} else {
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				err = n.call(c, http.MethodGet, m.HTTPURL+"/internal/v1/status", nil, &st)
				cancel()
			}
			if err != nil {
				m.Error = err.Error()
				return
			}
			m.Reachable, m.State, m.LastContact = true, st.State, st.LastContact
			m.AppliedIndex, m.CommitIndex = st.AppliedIndex, st.CommitIndex
		}(&out[i])
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].NodeID < out[j].NodeID })
	return out, nil
}

// catchUpWithLeader waits, briefly and best effort, until this node has
// applied what the leader has. A follower takes a new server into its Raft
// configuration as soon as the entry is appended, before it applies the
// member record the leader writes next; without this a listing made just
// after a join would report the newcomer as having no HTTP URL.
func (n *Node) catchUpWithLeader(ctx context.Context) {
	url, err := n.leaderURL()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var st Status
	if n.call(ctx, http.MethodGet, url+"/internal/v1/status", nil, &st) == nil {
		_ = n.WaitApplied(ctx, st.AppliedIndex)
	}
}

// call makes a signed internal request and decodes a JSON answer.
func (n *Node) call(ctx context.Context, method, url string, body []byte, out any) error {
	return callInternal(ctx, n.cfg.HTTPClient, n.cfg.ClusterSecret, method, url, body, out)
}

// internalError is the body of a failed internal call.
type internalError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func callInternal(ctx context.Context, client *http.Client, secret []byte, method, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", method, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	signRequest(req, secret, body, time.Now()) // wall clock, never the injected data clock
	resp, err := client.Do(req)
	if err != nil {
		return &callError{err: err, sent: !isDialError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxInternalBody))
	if err != nil {
		return &callError{err: err, sent: true}
	}
	if resp.StatusCode/100 != 2 {
		var ie internalError
		json.Unmarshal(data, &ie)
		return &callError{status: resp.StatusCode, code: ie.Code, body: data, err: fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, ie.Error), sent: true}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("store: %s %s: decode answer: %w", method, url, err)
	}
	return nil
}

// callError is a failed internal call; sent says whether the request may
// have reached the peer.
type callError struct {
	status int
	code   string
	body   []byte
	err    error
	sent   bool
}

func (e *callError) Error() string { return "store: internal call: " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Join asks the cluster at joinURL (any control-plane node) to add the
// node described by req, retrying until it succeeds or ctx ends.
func Join(ctx context.Context, client *http.Client, secret []byte, joinURL string, req JoinRequest) error {
	if err := req.validate(); err != nil {
		return err
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	url := strings.TrimRight(joinURL, "/") + "/internal/v1/cluster/join"
	backoff := 100 * time.Millisecond
	for {
		err := callInternal(ctx, client, secret, http.MethodPost, url, jsonBody(req), nil)
		if err == nil {
			return nil
		}
		var ce *callError
		if errors.As(err, &ce) && (ce.status == http.StatusUnauthorized || ce.status == http.StatusBadRequest) {
			return err // retrying cannot fix a wrong secret or a bad request
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: join via %s: %w (last error: %v)", joinURL, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// Remove asks the cluster at url to remove node id.
func Remove(ctx context.Context, client *http.Client, secret []byte, url, id string) error {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return callInternal(ctx, client, secret, http.MethodPost, strings.TrimRight(url, "/")+"/internal/v1/cluster/remove", jsonBody(map[string]string{"node_id": id}), nil)
}

// ListMembers asks the node at url for the cluster's members.
func ListMembers(ctx context.Context, client *http.Client, secret []byte, url string) ([]Member, error) {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	var out struct {
		Members []Member `json:"members"`
	}
	err := callInternal(ctx, client, secret, http.MethodGet, strings.TrimRight(url, "/")+"/internal/v1/cluster/members", nil, &out)
	return out.Members, err
}
