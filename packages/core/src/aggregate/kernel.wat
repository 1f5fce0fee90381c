;; Streaming FedAvg kernel: folds float32 updates into a float64 accumulator with wasm SIMD.
;; Compiled by packages/core/scripts/build-kernel.mjs into kernel.generated.ts; edit this file, never that one.
;;
;; The memory is imported so the host sizes it once (staging chunk + accumulator) and it never grows,
;; which keeps every typed-array view onto it valid. Pointers are byte offsets; `acc` must be 16-byte
;; aligned, `src` and `dst` 4-byte aligned. Both functions do the same IEEE operations, in the same
;; order, as the JS kernel (a multiply and an add, no FMA), so the two kernels agree bit for bit.
(module
  (import "env" "memory" (memory 1))

  ;; acc[i] += w * f64(src[i]) for i in [0, n)
  (func (export "fold") (param $acc i32) (param $src i32) (param $n i32) (param $w f64)
    (local $wv v128) (local $x v128) (local $end i32)
    (local.set $wv (f64x2.splat (local.get $w)))
    ;; 8 floats per iteration: two f32x4 loads, each promoted as a low and a high f64x2 pair.
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done8
      (br_if $done8 (i32.ge_u (local.get $src) (local.get $end)))
      (loop $next8
        (local.set $x (v128.load offset=0 (local.get $src)))
        (v128.store offset=0 (local.get $acc)
          (f64x2.add (v128.load offset=0 (local.get $acc))
            (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (local.get $x)))))
        (v128.store offset=16 (local.get $acc)
          (f64x2.add (v128.load offset=16 (local.get $acc))
            (f64x2.mul (local.get $wv)
              (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))))
        (local.set $x (v128.load offset=16 (local.get $src)))
        (v128.store offset=32 (local.get $acc)
          (f64x2.add (v128.load offset=32 (local.get $acc))
            (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (local.get $x)))))
        (v128.store offset=48 (local.get $acc)
          (f64x2.add (v128.load offset=48 (local.get $acc))
            (f64x2.mul (local.get $wv)
              (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (br_if $next8 (i32.lt_u (local.get $src) (local.get $end)))))
    ;; The 0..7 trailing floats, one at a time.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $done1
      (br_if $done1 (i32.ge_u (local.get $src) (local.get $end)))
      (loop $next1
        (f64.store (local.get $acc)
          (f64.add (f64.load (local.get $acc))
            (f64.mul (local.get $w) (f64.promote_f32 (f32.load (local.get $src))))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br_if $next1 (i32.lt_u (local.get $src) (local.get $end))))))

  ;; dst[i] = f32(acc[i] / total) for i in [0, n)
  (func (export "mean") (param $dst i32) (param $acc i32) (param $n i32) (param $total f64)
    (local $tv v128) (local $end i32)
    (local.set $tv (f64x2.splat (local.get $total)))
    ;; Division, not multiplication by 1/total, so the result is the correctly rounded quotient.
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (br_if $done4 (i32.ge_u (local.get $dst) (local.get $end)))
      (loop $next4
        (v128.store (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=0 (local.get $acc)) (local.get $tv)))
            (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=16 (local.get $acc)) (local.get $tv)))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br_if $next4 (i32.lt_u (local.get $dst) (local.get $end)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done1
      (br_if $done1 (i32.ge_u (local.get $dst) (local.get $end)))
      (loop $next1
        (f32.store (local.get $dst) (f32.demote_f64 (f64.div (f64.load (local.get $acc)) (local.get $total))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br_if $next1 (i32.lt_u (local.get $dst) (local.get $end))))))
)
