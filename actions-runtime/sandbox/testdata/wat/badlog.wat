;; Hands authok.log a pointer outside its memory.
(module
  (import "authok" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (call $log (i32.const 65500) (i32.const 100))
    (i64.const 0)))
