package sandbox

import (
	"strings"
	"unicode/utf8"
)

// Log is one chunk a module wrote: Stream is "stdout", "stderr" (WASI
// fd_write, what fmt.Println and console output become) or "log"
// (authok.log).
type Log struct {
	Stream string `json:"stream"`
	Text   string `json:"text"`
}

// logBuf collects an invocation's logs up to a byte limit. Only the
// goroutine running the instance writes to it.
type logBuf struct {
	limit     int
	used      int
	lines     []Log
	truncated bool
}

func (b *logBuf) add(stream string, p []byte) {
	if b == nil || len(p) == 0 {
		return
	}
	room := b.limit - b.used
	if room <= 0 {
		b.truncated = true
		return
	}
	if len(p) > room {
		p = p[:room]
		for len(p) > 0 && !utf8.Valid(p) { // do not split a rune
			p = p[:len(p)-1]
		}
		b.truncated = true
	}
	b.used += len(p)
	// Output streams are written in pieces (Go's runtime prints a panic a
	// few bytes at a time): a piece continues the stream's unfinished line.
	if n := len(b.lines); n > 0 && stream != "log" && b.lines[n-1].Stream == stream &&
		!strings.HasSuffix(b.lines[n-1].Text, "\n") {
		b.lines[n-1].Text += string(p)
		return
	}
	b.lines = append(b.lines, Log{Stream: stream, Text: string(p)})
}

// streamWriter is an instance's stdout or stderr: it appends to the
// current invocation's logs and discards what the module writes between
// invocations (during _initialize).
type streamWriter struct {
	inst   *instance
	stream string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.inst.logs.add(w.stream, p)
	return len(p), nil
}
