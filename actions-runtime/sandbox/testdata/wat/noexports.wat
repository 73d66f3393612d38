;; A WASI command with none of the ABI's exports and a wrong alloc.
(module
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "authok_alloc") (param i64) (result i32) (i32.const 0)))
