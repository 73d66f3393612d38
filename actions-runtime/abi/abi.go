package abi

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// Version is the ABI version this package describes. A module declares the
// version it was built for by exporting the function named VersionExport.
const Version = 1

// Names of the exports a module must have (ABI v1).
const (
	// VersionExport is a function export with no parameters and no results;
	// its presence declares ABI v1. The host never calls it.
	VersionExport = "authok_abi_v1"
	// AllocExport is alloc(size i32) -> ptr i32: the module returns size
	// writable bytes of its linear memory, or 0 if it cannot. The host
	// writes the event there, and the module owns the bytes afterwards.
	AllocExport = "authok_alloc"
	// OnTriggerExport is on_trigger(trigger i32, event_ptr i32, event_len
	// i32) -> i64: the module handles one event and returns its result as
	// (ptr << 32) | len, or 0 for "no commands". The bytes must stay
	// untouched until the module is next called.
	OnTriggerExport = "authok_on_trigger"
	// MemoryExport is the linear memory the pointers refer to.
	MemoryExport = "memory"
	// InitializeExport is the reactor's initialiser (WASI reactor model);
	// optional, run once per instance before the first call.
	InitializeExport = "_initialize"
	// InitExport is init(ptr i32, len i32) -> i64, optional: when the host
	// loads a version with an init payload (the JS engine's action source),
	// it writes the payload through AllocExport and calls init once per new
	// instance, after InitializeExport. The result is 0 for success, or
	// (ptr << 32) | len of a UTF-8 message saying why the payload was
	// refused.
	InitExport = "authok_init"
	// StartExport marks a WASI command module, which this ABI refuses: a
	// command exits after main, so it cannot be called per event.
	StartExport = "_start"
)

// HostModule is the import module name of the functions the host grants.
const HostModule = "authok"

// LogImport is authok.log(ptr i32, len i32): append one log line (the
// bytes as UTF-8 text) to the invocation's logs. Lines past the log limit
// are dropped and the invocation's logs are marked truncated.
const LogImport = "log"

// WASIModule is the WASI preview 1 module name.
const WASIModule = "wasi_snapshot_preview1"

// Signature is a function type.
type Signature struct {
	Params  []api.ValueType
	Results []api.ValueType
}

func (s Signature) String() string {
	return fmt.Sprintf("(%s) -> (%s)", types(s.Params), types(s.Results))
}

// Equal reports whether s and the given parameter and result types match.
func (s Signature) Equal(params, results []api.ValueType) bool {
	return sameTypes(s.Params, params) && sameTypes(s.Results, results)
}

func types(ts []api.ValueType) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += api.ValueTypeName(t)
	}
	return out
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// RequiredExports are the functions every ABI v1 module exports, with
// their signatures.
var RequiredExports = map[string]Signature{
	VersionExport:   {},
	AllocExport:     {Params: []api.ValueType{i32}, Results: []api.ValueType{i32}},
	OnTriggerExport: {Params: []api.ValueType{i32, i32, i32}, Results: []api.ValueType{i64}},
}

// OptionalExports may be present; when they are, their signature is fixed.
var OptionalExports = map[string]Signature{
	InitializeExport: {},
	InitExport:       {Params: []api.ValueType{i32, i32}, Results: []api.ValueType{i64}},
}

// MaxInitMessageBytes bounds the message an init refusal returns.
const MaxInitMessageBytes = 4 << 10

// HostFunctions are the functions of HostModule a module may import.
var HostFunctions = map[string]Signature{
	LogImport: {Params: []api.ValueType{i32, i32}},
}

// WASIFunctions is the subset of WASI preview 1 a module may import: what
// Go's wasip1 port and wasi-libc link for formatted output, time, random
// numbers and (failing) file access. The host gives no preopened
// directories, no environment, no arguments and no sockets, so the file
// functions find nothing; sockets, signals and file-system mutation are
// not importable at all.
var WASIFunctions = map[string]bool{
	"args_get": true, "args_sizes_get": true,
	"environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true,
	"fd_close": true, "fd_fdstat_get": true, "fd_fdstat_set_flags": true,
	"fd_filestat_get": true, "fd_prestat_get": true, "fd_prestat_dir_name": true,
	"fd_read": true, "fd_readdir": true, "fd_seek": true, "fd_tell": true, "fd_write": true,
	"path_filestat_get": true, "path_open": true, "path_readlink": true,
	"poll_oneoff": true, "proc_exit": true, "random_get": true, "sched_yield": true,
}

// Limits of ABI v1, the same for every trigger.
const (
	// MaxResultBytes bounds the result JSON a module returns.
	MaxResultBytes = 64 << 10
	// MaxLogBytes bounds an invocation's logs (API.md D.3: 10 KiB).
	MaxLogBytes = 10 << 10
	// MaxCommands bounds the commands in one result.
	MaxCommands = 100
	// MaxClaimNameBytes bounds a custom claim's name or a metadata key.
	MaxClaimNameBytes = 256
	// MaxValueBytes bounds one claim's or metadata entry's JSON value.
	MaxValueBytes = 8 << 10
	// MaxReasonBytes bounds a deny reason (it becomes error_description).
	MaxReasonBytes = 512
	// MaxErrors bounds the errors a module reports in one result.
	MaxErrors = 10
)
