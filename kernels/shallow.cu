// Compiled apart from the other kernels, one program per kernel the first time an engine asks for
// it (compile.rs): each is a specialization of one of the two bodies below for one kernel size
// or tile shape, pooling window and pair of storage types, and compiling all of them up front
// would cost every user of the CUDA backend minutes for the few layers that take them. The
// program ends with one CONV_T(name, input storage, output storage, INT8, kernel size, pooling
// window) or CONV_M(.., pooling window, n8 tiles, k16 steps) line.

// Shallow variant (stride 1, no dilation, one group, kernel KHxKW, pooling windows PYxPX known at
// compile time; LeNet's conv1). The block stages the weights once, as one float4 of 4 output
// channels per tap, then takes jobs of `ib` items (inputs staged in shared memory) times a chunk of
// the channel groups of 4: at large batches one chunk holds every group, at small ones the grid
// has blocks to spare and the groups are split across them. A thread takes one (pooled) position
// of one item and, per input channel, streams the rows of its input window through registers,
// each loaded once and used for every tap that covers it and 4 channels, so the inner loop is
// FMAs fed by registers and one broadcast float4 per tap; bias and scale sit in shared memory,
// and a ReLU or no activation follows the pooling maximum (it commutes with it), which keeps the
// epilogue short next to a depth of 25. 64 registers leave room for 4 blocks per multiprocessor.
// INT8 layers multiply the integers in FP32, exact while |sum| < 2^24 (depth <= 1040, checked on
// the host): the CPU's integer sums at FP32 FMA rate.
// A staged input value: for INT8 layers the integer the layer multiplies (as `ldq`), else the
// value (as `ld`); `qr` is 1 / a.qs.
template <typename TI, bool Q>
__device__ __forceinline__ float stage_value(const typename TI::T& r, const ConvArgs& a, float qr) {
    if constexpr (!Q) return ld<TI>(&r, 0, a.xs);
    if constexpr (sizeof(typename TI::T) == 1) {
        if (a.raw) return (float)r;
    }
    return (float)quant_r(ld<TI>(&r, 0, a.xs), a.qs, qr);
}

// Stages the `n` items of a job from item0: put(i, v) for each input value i of the job (in
// storage order) as the layer reads it. Four loads in flight per thread, then their conversions:
// one load at a time left the staging waiting on memory for about half of the FMA variant's time
// (LeNet conv1 INT8, Nsight Compute's stall samples). A job's items are one run of the input
// unless it repeats.
template <typename TI, bool Q, typename F>
__device__ __forceinline__ void stage_job(const ConvArgs& a, i64 item0, int n, int xlen, float qr, F put) {
    typedef typename TI::T R;
    const int total = n * xlen;
    for (int i0 = threadIdx.x; i0 < total; i0 += 4 * blockDim.x) {
        R r[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int i = i0 + u * blockDim.x;
            if (i >= total) break;
            i64 xo = item0 * xlen + i;
            if (a.x_wrap) {
                const int slot = i / xlen;
                xo = (item0 + slot) % a.x_wrap * xlen + (i - slot * xlen);
            }
            r[u] = ((const R*)a.x)[xo];
        }
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int i = i0 + u * blockDim.x;
            if (i >= total) break;
            put(i, stage_value<TI, Q>(r[u], a, qr));
        }
    }
}

template <typename TI, typename TO, bool Q, int KH, int KW, int PY, int PX, bool INSIDE>
__device__ __forceinline__ void conv_t_body(const ConvArgs& a) {
    extern __shared__ float4 smem4[];
    const int taps = a.c * KH * KW;
    const int groups4 = (a.k + 3) / 4;
    float4* ws = smem4;
    float* bs = (float*)(smem4 + groups4 * taps);  // per channel: bias, then INT8 scale
    float* xs = bs + groups4 * 8;
    for (int i = threadIdx.x; i < groups4 * 4; i += blockDim.x) {
        bs[i] = i < a.k ? a.bias[i] : 0.0f;
        bs[groups4 * 4 + i] = Q && i < a.k ? a.wscale[i] : 1.0f;
    }
    for (int i = threadIdx.x; i < groups4 * taps; i += blockDim.x) {
        const int g = i / taps, t = i - g * taps;
        float v[4];
#pragma unroll
        for (int c = 0; c < 4; c++) {
            const int k = g * 4 + c;
            v[c] = k < a.k ? (Q ? (float)a.wq[k * taps + t] : a.w[k * taps + t]) : 0.0f;
        }
        ws[i] = make_float4(v[0], v[1], v[2], v[3]);
    }
    const int xlen = a.c * a.h * a.w_;
    const float qr = 1.0f / a.qs;
    constexpr bool pooled = PY * PX > 1;
    const int rows = pooled ? a.poh : a.oh, cols = pooled ? a.pow_ : a.ow;
    const int plane = rows * cols;
    const int sy = pooled ? a.pool_sh : 1, sx = pooled ? a.pool_sw : 1;
    constexpr int WW = PX - 1 + KW;
    const i64 chunks = (a.items + a.ib - 1) / a.ib;
    const int splits = (int)min((i64)groups4, max((i64)1, (i64)gridDim.x / chunks));
    const int per_split = (groups4 + splits - 1) / splits;
    for (i64 job = blockIdx.x; job < chunks * splits; job += gridDim.x) {
        const i64 item0 = (job / splits) * a.ib;
        const int g0 = (int)(job % splits) * per_split, g1 = min(groups4, g0 + per_split);
        const int n = (int)min((i64)a.ib, a.items - item0);
        __syncthreads();
        stage_job<TI, Q>(a, item0, n, xlen, qr, [&](int i, float v) { xs[i] = v; });
        __syncthreads();
        for (int u = threadIdx.x; u < n * plane; u += blockDim.x) {
            const int slot = u / plane, p = u - slot * plane;
            const int oy = p / cols, ox = p - oy * cols;
            const int y0 = oy * sy - a.ph, x0 = ox * sx - a.pw;
            const float* xslot = xs + slot * xlen;
            const i64 item = item0 + slot;
            for (int g = g0; g < g1; g++) {
                float acc[PY * PX][4];
#pragma unroll
                for (int q = 0; q < PY * PX; q++)
#pragma unroll
                    for (int c = 0; c < 4; c++) acc[q][c] = 0.0f;
                const float4* wg = ws + g * taps;
                for (int ci = 0; ci < a.c; ci++) {
                    const float* xc = xslot + ci * a.h * a.w_;
                    // The PY input rows kernel row ky meets, streamed: each row is loaded once.
                    float win[PY][WW];
                    auto load_row = [&](float* row, int iy) {
                        const float* xr = xc + iy * a.w_ + x0;
                        if constexpr (INSIDE) {
#pragma unroll
                            for (int s = 0; s < WW; s++) row[s] = xr[s];
                            return;
                        }
                        const bool row_ok = iy >= 0 && iy < a.h;
#pragma unroll
                        for (int s = 0; s < WW; s++) {
                            const int ix = x0 + s;
                            row[s] = (row_ok && ix >= 0 && ix < a.w_) ? xr[s] : 0.0f;
                        }
                    };
#pragma unroll
                    for (int r = 0; r < PY - 1; r++) load_row(win[r + 1], y0 + r);
                    const float4* wc = wg + ci * KH * KW;
#pragma unroll
                    for (int ky = 0; ky < KH; ky++) {
#pragma unroll
                        for (int r = 0; r < PY - 1; r++)
#pragma unroll
                            for (int s = 0; s < WW; s++) win[r][s] = win[r + 1][s];
                        load_row(win[PY - 1], y0 + ky + PY - 1);
#pragma unroll
                        for (int kx = 0; kx < KW; kx++) {
                            const float4 w4 = wc[ky * KW + kx];
#pragma unroll
                            for (int qy = 0; qy < PY; qy++)
#pragma unroll
                                for (int qx = 0; qx < PX; qx++) {
                                    const float xv = win[qy][qx + kx];
                                    float* ac = acc[qy * PX + qx];
                                    ac[0] = fmaf(xv, w4.x, ac[0]);
                                    ac[1] = fmaf(xv, w4.y, ac[1]);
                                    ac[2] = fmaf(xv, w4.z, ac[2]);
                                    ac[3] = fmaf(xv, w4.w, ac[3]);
                                }
                        }
                    }
                }
#pragma unroll
                for (int c = 0; c < 4; c++) {
                    const int k = g * 4 + c;
                    if (k >= a.k) break;
                    const float scale = bs[groups4 * 4 + k], bias = bs[k];
                    float s[PY * PX];
#pragma unroll
                    for (int q = 0; q < PY * PX; q++)
                        s[q] = Q ? __fadd_rn(__fmul_rn(acc[q][c], scale), bias) : acc[q][c] + bias;
                    float v = NEG_INF;
                    // No activation or ReLU (monotonic): the maximum first, one activation after.
                    if (a.act <= 0) {
#pragma unroll
                        for (int q = 0; q < PY * PX; q++) v = fmaxf(v, s[q]);
                        if (a.act == 0) v = fmaxf(v, 0.0f);
                    } else {
#pragma unroll
                        for (int q = 0; q < PY * PX; q++) v = fmaxf(v, activate(a.act, a.alpha, a.beta, s[q]));
                    }
                    st<TO>(a.y, (item * a.k + k) * plane + p, v, a.ys);
                }
            }
        }
    }
}

// Without padding every window lies inside the input: a second copy of the body loads without
// bounds checks (and without the registers they take).
#define CONV_T(NAME, TI, TO, Q, K, P) \
    extern "C" __global__ void __launch_bounds__(256, 4) NAME##_t##K##P(const ConvArgs a) { \
        if (a.ph == 0 && a.pw == 0 && a.oh == a.h - K + 1 && a.ow == a.w_ - K + 1) \
            conv_t_body<TI, TO, Q, K, K, P, P, true>(a); \
        else \
            conv_t_body<TI, TO, Q, K, K, P, P, false>(a); \
    }

// Tensor-core variant, for FP16 and INT8 layers with at most 32 output channels (LeNet's conv1):
// stride 1, undilated, one group, unpooled or under 2x2 pooling of stride 2. The reduction runs in
// pairs of horizontally adjacent taps (c x KH x ceil(KW/2) pairs, an odd kernel's last pair
// half empty) in KS steps of m16n8k16. A job's items are staged as half, twice: word j of copy 0
// holds pixels 2j and 2j+1 of a zero-padded row, word j of copy 1 pixels 2j+1 and 2j+2, so the
// pair under any output column is one aligned word and an A fragment register one load. A warp
// tile is 8 blocks of 2x2 output positions (the pooling windows when pooled) times 8*NT channels:
// rows g and g+8 of its two m16 tiles are the 4 positions of block g, so each thread ends with
// all four values of its block for 2 channels per n8 tile and pools them in registers. INT8 layers
// multiply their integers as halves, exact, with FP32 sums exact below 2^24 (depth <= 1040): the
// CPU's integers, as the FMA variant above. Outputs go through shared memory and leave as the
// job's contiguous run of whole items in 16-byte stores.

// Rows and words per row of one staged copy of one channel: every row and word the 2x2 blocks'
// windows read (plan.rs `shallow_mma` sizes shared memory with the same formulas), odd so that
// a warp's rows fall on different banks.
__device__ __forceinline__ int staged_rows(const ConvArgs& a) {
    return max(2 * ((a.oh + 1) / 2) + a.kh - 1, a.h + a.ph);
}
__device__ __forceinline__ int staged_words(const ConvArgs& a) {
    return max((a.ow + 1) / 2 + (a.kw + 1) / 2, (a.w_ + a.pw) / 2 + 1) | 1;
}

// i / d for 0 <= i < 2^22 through a float reciprocal, corrected by one step (staging computes
// two per input value, where an integer division costs about twenty instructions).
__device__ __forceinline__ int div_small(int i, int d, float rcp) {
    int q = (int)((float)i * rcp);
    const int m = i - q * d;
    return m < 0 ? q - 1 : m >= d ? q + 1 : q;
}

// Tile `tw` past an item's `tpi` tiles moves on to the next items.
__device__ __forceinline__ void carry(int& slot, int& tw, int tpi) {
    while (tw >= tpi) {
        tw -= tpi;
        slot++;
    }
}

// An INT8 output in its scale's units (scale 1, see plan.rs `int8_epilogue`) is only rounded and
// clamped: the division `quant` makes is skipped, with the same result.
template <typename S> __device__ __forceinline__ void st_out(void* p, int i, float v, float s, bool unit) {
    st<S>(p, i, v, s);
}
template <> __device__ __forceinline__ void st_out<I8>(void* p, int i, float v, float s, bool unit) {
    ((signed char*)p)[i] = (signed char)(unit ? (int)rintf(fminf(fmaxf(v, -127.0f), 127.0f)) : quant(v, s));
}

// The same for ReLU or no activation into an output in its units, after the lower bound: INT8
// converts with the conversion's own saturation (rounding to nearest even, as rintf).
template <typename S> __device__ __forceinline__ void st_fast(typename S::T* p, float v) { st<S>(p, 0, v, 1.0f); }
template <> __device__ __forceinline__ void st_fast<I8>(signed char* p, float v) {
    int r;
    asm("cvt.rni.s8.f32 %0, %1;" : "=r"(r) : "f"(v));
    *p = (signed char)r;
}

// The block copies `bytes` from shared memory (16-byte aligned) to `dst`, in the widest words
// `dst`'s alignment allows (activation arenas place tensors at 4-byte multiples).
template <typename V> __device__ __forceinline__ void copy_words(char* dst, const char* src, int bytes) {
    const int words = bytes / (int)sizeof(V);
    for (int i = threadIdx.x; i < words; i += blockDim.x) ((V*)dst)[i] = ((const V*)src)[i];
    for (int i = words * (int)sizeof(V) + threadIdx.x; i < bytes; i += blockDim.x) dst[i] = src[i];
}
__device__ __forceinline__ void copy_out(char* dst, const char* src, int bytes) {
    const unsigned long long at = (unsigned long long)dst;
    if ((at & 15) == 0) copy_words<uint4>(dst, src, bytes);
    else if ((at & 3) == 0) copy_words<unsigned>(dst, src, bytes);
    else copy_words<char>(dst, src, bytes);
}

template <typename TI, typename TO, bool Q, bool POOL, int NT, int KS>
__device__ __forceinline__ void conv_m_body(const ConvArgs& a) {
    extern __shared__ __align__(16) unsigned smw[];
    typedef typename TO::T O;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const int hp = staged_rows(a), wq = staged_words(a), cw = hp * wq;
    const int isz = a.c * 2 * cw;  // words of a staged item: per channel copy 0, then copy 1
    const int rows = POOL ? a.poh : (a.oh + 1) / 2, cols = POOL ? a.pow_ : (a.ow + 1) / 2;
    const int nwin = rows * cols, tpi = (nwin + 7) / 8;
    const int plane = POOL ? nwin : a.oh * a.ow, ylen = a.k * plane;
    unsigned* xs = smw;
    unsigned* tab = xs + a.ib * isz;  // per 2x2 block of an item: (block row << 16) | column
    O* ys = (O*)(smw + ((a.ib * isz + nwin + 3) & ~3));
    O* trash = ys + a.ib * ylen;  // one value after the outputs, 16 bytes reserved
    half_bits* xh = (half_bits*)xs;

    // Padding stays zero: jobs write only the interior.
    for (int i = tid; i < a.ib * isz; i += blockDim.x) xs[i] = 0;
    for (int i = tid; i < nwin; i += blockDim.x) {
        const int r = i / cols;
        tab[i] = (unsigned)(r << 16 | (i - r * cols));
    }
    // The thread's A columns are pairs 8s+t and 8s+t+4 of each step s: their byte offsets, masks
    // that clear an odd kernel's empty half (and whole pairs past the last, which read word 0),
    // and its B fragments: those pairs' two weights of channel 8j+g.
    const int pw2 = (a.kw + 1) / 2, npairs = a.c * a.kh * pw2;
    int poff[KS][2];
    unsigned pmask[KS][2], bw[KS][NT][2];
#pragma unroll
    for (int s = 0; s < KS; s++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int p = 8 * s + t + 4 * h;
            const bool live = p < npairs;
            const int ci = live ? p / (a.kh * pw2) : 0, r = p - ci * a.kh * pw2;
            const int ky = live ? r / pw2 : 0, kx = live ? 2 * (r - ky * pw2) : 0;
            const bool two = kx + 1 < a.kw;
            poff[s][h] = live ? 4 * (ci * 2 * cw + ky * wq + kx / 2) : 0;
            pmask[s][h] = !live ? 0u : two ? 0xffffffffu : 0xffffu;
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const int ch = 8 * j + g;
                unsigned lo = 0, hi = 0;
                if (live && ch < a.k) {
                    const int tap = ((ch * a.c + ci) * a.kh + ky) * a.kw + kx;
                    lo = f2h(Q ? (float)a.wq[tap] : a.w[tap]);
                    if (two) hi = f2h(Q ? (float)a.wq[tap + 1] : a.w[tap + 1]);
                }
                bw[s][j][h] = lo | hi << 16;
            }
        }
    float sc[NT][2], bi[NT][2];
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const int ch = 8 * j + 2 * t + e;
            sc[j][e] = Q && ch < a.k ? a.wscale[ch] : 1.0f;
            bi[j][e] = ch < a.k ? a.bias[ch] : 0.0f;
        }
    const bool unit = a.ys == 1.0f;
    const bool simple = a.act <= 0 && (unit || sizeof(O) > 1);
    const bool low = a.act == 0 || sizeof(O) == 1;
    const float lo = a.act == 0 ? 0.0f : -127.0f;
    const int xlen = a.c * a.h * a.w_;
    const float rw = 1.0f / a.w_, rh = 1.0f / a.h, qr = 1.0f / a.qs;
    const i64 jobs = (a.items + a.ib - 1) / a.ib;
    for (i64 job = blockIdx.x; job < jobs; job += gridDim.x) {
        const i64 item0 = job * a.ib;
        const int n = (int)min((i64)a.ib, a.items - item0);
        __syncthreads();
        stage_job<TI, Q>(a, item0, n, xlen, qr, [&](int i, float f) {
            // Input row `row` (of item slot x channel x height) and its column.
            const int row = div_small(i, a.w_, rw), x = i - row * a.w_ + a.pw;
            const int plane_i = div_small(row, a.h, rh), y = row - plane_i * a.h + a.ph;
            half_bits* dst = xh + 2 * (plane_i * 2 * cw + y * wq);
            const half_bits v = f2h(f);
            dst[x] = v;
            if (x > 0) dst[2 * cw + x - 1] = v;
        });
        __syncthreads();
        // Tile `tw` of item `slot`: the warp's first, then every `warps`-th of the job.
        const int warps = blockDim.x >> 5;
        int slot = 0, tw = warp;
        for (carry(slot, tw, tpi); slot < n; tw += warps, carry(slot, tw, tpi)) {
            const int b = tw * 8 + g;
            const unsigned e = tab[min(b, nwin - 1)];
            const int by = (int)(e >> 16), bx = (int)(e & 0xffff);
            // Byte addresses: each load below is one add to a pair's offset.
            const char* base = (const char*)(xs + slot * isz + 2 * by * wq + bx);
            float acc[2][NT][4];
#pragma unroll
            for (int dy = 0; dy < 2; dy++)
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int q = 0; q < 4; q++) acc[dy][j][q] = 0.0f;
#pragma unroll
            for (int s = 0; s < KS; s++)
#pragma unroll
                for (int dy = 0; dy < 2; dy++) {
                    // Rows g (column 2bx, copy 0) and g+8 (column 2bx+1, copy 1).
                    const char* r0 = base + dy * 4 * wq;
                    const char* r1 = r0 + 4 * cw;
                    const unsigned af[4] = {word_at(r0 + poff[s][0]) & pmask[s][0], word_at(r1 + poff[s][0]) & pmask[s][0],
                                            word_at(r0 + poff[s][1]) & pmask[s][1], word_at(r1 + poff[s][1]) & pmask[s][1]};
#pragma unroll
                    for (int j = 0; j < NT; j++) mma_f16(acc[dy][j], af, bw[s][j][0], bw[s][j][1]);
                }
            if (b >= nwin) continue;
            O* yo = ys + slot * ylen;
            // ReLU or no activation, into an output needing no division (the usual case), in
            // code of its own: at most one bound per value (ReLU's, or INT8's lower clamp), and no
            // branches per channel where pooled (padding channels store to `trash`).
            auto epilogue = [&](bool fast) {
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int e2 = 0; e2 < 2; e2++) {
                        const int ch = 8 * j + 2 * t + e2;
                        auto out = [&](O* p, float u) {
                            u = Q ? __fadd_rn(__fmul_rn(u, sc[j][e2]), bi[j][e2]) : u + bi[j][e2];
                            if (fast) st_fast<TO>(p, low ? fmaxf(u, lo) : u);
                            else st_out<TO>(p, 0, activate_fast(a.act, a.alpha, a.beta, u), a.ys, unit);
                        };
                        // Positions (0,0), (0,1), (1,0), (1,1) of the block.
                        const float v[4] = {acc[0][j][e2], acc[0][j][2 + e2], acc[1][j][e2], acc[1][j][2 + e2]};
                        if constexpr (POOL) {
                            // The host sends pooled layers whose epilogue never decreases (INT8
                            // scales are positive): the maximum of the sums, then one epilogue.
                            out(ch < a.k ? yo + ch * plane + b : trash, fmaxf(fmaxf(v[0], v[1]), fmaxf(v[2], v[3])));
                        } else {
                            if (ch >= a.k) continue;
#pragma unroll
                            for (int q = 0; q < 4; q++) {
                                const int y = 2 * by + (q >> 1), x = 2 * bx + (q & 1);
                                if (y < a.oh && x < a.ow) out(yo + ch * plane + y * a.ow + x, v[q]);
                            }
                        }
                    }
            };
            // Two inlined copies, each with `fast` constant.
            if (simple) epilogue(true);
            else epilogue(false);
        }
        __syncthreads();
        copy_out((char*)a.y + item0 * ylen * (i64)sizeof(O), (const char*)ys, n * ylen * (int)sizeof(O));
    }
}

#define CONV_M(NAME, TI, TO, Q, P, NT, KS) \
    extern "C" __global__ void __launch_bounds__(256, 3) NAME##_m##P##n##NT##k##KS(const ConvArgs a) { \
        conv_m_body<TI, TO, Q, (P > 1), NT, KS>(a); \
    }
