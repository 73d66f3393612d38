;; Grows its memory 16 pages at a time until refused, then traps.
(module
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))
