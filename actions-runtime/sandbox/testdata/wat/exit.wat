;; Exits instead of returning.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (call $exit (i32.const 3))
    (i64.const 0)))
