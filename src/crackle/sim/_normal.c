/* Standard normal numbers for crackle's CPU simulators, about 5x faster than torch's
 * CPU generator (mt19937, one number at a time): 16 lanes of xoshiro128+ (Blackman and
 * Vigna), each step giving 16 pairs of 24-bit uniforms, turned into 32 normals by the
 * Box-Muller transform with float32 polynomial log, sin and cos (Cephes coefficients,
 * errors of a few ulp).
 *
 * Written with GCC vector extensions: one source, compiled for AVX-512, AVX2 and plain
 * x86-64 (target_clones, picked at load time; -DCRACKLE_NO_CLONES builds one, for tests), and only with operations that round
 * the same on all of them (-ffp-contract=off, IEEE sqrt), so that a seed gives the
 * same bits on every x86-64 machine. Called through ctypes, which releases the GIL, so
 * threads fill buffers in parallel.
 *
 * Stream layout: a call for n numbers takes ceil(n / 32) steps of the lanes; step j
 * writes numbers 32 j .. 32 j + 15 as r cos(theta) and 32 j + 16 .. 32 j + 31 as
 * r sin(theta), lane by lane; the numbers past n of the last step are dropped. So
 * filling n = 32 a + 32 b numbers in one call or in two gives the same numbers.
 */
#include <stdint.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
typedef uint32_t vu __attribute__((vector_size(64)));

#define STATE_WORDS 64 /* 4 words of xoshiro128+ state for each of 16 lanes */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CRACKLE_NO_CLONES)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline vf select_(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }

/* 32 normals from the lanes' next two outputs. */
static inline void step32(vu *p0, vu *p1, vu *p2, vu *p3, vf *o1, vf *o2) {
    vu a = *p0, b = *p1, c = *p2, d = *p3;
    vu r1 = a + d, t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = (d << 11) | (d >> 21);
    vu r2 = a + d;
    t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = (d << 11) | (d >> 21);
    *p0 = a; *p1 = b; *p2 = c; *p3 = d;

    /* ln x for x = (k + 1) 2^-24 in (0, 1], k the top 24 bits of r1: x = m 2^e with
     * m in [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, ln m a polynomial in m - 1. */
    vf x = (__builtin_convertvector((vi)(r1 >> 8), vf) + 1.0f) * 0x1p-24f;
    vi bits = (vi)x;
    vi e = ((bits >> 23) & 0xff) - 126;
    vf m = (vf)((bits & 0x007fffff) | 0x3f000000); /* [1/2, 1) */
    vi small = ((bits & 0x007fffff) - 0x3504f3) >> 31; /* -1 where m < sqrt(1/2) */
    e = e + small;
    m = select_(small, m + m, m) - 1.0f;
    vf z = m * m;
    vf y = (vf){} + 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    vf ef = __builtin_convertvector(e, vf);
    y += -2.12194440e-4f * ef;
    y += -0.5f * z;
    vf minus2ln = -2.0f * (m + y + 0.693359375f * ef);
    vf r;
    for (int l = 0; l < 16; l++) r[l] = __builtin_sqrtf(minus2ln[l]);

    /* sin and cos of theta = 2 pi u, u = k 2^-24 (k the top 24 bits of r2): nearest
     * quadrant q of 4u, then the Cephes polynomials on [-pi/4, pi/4]. */
    vi k = (vi)(r2 >> 8);
    vi quad = (k + (1 << 21)) >> 22; /* 0..4 */
    vf w = (__builtin_convertvector(k, vf) * 0x1p-22f - __builtin_convertvector(quad, vf)) *
           1.5707963267948966f;
    vi q = quad & 3;
    vf w2 = w * w;
    vf sn = ((-1.9515295891e-4f * w2 + 8.3321608736e-3f) * w2 - 1.6666654611e-1f) * w2 * w + w;
    vf cs = ((2.443315711809948e-5f * w2 - 1.388731625493765e-3f) * w2 + 4.166664568298827e-2f) *
                w2 * w2 -
            0.5f * w2 + 1.0f;
    vi odd = -(q & 1);
    vf cos0 = select_(odd, sn, cs), sin0 = select_(odd, cs, sn);
    vi sign = (vi){} + (int32_t)0x80000000;
    vf cos_t = (vf)((vi)cos0 ^ (-(((q + 1) >> 1) & 1) & sign));
    vf sin_t = (vf)((vi)sin0 ^ (-((q >> 1) & 1) & sign));
    *o1 = r * cos_t;
    *o2 = r * sin_t;
}

/* n standard normals into out (float32), advancing the state st (STATE_WORDS words). */
CLONES void crackle_fill_normal_f32(uint32_t *st, float *out, int64_t n) {
    vu s0, s1, s2, s3;
    vf o1, o2;
    memcpy(&s0, st, 64); memcpy(&s1, st + 16, 64); memcpy(&s2, st + 32, 64); memcpy(&s3, st + 48, 64);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        step32(&s0, &s1, &s2, &s3, &o1, &o2);
        memcpy(out + i, &o1, 64);
        memcpy(out + i + 16, &o2, 64);
    }
    if (i < n) {
        float tail[32];
        step32(&s0, &s1, &s2, &s3, &o1, &o2);
        memcpy(tail, &o1, 64);
        memcpy(tail + 16, &o2, 64);
        memcpy(out + i, tail, (size_t)(n - i) * sizeof(float));
    }
    memcpy(st, &s0, 64); memcpy(st + 16, &s1, 64); memcpy(st + 32, &s2, 64); memcpy(st + 48, &s3, 64);
}

/* The same numbers, widened to float64. */
CLONES void crackle_fill_normal_f64(uint32_t *st, double *out, int64_t n) {
    vu s0, s1, s2, s3;
    vf o1, o2;
    memcpy(&s0, st, 64); memcpy(&s1, st + 16, 64); memcpy(&s2, st + 32, 64); memcpy(&s3, st + 48, 64);
    for (int64_t i = 0; i < n; i += 32) {
        step32(&s0, &s1, &s2, &s3, &o1, &o2);
        int64_t left = n - i;
        for (int l = 0; l < 16 && l < left; l++) out[i + l] = (double)o1[l];
        for (int l = 0; l < 16 && l + 16 < left; l++) out[i + 16 + l] = (double)o2[l];
    }
    memcpy(st, &s0, 64); memcpy(st + 16, &s1, 64); memcpy(st + 32, &s2, 64); memcpy(st + 48, &s3, 64);
}

/* The raw lane outputs (for tests against an independent implementation): 32 words per
 * step, the first output of each of the 16 lanes, then the second. */
void crackle_xoshiro_raw(uint32_t *st, uint32_t *out, int64_t steps) {
    for (int64_t j = 0; j < steps; j++) {
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 16; l++) {
                uint32_t *a = st + l, *b = st + 16 + l, *c = st + 32 + l, *d = st + 48 + l;
                uint32_t res = *a + *d, t = *b << 9;
                *c ^= *a; *d ^= *b; *b ^= *c; *a ^= *d; *c ^= t; *d = (*d << 11) | (*d >> 21);
                out[32 * j + 16 * half + l] = res;
            }
        }
    }
}
