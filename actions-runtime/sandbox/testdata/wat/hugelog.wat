;; Logs 1 KiB a thousand times, then returns no commands.
(module
  (import "authok" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (local $i i32)
    (loop $again
      (call $log (i32.const 2048) (i32.const 1024))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (i64.const 0)))
