package servetest

import (
	"strings"
	"sync"
	"testing"
)

// TestSyncBufferConcurrentWrites writes from several goroutines while
// reading (run with -race) and checks that no write was lost.
func TestSyncBufferConcurrentWrites(t *testing.T) {
	const writers, lines = 4, 200
	var buf SyncBuffer
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range lines {
				if n, err := buf.Write([]byte("line\n")); n != 5 || err != nil {
					t.Errorf("Write = %d, %v; want 5, nil", n, err)
					return
				}
				_ = buf.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(buf.String(), "line\n"); got != writers*lines {
		t.Fatalf("%d lines written, want %d", got, writers*lines)
	}
}
