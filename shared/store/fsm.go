package store

import (
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// fsm adapts state to raft.FSM. It is thin on purpose: it panics only on an
// entry it cannot decode or a storage failure (a replica must stop rather
// than diverge); a failed precondition is the command's result.
type fsm struct{ st *state }

// applyResponse is what FSM.Apply returns for a command entry: one outcome
// per transaction in the entry.
type applyResponse struct {
	results []error
}

func (f fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	txns, err := decodeCmd(l.Data)
	if err != nil {
		panic(fmt.Sprintf("store: undecodable log entry %d: %v", l.Index, err))
	}
	results, err := f.st.apply(l.Index, txns)
	if err != nil {
		panic(fmt.Sprintf("store: %v", err))
	}
	return applyResponse{results: results}
}

func (f fsm) Snapshot() (raft.FSMSnapshot, error) {
	// Called on the FSM goroutine, between applies: the Pebble snapshot is
	// exactly the state at the applied index.
	return &fsmSnapshot{snap: f.st.db.NewSnapshot()}, nil
}

func (f fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.st.restore(rc)
}

type fsmSnapshot struct{ snap *pebble.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(s.snap, sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("store: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.snap.Close() }
