/* WebAssembly SIMD kernels that tfjs-backend-wasm 4.22 lacks or runs slowly (see wasm-kernels.ts).
 * Built by wasm-simd-build.sh into wasm-simd-binary.ts; instantiated on tfjs's own memory, so
 * every pointer is an offset into the tensors tfjs already holds (no copies).
 *
 * Rules that make sharing tfjs's memory safe, checked by the build script: no static data (the
 * module has no data section), no stack (no arrays or address-taken locals, so __stack_pointer
 * is never used), no libc. Scratch space comes from the caller.
 */
#include <wasm_simd128.h>

typedef unsigned int u32;
#define EXPORT __attribute__((visibility("default")))

/* ---- exp and erf, float32, vector and scalar (Cephes expf; Abramowitz & Stegun 7.1.26 erf,
 * the formula tfjs-core's CPU kernel uses, |error| < 1.5e-7) ---- */

#define EXP_HI 88.3762626647949f
#define EXP_LO -87.3365478515625f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

/* Rounding to an integer and 2^n without f32x4.nearest/trunc_sat or min/max (several x64
 * instructions each under V8): adding 1.5·2^23 rounds x·log2(e) to the nearest integer n in the
 * low mantissa bits, from which 2^n's exponent field follows by integer adds and a shift. The
 * clamps use pmin/pmax (one instruction each). */
#define ROUND_MAGIC 12582912.0f /* 1.5 * 2^23, bits 0x4B400000 */

static inline v128_t v_exp(v128_t x) {
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(EXP_LO)), wasm_f32x4_splat(EXP_HI));
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(LOG2E)), wasm_f32x4_splat(ROUND_MAGIC));
  v128_t n = wasm_f32x4_sub(t, wasm_f32x4_splat(ROUND_MAGIC));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_HI)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_LO)));
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t y = wasm_f32x4_splat(P0);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(P1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(P2));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(P3));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(P4));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(P5));
  y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(y, z), x), wasm_f32x4_splat(1.0f));
  /* bits of t = 0x4B400000 + n: 2^n = (n + 127) << 23 */
  v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - 0x4B400000)), 23);
  return wasm_f32x4_mul(y, pow2);
}

static inline float s_exp(float x) { return wasm_f32x4_extract_lane(v_exp(wasm_f32x4_splat(x)), 0); }

#define ERF_P 0.3275911f
#define ERF_A1 0.254829592f
#define ERF_A2 -0.284496736f
#define ERF_A3 1.421413741f
#define ERF_A4 -1.453152027f
#define ERF_A5 1.061405429f

static inline v128_t v_erf(v128_t x) {
  v128_t a = wasm_f32x4_abs(x);
  v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(a, wasm_f32x4_splat(ERF_P))));
  v128_t y = wasm_f32x4_splat(ERF_A5);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A4));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A3));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A2));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A1));
  y = wasm_f32x4_mul(y, t);
  v128_t r = wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(y, v_exp(wasm_f32x4_neg(wasm_f32x4_mul(a, a)))));
  /* the sign of x onto r */
  v128_t sign = wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000));
  return wasm_v128_or(r, sign);
}

/* Loads and stores of the n % 4 tail elements (lanes past n read as 0, never written). */
static inline v128_t load_tail(const float* p, u32 n) {
  v128_t v = wasm_f32x4_splat(0.0f);
  if (n > 0) v = wasm_f32x4_replace_lane(v, 0, p[0]);
  if (n > 1) v = wasm_f32x4_replace_lane(v, 1, p[1]);
  if (n > 2) v = wasm_f32x4_replace_lane(v, 2, p[2]);
  return v;
}

static inline void store_tail(float* p, v128_t v, u32 n) {
  if (n > 0) p[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* ---- layout ---- */

/* y[b][c][r] = x[b][r][c]: swaps the last two axes of [B, R, C], in 4x4 tiles. */
EXPORT void tl_transpose(const float* x, float* y, u32 B, u32 R, u32 C) {
  for (u32 b = 0; b < B; b++) {
    const float* xb = x + b * R * C;
    float* yb = y + b * R * C;
    u32 r = 0;
    for (; r + 4 <= R; r += 4) {
      u32 c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t r0 = wasm_v128_load(xb + (r + 0) * C + c);
        v128_t r1 = wasm_v128_load(xb + (r + 1) * C + c);
        v128_t r2 = wasm_v128_load(xb + (r + 2) * C + c);
        v128_t r3 = wasm_v128_load(xb + (r + 3) * C + c);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
        v128_t t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(yb + (c + 0) * R + r, wasm_i64x2_shuffle(t0, t2, 0, 2));
        wasm_v128_store(yb + (c + 1) * R + r, wasm_i64x2_shuffle(t0, t2, 1, 3));
        wasm_v128_store(yb + (c + 2) * R + r, wasm_i64x2_shuffle(t1, t3, 0, 2));
        wasm_v128_store(yb + (c + 3) * R + r, wasm_i64x2_shuffle(t1, t3, 1, 3));
      }
      for (; c < C; c++) {
        for (u32 i = 0; i < 4; i++) yb[c * R + r + i] = xb[(r + i) * C + c];
      }
    }
    for (; r < R; r++) {
      for (u32 c = 0; c < C; c++) yb[c * R + r] = xb[r * C + c];
    }
  }
}

/* y[c] = sum over r of x[r][c]: a reduction over the leading axes of [R, C]. */
EXPORT void tl_colsum(const float* x, float* y, u32 R, u32 C) {
  u32 c = 0;
  for (; c + 16 <= C; c += 16) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (u32 r = 0; r < R; r++) {
      const float* p = x + r * C + c;
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    wasm_v128_store(y + c, a0);
    wasm_v128_store(y + c + 4, a1);
    wasm_v128_store(y + c + 8, a2);
    wasm_v128_store(y + c + 12, a3);
  }
  for (; c + 4 <= C; c += 4) {
    v128_t a = wasm_f32x4_splat(0.0f);
    for (u32 r = 0; r < R; r++) a = wasm_f32x4_add(a, wasm_v128_load(x + r * C + c));
    wasm_v128_store(y + c, a);
  }
  for (; c < C; c++) {
    float s = 0.0f;
    for (u32 r = 0; r < R; r++) s += x[r * C + c];
    y[c] = s;
  }
}

/* ---- elementwise: y = a op b (op 0 add, 1 sub, 2 mul) over rows × cols, where (mode) 0: a and b
 * have that shape; 1: b is one row of cols repeated down the rows (a bias); 2: b is one value;
 * 3: a is one value (and b has the shape) ---- */

static inline v128_t vop(v128_t a, v128_t b, u32 op) {
  return op == 0 ? wasm_f32x4_add(a, b) : op == 1 ? wasm_f32x4_sub(a, b) : wasm_f32x4_mul(a, b);
}

static inline float sop(float a, float b, u32 op) { return op == 0 ? a + b : op == 1 ? a - b : a * b; }

EXPORT void tl_binary(const float* a, const float* b, float* y, u32 rows, u32 cols, u32 mode, u32 op) {
  const u32 n = rows * cols;
  u32 i = 0;
  if (mode == 0) {
    if (op == 0) {
      for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    } else if (op == 1) {
      for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    } else {
      for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    }
    for (; i < n; i++) y[i] = sop(a[i], b[i], op);
  } else if (mode == 1) {
    for (u32 r = 0; r < rows; r++) {
      const float* ar = a + r * cols;
      float* yr = y + r * cols;
      u32 c = 0;
      for (; c + 4 <= cols; c += 4) wasm_v128_store(yr + c, vop(wasm_v128_load(ar + c), wasm_v128_load(b + c), op));
      for (; c < cols; c++) yr[c] = sop(ar[c], b[c], op);
    }
  } else if (mode == 2) {
    const v128_t s = wasm_f32x4_splat(b[0]);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, vop(wasm_v128_load(a + i), s, op));
    for (; i < n; i++) y[i] = sop(a[i], b[0], op);
  } else {
    const v128_t s = wasm_f32x4_splat(a[0]);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, vop(s, wasm_v128_load(b + i), op));
    for (; i < n; i++) y[i] = sop(a[0], b[i], op);
  }
}

/* ---- Adam, one pass per variable, in tfjs AdamOptimizer's float32 operation order (so the
 * results are bit for bit those of its separate kernels):
 *   m' = m b1 + g (1-b1);  v' = v b2 + g² (1-b2);
 *   x' = (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps) · (-lr) + x ---- */

EXPORT void tl_adam(const float* x, const float* m, const float* v, const float* g, float* xo, float* mo, float* vo,
                    u32 n, float b1, float omb1, float b2, float omb2, const float* omab1, const float* omab2,
                    float neg_lr, float eps) {
  const v128_t vb1 = wasm_f32x4_splat(b1), vomb1 = wasm_f32x4_splat(omb1);
  const v128_t vb2 = wasm_f32x4_splat(b2), vomb2 = wasm_f32x4_splat(omb2);
  const v128_t c1 = wasm_f32x4_splat(*omab1), c2 = wasm_f32x4_splat(*omab2);
  const v128_t vlr = wasm_f32x4_splat(neg_lr), veps = wasm_f32x4_splat(eps);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t nm = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), vb1), wasm_f32x4_mul(gi, vomb1));
    v128_t nv = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vomb2));
    v128_t mh = wasm_f32x4_div(nm, c1);
    v128_t vh = wasm_f32x4_div(nv, c2);
    v128_t step = wasm_f32x4_mul(wasm_f32x4_div(mh, wasm_f32x4_add(wasm_f32x4_sqrt(vh), veps)), vlr);
    wasm_v128_store(xo + i, wasm_f32x4_add(step, wasm_v128_load(x + i)));
    wasm_v128_store(mo + i, nm);
    wasm_v128_store(vo + i, nv);
  }
  for (; i < n; i++) {
    const float gi = g[i];
    const float nm = m[i] * b1 + gi * omb1;
    const float nv = v[i] * b2 + (gi * gi) * omb2;
    const float mh = nm / *omab1, vh = nv / *omab2;
    const float sq = wasm_f32x4_extract_lane(wasm_f32x4_sqrt(wasm_f32x4_splat(vh)), 0);
    xo[i] = (mh / (sq + eps)) * neg_lr + x[i];
    mo[i] = nm;
    vo[i] = nv;
  }
}

/* ---- matrix product with the first operand transposed ---- */

/* c[M][N] = sum over k of a[k][m] b[k][n]: aᵀ·b for a [K, M] and b [K, N], both row-major, as in
 * a Dense layer's weight gradient xᵀ·dy. Register tiles of 4 rows × 8 columns stream down K in
 * chunks of KC rows (so the chunk of both operands stays in cache while every tile passes over
 * it); neither operand is transposed or packed first. */
#define KC 256u

static inline void tn_tile(const float* a, const float* b, float* c, u32 k0, u32 k1, u32 M, u32 N, u32 m, u32 n) {
  float* pc = c + m * N + n;
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (k0 == 0) {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = wasm_f32x4_splat(0.0f);
  } else {
    c00 = wasm_v128_load(pc), c01 = wasm_v128_load(pc + 4);
    c10 = wasm_v128_load(pc + N), c11 = wasm_v128_load(pc + N + 4);
    c20 = wasm_v128_load(pc + 2 * N), c21 = wasm_v128_load(pc + 2 * N + 4);
    c30 = wasm_v128_load(pc + 3 * N), c31 = wasm_v128_load(pc + 3 * N + 4);
  }
  const float* pa = a + k0 * M + m;
  const float* pb = b + k0 * N + n;
  for (u32 k = k0; k < k1; k++, pa += M, pb += N) {
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
    v128_t a0 = wasm_v128_load32_splat(pa), a1 = wasm_v128_load32_splat(pa + 1);
    v128_t a2 = wasm_v128_load32_splat(pa + 2), a3 = wasm_v128_load32_splat(pa + 3);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  wasm_v128_store(pc, c00);
  wasm_v128_store(pc + 4, c01);
  wasm_v128_store(pc + N, c10);
  wasm_v128_store(pc + N + 4, c11);
  wasm_v128_store(pc + 2 * N, c20);
  wasm_v128_store(pc + 2 * N + 4, c21);
  wasm_v128_store(pc + 3 * N, c30);
  wasm_v128_store(pc + 3 * N + 4, c31);
}

EXPORT void tl_matmul_tn(const float* a, const float* b, float* c, u32 K, u32 M, u32 N) {
  const u32 M4 = M & ~3u, N8 = N & ~7u;
  for (u32 k0 = 0; k0 < K; k0 += KC) {
    const u32 k1 = k0 + KC < K ? k0 + KC : K;
    for (u32 m = 0; m < M4; m += 4) {
      for (u32 n = 0; n < N8; n += 8) tn_tile(a, b, c, k0, k1, M, N, m, n);
    }
  }
  /* the edges: columns past N8 of the first M4 rows, then the rows past M4 */
  for (u32 m = 0; m < M; m++) {
    for (u32 n = m < M4 ? N8 : 0; n < N; n++) {
      float acc = 0.0f;
      for (u32 k = 0; k < K; k++) acc += a[k * M + m] * b[k * N + n];
      c[m * N + n] = acc;
    }
  }
}

/* c[M][N] = a·b (+ bias[n]) (then max(0, ·) when relu) for a [M, K], b [K, N], row-major: the same
 * register tiles as tl_matmul_tn, the rows of a read one scalar at a time. */
static inline void nn_tile(const float* a, const float* b, float* c, const float* bias, u32 k0, u32 k1, u32 K, u32 N,
                           u32 m, u32 n) {
  float* pc = c + m * N + n;
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (k0 == 0) {
    v128_t z0 = wasm_f32x4_splat(0.0f), z1 = z0;
    if (bias) z0 = wasm_v128_load(bias + n), z1 = wasm_v128_load(bias + n + 4);
    c00 = c10 = c20 = c30 = z0;
    c01 = c11 = c21 = c31 = z1;
  } else {
    c00 = wasm_v128_load(pc), c01 = wasm_v128_load(pc + 4);
    c10 = wasm_v128_load(pc + N), c11 = wasm_v128_load(pc + N + 4);
    c20 = wasm_v128_load(pc + 2 * N), c21 = wasm_v128_load(pc + 2 * N + 4);
    c30 = wasm_v128_load(pc + 3 * N), c31 = wasm_v128_load(pc + 3 * N + 4);
  }
  const float* pa = a + m * K;
  const float* pb = b + k0 * N + n;
  for (u32 k = k0; k < k1; k++, pb += N) {
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
    v128_t a0 = wasm_v128_load32_splat(pa + k), a1 = wasm_v128_load32_splat(pa + K + k);
    v128_t a2 = wasm_v128_load32_splat(pa + 2 * K + k), a3 = wasm_v128_load32_splat(pa + 3 * K + k);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  wasm_v128_store(pc, c00);
  wasm_v128_store(pc + 4, c01);
  wasm_v128_store(pc + N, c10);
  wasm_v128_store(pc + N + 4, c11);
  wasm_v128_store(pc + 2 * N, c20);
  wasm_v128_store(pc + 2 * N + 4, c21);
  wasm_v128_store(pc + 3 * N, c30);
  wasm_v128_store(pc + 3 * N + 4, c31);
}

EXPORT void tl_matmul_nn(const float* a, const float* b, float* c, const float* bias, u32 M, u32 K, u32 N, u32 relu) {
  const u32 M4 = M & ~3u, N8 = N & ~7u;
  for (u32 k0 = 0; k0 < K || k0 == 0; k0 += KC) {
    const u32 k1 = k0 + KC < K ? k0 + KC : K;
    for (u32 m = 0; m < M4; m += 4) {
      for (u32 n = 0; n < N8; n += 8) nn_tile(a, b, c, bias, k0, k1, K, N, m, n);
    }
    if (k1 == K) break;
  }
  for (u32 m = 0; m < M; m++) {
    for (u32 n = m < M4 ? N8 : 0; n < N; n++) {
      float acc = bias ? bias[n] : 0.0f;
      for (u32 k = 0; k < K; k++) acc += a[m * K + k] * b[k * N + n];
      c[m * N + n] = acc;
    }
  }
  if (relu) {
    const v128_t z = wasm_f32x4_splat(0.0f);
    u32 i = 0;
    for (; i + 4 <= M * N; i += 4) wasm_v128_store(c + i, wasm_f32x4_max(wasm_v128_load(c + i), z));
    for (; i < M * N; i++) c[i] = c[i] > 0.0f ? c[i] : 0.0f;
  }
}

/* c[M][N] = a·bᵀ (+ bias[n]) (then max(0, ·) when relu) for a [M, K] and b [N, K], row-major:
 * rows of both run along K, so tiles of 4 × 2 dot products accumulate in 4-lane partial sums
 * summed at the end. Beats transposing b first when K is long (a Dense layer's input gradient
 * dy·Wᵀ with a wide W). */
EXPORT void tl_matmul_nt(const float* a, const float* b, float* c, const float* bias, u32 M, u32 K, u32 N, u32 relu) {
  const u32 M4 = M & ~3u, N2 = N & ~1u, K4 = K & ~3u;
  for (u32 m = 0; m < M4; m += 4) {
    const float *a0 = a + m * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
    for (u32 n = 0; n < N2; n += 2) {
      const float *b0 = b + n * K, *b1 = b0 + K;
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (u32 k = 0; k < K4; k += 4) {
        v128_t x0 = wasm_v128_load(a0 + k), x1 = wasm_v128_load(a1 + k);
        v128_t x2 = wasm_v128_load(a2 + k), x3 = wasm_v128_load(a3 + k);
        v128_t y0 = wasm_v128_load(b0 + k), y1 = wasm_v128_load(b1 + k);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, y0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, y1));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, y0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, y1));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, y0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, y1));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, y0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, y1));
      }
      float s00 = hsum(c00), s01 = hsum(c01), s10 = hsum(c10), s11 = hsum(c11);
      float s20 = hsum(c20), s21 = hsum(c21), s30 = hsum(c30), s31 = hsum(c31);
      for (u32 k = K4; k < K; k++) {
        s00 += a0[k] * b0[k], s01 += a0[k] * b1[k], s10 += a1[k] * b0[k], s11 += a1[k] * b1[k];
        s20 += a2[k] * b0[k], s21 += a2[k] * b1[k], s30 += a3[k] * b0[k], s31 += a3[k] * b1[k];
      }
      float* pc = c + m * N + n;
      pc[0] = s00, pc[1] = s01, pc[N] = s10, pc[N + 1] = s11;
      pc[2 * N] = s20, pc[2 * N + 1] = s21, pc[3 * N] = s30, pc[3 * N + 1] = s31;
    }
  }
  /* the edges: the last column of the first M4 rows when N is odd, then the rows past M4 */
  for (u32 m = 0; m < M; m++) {
    for (u32 n = m < M4 ? N2 : 0; n < N; n++) {
      float acc = 0.0f;
      for (u32 k = 0; k < K; k++) acc += a[m * K + k] * b[n * K + k];
      c[m * N + n] = acc;
    }
  }
  if (bias || relu) {
    for (u32 m = 0; m < M; m++) {
      float* pc = c + m * N;
      for (u32 n = 0; n < N; n++) {
        float v = pc[n] + (bias ? bias[n] : 0.0f);
        pc[n] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

/* ---- multi-head attention: q, k, v, out [B, T, H*D] (head h = columns h*D..h*D+D-1) ---- */

/* o[i][c] = alpha * sum over j < J of a(i, j) b[j][c] for i < I, c < C, where a(i, j) =
 * a[i*sai + j*saj] (any strides: a row-major matrix or its transpose) and the rows of b and o
 * are contiguous in c. Register tiles of 4 rows × 8 columns (then 4, then scalars). */
static void small_gemm(const float* a, u32 sai, u32 saj, const float* b, u32 ldb, float* o, u32 ldo, u32 I, u32 J,
                       u32 C, float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  u32 i = 0;
  for (; i + 4 <= I; i += 4) {
    const float* a0 = a + i * sai;
    u32 c = 0;
    for (; c + 8 <= C; c += 8) {
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (u32 j = 0; j < J; j++) {
        const float* pb = b + j * ldb + c;
        const float* pa = a0 + j * saj;
        v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
        v128_t x0 = wasm_v128_load32_splat(pa), x1 = wasm_v128_load32_splat(pa + sai);
        v128_t x2 = wasm_v128_load32_splat(pa + 2 * sai), x3 = wasm_v128_load32_splat(pa + 3 * sai);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, b1));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, b1));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, b1));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, b1));
      }
      float* po = o + i * ldo + c;
      wasm_v128_store(po, wasm_f32x4_mul(c00, va));
      wasm_v128_store(po + 4, wasm_f32x4_mul(c01, va));
      wasm_v128_store(po + ldo, wasm_f32x4_mul(c10, va));
      wasm_v128_store(po + ldo + 4, wasm_f32x4_mul(c11, va));
      wasm_v128_store(po + 2 * ldo, wasm_f32x4_mul(c20, va));
      wasm_v128_store(po + 2 * ldo + 4, wasm_f32x4_mul(c21, va));
      wasm_v128_store(po + 3 * ldo, wasm_f32x4_mul(c30, va));
      wasm_v128_store(po + 3 * ldo + 4, wasm_f32x4_mul(c31, va));
    }
    for (; c + 4 <= C; c += 4) {
      v128_t c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
      for (u32 j = 0; j < J; j++) {
        const float* pa = a0 + j * saj;
        v128_t b0 = wasm_v128_load(b + j * ldb + c);
        c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(wasm_v128_load32_splat(pa), b0));
        c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(wasm_v128_load32_splat(pa + sai), b0));
        c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(wasm_v128_load32_splat(pa + 2 * sai), b0));
        c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(wasm_v128_load32_splat(pa + 3 * sai), b0));
      }
      float* po = o + i * ldo + c;
      wasm_v128_store(po, wasm_f32x4_mul(c0, va));
      wasm_v128_store(po + ldo, wasm_f32x4_mul(c1, va));
      wasm_v128_store(po + 2 * ldo, wasm_f32x4_mul(c2, va));
      wasm_v128_store(po + 3 * ldo, wasm_f32x4_mul(c3, va));
    }
    for (; c < C; c++) {
      for (u32 r = 0; r < 4; r++) {
        float acc = 0.0f;
        for (u32 j = 0; j < J; j++) acc += a0[r * sai + j * saj] * b[j * ldb + c];
        o[(i + r) * ldo + c] = acc * alpha;
      }
    }
  }
  for (; i < I; i++) {
    for (u32 c = 0; c < C; c++) {
      float acc = 0.0f;
      for (u32 j = 0; j < J; j++) acc += a[i * sai + j * saj] * b[j * ldb + c];
      o[i * ldo + c] = acc * alpha;
    }
  }
}

/* t[c][j] = x[j][c] for j < T, c < D (x rows W apart): one head's slice, transposed. */
static void head_transpose(const float* x, u32 W, float* t, u32 T, u32 D) {
  for (u32 j = 0; j < T; j++) {
    for (u32 c = 0; c < D; c++) t[c * T + j] = x[j * W + c];
  }
}

/* Softmax of each of the T rows of p (T wide), in place. */
static void softmax_rows(float* p, u32 T) {
  for (u32 i = 0; i < T; i++) {
    float* row = p + i * T;
    float mx = row[0];
    for (u32 j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
    v128_t vmx = wasm_f32x4_splat(mx), vsum = wasm_f32x4_splat(0.0f);
    u32 j = 0;
    for (; j + 4 <= T; j += 4) {
      v128_t e = v_exp(wasm_f32x4_sub(wasm_v128_load(row + j), vmx));
      wasm_v128_store(row + j, e);
      vsum = wasm_f32x4_add(vsum, e);
    }
    float sum = hsum(vsum);
    for (; j < T; j++) {
      float e = s_exp(row[j] - mx);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    v128_t vinv = wasm_f32x4_splat(inv);
    for (j = 0; j + 4 <= T; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(row + j), vinv));
    for (; j < T; j++) row[j] *= inv;
  }
}

/* out = softmax(q_h k_hᵀ · scale + kbias_b) v_h per batch item and head; p [B, H, T, T] keeps the
 * probabilities for the backward pass; scratch holds T*D floats. With has_bias, kbias [B, T] is
 * added to every query's score of key j of item b (a padding mask: -1e9 on padded keys). */
EXPORT void tl_attention(const float* q, const float* k, const float* v, float* out, float* p, float* scratch, u32 B,
                         u32 T, u32 H, u32 D, float scale, const float* kbias, u32 has_bias) {
  const u32 W = H * D;
  for (u32 b = 0; b < B; b++) {
    for (u32 h = 0; h < H; h++) {
      const u32 base = b * T * W + h * D;
      float* ph = p + (b * H + h) * T * T;
      head_transpose(k + base, W, scratch, T, D);              /* kᵀ [D, T] */
      small_gemm(q + base, W, 1, scratch, T, ph, T, T, D, T, scale); /* scores [T, T] */
      if (has_bias) {
        const float* kb = kbias + b * T;
        for (u32 i = 0; i < T; i++) {
          float* row = ph + i * T;
          u32 j = 0;
          for (; j + 4 <= T; j += 4) wasm_v128_store(row + j, wasm_f32x4_add(wasm_v128_load(row + j), wasm_v128_load(kb + j)));
          for (; j < T; j++) row[j] += kb[j];
        }
      }
      softmax_rows(ph, T);
      small_gemm(ph, T, 1, v + base, W, out + base, W, T, T, D, 1.0f); /* p v [T, D] */
    }
  }
}

/* Gradients of tl_attention's out: dq, dk, dv [B, T, H*D] from dout and the saved p; scratch
 * holds T*T + T*D floats. */
EXPORT void tl_attention_grad(const float* q, const float* k, const float* v, const float* p, const float* dout,
                              float* dq, float* dk, float* dv, float* scratch, u32 B, u32 T, u32 H, u32 D, float scale) {
  const u32 W = H * D;
  float* ds = scratch;
  float* vt = scratch + T * T;
  for (u32 b = 0; b < B; b++) {
    for (u32 h = 0; h < H; h++) {
      const u32 base = b * T * W + h * D;
      const float* ph = p + (b * H + h) * T * T;
      head_transpose(v + base, W, vt, T, D);
      small_gemm(dout + base, W, 1, vt, T, ds, T, T, D, T, 1.0f); /* dp = dout vᵀ [T, T] */
      /* ds = p (dp - rowsum(p dp)) scale */
      for (u32 i = 0; i < T; i++) {
        const float* pr = ph + i * T;
        float* dr = ds + i * T;
        float dot = 0.0f;
        for (u32 j = 0; j < T; j++) dot += pr[j] * dr[j];
        for (u32 j = 0; j < T; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
      }
      small_gemm(ph, 1, T, dout + base, W, dv + base, W, T, T, D, 1.0f); /* dv = pᵀ dout */
      small_gemm(ds, 1, T, q + base, W, dk + base, W, T, T, D, 1.0f);    /* dk = dsᵀ q */
      small_gemm(ds, T, 1, k + base, W, dq + base, W, T, T, D, 1.0f);    /* dq = ds k */
    }
  }
}

/* ---- softmax cross-entropy with integer labels, over rows of V logits ---- */

/* ln x for x >= 1 (a sum of exponentials whose largest term is exp(0) = 1): x = m·2^e with m in
 * [√½, √2), ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172, series to s^9 (relative error < 1e-8
 * before float32 rounding). NaN and +inf come back unchanged, so a NaN logit gives a NaN loss. */
static inline float s_log(float x) {
  if (!(x <= 3.40282347e38f)) return x; /* NaN or +inf */
  union {
    float f;
    u32 i;
  } u = {x};
  int e = (int)((u.i >> 23) & 0xff) - 127;
  u.i = (u.i & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
  float m = u.f;
  if (m > 1.41421356f) {
    m *= 0.5f;
    e += 1;
  }
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  const float series = s * (2.0f + s2 * (2.0f / 3.0f + s2 * (2.0f / 5.0f + s2 * (2.0f / 7.0f + s2 * (2.0f / 9.0f)))));
  return series + (float)e * 0.693147180559945f;
}

static inline float fmax2(float a, float b) { return a > b ? a : b; }

/* Per row i of logits [M, V] (V >= 1): mx[i] = max_j logits[i][j], logsum[i] = log Σ_j exp(logits[i][j] - mx[i])
 * and loss[i] = logsum[i] + (mx[i] - logits[i][labels[i]]): the max is kept apart from the log-sum so that
 * rows of huge logits (a row of -1e9) lose no precision. Labels must lie in [0, V) (the caller checks). */
EXPORT void tl_xent(const float* logits, const int* labels, float* loss, float* mx_out, float* logsum_out, u32 M,
                    u32 V) {
  for (u32 i = 0; i < M; i++) {
    const float* row = logits + i * V;
    v128_t vmx = wasm_f32x4_splat(row[0]);
    u32 j = 0;
    for (; j + 4 <= V; j += 4) vmx = wasm_f32x4_pmax(vmx, wasm_v128_load(row + j));
    const float m01 = fmax2(wasm_f32x4_extract_lane(vmx, 0), wasm_f32x4_extract_lane(vmx, 1));
    float mx = fmax2(m01, fmax2(wasm_f32x4_extract_lane(vmx, 2), wasm_f32x4_extract_lane(vmx, 3)));
    for (; j < V; j++) mx = row[j] > mx ? row[j] : mx;
    v128_t vm = wasm_f32x4_splat(mx), vsum = wasm_f32x4_splat(0.0f);
    for (j = 0; j + 4 <= V; j += 4) vsum = wasm_f32x4_add(vsum, v_exp(wasm_f32x4_sub(wasm_v128_load(row + j), vm)));
    float sum = hsum(vsum);
    for (; j < V; j++) sum += s_exp(row[j] - mx);
    const float ls = s_log(sum);
    mx_out[i] = mx;
    logsum_out[i] = ls;
    loss[i] = ls + (mx - row[labels[i]]);
  }
}

/* dlogits[i][j] = (exp((logits[i][j] - mx[i]) - logsum[i]) - [j = labels[i]]) · dy[i]. */
EXPORT void tl_xent_grad(const float* logits, const int* labels, const float* mx, const float* logsum, const float* dy,
                         float* dx, u32 M, u32 V) {
  for (u32 i = 0; i < M; i++) {
    const float* row = logits + i * V;
    float* out = dx + i * V;
    const v128_t vm = wasm_f32x4_splat(mx[i]), vl = wasm_f32x4_splat(logsum[i]), vd = wasm_f32x4_splat(dy[i]);
    u32 j = 0;
    for (; j + 4 <= V; j += 4) {
      const v128_t z = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(row + j), vm), vl);
      wasm_v128_store(out + j, wasm_f32x4_mul(v_exp(z), vd));
    }
    for (; j < V; j++) out[j] = s_exp((row[j] - mx[i]) - logsum[i]) * dy[i];
    out[labels[i]] -= dy[i];
  }
}

/* ---- LayerNorm over rows of C: y = (x - mean) rstd gamma + beta, rstd = 1/sqrt(var + eps) ---- */

EXPORT void tl_layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                          u32 R, u32 C, float eps) {
  const float invC = 1.0f / (float)C;
  for (u32 r = 0; r < R; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    v128_t acc = wasm_f32x4_splat(0.0f);
    u32 c = 0;
    for (; c + 4 <= C; c += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(xr + c));
    float s = hsum(acc);
    for (; c < C; c++) s += xr[c];
    const float m = s * invC;
    v128_t vm = wasm_f32x4_splat(m);
    acc = wasm_f32x4_splat(0.0f);
    for (c = 0; c + 4 <= C; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), vm);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
    }
    float ss = hsum(acc);
    for (; c < C; c++) ss += (xr[c] - m) * (xr[c] - m);
    const float rs = 1.0f / wasm_f32x4_extract_lane(wasm_f32x4_sqrt(wasm_f32x4_splat(ss * invC + eps)), 0);
    mean[r] = m;
    rstd[r] = rs;
    v128_t vr = wasm_f32x4_splat(rs);
    for (c = 0; c + 4 <= C; c += 4) {
      v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr);
      wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(gamma + c)), wasm_v128_load(beta + c)));
    }
    for (; c < C; c++) yr[c] = (xr[c] - m) * rs * gamma[c] + beta[c];
  }
}

/* dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy gamma, xhat = (x - mean) rstd;
 * dgamma = sum over rows of dy xhat, dbeta = sum of dy. */
EXPORT void tl_layer_norm_grad(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                               float* dx, float* dgamma, float* dbeta, u32 R, u32 C) {
  const float invC = 1.0f / (float)C;
  u32 c;
  for (c = 0; c < C; c++) {
    dgamma[c] = 0.0f;
    dbeta[c] = 0.0f;
  }
  for (u32 r = 0; r < R; r++) {
    const float* xr = x + r * C;
    const float* dyr = dy + r * C;
    float* dxr = dx + r * C;
    v128_t vm = wasm_f32x4_splat(mean[r]);
    v128_t vr = wasm_f32x4_splat(rstd[r]);
    v128_t sg = wasm_f32x4_splat(0.0f), sgx = sg;
    for (c = 0; c + 4 <= C; c += 4) {
      v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr);
      v128_t d = wasm_v128_load(dyr + c);
      v128_t g = wasm_f32x4_mul(d, wasm_v128_load(gamma + c));
      sg = wasm_f32x4_add(sg, g);
      sgx = wasm_f32x4_add(sgx, wasm_f32x4_mul(g, xh));
      wasm_v128_store(dgamma + c, wasm_f32x4_add(wasm_v128_load(dgamma + c), wasm_f32x4_mul(d, xh)));
      wasm_v128_store(dbeta + c, wasm_f32x4_add(wasm_v128_load(dbeta + c), d));
    }
    float s1 = hsum(sg), s2 = hsum(sgx);
    for (u32 t = c; t < C; t++) {
      float xh = (xr[t] - mean[r]) * rstd[r];
      float g = dyr[t] * gamma[t];
      s1 += g;
      s2 += g * xh;
      dgamma[t] += dyr[t] * xh;
      dbeta[t] += dyr[t];
    }
    v128_t m1 = wasm_f32x4_splat(s1 * invC), m2 = wasm_f32x4_splat(s2 * invC);
    for (c = 0; c + 4 <= C; c += 4) {
      v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr);
      v128_t g = wasm_f32x4_mul(wasm_v128_load(dyr + c), wasm_v128_load(gamma + c));
      v128_t t = wasm_f32x4_sub(wasm_f32x4_sub(g, m1), wasm_f32x4_mul(xh, m2));
      wasm_v128_store(dxr + c, wasm_f32x4_mul(t, vr));
    }
    for (; c < C; c++) {
      float xh = (xr[c] - mean[r]) * rstd[r];
      float g = dyr[c] * gamma[c];
      dxr[c] = (g - s1 * invC - xh * s2 * invC) * rstd[r];
    }
  }
}

/* ---- GELU, exact form: y = x Φ(x) = 0.5 x (1 + erf(x / sqrt 2)); dy/dx = Φ(x) + x φ(x) ---- */

#define SQRT1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

static inline v128_t v_gelu(v128_t x) {
  v128_t cdf = wasm_f32x4_mul(wasm_f32x4_splat(0.5f),
                              wasm_f32x4_add(wasm_f32x4_splat(1.0f), v_erf(wasm_f32x4_mul(x, wasm_f32x4_splat(SQRT1_2)))));
  return wasm_f32x4_mul(x, cdf);
}

/* erf's exp(-a²) with a = x/sqrt 2 is exp(-x²/2), the normal density's exponential: one exp serves
 * both terms. */
static inline v128_t v_gelu_grad(v128_t x, v128_t dy) {
  v128_t e = v_exp(wasm_f32x4_mul(wasm_f32x4_splat(-0.5f), wasm_f32x4_mul(x, x)));
  v128_t a = wasm_f32x4_abs(wasm_f32x4_mul(x, wasm_f32x4_splat(SQRT1_2)));
  v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(a, wasm_f32x4_splat(ERF_P))));
  v128_t y = wasm_f32x4_splat(ERF_A5);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A4));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A3));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A2));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, t), wasm_f32x4_splat(ERF_A1));
  v128_t erf_abs = wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(wasm_f32x4_mul(y, t), e));
  v128_t erf = wasm_v128_or(erf_abs, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000)));
  v128_t cdf = wasm_f32x4_mul(wasm_f32x4_splat(0.5f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), erf));
  v128_t pdf = wasm_f32x4_mul(wasm_f32x4_splat(INV_SQRT_2PI), e);
  return wasm_f32x4_mul(dy, wasm_f32x4_add(cdf, wasm_f32x4_mul(x, pdf)));
}

EXPORT void tl_gelu(const float* x, float* y, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, v_gelu(wasm_v128_load(x + i)));
  if (i < n) store_tail(y + i, v_gelu(load_tail(x + i, n - i)), n - i);
}

EXPORT void tl_gelu_grad(const float* x, const float* dy, float* dx, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dx + i, v_gelu_grad(wasm_v128_load(x + i), wasm_v128_load(dy + i)));
  if (i < n) store_tail(dx + i, v_gelu_grad(load_tail(x + i, n - i), load_tail(dy + i, n - i)), n - i);
}
