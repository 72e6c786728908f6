// Compiled apart from the other kernels, one program per kernel the first time an engine asks for
// it (compile.rs): each is a specialization of the body below for one kernel size, pooling
// window and pair of storage types, and compiling all of them up front would cost every user
// of the CUDA backend minutes for the few layers that take them. The program ends with one
// CONV_T(name, input storage, output storage, INT8, kernel size, pooling window) line.

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
        // Four loads in flight per thread, then their conversions: one load at a time left the
        // staging waiting on memory for about half the kernel's time (LeNet conv1 INT8, Nsight
        // Compute's stall samples). A job's items are one run of the input unless it repeats.
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
                xs[i] = Q ? (float)ldq<TI>(&r[u], 0, a.xs, a.qs, a.raw) : ld<TI>(&r[u], 0, a.xs);
            }
        }
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
