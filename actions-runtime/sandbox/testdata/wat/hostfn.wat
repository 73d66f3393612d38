;; Imports an authok host function that does not exist, and log with the wrong type.
(module
  (import "authok" "http_get" (func (param i32 i32) (result i32)))
  (import "authok" "log" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64) (i64.const 0)))
