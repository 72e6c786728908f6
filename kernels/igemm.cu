// Convolution and fully connected layers as one implicit GEMM. Rows are output positions ordered
// (item, pooled position, position inside the pooling window), so that a fused max pooling is a
// maximum over consecutive rows of a tile; columns are output channels; the reduction runs over
// (input channel, kernel row, kernel column) through a host-made table of input offsets, so any
// stride, padding and dilation costs nothing inside the loop. An FC layer is the 1x1 case.
//
// A block of 256 threads computes a 64x64 tile in 32-deep steps staged in shared memory. The
// reduction is split three ways:
// - FP32 layers: FP32 FMA (no TF32), 4x4 outputs per thread (4 consecutive rows and columns, so
//   each step is two float4 reads of shared memory for 16 FMAs), results match the CPU to rounding;
// - FP16 layers: tensor cores, mma m16n8k16 with FP32 accumulation (half products are exact in
//   FP32, so only the summation order differs from the CPU);
// - INT8 layers: tensor cores, mma m16n8k32 with INT32 accumulation: the CPU's integer sums
//   exactly, rescaled once by input scale x channel scale.
// The epilogue (scale, bias, activation, pooling over window rows, softmax over a row, storage
// conversion) reads a shared-memory copy of the tile, so stores are coalesced along the output
// plane whatever the layout of the accumulators.

#define GM 64
#define GN 64
#define GK 32

struct GemmArgs {
    const void* x;
    void* y;
    const void* w;        // packed: FP32 [kpad][npad]; FP16 and INT8 [npad][kpad]; zero padded
    const int2* ktab;     // per reduction index (kpad): {input offset, dy << 16 | dx}
    const float* bias;    // npad
    const float* wscale;  // npad (INT8)
    i64 items;            // batch items times the dimensions before C
    i64 x_wrap;
    int c, h, w_, n, kdim, kpad, npad;
    int sh, sw, ph, pw;
    int poh, pow_, pool_h, pool_w, pool_sh, pool_sw;  // 1x1 windows of stride 1: no pooling
    int act;
    float alpha, beta;
    float xs, ys, qs;
    int raw;
    int softmax;
    int dense;  // an FC layer: rows are whole items, the table is the identity
    // INT8 layers: per channel, accumulator x emul + eadd (the CPU's epilogue factors; an INT8
    // output they requantize is stored with ys = 1).
    const float* emul;
    const float* eadd;
    // Split reduction (few output tiles, long reductions): grid.z blocks share a tile, each
    // `kps` steps deep; the last to finish sums the partial tiles in split order (deterministic)
    // and runs the epilogue. `counters` are zero between launches: the last block resets its own.
    int splits, kps;
    float* part;  // splits x tiles x GM*GN accumulators (INT32 bits for INT8)
    int* counters;  // one per tile
};

#define MODE_F32 0
#define MODE_F16 1
#define MODE_I8 2

template <int MODE> struct GemmSmem;
// FP32 rows are padded to a multiple of 4 floats: each thread reads its 4 rows and 4 columns of a
// step as one float4 each.
template <> struct GemmSmem<MODE_F32> {
    float a[GK][GM + 4];
    float b[GK][GN + 4];
};
template <> struct GemmSmem<MODE_F16> {
    half_bits a[GM][GK + 8];
    half_bits b[GN][GK + 8];
};
template <> struct GemmSmem<MODE_I8> {
    signed char a[GM][GK + 16];
    signed char b[GN][GK + 16];
};

__device__ __forceinline__ unsigned word_at(const void* p) { return *(const unsigned*)p; }

__device__ __forceinline__ void mma_f16(float* d, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mma_i8(int* d, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Registers holding one step's B tile slice per thread.
struct F32x8 { float4 x, y; };
template <int MODE> struct BRegs { typedef uint4 T; };
template <> struct BRegs<MODE_F32> { typedef F32x8 T; };
template <> struct BRegs<MODE_I8> { typedef uint2 T; };

// A stored value (raw bits of its storage type) as the multiplication's input: FP32, half bits,
// or the INT8 integer the layer reads (ldq in common.cu).
template <typename S> __device__ __forceinline__ float raw_f(typename S::T r, float s);
template <> __device__ __forceinline__ float raw_f<F32>(float r, float) { return r; }
template <> __device__ __forceinline__ float raw_f<F16>(half_bits r, float) { return h2f(r); }
template <> __device__ __forceinline__ float raw_f<I8>(signed char r, float s) { return (float)r * s; }

template <typename S> __device__ __forceinline__ half_bits raw_h(typename S::T r, float s) { return f2h(raw_f<S>(r, s)); }
template <> __device__ __forceinline__ half_bits raw_h<F16>(half_bits r, float) { return r; }

template <typename S> __device__ __forceinline__ int raw_q(typename S::T r, float xs, float qs, int) {
    return quant(raw_f<S>(r, xs), qs);
}
template <> __device__ __forceinline__ int raw_q<I8>(signed char r, float xs, float qs, int raw) {
    return raw ? (int)r : quant((float)r * xs, qs);
}

template <typename TI, typename TO, int MODE>
__device__ __forceinline__ void igemm_body(const GemmArgs& a) {
    // The staging tiles and the epilogue's tile are never live together.
    constexpr int smem_bytes = sizeof(GemmSmem<MODE>) > sizeof(float) * GM * (GN + 1)
        ? sizeof(GemmSmem<MODE>) : sizeof(float) * GM * (GN + 1);
    __shared__ __align__(16) unsigned char smem[smem_bytes];
    GemmSmem<MODE>& s = *(GemmSmem<MODE>*)smem;
    float (*cs)[GN + 1] = (float (*)[GN + 1])smem;
    const int tid = threadIdx.x;
    const int np = a.pool_h * a.pool_w;
    const int plane = a.poh * a.pow_;
    const i64 per_item = (i64)plane * np;
    const i64 rows = a.items * per_item;
    const i64 m0 = (i64)blockIdx.x * GM;
    const int n0 = blockIdx.y * GN;

    // The row this thread stages: where its receptive field starts in the input.
    // A (the gathered input) is staged 8 reduction indices per thread. Lanes run along rows for
    // convolutions, whose neighbouring output positions read neighbouring inputs, and along the
    // reduction for FC layers, whose rows are whole input items; either way a warp's loads
    // coalesce. B (the packed weights) always runs along the reduction.
    const int arow = a.dense ? tid >> 2 : tid & 63, ak = a.dense ? (tid & 3) * 8 : (tid >> 6) * 8;
    const int lr = tid >> 2, lk = (tid & 3) * 8;
    const i64 m = m0 + arow;
    const bool row_ok = m < rows;
    int iy0 = 0, ix0 = 0;
    i64 xrow = 0;
    // 32-bit division where the rows allow (it is several times cheaper than 64-bit).
    const bool narrow = rows <= 0x7fffffff;
    if (row_ok) {
        const i64 item = narrow ? (i64)((unsigned)m / (unsigned)per_item) : m / per_item;
        const int rem = (int)(m - item * per_item);
        const int p = rem / np, q = rem - p * np;
        const int py = p / a.pow_, px = p - py * a.pow_;
        const int qy = q / a.pool_w, qx = q - qy * a.pool_w;
        iy0 = (py * a.pool_sh + qy) * a.sh - a.ph;
        ix0 = (px * a.pool_sw + qx) * a.sw - a.pw;
        const i64 xi = a.x_wrap ? item % a.x_wrap : item;
        xrow = xi * a.c * a.h * a.w_ + (i64)iy0 * a.w_ + ix0;
    }

    float accf[4][4];
    int acci[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            accf[i][j] = 0.0f;
            acci[i][j] = 0;
        }

    const int warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, t = lane & 3;
    const int wm = (warp & 3) * 16, wn = (warp >> 2) * 32;

    // Software pipeline: the next step's global loads are in flight while this step multiplies.
    typedef typename TI::T R;
    R ar[8];
    typename BRegs<MODE>::T br;
    const R* xp = (const R*)a.x;
    // Table entries run one step ahead of the loads that use them, so that the two do not
    // form a chain of dependent loads; an FC layer's table is the identity and is not read.
    int2 ek[8];
    auto entry = [&](int k) {
        return a.dense ? make_int2(k, k < a.kdim ? 0 : 0x7fff0000) : a.ktab[k];
    };
    auto fetch = [&](int k0, int kend) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int iy = iy0 + (ek[j].y >> 16), ix = ix0 + (ek[j].y & 0xffff);
            const bool in = row_ok && (unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.w_;
            ar[j] = in ? xp[xrow + ek[j].x] : (R)0;
        }
        if (k0 + GK < kend) {
#pragma unroll
            for (int j = 0; j < 8; j++) ek[j] = entry(k0 + GK + ak + j);
        }
        if constexpr (MODE == MODE_F32) {
            const int kb = tid >> 3, nb = (tid & 7) * 8;
            const float4* src = (const float4*)((const float*)a.w + (i64)(k0 + kb) * a.npad + n0 + nb);
            br.x = src[0];
            br.y = src[1];
        } else if constexpr (MODE == MODE_F16) {
            br = *(const uint4*)((const half_bits*)a.w + (i64)(n0 + lr) * a.kpad + k0 + lk);
        } else {
            br = *(const uint2*)((const signed char*)a.w + (i64)(n0 + lr) * a.kpad + k0 + lk);
        }
    };
    int kbeg = 0, kend = a.kpad;
    if (a.splits > 1) {
        kbeg = blockIdx.z * a.kps * GK;
        kend = min(a.kpad, kbeg + a.kps * GK);
    }
#pragma unroll
    for (int j = 0; j < 8; j++) ek[j] = entry(kbeg + ak + j);
    fetch(kbeg, kend);
    for (int k0 = kbeg; k0 < kend; k0 += GK) {
        // Stage A (8 consecutive reduction indices of one row per thread, converted to the
        // multiplication's type) and B.
        if constexpr (MODE == MODE_F32) {
#pragma unroll
            for (int j = 0; j < 8; j++) s.a[ak + j][arow] = raw_f<TI>(ar[j], a.xs);
            const int kb = tid >> 3, nb = (tid & 7) * 8;
            *(float4*)&s.b[kb][nb] = br.x;
            *(float4*)&s.b[kb][nb + 4] = br.y;
        } else if constexpr (MODE == MODE_F16) {
            unsigned v[4];
#pragma unroll
            for (int j = 0; j < 4; j++)
                v[j] = (unsigned)raw_h<TI>(ar[2 * j], a.xs) | ((unsigned)raw_h<TI>(ar[2 * j + 1], a.xs) << 16);
            *(uint4*)&s.a[arow][ak] = make_uint4(v[0], v[1], v[2], v[3]);
            *(uint4*)&s.b[lr][lk] = br;
        } else {
            unsigned v[2] = {0, 0};
#pragma unroll
            for (int j = 0; j < 8; j++)
                v[j >> 2] |= ((unsigned)raw_q<TI>(ar[j], a.xs, a.qs, a.raw) & 0xffu) << (8 * (j & 3));
            *(uint2*)&s.a[arow][ak] = make_uint2(v[0], v[1]);
            *(uint2*)&s.b[lr][lk] = br;
        }
        __syncthreads();
        if (k0 + GK < kend) fetch(k0 + GK, kend);

        if constexpr (MODE == MODE_F32) {
            const int tx = tid & 15, ty = tid >> 4;
#pragma unroll 8
            for (int kk = 0; kk < GK; kk++) {
                const float4 x4 = *(const float4*)&s.a[kk][4 * ty];
                const float4 w4 = *(const float4*)&s.b[kk][4 * tx];
                const float xr[4] = {x4.x, x4.y, x4.z, x4.w}, wr[4] = {w4.x, w4.y, w4.z, w4.w};
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) accf[i][j] = fmaf(xr[i], wr[j], accf[i][j]);
            }
        } else if constexpr (MODE == MODE_F16) {
#pragma unroll
            for (int kb = 0; kb < GK; kb += 16) {
                unsigned af[4] = {
                    word_at(&s.a[wm + g][kb + 2 * t]), word_at(&s.a[wm + g + 8][kb + 2 * t]),
                    word_at(&s.a[wm + g][kb + 2 * t + 8]), word_at(&s.a[wm + g + 8][kb + 2 * t + 8])};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int nr = wn + j * 8 + g;
                    mma_f16(accf[j], af, word_at(&s.b[nr][kb + 2 * t]), word_at(&s.b[nr][kb + 2 * t + 8]));
                }
            }
        } else {
            unsigned af[4] = {
                word_at(&s.a[wm + g][4 * t]), word_at(&s.a[wm + g + 8][4 * t]),
                word_at(&s.a[wm + g][16 + 4 * t]), word_at(&s.a[wm + g + 8][16 + 4 * t])};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int nr = wn + j * 8 + g;
                mma_i8(acci[j], af, word_at(&s.b[nr][4 * t]), word_at(&s.b[nr][16 + 4 * t]));
            }
        }
        __syncthreads();
    }

    if (a.splits > 1) {
        // Each thread's 16 accumulators go to the partial tile at [e * 256 + tid]: coalesced.
        const i64 tile = (i64)blockIdx.y * gridDim.x + blockIdx.x;
        unsigned* part = (unsigned*)a.part + tile * a.splits * (GM * GN);
#pragma unroll
        for (int e = 0; e < 16; e++)
            part[blockIdx.z * (GM * GN) + e * 256 + tid] =
                MODE == MODE_I8 ? (unsigned)acci[e >> 2][e & 3] : __float_as_uint(accf[e >> 2][e & 3]);
        __threadfence();
        __syncthreads();
        __shared__ int last;
        if (tid == 0) last = atomicAdd(&a.counters[tile], 1) == a.splits - 1;
        __syncthreads();
        if (!last) return;
        __threadfence();
        // Two splits at a time, so that their 32 loads are in flight together (one L2 round trip
        // per two splits rather than per value); sums still run in split order.
        float fs[16];
        int is[16];
#pragma unroll
        for (int e = 0; e < 16; e++) {
            fs[e] = 0.0f;
            is[e] = 0;
        }
        for (int z = 0; z < a.splits; z += 2) {
            const int zn = min(2, a.splits - z);
            unsigned v[2][16];
#pragma unroll
            for (int u = 0; u < 2; u++)
#pragma unroll
                for (int e = 0; e < 16; e++) {
                    v[u][e] = 0;
                    if (u < zn)
                        asm volatile("ld.global.cg.u32 %0, [%1];"
                                     : "=r"(v[u][e])
                                     : "l"(part + (z + u) * (GM * GN) + e * 256 + tid));
                }
#pragma unroll
            for (int u = 0; u < 2; u++)
#pragma unroll
                for (int e = 0; e < 16; e++) {
                    if constexpr (MODE == MODE_I8) is[e] += (int)v[u][e];
                    else fs[e] += __uint_as_float(v[u][e]);
                }
        }
#pragma unroll
        for (int e = 0; e < 16; e++) {
            if constexpr (MODE == MODE_I8) acci[e >> 2][e & 3] = is[e];
            else accf[e >> 2][e & 3] = fs[e];
        }
        if (tid == 0) a.counters[tile] = 0;
    }

    // Scale, bias and activation in registers, into the shared tile.
    if constexpr (MODE == MODE_F32) {
        const int tx = tid & 15, ty = tid >> 4;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int col = 4 * tx + j;
            const float b = a.bias[n0 + col];
#pragma unroll
            for (int i = 0; i < 4; i++) cs[4 * ty + i][col] = activate(a.act, a.alpha, a.beta, accf[i][j] + b);
        }
    } else {
#pragma unroll
        for (int j = 0; j < 4; j++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int row = wm + g + (r >> 1) * 8, col = wn + j * 8 + 2 * t + (r & 1);
                if constexpr (MODE == MODE_I8) {
                    // The CPU's epilogue operation for operation (no contraction into an FMA).
                    const float v = __fadd_rn(__fmul_rn((float)acci[j][r], a.emul[n0 + col]), a.eadd[n0 + col]);
                    cs[row][col] = activate(a.act, a.alpha, a.beta, v);
                } else {
                    cs[row][col] = activate(a.act, a.alpha, a.beta, accf[j][r] + a.bias[n0 + col]);
                }
            }
        }
    }
    __syncthreads();

    if (a.softmax) {
        // One tile holds whole rows (n <= 64, one column tile; no pooling).
        const i64 row = m0 + tid;
        if (tid < GM && row < rows) {
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < a.n; c++) mx = fmaxf(mx, cs[tid][c]);
            for (int c = 0; c < a.n; c++) sum += expf(cs[tid][c] - mx);
            for (int c = 0; c < a.n; c++) st<TO>(a.y, row * a.n + c, expf(cs[tid][c] - mx) / sum, a.ys);
        }
        return;
    }
    // Pooled rows of this tile (np is a power of two dividing GM): where each one's channel 0
    // goes, or -1 past the last row.
    const int groups = GM / np, gshift = __ffs(groups) - 1;
    __shared__ i64 obase[GM];
    if (tid < groups) {
        const i64 row = m0 + (i64)tid * np;
        i64 base = -1;
        if (row < rows) {
            const i64 item = narrow ? (i64)((unsigned)row / (unsigned)per_item) : row / per_item;
            const int p = (int)(row - item * per_item) / np;
            base = item * a.n * plane + p;
        }
        obase[tid] = base;
    }
    __syncthreads();
    for (int o = tid; o < groups * GN; o += blockDim.x) {
        const int pr = o & (groups - 1), cl = o >> gshift;
        const int col = n0 + cl;
        const i64 base = obase[pr];
        if (col >= a.n || base < 0) continue;
        float v = cs[pr * np][cl];
        for (int q = 1; q < np; q++) v = fmaxf(v, cs[pr * np + q][cl]);
        st<TO>(a.y, base + (i64)col * plane, v, a.ys);
    }
}

#define IGEMM(NAME, TI, TO, MODE) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const GemmArgs a) { igemm_body<TI, TO, MODE>(a); }
#define IGEMM_TO(MODE, M, TI, ti) \
    IGEMM(igemm_##M##_##ti##_f32, TI, F32, MODE) IGEMM(igemm_##M##_##ti##_f16, TI, F16, MODE) \
    IGEMM(igemm_##M##_##ti##_i8, TI, I8, MODE)
#define IGEMM_ALL(MODE, M) IGEMM_TO(MODE, M, F32, f32) IGEMM_TO(MODE, M, F16, f16) IGEMM_TO(MODE, M, I8, i8)
IGEMM_ALL(MODE_F32, f)
IGEMM_ALL(MODE_F16, h)
// FP16 layers writing an FP32 output binding.
IGEMM(igemm_h_f32_f32h, F32, F32H, MODE_F16) IGEMM(igemm_h_f16_f32h, F16, F32H, MODE_F16)
IGEMM(igemm_h_i8_f32h, I8, F32H, MODE_F16)
IGEMM_ALL(MODE_I8, q)
