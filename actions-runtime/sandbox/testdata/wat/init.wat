;; Takes an init payload (authok_init) and returns it as every call's
;; result, so a test sees which payload an instance got. A payload that
;; starts with "!" is refused with a message; before any init the result
;; is empty.
(module
  (memory (export "memory") 1)
  (global $len (mut i32) (i32.const 0))
  (data (i32.const 16) "refused: the payload starts with !")
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 4096))
      (then (i32.const 0)) (else (i32.const 1024))))
  (func (export "authok_init") (param $ptr i32) (param $n i32) (result i64)
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 33))
      (then (return (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 34)))))
    (memory.copy (i32.const 8192) (local.get $ptr) (local.get $n))
    (global.set $len (local.get $n))
    (i64.const 0))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (if (result i64) (i32.eqz (global.get $len))
      (then (i64.const 0))
      (else (i64.or (i64.shl (i64.const 8192) (i64.const 32)) (i64.extend_i32_u (global.get $len)))))))
