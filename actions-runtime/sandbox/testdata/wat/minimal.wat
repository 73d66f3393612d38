;; The smallest ABI v1 module: it logs one line and sets one claim.
(module
  (import "authok" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wat")
  (data (i32.const 64) "{\"commands\":[{\"type\":\"SetCustomClaim\",\"data\":{\"target\":\"accessToken\",\"name\":\"https://example.com/tier\",\"value\":\"gold\"}}]}")
  (func (export "authok_abi_v1"))
  ;; the event goes to a fixed buffer at 1024; events past 63 KiB get no room
  (func (export "authok_alloc") (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 64512))
      (then (i32.const 0)) (else (i32.const 1024))))
  (func (export "authok_on_trigger") (param $t i32) (param $p i32) (param $n i32) (result i64)
    (call $log (i32.const 16) (i32.const 14))
    ;; (64 << 32) | 121, the JSON above
    (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 121))))
