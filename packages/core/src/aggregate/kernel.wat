;; Aggregation kernels with wasm SIMD: the streaming FedAvg fold (fold, mean), and the robust
;; strategies' per-coordinate selection (sorted_mean) and pairwise distances (sqdist).
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

  ;; Per-coordinate selection, 4 coordinates per v128. For each group g in [0, groups): gathers the
  ;; 4 floats at rows + i*stride + 16g of rows i in [0, n) into scratch (one v128 per row), sorts each
  ;; lane with the comparator network at `pairs` (npairs pairs of i32 byte offsets into scratch, lower
  ;; first: min goes to the lower slot), then writes f32(mean of ranks [lo, hi)) per lane to dst + 16g.
  ;; The network is branch-free, so the 4 lanes sort together. The rank sum is float64, added in rank
  ;; order, so the JS fallback gets the same bits.
  (func (export "sorted_mean")
    (param $rows i32) (param $n i32) (param $stride i32) (param $groups i32)
    (param $pairs i32) (param $npairs i32) (param $lo i32) (param $hi i32)
    (param $scratch i32) (param $dst i32)
    (local $src i32) (local $slot i32) (local $end i32) (local $p i32) (local $pend i32)
    (local $a i32) (local $b i32) (local $x v128) (local $y v128)
    (local $sl v128) (local $sh v128) (local $count v128)
    (local.set $count (f64x2.splat (f64.convert_i32_u (i32.sub (local.get $hi) (local.get $lo)))))
    (local.set $pend (i32.add (local.get $pairs) (i32.shl (local.get $npairs) (i32.const 3))))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $groups) (i32.const 4))))
    (block $done
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (loop $group
        ;; gather the group's column into scratch
        (local.set $src (local.get $rows))
        (local.set $slot (local.get $scratch))
        (local.set $a (i32.add (local.get $scratch) (i32.shl (local.get $n) (i32.const 4))))
        (loop $gather
          (v128.store (local.get $slot) (v128.load (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $slot (i32.add (local.get $slot) (i32.const 16)))
          (br_if $gather (i32.lt_u (local.get $slot) (local.get $a))))
        ;; sort the 4 lanes with the network
        (local.set $p (local.get $pairs))
        (block $sorted
          (br_if $sorted (i32.ge_u (local.get $p) (local.get $pend)))
          (loop $pair
            (local.set $a (i32.add (local.get $scratch) (i32.load (local.get $p))))
            (local.set $b (i32.add (local.get $scratch) (i32.load offset=4 (local.get $p))))
            (local.set $x (v128.load (local.get $a)))
            (local.set $y (v128.load (local.get $b)))
            (v128.store (local.get $a) (f32x4.min (local.get $x) (local.get $y)))
            (v128.store (local.get $b) (f32x4.max (local.get $x) (local.get $y)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br_if $pair (i32.lt_u (local.get $p) (local.get $pend)))))
        ;; mean of ranks [lo, hi), in float64
        (local.set $sl (f64x2.splat (f64.const 0)))
        (local.set $sh (f64x2.splat (f64.const 0)))
        (local.set $slot (i32.add (local.get $scratch) (i32.shl (local.get $lo) (i32.const 4))))
        (local.set $a (i32.add (local.get $scratch) (i32.shl (local.get $hi) (i32.const 4))))
        (loop $rank
          (local.set $x (v128.load (local.get $slot)))
          (local.set $sl (f64x2.add (local.get $sl) (f64x2.promote_low_f32x4 (local.get $x))))
          (local.set $sh (f64x2.add (local.get $sh)
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x)))))
          (local.set $slot (i32.add (local.get $slot) (i32.const 16)))
          (br_if $rank (i32.lt_u (local.get $slot) (local.get $a))))
        (v128.store (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.div (local.get $sl) (local.get $count)))
            (f32x4.demote_f64x2_zero (f64x2.div (local.get $sh) (local.get $count)))))
        (local.set $rows (i32.add (local.get $rows) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br_if $group (i32.lt_u (local.get $dst) (local.get $end))))))

  ;; Squared L2 distance of the float32 vectors at a and b, n a multiple of 8 (rows are zero-padded).
  ;; Two f32x4 accumulators per call: the caller sums calls over column chunks in float64, so each
  ;; float32 partial sum covers at most one chunk.
  (func (export "sqdist") (param $a i32) (param $b i32) (param $n i32) (result f64)
    (local $end i32) (local $d0 v128) (local $d1 v128) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $next
        (local.set $d0 (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $d1 (f32x4.sub (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $d0) (local.get $d0))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $d1) (local.get $d1))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $next (i32.lt_u (local.get $a) (local.get $end)))))
    (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))

  ;; Squared L2 distances from rows a0, a1 to rows b0..b3 over n floats (a multiple of 4), as eight
  ;; f64 at out: [a0b0, a0b1, a0b2, a0b3, a1b0, ..., a1b3]. A 2×4 tile: each loaded vector serves 2
  ;; or 4 pairs, so Krum's all-pairs pass does about 1 instruction per pair and float instead of 2.
  (func (export "sqdist_2x4")
    (param $a0 i32) (param $a1 i32) (param $b0 i32) (param $b1 i32) (param $b2 i32) (param $b3 i32)
    (param $n i32) (param $out i32)
    (local $end i32) (local $x0 v128) (local $x1 v128) (local $y v128) (local $d v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local.set $end (i32.add (local.get $a0) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a0) (local.get $end)))
      (loop $next
        (local.set $x0 (v128.load (local.get $a0)))
        (local.set $x1 (v128.load (local.get $a1)))
        (local.set $y (v128.load (local.get $b0)))
        (local.set $d (f32x4.sub (local.get $x0) (local.get $y)))
        (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $x1) (local.get $y)))
        (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $y (v128.load (local.get $b1)))
        (local.set $d (f32x4.sub (local.get $x0) (local.get $y)))
        (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $x1) (local.get $y)))
        (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $y (v128.load (local.get $b2)))
        (local.set $d (f32x4.sub (local.get $x0) (local.get $y)))
        (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $x1) (local.get $y)))
        (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $y (v128.load (local.get $b3)))
        (local.set $d (f32x4.sub (local.get $x0) (local.get $y)))
        (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (local.get $x1) (local.get $y)))
        (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $a0 (i32.add (local.get $a0) (i32.const 16)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
        (local.set $b0 (i32.add (local.get $b0) (i32.const 16)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
        (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
        (local.set $b3 (i32.add (local.get $b3) (i32.const 16)))
        (br_if $next (i32.lt_u (local.get $a0) (local.get $end)))))
    (f64.store offset=0 (local.get $out) (call $hsum (local.get $s00)))
    (f64.store offset=8 (local.get $out) (call $hsum (local.get $s01)))
    (f64.store offset=16 (local.get $out) (call $hsum (local.get $s02)))
    (f64.store offset=24 (local.get $out) (call $hsum (local.get $s03)))
    (f64.store offset=32 (local.get $out) (call $hsum (local.get $s10)))
    (f64.store offset=40 (local.get $out) (call $hsum (local.get $s11)))
    (f64.store offset=48 (local.get $out) (call $hsum (local.get $s12)))
    (f64.store offset=56 (local.get $out) (call $hsum (local.get $s13))))

  ;; The four float32 lanes of s, summed in float64.
  (func $hsum (param $s v128) (result f64)
    (f64.add
      (f64.add
        (f64.promote_f32 (f32x4.extract_lane 0 (local.get $s)))
        (f64.promote_f32 (f32x4.extract_lane 1 (local.get $s))))
      (f64.add
        (f64.promote_f32 (f32x4.extract_lane 2 (local.get $s)))
        (f64.promote_f32 (f32x4.extract_lane 3 (local.get $s))))))
)
