;; minimal.wat: the smallest useful credentials-exchange Action, the
;; baseline of the benchmarks: it reads nothing, logs nothing, and always
;; sets one claim. The event lands at 1024 (up to 63 KiB; a larger one is
;; refused by returning 0 from authok_alloc), the result is a constant.
;;
;;   wat2wasm minimal.wat -o minimal.wasm
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"commands\":[{\"type\":\"SetCustomClaim\",\"data\":{\"target\":\"accessToken\",\"name\":\"https://example.com/tier\",\"value\":\"gold\"}}]}")
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 64512))
      (then (i32.const 0))
      (else (i32.const 1024))))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    ;; (16 << 32) | 121: the result JSON above.
    (i64.const 0x1000000079)))
