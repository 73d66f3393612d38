// Command goguest is a test action written in Go against ABI v1 directly
// (no SDK), built by the sandbox tests with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared. The event's
// "mode" picks what it does, hostile behaviours included.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"
)

var (
	event  []byte
	result []byte
	calls  int
	hoard  [][]byte
)

//go:wasmexport authok_abi_v1
func abiV1() {}

//go:wasmexport authok_alloc
func alloc(n int32) int32 {
	if int(n) > cap(event) {
		event = make([]byte, n)
	}
	event = event[:n]
	if n == 0 {
		return 0
	}
	return int32(uintptr(unsafe.Pointer(&event[0])))
}

type command struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

func claim(name string, value any) command {
	return command{"SetCustomClaim", map[string]any{"target": "accessToken", "name": name, "value": value}}
}

//go:wasmexport authok_on_trigger
func onTrigger(trigger, ptr, n int32) int64 {
	var ev struct {
		Mode    string            `json:"mode"`
		Secrets map[string]string `json:"secrets"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return reply(map[string]any{"errors": []any{map[string]string{"name": "SyntaxError", "message": err.Error()}}})
	}
	calls++
	var cmds []command
	switch ev.Mode {
	case "claim":
		fmt.Println("setting the tier for trigger", trigger)
		cmds = append(cmds, claim("https://example.com/tier", ev.Secrets["TIER"]))
	case "deny":
		cmds = append(cmds, command{"AccessDenied", "not today"})
	case "count":
		cmds = append(cmds, claim("calls", calls))
	case "sub":
		cmds = append(cmds, claim("sub", "admin"))
	case "loop":
		for {
		}
	case "bomb":
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	case "panic":
		panic("boom")
	case "logs":
		line := strings.Repeat("x", 1000)
		for range 100 {
			fmt.Fprintln(os.Stderr, line)
		}
	case "huge":
		cmds = append(cmds, claim("big", strings.Repeat("y", 100<<10)))
	case "probe":
		_, fileErr := os.ReadFile("/etc/passwd")
		entries, dirErr := os.ReadDir("/")
		wd, _ := os.Getwd()
		buf := make([]byte, 16)
		_, _ = rand.Read(buf)
		cmds = append(cmds,
			claim("file_error", fmt.Sprint(fileErr)),
			claim("dir_entries", len(entries)),
			claim("dir_error", fmt.Sprint(dirErr)),
			claim("env", os.Environ()),
			claim("args", os.Args),
			claim("wd", wd),
			claim("host", hostname()),
			claim("now", time.Now().Unix()),
			claim("random", hex.EncodeToString(buf)))
	}
	return reply(map[string]any{"commands": cmds})
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "error: " + err.Error()
	}
	return h
}

// reply keeps the result in a global, so it stays put until the next call.
func reply(v any) int64 {
	result, _ = json.Marshal(v)
	return int64(uintptr(unsafe.Pointer(&result[0])))<<32 | int64(len(result))
}

func main() {}
