// FP16 and INT8 convolutions on the tensor cores with each item's input resident in shared
// memory. igemm.cu gathers every reduction step's inputs from global memory through its offset
// table, element by element; here a job of `ib` items is staged once, coalesced, as channel-last
// planes with the padding written as zeros, and the mma fragments are read from it a 32-bit word
// at a time: a word holds consecutive input channels of one tap (4 INT8 values or 2 halves; the
// staged channels are padded to a multiple of that), so the reduction runs over (kernel row,
// kernel column, channel) and a word's offset from a row's window origin comes from a small table.
// The weights stay in shared memory for every job of the block.
//
// Rows are igemm.cu's (item, pooled position, position in the pooling window); a warp takes two
// 16-row tiles at a time against every 8-channel tile (one column tile: at most 64 channels), and
// a fused max pooling over np | 16 consecutive rows runs on the accumulators by warp shuffles.
// The epilogue's arithmetic is igemm.cu's, once per pooled value: INT8 sums are the CPU's
// integers, rescaled as the CPU does; FP16 products are exact in FP32, so only the summation
// order differs from the CPU. A job's output collects in shared memory and goes out in 16-byte
// stores.

// The staged element and the accumulator of each mode.
template <int MODE> struct Elem;
template <> struct Elem<MODE_F16> {
    typedef half_bits T;
    typedef float Acc;
};
template <> struct Elem<MODE_I8> {
    typedef signed char T;
    typedef int Acc;
};

template <typename TI, int MODE> __device__ __forceinline__ typename Elem<MODE>::T staged(typename TI::T r, const GemmArgs& a) {
    if constexpr (MODE == MODE_F16) return raw_h<TI>(r, a.xs);
    else return (signed char)raw_q<TI>(r, a.xs, a.qs, a.raw);
}

// N consecutive input values of one channel plane, from position pos of the job's item i,
// channel c, into the staged items: channel-last, past the padding, converted to the
// multiplication's type. The position is split once and stepped along.
template <typename TI, int MODE, int N>
__device__ __forceinline__ void stage_run(const GemmArgs& a, unsigned char* xs, int i, int c, int pos, const typename TI::T* r) {
    typedef typename Elem<MODE>::T E;
    int y = pos / a.w_, x = pos - y * a.w_;
    E* dst = (E*)(xs + i * a.item_bytes) + ((y + a.ph) * a.wsx + a.pw) * a.cp + c;
#pragma unroll
    for (int q = 0; q < N; q++) {
        dst[x * a.cp] = staged<TI, MODE>(r[q], a);
        if (++x == a.w_) {
            x = 0;
            dst += a.wsx * a.cp;
        }
    }
}

template <typename TI, typename TO, int MODE>
__device__ __forceinline__ void resident(const GemmArgs& a) {
    typedef typename Elem<MODE>::T E;
    typedef typename TI::T R;
    extern __shared__ __align__(16) unsigned char resident_smem[];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int gq = lane >> 2, t = lane & 3;
    const Rows g(a);
    const int per_item = (int)g.per_item;
    // Shared memory: the weights ([8 nt][kwords + 4] words: the row stride keeps a warp's B
    // fragment reads on distinct banks), the word offsets, the epilogue's factors per channel
    // (INT8: multiplier and addend; FP16: the bias as addend), per row of an item its window
    // origin in the staged item and its pooled position (rows padded to an even count), then
    // the job's items.
    const int wstride = a.kwords + 4;
    unsigned* wt = (unsigned*)resident_smem;
    int* woff = (int*)(wt + a.nt * 8 * wstride);
    float* cmul = (float*)(woff + a.kwords);
    float* cadd = cmul + 64;
    int2* rtab = (int2*)(cadd + 64);
    unsigned char* xs = (unsigned char*)(rtab + ((per_item + 1) & ~1));
    // The job's output in its own layout (a job's items are one run of it), written out in
    // 16-byte stores when every pair is done: stored from the accumulators' layout, a warp's
    // values would each take a memory sector of its own.
    typedef typename TO::T O;
    O* yt = (O*)(xs + a.ib * a.item_bytes);
    const int wwords = a.nt * 8 * (a.kwords / 4);
    for (int e0 = tid; e0 < wwords; e0 += 4 * blockDim.x) {
        uint4 v[4];
#pragma unroll
        for (int u = 0; u < 4; u++)
            if (e0 + u * blockDim.x < wwords) v[u] = ((const uint4*)a.w)[e0 + u * blockDim.x];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int e = e0 + u * blockDim.x;
            if (e >= wwords) break;
            const int r = e / (a.kwords / 4);
            *(uint4*)&wt[r * wstride + 4 * (e - r * (a.kwords / 4))] = v[u];
        }
    }
    for (int e = tid; e < a.kwords; e += blockDim.x) woff[e] = a.woff[e];
    if (tid < a.nt * 8) {
        cmul[tid] = MODE == MODE_I8 ? a.emul[tid] : 1.0f;
        cadd[tid] = MODE == MODE_I8 ? a.eadd[tid] : a.bias[tid];
    }
    for (int rem = tid; rem < per_item; rem += blockDim.x) {
        const int p = rem / g.np, q = rem - p * g.np;
        const int py = p / a.pow_, px = p - py * a.pow_;
        const int qy = q / a.pool_w, qx = q - qy * a.pool_w;
        const int oy = (py * a.pool_sh + qy) * a.sh, ox = (px * a.pool_sw + qx) * a.sw;
        rtab[rem] = make_int2((oy * a.wsx + ox) * a.cp * (int)sizeof(E), p);
    }

    const int hw = a.h * a.w_, chw = a.c * hw;
    const int nmax = min(g.np, 8);
    // A job's items are one aligned run of the input (no broadcast, whole 16-byte words a
    // channel plane): it is read in 16-byte loads, consecutive lanes on consecutive channels of
    // one position, so that their shared-memory stores (a channel apart) fall on distinct banks.
    constexpr int PER = 16 / sizeof(R);
    const bool words = !a.x_wrap && (hw * sizeof(R)) % 16 == 0 && ((unsigned long long)a.x & 15) == 0;
    const int runs = hw / PER;
    const i64 jobs = (a.items + a.ib - 1) / a.ib;
    for (i64 job = blockIdx.x; job < jobs; job += gridDim.x) {
        const i64 item0 = job * a.ib;
        const int nitems = (int)min((i64)a.ib, a.items - item0);
        const int total = nitems * chw;
        // The previous job's fragment reads (and, the first time, the tables' staging) are done.
        __syncthreads();
        if (a.zero) {
            for (int e = tid; e < nitems * a.item_bytes / 16; e += blockDim.x) ((uint4*)xs)[e] = make_uint4(0, 0, 0, 0);
            __syncthreads();
        }
        // Four loads in flight per thread, then their values into place.
        if (words) {
            const uint4* src = (const uint4*)((const R*)a.x + item0 * chw);
            for (int e0 = tid; e0 < total / PER; e0 += 4 * blockDim.x) {
                uint4 v[4];
                int c[4], run[4];
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    // e = (item, run, channel), channel fastest.
                    const int e = e0 + u * blockDim.x, ir = e / a.c;
                    c[u] = e - ir * a.c;
                    run[u] = ir;
                    if (e < total / PER) v[u] = src[(ir / runs * a.c + c[u]) * runs + ir % runs];
                }
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    if (e0 + u * blockDim.x >= total / PER) break;
                    const unsigned w[4] = {v[u].x, v[u].y, v[u].z, v[u].w};
                    R r[PER];
                    unpack<PER>(r, w);
                    const int i = run[u] / runs;
                    stage_run<TI, MODE, PER>(a, xs, i, c[u], (run[u] - i * runs) * PER, r);
                }
            }
        } else {
            for (int e0 = tid; e0 < total; e0 += 4 * blockDim.x) {
                R v[4];
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const int e = e0 + u * blockDim.x;
                    if (e >= total) break;
                    const int i = e / chw;
                    const i64 item = item0 + i, xi = a.x_wrap ? item % a.x_wrap : item;
                    v[u] = ((const R*)a.x)[xi * chw + e - i * chw];
                }
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const int e = e0 + u * blockDim.x;
                    if (e >= total) break;
                    const int i = e / chw, rem = e - i * chw, c = rem / hw;
                    stage_run<TI, MODE, 1>(a, xs, i, c, rem - c * hw, &v[u]);
                }
            }
        }
        __syncthreads();

        const int nrows = nitems * per_item;
        const int pairs = (nrows + 31) / 32;
        for (int pr = warp; pr < pairs; pr += blockDim.x / 32) {
            // This lane's four rows (tiles h = 0, 1, rows gq and gq + 8; rows past the last read
            // the last row's window and are not stored): their window origins' byte offsets,
            // and where in the job's output they store channel 0 once pooled (-1: not stored).
            int base[2][2], dst[2][2];
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int u = 0; u < 2; u++) {
                    const int row = pr * 32 + h * 16 + gq + 8 * u, rc = min(row, nrows - 1);
                    const int i = (unsigned)rc / (unsigned)per_item;
                    const int2 e = rtab[rc - i * per_item];
                    base[h][u] = i * a.item_bytes + e.x;
                    dst[h][u] = row < nrows ? i * a.n * g.plane + e.y : -1;
                }
            typename Elem<MODE>::Acc acc[2][8][4];
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int j = 0; j < 8; j++)
#pragma unroll
                    for (int r = 0; r < 4; r++) acc[h][j][r] = 0;
            for (int k0 = 0; k0 < a.kwords; k0 += 8) {
                // Words k0 + t and k0 + 4 + t: A's columns 4t.. and 16 + 4t.. (INT8, k32) or
                // 2t.. and 8 + 2t.. (FP16, k16); B's the same for its column gq.
                const int w0 = k0 + t, w1 = k0 + 4 + t;
                const bool v0 = w0 < a.kvalid, v1 = w1 < a.kvalid;
                const int o0 = woff[w0], o1 = woff[w1];
                unsigned af[2][4];
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    af[h][0] = v0 ? *(const unsigned*)(xs + base[h][0] + o0) : 0u;
                    af[h][1] = v0 ? *(const unsigned*)(xs + base[h][1] + o0) : 0u;
                    af[h][2] = v1 ? *(const unsigned*)(xs + base[h][0] + o1) : 0u;
                    af[h][3] = v1 ? *(const unsigned*)(xs + base[h][1] + o1) : 0u;
                }
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    if (j >= a.nt) break;
                    const unsigned* wr = wt + (j * 8 + gq) * wstride;
                    const unsigned b0 = wr[w0], b1 = wr[w1];
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        if constexpr (MODE == MODE_I8) mma_i8(acc[h][j], af[h], b0, b1);
                        else mma_f16(acc[h][j], af[h], b0, b1);
                    }
                }
            }

            // Epilogue: accumulator r of tile h, channel tile j is row pr * 32 + h * 16 + gq +
            // 8 (r >> 1), channel 8j + 2t + (r & 1). Pooling windows are np consecutive rows:
            // up to 8 of them lie in lanes 4 apart, 16 span both halves of the tile. The host
            // sends only layers whose epilogue (scale, bias, activation) never decreases, so the
            // maximum is taken on the accumulators and the epilogue runs once per stored value.
#pragma unroll
            for (int j = 0; j < 8; j++) {
                if (j >= a.nt) break;
                const float2 mul = *(const float2*)&cmul[j * 8 + 2 * t], add = *(const float2*)&cadd[j * 8 + 2 * t];
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    typename Elem<MODE>::Acc v[4];
#pragma unroll
                    for (int r = 0; r < 4; r++) v[r] = acc[h][j][r];
#pragma unroll
                    for (int m = 1; m < 8; m <<= 1) {
                        if (m >= nmax) break;
#pragma unroll
                        for (int r = 0; r < 4; r++) v[r] = max(v[r], __shfl_xor_sync(0xffffffffu, v[r], 4 * m));
                    }
                    if (g.np == 16) {
                        v[0] = max(v[0], v[2]);
                        v[1] = max(v[1], v[3]);
                    }
                    // The nmax lanes of a window hold the same maxima: lane q of them takes
                    // values q, q + nmax, ... (of 4, or 2 once 16 rows are folded).
                    const int vals = g.np == 16 ? 2 : 4, q = gq & (nmax - 1);
#pragma unroll
                    for (int s = 0; s < 4; s++) {
                        if (s * nmax >= vals) break;
                        const int r = q + s * nmax;
                        if (r >= vals) continue;
                        const typename Elem<MODE>::Acc vr = r == 0 ? v[0] : r == 1 ? v[1] : r == 2 ? v[2] : v[3];
                        const int col = j * 8 + 2 * t + (r & 1);
                        const int d = dst[h][r >> 1];
                        const float m = r & 1 ? mul.y : mul.x, b = r & 1 ? add.y : add.x;
                        float o;
                        if constexpr (MODE == MODE_I8) o = __fadd_rn(__fmul_rn((float)vr, m), b);
                        else o = vr + b;
                        if (d >= 0 && col < a.n) st<TO>(yt, d + col * g.plane, activate_fast(a.act, a.alpha, a.beta, o), a.ys);
                    }
                }
            }
        }
        __syncthreads();
        const int out = nitems * a.n * g.plane;
        O* yg = (O*)a.y + item0 * a.n * g.plane;
        constexpr int VO = 16 / sizeof(O);
        const int vec = ((unsigned long long)yg & 15) == 0 ? out / VO : 0;
        for (int e = tid; e < vec; e += blockDim.x) ((uint4*)yg)[e] = ((const uint4*)yt)[e];
        for (int e = vec * VO + tid; e < out; e += blockDim.x) yg[e] = yt[e];
    }
}

// resident_h_{input}_{output} (FP16) and resident_q_{input}_{output} (INT8): two blocks per SM
// (64 accumulators a thread, and up to 96 KiB of shared memory a block).
MMA_ALL(resident, resident, 2)
