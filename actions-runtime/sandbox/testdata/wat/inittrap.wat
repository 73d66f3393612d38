;; An ABI v1 module whose _initialize traps: it validates and loads, but
;; no instance of it ever starts.
(module
  (memory (export "memory") 1)
  (func (export "_initialize") unreachable)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64) (i64.const 0)))
