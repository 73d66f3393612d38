;; Returns the event it was given as its result, and counts its calls in a
;; global (what persists between invocations on one instance).
(module
  (memory (export "memory") 2)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param $t i32) (param $p i32) (param $n i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $n)))))
