;; post-login.wat: an Action for the post-login trigger in hand-written
;; WebAssembly text, implementing ABI v1 (docs/actions-abi.md) with no SDK:
;; the host writes the event JSON where authok_alloc says, calls
;; authok_on_trigger, and reads the result JSON it returns. It refuses
;; users whose app_metadata says "blocked": true, puts the connection's
;; name in the ID token as https://example.com/connection, and marks the
;; access token as issued through this module (https://example.com/via:
;; "wat").
;;
;;   wat2wasm post-login.wat -o post-login.wasm

(module
  (import "authok" "log" (func $log (param i32 i32)))

  ;; ---- ABI v1 plumbing and a small JSON reader, the same in every example ----
  ;; Memory: constants below 4096, the log line being built at 4096, the
  ;; result at 8192, the event from 16384 on (memory grows to fit it).
  (memory (export "memory") 1)
  (global $out (mut i32) (i32.const 8192))
  (global $line (mut i32) (i32.const 4096))

  (func (export "authok_abi_v1"))

  ;; authok_alloc: room for the event at 16384; 0 (refused) above 16 MiB.
  (func (export "authok_alloc") (param $n i32) (result i32)
    (local $pages i32)
    (if (i32.gt_u (local.get $n) (i32.const 0x1000000)) (then (return (i32.const 0))))
    (local.set $pages (i32.shr_u (i32.add (local.get $n) (i32.const 81919)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 16384))

  ;; $ws skips JSON whitespace from $i.
  (func $ws (param $i i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (br_if $done (i32.gt_u (i32.load8_u (local.get $i)) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))

  ;; $skipstr returns the index after the string opening at $i, or -1
  ;; when it does not close before $end.
  (func $skipstr (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (return (local.get $i))))
      (if (i32.eq (local.get $c) (i32.const 92)) (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (br $next))
    (i32.const -1))

  ;; $eq compares $n bytes at $a and $b.
  (func $eq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (loop $next
      (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))) (then (return (i32.const 0))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; $member finds the member $key (its $klen bytes, unquoted) of the
  ;; object starting at $i and returns where its value starts, or -1 (also
  ;; when $i is -1 or not an object, so lookups chain).
  (func $member (param $i i32) (param $end i32) (param $key i32) (param $klen i32) (result i32)
    (local $c i32) (local $j i32) (local $depth i32) (local $expect i32)
    (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 123)) (then (return (i32.const -1))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (local.set $depth (i32.const 1))
    (local.set $expect (i32.const 1))
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 34))
        (then
          (local.set $j (call $skipstr (local.get $i) (local.get $end)))
          (if (i32.and (local.get $expect) (i32.eq (local.get $depth) (i32.const 1)))
            (then
              (local.set $expect (i32.const 0))
              (if (i32.eq (i32.sub (local.get $j) (local.get $i)) (i32.add (local.get $klen) (i32.const 2)))
                (then
                  (if (call $eq (i32.add (local.get $i) (i32.const 1)) (local.get $key) (local.get $klen))
                    (then
                      (local.set $j (call $ws (local.get $j) (local.get $end)))
                      (if (i32.lt_u (local.get $j) (local.get $end))
                        (then
                          (if (i32.eq (i32.load8_u (local.get $j)) (i32.const 58))
                            (then (return (call $ws (i32.add (local.get $j) (i32.const 1)) (local.get $end)))))))))))))
          (local.set $i (local.get $j))
          (br $next)))
      (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
        (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93)))
        (then
          (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
          (if (i32.eqz (local.get $depth)) (then (return (i32.const -1))))))
      (if (i32.and (i32.eq (local.get $c) (i32.const 44)) (i32.eq (local.get $depth) (i32.const 1)))
        (then (local.set $expect (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))
    (i32.const -1))

  ;; $str returns the string value at $v as (ptr << 32) | len of its
  ;; (still escaped) contents, or 0 when $v is not a string of at most
  ;; 1 KiB (longer values are ignored: the result buffer is small).
  (func $str (param $v i32) (param $end i32) (result i64)
    (local $j i32)
    (if (i32.ge_u (local.get $v) (local.get $end)) (then (return (i64.const 0))))
    (if (i32.ne (i32.load8_u (local.get $v)) (i32.const 34)) (then (return (i64.const 0))))
    (local.set $j (call $skipstr (local.get $v) (local.get $end)))
    (if (i32.gt_u (local.get $j) (local.get $end)) (then (return (i64.const 0))))
    (if (i32.gt_u (i32.sub (local.get $j) (local.get $v)) (i32.const 1026)) (then (return (i64.const 0))))
    (i64.or
      (i64.shl (i64.extend_i32_u (i32.add (local.get $v) (i32.const 1))) (i64.const 32))
      (i64.extend_i32_u (i32.sub (i32.sub (local.get $j) (local.get $v)) (i32.const 2)))))

  (func $ptr (param $s i64) (result i32) (i32.wrap_i64 (i64.shr_u (local.get $s) (i64.const 32))))
  (func $len (param $s i64) (result i32) (i32.wrap_i64 (local.get $s)))

  ;; $streq: the string $s is the $n bytes at $b.
  (func $streq (param $s i64) (param $b i32) (param $n i32) (result i32)
    (if (i64.eqz (local.get $s)) (then (return (i32.const 0))))
    (if (i32.ne (call $len (local.get $s)) (local.get $n)) (then (return (i32.const 0))))
    (call $eq (call $ptr (local.get $s)) (local.get $b) (local.get $n)))

  ;; $emit appends to the result, $say to the log line; $flush logs it.
  (func $emit (param $src i32) (param $n i32)
    (memory.copy (global.get $out) (local.get $src) (local.get $n))
    (global.set $out (i32.add (global.get $out) (local.get $n))))
  (func $emitstr (param $s i64) (call $emit (call $ptr (local.get $s)) (call $len (local.get $s))))
  (func $say (param $src i32) (param $n i32)
    (memory.copy (global.get $line) (local.get $src) (local.get $n))
    (global.set $line (i32.add (global.get $line) (local.get $n))))
  (func $saystr (param $s i64) (call $say (call $ptr (local.get $s)) (call $len (local.get $s))))
  (func $flush
    (call $log (i32.const 4096) (i32.sub (global.get $line) (i32.const 4096)))
    (global.set $line (i32.const 4096)))

  ;; $const returns the constant at $p as a result; $done the built one.
  (func $const (param $p i32) (param $n i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $n))))
  (func $done (result i64)
    (call $const (i32.const 8192) (i32.sub (global.get $out) (i32.const 8192))))

  ;; ---- constants: (;name;) after a (pointer, length) pair says which ----
  (data (i32.const 16) "user")
  (data (i32.const 24) "app_metadata")
  (data (i32.const 40) "blocked")
  (data (i32.const 48) "true")
  (data (i32.const 56) "connection")
  (data (i32.const 72) "name")
  (data (i32.const 80) "{\"commands\":[{\"type\":\"AccessDenied\",\"data\":\"this account is blocked\"}]}") ;; deny
  (data (i32.const 152) "{\"commands\":[") ;; head
  (data (i32.const 168) "{\"type\":\"SetCustomClaim\",\"data\":{\"target\":\"idToken\",\"name\":\"https://example.com/connection\",\"value\":\"") ;; idclaim
  (data (i32.const 272) "\"}},") ;; idclaimtail
  (data (i32.const 280) "{\"type\":\"SetCustomClaim\",\"data\":{\"target\":\"accessToken\",\"name\":\"https://example.com/via\",\"value\":\"wat\"}}]}") ;; atclaim
  (data (i32.const 392) "{\"errors\":[{\"name\":\"Error\",\"message\":\"this module handles post-login only\"}]}") ;; wrongtrigger

  ;; ---- the action ----
  (func (export "authok_on_trigger") (param $t i32) (param $ev i32) (param $n i32) (result i64)
    (local $end i32) (local $s i64) (local $d i64) (local $o i32)
    (local.set $end (i32.add (local.get $ev) (local.get $n)))
    (global.set $out (i32.const 8192))
    (global.set $line (i32.const 4096))
    (if (i32.ne (local.get $t) (i32.const 1)) (then (return (call $const (i32.const 392) (i32.const 77) (;wrongtrigger;)))))
    (local.set $ev (call $ws (local.get $ev) (local.get $end)))
    (local.set $o (call $member
      (call $member (call $member (local.get $ev) (local.get $end) (i32.const 16) (i32.const 4) (;user;)) (local.get $end) (i32.const 24) (i32.const 12) (;app_metadata;))
      (local.get $end) (i32.const 40) (i32.const 7) (;blocked;)))
    ;; $o is where the value starts (or -1): blocked when it is true.
    (if (i32.lt_u (local.get $o) (local.get $end))
      (then
        (if (i32.ge_u (i32.sub (local.get $end) (local.get $o)) (i32.const 4))
          (then (if (call $eq (local.get $o) (i32.const 48) (i32.const 4) (;true;)) (then (return (call $const (i32.const 80) (i32.const 71) (;deny;)))))))))
    (local.set $s (call $str
      (call $member (call $member (local.get $ev) (local.get $end) (i32.const 56) (i32.const 10) (;connection;)) (local.get $end) (i32.const 72) (i32.const 4) (;name;))
      (local.get $end)))
    (call $emit (i32.const 152) (i32.const 13) (;head;))
    (if (i32.eqz (i64.eqz (local.get $s)))
      (then
        (call $emit (i32.const 168) (i32.const 101) (;idclaim;))
        (call $emitstr (local.get $s))
        (call $emit (i32.const 272) (i32.const 4) (;idclaimtail;))))
    (call $emit (i32.const 280) (i32.const 106) (;atclaim;))
    (call $done))
)
