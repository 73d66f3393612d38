package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The internal API every node serves under /internal/v1/, signed with the
// cluster secret (see auth.go):
//
//	POST /internal/v1/store/apply       a forwarded transaction (leader only)
//	POST /internal/v1/cluster/join      add a node   (forwarded to the leader)
//	POST /internal/v1/cluster/remove    remove a node (forwarded to the leader)
//	GET  /internal/v1/cluster/members   the members and their state
//	GET  /internal/v1/status            this node's own Raft state
const InternalPrefix = "/internal/v1/"

// applyAnswer is the JSON answer to a forwarded transaction.
type applyAnswer struct {
	Index    uint64         `json:"index,omitempty"`
	Conflict *ConflictError `json:"conflict,omitempty"`
}

// InternalHandler serves the internal API.
func (n *Node) InternalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /internal/v1/store/apply", n.handleApply)
	mux.HandleFunc("POST /internal/v1/cluster/join", n.handleJoin)
	mux.HandleFunc("POST /internal/v1/cluster/remove", n.handleRemove)
	mux.HandleFunc("GET /internal/v1/cluster/members", n.handleMembers)
	mux.HandleFunc("GET /internal/v1/status", n.handleStatus)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := verifyRequest(r, n.cfg.ClusterSecret, time.Now())
		if stale := (*staleError)(nil); errors.As(err, &stale) {
			// The offset helps an operator fix a clock; the caller, not
			// yet authenticated, is not told this node's clock.
			n.log.Warn("store: internal request signed outside the time window",
				"offset", stale.Offset.Round(time.Second), "remote", r.RemoteAddr, "path", r.URL.Path)
		}
		if err != nil {
			writeInternalError(w, http.StatusUnauthorized, "unauthorized", err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body)) // already read and bounded
		mux.ServeHTTP(w, r)
	})
}

func writeInternalError(w http.ResponseWriter, status int, code string, err error) {
	writeJSON(w, status, internalError{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body) // bounded by verifyRequest
	return b
}

func (n *Node) handleApply(w http.ResponseWriter, r *http.Request) {
	txn, err := decodeTxn(readBody(r))
	if err != nil {
		writeInternalError(w, http.StatusBadRequest, "bad_txn", err)
		return
	}
	if !n.IsLeader() {
		writeInternalError(w, http.StatusMisdirectedRequest, "not_leader", errNotLeader)
		return
	}
	res, err := n.applyOnLeader(r.Context(), txn)
	var conflict *ConflictError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, applyAnswer{Index: res.Index})
	case errors.As(err, &conflict):
		writeJSON(w, http.StatusConflict, applyAnswer{Conflict: conflict})
	case errors.Is(err, errNotLeader):
		writeInternalError(w, http.StatusMisdirectedRequest, "not_leader", err)
	case errors.Is(err, ErrOutcomeUnknown):
		writeInternalError(w, http.StatusServiceUnavailable, "outcome_unknown", err)
	default:
		writeInternalError(w, http.StatusInternalServerError, "apply_failed", err)
	}
}

// forward sends txn to the leader and returns its outcome.
func (n *Node) forward(ctx context.Context, txn Txn) (Result, error) {
	url, err := n.leaderURL()
	if err != nil {
		return Result{}, err
	}
	var ans applyAnswer
	err = n.call(ctx, http.MethodPost, url+"/internal/v1/store/apply", appendTxn(nil, txn), &ans)
	var ce *callError
	switch {
	case err == nil:
		return Result{Index: ans.Index}, nil
	case errors.As(err, &ce) && ce.status == http.StatusConflict:
		if json.Unmarshal(ce.body, &ans) != nil || ans.Conflict == nil {
			return Result{}, fmt.Errorf("store: leader answered 409 without a conflict: %s", ce.body)
		}
		return Result{}, ans.Conflict
	case errors.As(err, &ce) && ce.code == "not_leader":
		return Result{}, errNotLeader
	case errors.As(err, &ce) && ce.code == "outcome_unknown":
		return Result{}, ErrOutcomeUnknown
	case errors.As(err, &ce) && !ce.sent:
		return Result{}, fmt.Errorf("%w: %v", ErrNoLeader, err) // never reached the leader: safe to retry
	case errors.As(err, &ce) && ce.status == 0:
		return Result{}, fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
	return Result{}, err
}

func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var req JoinRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeInternalError(w, http.StatusBadRequest, "bad_request", fmt.Errorf("store: join body: %w", err))
		return
	}
	if err := req.validate(); err != nil {
		writeInternalError(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	n.leaderOrRelay(w, r, body, func(ctx context.Context) error { return n.join(ctx, req) })
}

func (n *Node) handleRemove(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var req struct {
		NodeID string `json:"node_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.NodeID == "" {
		writeInternalError(w, http.StatusBadRequest, "bad_request", errors.New("store: remove body needs node_id"))
		return
	}
	n.leaderOrRelay(w, r, body, func(ctx context.Context) error { return n.remove(ctx, req.NodeID) })
}

// leaderOrRelay runs op here if this node leads, or relays the request to
// the leader once.
func (n *Node) leaderOrRelay(w http.ResponseWriter, r *http.Request, body []byte, op func(context.Context) error) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if n.IsLeader() {
		if err := op(ctx); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrUnknownMember) {
				status = http.StatusNotFound
			}
			writeInternalError(w, status, "failed", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	if r.Header.Get("X-Authok-Relayed") != "" {
		writeInternalError(w, http.StatusMisdirectedRequest, "not_leader", errNotLeader)
		return
	}
	url, err := n.leaderURL()
	if err != nil {
		writeInternalError(w, http.StatusServiceUnavailable, "no_leader", err)
		return
	}
	req, _ := http.NewRequestWithContext(ctx, r.Method, url+r.URL.Path, strings.NewReader(string(body)))
	req.Header.Set("X-Authok-Relayed", "1")
	signRequest(req, n.cfg.ClusterSecret, body, time.Now())
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		writeInternalError(w, http.StatusBadGateway, "relay_failed", err)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, MaxInternalBody))
}

func (n *Node) handleMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := n.Members(r.Context())
	if err != nil {
		writeInternalError(w, http.StatusInternalServerError, "failed", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": ms})
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}
