// Convolution and fully connected layers as one implicit GEMM. Rows are output positions ordered
// (item, pooled position, position inside the pooling window), so that a fused max pooling is a
// maximum over consecutive rows of a tile; columns are output channels; the reduction runs over
// (input channel, kernel row, kernel column) through a host-made table of input offsets, so any
// stride, padding and dilation costs nothing inside the loop. An FC layer is the 1x1 case.
//
// A block of 256 threads computes a tile in 32-deep steps staged in shared memory. The reduction
// is split three ways:
// - FP32 layers: FP32 FMA (no TF32); results match the CPU to rounding. Large runs: 128-row tiles,
//   4 rows x CW columns per thread (CW 8: 64 columns; CW 7: 56 columns, so that 50 or 500
//   channels waste less of the tile), each step three reads of shared memory for 4 x CW FMAs.
//   Small runs: 64x64 tiles, 4x4 outputs per thread (4 consecutive rows and columns, two float4
//   reads of shared memory for 16 FMAs);
// - FP16 layers: 64x64 tiles, tensor cores, mma m16n8k16 with FP32 accumulation (half products
//   are exact in FP32, so only the summation order differs from the CPU);
// - INT8 layers: 64x64 tiles, tensor cores, mma m16n8k32 with INT32 accumulation: the CPU's
//   integer sums exactly, rescaled once by input scale x channel scale.
// The epilogue (scale, bias, activation, pooling over window rows, softmax over a row, storage
// conversion) reads a shared-memory copy of the tile, so stores are coalesced along the output
// plane whatever the layout of the accumulators.

#define GM 64
#define GN 64
#define GK 32
// FP32 tiles: the most rows, and column slots of the packed weights per column tile (a thread's CW
// columns sit in slots 4tx..4tx+3 and 32+4tx.., so that a warp's two float4 reads of a step's
// weights each cover 128 contiguous bytes).
#define FM 128
#define FSLOTS 64
// One partial tile of a split reduction (the largest tile, FP32's), in 4-byte accumulators.
#define PART_WORDS (FM * FSLOTS)

struct GemmArgs {
    const void* x;
    void* y;
    const void* w;        // packed: FP32 [kpad][npad slots]; FP16 and INT8 [npad][kpad]; zero padded
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
    int inside;  // every window lies inside the input (no padding): no bounds checks
    // INT8 layers: per channel, accumulator x emul + eadd (the CPU's epilogue factors; an INT8
    // output they requantize is stored with ys = 1).
    const float* emul;
    const float* eadd;
    // Split reduction (few output tiles, long reductions): grid.z blocks share a tile, each
    // `kps` steps deep; the last to finish sums the partial tiles in split order (deterministic)
    // and runs the epilogue. `counters` are zero between launches: the last block resets its own.
    int splits, kps;
    float* part;  // splits x tiles x PART_WORDS accumulators (INT32 bits for INT8)
    int* counters;  // one per tile
    // resident.cu: per reduction word, its byte offset from a row's window origin in the staged
    // item; staged channels (a multiple of the values per word) and row length; items per job
    // (written at launch); staged bytes per item (a multiple of 16); reduction words (a multiple
    // of 8) and those that hold reduction indices; 8-channel tiles; whether the staging has
    // padding for zeros.
    const int* woff;
    int cp, wsx, ib, item_bytes, kwords, kvalid, nt, zero;
};

#define MODE_F16 1
#define MODE_I8 2

template <int MODE> struct GemmSmem;
template <> struct GemmSmem<MODE_F16> {
    half_bits a[GM][GK + 8];
    half_bits b[GN][GK + 8];
};
template <> struct GemmSmem<MODE_I8> {
    signed char a[GM][GK + 16];
    signed char b[GN][GK + 16];
};

// A tile kernel's shared memory: its staging tiles, then (never live together) the epilogue's
// copy of the TM x TN tile.
template <typename Stage, int TM, int TN> union TileSmem {
    Stage stage;
    float tile[TM][TN + 1];
};

// Registers holding one step's B tile slice per thread.
template <int MODE> struct BRegs { typedef uint4 T; };
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

// N consecutive stored values from an address aligned to their size (16 bytes at most: larger
// runs to 16), in loads of up to 16 bytes.
template <int BYTES> struct Words;
template <> struct Words<4> { static __device__ __forceinline__ void load(unsigned* w, const void* p) { w[0] = *(const unsigned*)p; } };
template <> struct Words<8> {
    static __device__ __forceinline__ void load(unsigned* w, const void* p) {
        const uint2 v = *(const uint2*)p;
        w[0] = v.x;
        w[1] = v.y;
    }
};
template <> struct Words<16> {
    static __device__ __forceinline__ void load(unsigned* w, const void* p) {
        const uint4 v = *(const uint4*)p;
        w[0] = v.x;
        w[1] = v.y;
        w[2] = v.z;
        w[3] = v.w;
    }
};
// N stored values from the words that hold them.
template <int N, typename R> __device__ __forceinline__ void unpack(R* d, const unsigned* w) {
#pragma unroll
    for (int i = 0; i < N; i++) {
        if constexpr (sizeof(R) == 4) d[i] = __uint_as_float(w[i]);
        else d[i] = (R)(w[i * sizeof(R) / 4] >> (8 * (i * sizeof(R) % 4)));
    }
}
template <int N, typename R> __device__ __forceinline__ void load_run(R* d, const R* p) {
    constexpr int bytes = N * sizeof(R), chunk = bytes < 16 ? bytes : 16;
    unsigned w[bytes / 4];
#pragma unroll
    for (int c = 0; c < bytes / chunk; c++) Words<chunk>::load(w + c * chunk / 4, (const char*)p + c * chunk);
    unpack<N>(d, w);
}

// The geometry of a launch's rows (see the top of the file).
struct Rows {
    int np, plane;
    i64 per_item, rows;
    bool narrow;  // 32-bit division where the rows allow (several times cheaper than 64-bit)
    __device__ __forceinline__ Rows(const GemmArgs& a) {
        np = a.pool_h * a.pool_w;
        plane = a.poh * a.pow_;
        per_item = (i64)plane * np;
        rows = a.items * per_item;
        narrow = rows <= 0x7fffffff;
    }
    __device__ __forceinline__ i64 item(i64 m) const {
        return narrow ? (i64)((unsigned)m / (unsigned)per_item) : m / per_item;
    }
};

// Where row m's receptive field starts: the input row (iy0) and column (ix0) of its window's
// corner, and that corner's offset in the input.
__device__ __forceinline__ i64 row_origin(const GemmArgs& a, const Rows& g, i64 m, int& iy0, int& ix0) {
    const i64 item = g.item(m);
    const int rem = (int)(m - item * g.per_item);
    const int p = rem / g.np, q = rem - p * g.np;
    const int py = p / a.pow_, px = p - py * a.pow_;
    const int qy = q / a.pool_w, qx = q - qy * a.pool_w;
    iy0 = (py * a.pool_sh + qy) * a.sh - a.ph;
    ix0 = (px * a.pool_sw + qx) * a.sw - a.pw;
    const i64 xi = a.x_wrap ? item % a.x_wrap : item;
    return xi * a.c * a.h * a.w_ + (i64)iy0 * a.w_ + ix0;
}

// Split reduction: grid.z blocks share a tile. Each stores its N accumulators per thread (raw
// bits) as partial tile blockIdx.z at [e * 256 + tid] (coalesced); all but the last block of the
// tile to finish return false; the last gets in `v` the sums in split order (deterministic).
template <int N, bool INT>
__device__ __forceinline__ bool split_sum(const GemmArgs& a, unsigned (&v)[N]) {
    const int tid = threadIdx.x;
    const i64 tile = (i64)blockIdx.y * gridDim.x + blockIdx.x;
    unsigned* part = (unsigned*)a.part + tile * a.splits * PART_WORDS;
#pragma unroll
    for (int e = 0; e < N; e++) part[blockIdx.z * PART_WORDS + e * 256 + tid] = v[e];
    __threadfence();
    __syncthreads();
    __shared__ int last;
    if (tid == 0) last = atomicAdd(&a.counters[tile], 1) == a.splits - 1;
    __syncthreads();
    if (!last) return false;
    __threadfence();
    // Two splits at a time, so that their loads are in flight together (one L2 round trip per
    // two splits rather than per value); sums still run in split order.
    float fs[N];
    int is[N];
#pragma unroll
    for (int e = 0; e < N; e++) {
        fs[e] = 0.0f;
        is[e] = 0;
    }
    for (int z = 0; z < a.splits; z += 2) {
        const int zn = min(2, a.splits - z);
        unsigned u[2][N];
#pragma unroll
        for (int h = 0; h < 2; h++)
#pragma unroll
            for (int e = 0; e < N; e++) {
                u[h][e] = 0;
                if (h < zn)
                    asm volatile("ld.global.cg.u32 %0, [%1];"
                                 : "=r"(u[h][e])
                                 : "l"(part + (z + h) * PART_WORDS + e * 256 + tid));
            }
#pragma unroll
        for (int h = 0; h < 2; h++)
#pragma unroll
            for (int e = 0; e < N; e++) {
                if constexpr (INT) is[e] += (int)u[h][e];
                else fs[e] += __uint_as_float(u[h][e]);
            }
    }
#pragma unroll
    for (int e = 0; e < N; e++) v[e] = INT ? (unsigned)is[e] : __float_as_uint(fs[e]);
    if (tid == 0) a.counters[tile] = 0;
    return true;
}

// The epilogue after the tile (TM x TN, already scaled, biased and activated) is in `cs` and a
// barrier has passed: a fused softmax over each row, or max pooling over each group of np rows,
// stored along the output plane.
template <typename TO, int TM, int TN>
__device__ __forceinline__ void store_tile(const GemmArgs& a, const Rows& g, float (*cs)[TN + 1], i64 m0, int n0) {
    const int tid = threadIdx.x;
    if (a.softmax) {
        // One tile holds whole rows (n <= TN, one column tile; no pooling).
        const i64 row = m0 + tid;
        if (tid < TM && row < g.rows) {
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < a.n; c++) mx = fmaxf(mx, cs[tid][c]);
            for (int c = 0; c < a.n; c++) sum += expf(cs[tid][c] - mx);
            for (int c = 0; c < a.n; c++) st<TO>(a.y, row * a.n + c, expf(cs[tid][c] - mx) / sum, a.ys);
        }
        return;
    }
    // Pooled rows of this tile (np is a power of two dividing TM): where each one's channel 0
    // goes, or -1 past the last row.
    const int np = g.np, groups = TM / np, gshift = __ffs(groups) - 1;
    __shared__ i64 obase[TM];
    if (tid < groups) {
        const i64 row = m0 + (i64)tid * np;
        i64 base = -1;
        if (row < g.rows) {
            const i64 item = g.item(row);
            const int p = (int)(row - item * g.per_item) / np;
            base = item * a.n * g.plane + p;
        }
        obase[tid] = base;
    }
    __syncthreads();
    // Threads run down a column of pooled rows, whose outputs are adjacent in an output plane;
    // where an item has one output position (FC layers), along its row of channels instead.
    const bool rowwise = g.per_item == 1;
    for (int o = tid; o < groups * TN; o += blockDim.x) {
        const int pr = rowwise ? o / TN : o & (groups - 1), cl = rowwise ? o - pr * TN : o >> gshift;
        const int col = n0 + cl;
        const i64 base = obase[pr];
        if (col >= a.n || base < 0) continue;
        float v = cs[pr * np][cl];
        for (int q = 1; q < np; q++) v = fmaxf(v, cs[pr * np + q][cl]);
        st<TO>(a.y, base + (i64)col * g.plane, v, a.ys);
    }
}

// The reduction steps of this block: all of them, or its share of a split reduction (in units
// of GK, whatever the kernel's step).
__device__ __forceinline__ void split_range(const GemmArgs& a, int& kbeg, int& kend) {
    kbeg = 0;
    kend = a.kpad;
    if (a.splits > 1) {
        kbeg = blockIdx.z * a.kps * GK;
        kend = min(a.kpad, kbeg + a.kps * GK);
    }
}

// The gathered input (A) of a 64-row tile, staged 8 reduction indices of one row per thread.
// Lanes run along rows for convolutions, whose neighbouring output positions read neighbouring
// inputs, and along the reduction for FC layers, whose rows are whole input items; either way a
// warp's loads coalesce. Table entries run one step ahead of the loads that use them, so that
// the two do not form a chain of dependent loads; an FC layer's table is the identity and is
// not read.
template <typename R> struct Gather64 {
    const GemmArgs& a;
    int arow, ak, iy0 = 0, ix0 = 0;
    bool row_ok;
    i64 xrow = 0;
    int2 ek[8];
    R v[8];
    __device__ __forceinline__ Gather64(const GemmArgs& a, const Rows& g, i64 m0) : a(a) {
        const int tid = threadIdx.x;
        arow = a.dense ? tid >> 2 : tid & 63;
        ak = a.dense ? (tid & 3) * 8 : (tid >> 6) * 8;
        const i64 m = m0 + arow;
        row_ok = m < g.rows;
        if (row_ok) xrow = row_origin(a, g, m, iy0, ix0);
    }
    // The table entries of the step at k0.
    __device__ __forceinline__ void entries(int k0) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int k = k0 + ak + j;
            ek[j] = a.dense ? make_int2(k, k < a.kdim ? 0 : 0x7fff0000) : a.ktab[k];
        }
    }
    // The values of the step whose entries are held, then the next step's entries. An FC
    // layer's 8 indices are 8 consecutive values of its row: one vector load where they lie in
    // the row and are aligned to its size (one value a load left 80% of the sectors unused).
    __device__ __forceinline__ void load(int k0, int kend) {
        const R* xp = (const R*)a.x;
        if (a.dense) {
            const R* p = xp + xrow + k0 + ak;
            if (row_ok && k0 + ak + 8 <= a.kdim && ((unsigned long long)p & (8 * sizeof(R) - 1)) == 0) {
                load_run<8>(v, p);
                if (k0 + GK < kend) entries(k0 + GK);
                return;
            }
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int iy = iy0 + (ek[j].y >> 16), ix = ix0 + (ek[j].y & 0xffff);
            const bool in = row_ok && (unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.w_;
            v[j] = in ? xp[xrow + ek[j].x] : (R)0;
        }
        if (k0 + GK < kend) entries(k0 + GK);
    }
};

// FP32 layers, large runs: a 128 x (8 CW) tile, thread (tx, ty) = (tid & 7, tid >> 3) owning rows
// 4ty..4ty+3 and tile columns CW*tx..CW*tx+CW-1, in 16-deep steps (32 would leave too few
// registers for three blocks per SM) through two shared-memory stages (one barrier per step).
template <typename TI, typename TO, int CW>
__device__ __forceinline__ void igemm_f32(const GemmArgs& a) {
    constexpr int RT = 4, TM = 32 * RT, TN = 8 * CW, FK = 16;
    // Reduction indices of one row each thread gathers per step, and weights it stages.
    constexpr int AK = FK * TM / 256, BK = FK * FSLOTS / 256;
    struct Stage {
        float a[2][FK][TM + 4];
        float b[2][FK][FSLOTS + 4];
    };
    __shared__ __align__(16) TileSmem<Stage, TM, TN> smem;
    Stage& s = smem.stage;
    float (*cs)[TN + 1] = smem.tile;
    const int tid = threadIdx.x;
    const Rows g(a);
    if (g.rows == 0) return;
    // Blocks run in launch order, x fastest: the column tiles of a row tile go next to each
    // other, so that they read its inputs from L2 together (LeNet's ip1: 9 column tiles).
    const i64 lin = (i64)blockIdx.y * gridDim.x + blockIdx.x;
    const i64 bx = lin / gridDim.y;
    const int by = (int)(lin % gridDim.y);
    const i64 m0 = bx * TM;
    const int n0 = by * TN;

    // A (the gathered input) is staged AK reduction indices of one row per thread, lanes along
    // rows: neighbouring output positions read neighbouring inputs, and the table entries a warp
    // reads are the same for all its lanes. Rows past the last read the last row's inputs (the
    // epilogue drops them), so only the reduction's edges need checks.
    const int arow = tid & (TM - 1), ak = (tid / TM) * AK;
    int iy0, ix0;
    typedef typename TI::T R;
    const R* xr = (const R*)a.x + row_origin(a, g, min(m0 + arow, g.rows - 1), iy0, ix0);
    // FC rows 16-byte aligned (so is every run of AK values) load their runs whole.
    const bool vec = a.dense && (a.kdim * sizeof(R)) % 16 == 0 && ((unsigned long long)a.x & 15) == 0;
    // B (the packed weights): BK slots of one reduction index per thread.
    const int kb = tid / (FSLOTS / BK), nb = tid % (FSLOTS / BK) * BK;
    const float* wp = (const float*)a.w + (i64)kb * a.npad + by * FSLOTS + nb;

    float acc[RT][CW];
#pragma unroll
    for (int i = 0; i < RT; i++)
#pragma unroll
        for (int j = 0; j < CW; j++) acc[i][j] = 0.0f;

    // Software pipeline: the next step's global loads are in flight while this step multiplies.
    R ar[AK];
    float4 br[BK / 4];
    auto fetch = [&](int k0) {
        const int k = k0 + ak;
        if (a.inside && k0 + FK <= a.kdim) {
            // Within the input and the reduction: no checks.
            if (vec) {
                load_run<AK>(ar, xr + k);
            } else if (a.dense) {
#pragma unroll
                for (int j = 0; j < AK; j++) ar[j] = xr[k + j];
            } else {
                const int4* t = (const int4*)(a.ktab + k);
#pragma unroll
                for (int j = 0; j < AK / 2; j++) {
                    const int4 e = t[j];
                    ar[2 * j] = xr[e.x];
                    ar[2 * j + 1] = xr[e.z];
                }
            }
        } else {
#pragma unroll
            for (int j = 0; j < AK; j++) {
                const int2 e = a.dense ? make_int2(k + j, k + j < a.kdim ? 0 : 0x7fff0000) : a.ktab[k + j];
                const int iy = iy0 + (e.y >> 16), ix = ix0 + (e.y & 0xffff);
                const bool in = (unsigned)iy < (unsigned)a.h && (unsigned)ix < (unsigned)a.w_;
                ar[j] = in ? xr[e.x] : (R)0;
            }
        }
        const float4* w = (const float4*)(wp + (i64)k0 * a.npad);
#pragma unroll
        for (int j = 0; j < BK / 4; j++) br[j] = w[j];
    };
    // The fetched values, converted, into stage `buf`.
    auto stage = [&](int buf) {
#pragma unroll
        for (int j = 0; j < AK; j++) s.a[buf][ak + j][arow] = raw_f<TI>(ar[j], a.xs);
#pragma unroll
        for (int j = 0; j < BK / 4; j++) *(float4*)&s.b[buf][kb][nb + 4 * j] = br[j];
    };
    int kbeg, kend;
    split_range(a, kbeg, kend);
    fetch(kbeg);
    stage(0);
    __syncthreads();
    const int tx = tid & 7, ty = tid >> 3;
    int cur = 0;
    for (int k0 = kbeg; k0 < kend; k0 += FK) {
        // The other stage was last read before the previous barrier: it takes the next step
        // while this one multiplies.
        const bool more = k0 + FK < kend;
        if (more) fetch(k0 + FK);
#pragma unroll
        for (int kk = 0; kk < FK; kk++) {
            const float4 x4 = *(const float4*)&s.a[cur][kk][4 * ty];
            const float xv[RT] = {x4.x, x4.y, x4.z, x4.w};
            const float4 w0 = *(const float4*)&s.b[cur][kk][4 * tx];
            const float4 w1 = *(const float4*)&s.b[cur][kk][32 + 4 * tx];
            const float wv[8] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w};
#pragma unroll
            for (int i = 0; i < RT; i++)
#pragma unroll
                for (int j = 0; j < CW; j++) acc[i][j] = fmaf(xv[i], wv[j], acc[i][j]);
        }
        if (more) stage(cur ^ 1);
        __syncthreads();
        cur ^= 1;
    }

    if (a.splits > 1) {
        unsigned v[RT * CW];
#pragma unroll
        for (int e = 0; e < RT * CW; e++) v[e] = __float_as_uint(acc[e / CW][e % CW]);
        if (!split_sum<RT * CW, false>(a, v)) return;
#pragma unroll
        for (int e = 0; e < RT * CW; e++) acc[e / CW][e % CW] = __uint_as_float(v[e]);
    }
    // Bias and activation in registers, into the shared tile.
#pragma unroll
    for (int j = 0; j < CW; j++) {
        const int col = CW * tx + j;
        const float b = a.bias[n0 + col];
#pragma unroll
        for (int i = 0; i < RT; i++) cs[RT * ty + i][col] = activate(a.act, a.alpha, a.beta, acc[i][j] + b);
    }
    __syncthreads();
    store_tile<TO, TM, TN>(a, g, cs, m0, n0);
}

// FP32 layers, small runs (too few 128-row tiles for three blocks per SM): a 64x64 tile in
// 32-deep steps through one shared-memory stage, thread (tx, ty) = (tid & 15, tid >> 4) owning rows
// 4ty..4ty+3 and 4 tile columns. Half the FMAs per block of the large tiles, and fewer,
// longer steps: where few blocks run, each step's load latency is exposed (LeNet FP32 batch 100
// ran 68 µs on these, 79 on 64-row tiles of 2x7 outputs per thread, 87 on 128-row tiles alone).
struct F32Small {
    float a[GK][GM + 4];
    float b[GK][GN + 4];
};
template <typename TI, typename TO>
__device__ __forceinline__ void igemm_f32_small(const GemmArgs& a) {
    __shared__ __align__(16) TileSmem<F32Small, GM, GN> smem;
    F32Small& s = smem.stage;
    float (*cs)[GN + 1] = smem.tile;
    const int tid = threadIdx.x;
    const Rows g(a);
    const i64 m0 = (i64)blockIdx.x * GM;
    const int n0 = blockIdx.y * GN;

    Gather64<typename TI::T> ga(a, g, m0);
    // B (the packed weights): 8 slots of one reduction index per thread.
    const int kb = tid >> 3, nb = (tid & 7) * 8;

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    // Software pipeline: the next step's global loads are in flight while this step multiplies.
    float4 br[2];
    auto fetch = [&](int k0, int kend) {
        ga.load(k0, kend);
        const float4* src = (const float4*)((const float*)a.w + (i64)(k0 + kb) * a.npad + n0 + nb);
        br[0] = src[0];
        br[1] = src[1];
    };
    int kbeg, kend;
    split_range(a, kbeg, kend);
    ga.entries(kbeg);
    fetch(kbeg, kend);
    const int tx = tid & 15, ty = tid >> 4;
    // The weights are packed for the large tiles' 8 columns per thread (see FSLOTS): thread tx
    // takes slots 4tx..4tx+3 (a half-warp's float4 reads cover the row without bank conflicts),
    // which hold columns 8tx.. (tx < 8) or 8(tx - 8) + 4.. (tx >= 8).
    const int col0 = 8 * (tx & 7) + 4 * (tx >> 3);
    for (int k0 = kbeg; k0 < kend; k0 += GK) {
#pragma unroll
        for (int j = 0; j < 8; j++) s.a[ga.ak + j][ga.arow] = raw_f<TI>(ga.v[j], a.xs);
        *(float4*)&s.b[kb][nb] = br[0];
        *(float4*)&s.b[kb][nb + 4] = br[1];
        __syncthreads();
        if (k0 + GK < kend) fetch(k0 + GK, kend);
#pragma unroll 8
        for (int kk = 0; kk < GK; kk++) {
            const float4 x4 = *(const float4*)&s.a[kk][4 * ty];
            const float4 w4 = *(const float4*)&s.b[kk][4 * tx];
            const float xv[4] = {x4.x, x4.y, x4.z, x4.w}, wv[4] = {w4.x, w4.y, w4.z, w4.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(xv[i], wv[j], acc[i][j]);
        }
        __syncthreads();
    }

    if (a.splits > 1) {
        unsigned v[16];
#pragma unroll
        for (int e = 0; e < 16; e++) v[e] = __float_as_uint(acc[e >> 2][e & 3]);
        if (!split_sum<16, false>(a, v)) return;
#pragma unroll
        for (int e = 0; e < 16; e++) acc[e >> 2][e & 3] = __uint_as_float(v[e]);
    }
    // Bias and activation in registers, into the shared tile.
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int col = col0 + j;
        const float b = a.bias[n0 + col];
#pragma unroll
        for (int i = 0; i < 4; i++) cs[4 * ty + i][col] = activate(a.act, a.alpha, a.beta, acc[i][j] + b);
    }
    __syncthreads();
    store_tile<TO, GM, GN>(a, g, cs, m0, n0);
}

// FP16 and INT8 layers: a 64x64 tile on the tensor cores.
template <typename TI, typename TO, int MODE>
__device__ __forceinline__ void igemm_mma(const GemmArgs& a) {
    __shared__ __align__(16) TileSmem<GemmSmem<MODE>, GM, GN> smem;
    GemmSmem<MODE>& s = smem.stage;
    float (*cs)[GN + 1] = smem.tile;
    const int tid = threadIdx.x;
    const Rows g(a);
    const i64 m0 = (i64)blockIdx.x * GM;
    const int n0 = blockIdx.y * GN;

    Gather64<typename TI::T> ga(a, g, m0);
    // B (the packed weights) is staged along the reduction, 8 indices of one column per thread.
    const int lr = tid >> 2, lk = (tid & 3) * 8;

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
    const int gq = lane >> 2, t = lane & 3;
    const int wm = (warp & 3) * 16, wn = (warp >> 2) * 32;

    // Software pipeline: the next step's global loads are in flight while this step multiplies.
    typename BRegs<MODE>::T br;
    auto fetch = [&](int k0, int kend) {
        ga.load(k0, kend);
        if constexpr (MODE == MODE_F16) {
            br = *(const uint4*)((const half_bits*)a.w + (i64)(n0 + lr) * a.kpad + k0 + lk);
        } else {
            br = *(const uint2*)((const signed char*)a.w + (i64)(n0 + lr) * a.kpad + k0 + lk);
        }
    };
    int kbeg, kend;
    split_range(a, kbeg, kend);
    ga.entries(kbeg);
    fetch(kbeg, kend);
    for (int k0 = kbeg; k0 < kend; k0 += GK) {
        // Stage A (8 consecutive reduction indices of one row per thread, converted to the
        // multiplication's type) and B.
        if constexpr (MODE == MODE_F16) {
            unsigned v[4];
#pragma unroll
            for (int j = 0; j < 4; j++)
                v[j] = (unsigned)raw_h<TI>(ga.v[2 * j], a.xs) | ((unsigned)raw_h<TI>(ga.v[2 * j + 1], a.xs) << 16);
            *(uint4*)&s.a[ga.arow][ga.ak] = make_uint4(v[0], v[1], v[2], v[3]);
            *(uint4*)&s.b[lr][lk] = br;
        } else {
            unsigned v[2] = {0, 0};
#pragma unroll
            for (int j = 0; j < 8; j++)
                v[j >> 2] |= ((unsigned)raw_q<TI>(ga.v[j], a.xs, a.qs, a.raw) & 0xffu) << (8 * (j & 3));
            *(uint2*)&s.a[ga.arow][ga.ak] = make_uint2(v[0], v[1]);
            *(uint2*)&s.b[lr][lk] = br;
        }
        __syncthreads();
        if (k0 + GK < kend) fetch(k0 + GK, kend);

        if constexpr (MODE == MODE_F16) {
#pragma unroll
            for (int kb = 0; kb < GK; kb += 16) {
                unsigned af[4] = {
                    word_at(&s.a[wm + gq][kb + 2 * t]), word_at(&s.a[wm + gq + 8][kb + 2 * t]),
                    word_at(&s.a[wm + gq][kb + 2 * t + 8]), word_at(&s.a[wm + gq + 8][kb + 2 * t + 8])};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int nr = wn + j * 8 + gq;
                    mma_f16(accf[j], af, word_at(&s.b[nr][kb + 2 * t]), word_at(&s.b[nr][kb + 2 * t + 8]));
                }
            }
        } else {
            unsigned af[4] = {
                word_at(&s.a[wm + gq][4 * t]), word_at(&s.a[wm + gq + 8][4 * t]),
                word_at(&s.a[wm + gq][16 + 4 * t]), word_at(&s.a[wm + gq + 8][16 + 4 * t])};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int nr = wn + j * 8 + gq;
                mma_i8(acci[j], af, word_at(&s.b[nr][4 * t]), word_at(&s.b[nr][16 + 4 * t]));
            }
        }
        __syncthreads();
    }

    if (a.splits > 1) {
        unsigned v[16];
#pragma unroll
        for (int e = 0; e < 16; e++)
            v[e] = MODE == MODE_I8 ? (unsigned)acci[e >> 2][e & 3] : __float_as_uint(accf[e >> 2][e & 3]);
        if (!split_sum<16, MODE == MODE_I8>(a, v)) return;
#pragma unroll
        for (int e = 0; e < 16; e++) {
            if constexpr (MODE == MODE_I8) acci[e >> 2][e & 3] = (int)v[e];
            else accf[e >> 2][e & 3] = __uint_as_float(v[e]);
        }
    }

    // Scale, bias and activation in registers, into the shared tile.
#pragma unroll
    for (int j = 0; j < 4; j++) {
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int row = wm + gq + (r >> 1) * 8, col = wn + j * 8 + 2 * t + (r & 1);
            if constexpr (MODE == MODE_I8) {
                // The CPU's epilogue operation for operation (no contraction into an FMA).
                const float v = __fadd_rn(__fmul_rn((float)acci[j][r], a.emul[n0 + col]), a.eadd[n0 + col]);
                cs[row][col] = activate(a.act, a.alpha, a.beta, v);
            } else {
                cs[row][col] = activate(a.act, a.alpha, a.beta, accf[j][r] + a.bias[n0 + col]);
            }
        }
    }
    __syncthreads();
    store_tile<TO, GM, GN>(a, g, cs, m0, n0);
}

// igemm_f{rows}x{cols}_{input}_{output}. Bound to three blocks per SM (80 registers) for
// 128-row tiles: without the bound ptxas takes 83-84 and fits two (LeNet FP32 conv2 + pool2 at
// batch 65536: 7542 µs bound, a few bytes spilled, against 7978 unbound).
#define IGEMM_F(NAME, TI, TO, CW) \
    extern "C" __global__ void __launch_bounds__(256, 3) NAME(const GemmArgs a) { igemm_f32<TI, TO, CW>(a); }
#define IGEMM_F_TO(N, CW, TI, ti) \
    IGEMM_F(igemm_f128x##N##_##ti##_f32, TI, F32, CW) IGEMM_F(igemm_f128x##N##_##ti##_f16, TI, F16, CW) \
    IGEMM_F(igemm_f128x##N##_##ti##_i8, TI, I8, CW)
#define IGEMM_F_ALL(N, CW) IGEMM_F_TO(N, CW, F32, f32) IGEMM_F_TO(N, CW, F16, f16) IGEMM_F_TO(N, CW, I8, i8)
IGEMM_F_ALL(56, 7)
IGEMM_F_ALL(64, 8)
#define IGEMM_FS(NAME, TI, TO) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const GemmArgs a) { igemm_f32_small<TI, TO>(a); }
#define IGEMM_FS_TO(TI, ti) \
    IGEMM_FS(igemm_f64x64_##ti##_f32, TI, F32) IGEMM_FS(igemm_f64x64_##ti##_f16, TI, F16) \
    IGEMM_FS(igemm_f64x64_##ti##_i8, TI, I8)
IGEMM_FS_TO(F32, f32) IGEMM_FS_TO(F16, f16) IGEMM_FS_TO(I8, i8)

// Tensor-core kernels of one body (igemm.cu's, resident.cu's) for every precision, input and
// output storage: {P}_h_{input}_{output} (FP16; also {P}_h_{input}_f32h, FP16 layers writing an
// FP32 output binding) and {P}_q_{input}_{output} (INT8), BLOCKS blocks per SM.
#define MMA_K(NAME, BODY, BLOCKS, TI, TO, MODE) \
    extern "C" __global__ void __launch_bounds__(256, BLOCKS) NAME(const GemmArgs a) { BODY<TI, TO, MODE>(a); }
#define MMA_TO(P, BODY, BLOCKS, MODE, M, TI, ti) \
    MMA_K(P##_##M##_##ti##_f32, BODY, BLOCKS, TI, F32, MODE) MMA_K(P##_##M##_##ti##_f16, BODY, BLOCKS, TI, F16, MODE) \
    MMA_K(P##_##M##_##ti##_i8, BODY, BLOCKS, TI, I8, MODE)
#define MMA_IN(P, BODY, BLOCKS, MODE, M) \
    MMA_TO(P, BODY, BLOCKS, MODE, M, F32, f32) MMA_TO(P, BODY, BLOCKS, MODE, M, F16, f16) \
    MMA_TO(P, BODY, BLOCKS, MODE, M, I8, i8)
#define MMA_ALL(P, BODY, BLOCKS) \
    MMA_IN(P, BODY, BLOCKS, MODE_F16, h) MMA_IN(P, BODY, BLOCKS, MODE_I8, q) \
    MMA_K(P##_h_f32_f32h, BODY, BLOCKS, F32, F32H, MODE_F16) MMA_K(P##_h_f16_f32h, BODY, BLOCKS, F16, F32H, MODE_F16) \
    MMA_K(P##_h_i8_f32h, BODY, BLOCKS, I8, F32H, MODE_F16)
MMA_ALL(igemm, igemm_mma, 4)
