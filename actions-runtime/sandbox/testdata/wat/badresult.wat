;; Returns a result pointer past the end of memory.
(module
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 65500) (i64.const 32)) (i64.const 100))))
