// Direct convolution with the bias, activation, max pooling (windows inside the input, no
// padding) and storage conversion of the output fused in.
// FP32 math for FP32/FP16 layers; INT8 layers multiply INT8 inputs by INT8 weights in INT32 and
// apply the CPU's per-channel epilogue factors (`wscale` and `bias` hold them; plan.rs
// `int8_epilogue`), operation for operation, so they compute what the CPU's INT8 kernels do.

struct ConvArgs {
    const void* x;
    void* y;
    const float* w;
    const signed char* wq;
    const float* bias;
    const float* wscale;
    i64 items;   // batch items times the dimensions before C
    i64 x_wrap;  // a batch-invariant input repeats every x_wrap items (0: it does not)
    int c, h, w_, k, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int act;
    float alpha, beta;
    float xs, ys, qs;
    int raw;
    int pool_h, pool_w, pool_sh, pool_sw, poh, pow_;  // fused max pooling; pool_h 0: none
    int ib;  // the shallow variant: items staged per job
};

template <typename TI, bool Q>
__device__ __forceinline__ float conv_at(const ConvArgs& a, i64 xbase, int wbase, int cg, int oy, int ox, float scale, float bias) {
    float accf = 0.0f;
    int acci = 0;
    for (int ci = 0; ci < cg; ci++) {
        for (int ky = 0; ky < a.kh; ky++) {
            const int iy = oy * a.sh - a.ph + ky * a.dh;
            if (iy < 0 || iy >= a.h) continue;
            for (int kx = 0; kx < a.kw; kx++) {
                const int ix = ox * a.sw - a.pw + kx * a.dw;
                if (ix < 0 || ix >= a.w_) continue;
                const i64 xo = xbase + ((i64)ci * a.h + iy) * a.w_ + ix;
                const int wo = wbase + (ci * a.kh + ky) * a.kw + kx;
                if (Q) acci += ldq<TI>(a.x, xo, a.xs, a.qs, a.raw) * (int)a.wq[wo];
                else accf = fmaf(ld<TI>(a.x, xo, a.xs), a.w[wo], accf);
            }
        }
    }
    // INT8: the CPU's epilogue operation for operation (scale and bias are its factors).
    const float v = Q ? __fadd_rn(__fmul_rn((float)acci, scale), bias) : accf + bias;
    return activate(a.act, a.alpha, a.beta, v);
}

template <typename TI, typename TO, bool Q>
__device__ __forceinline__ void conv_body(const ConvArgs& a) {
    const int cg = a.c / a.groups, kg = a.k / a.groups;
    const bool pooled = a.pool_h > 0;
    const int rows = pooled ? a.poh : a.oh, cols = pooled ? a.pow_ : a.ow;
    const int plane = rows * cols;
    const i64 per_item = (i64)a.k * plane;
    GRID_LOOP(idx, a.items * per_item) {
        const i64 item = idx / per_item;
        const int r = (int)(idx - item * per_item);
        const int k = r / plane, p = r - k * plane;
        const int oy = p / cols, ox = p - oy * cols;
        const int g = k / kg;
        const i64 xi = a.x_wrap ? item % a.x_wrap : item;
        const i64 xbase = (xi * a.c + (i64)g * cg) * a.h * a.w_;
        const int wbase = k * cg * a.kh * a.kw;
        const float scale = Q ? a.wscale[k] : 1.0f;
        const float bias = a.bias[k];
        float v;
        if (pooled) {
            v = NEG_INF;
            for (int py = 0; py < a.pool_h; py++)
                for (int px = 0; px < a.pool_w; px++)
                    v = fmaxf(v, conv_at<TI, Q>(a, xbase, wbase, cg, oy * a.pool_sh + py, ox * a.pool_sw + px, scale, bias));
        } else {
            v = conv_at<TI, Q>(a, xbase, wbase, cg, oy, ox, scale, bias);
        }
        st<TO>(a.y, idx, v, a.ys);
    }
}

// Shared-memory variant (groups of 1, pooling windows of at most 4 positions): a block takes one
// item, stages its whole input in shared memory (quantized once, for INT8 layers), and each thread
// computes 4 output channels at every position of one pooling window (16 independent sums; the
// weights, the same across a warp, come from the L1 cache). Blocks loop over items.
template <typename TI, typename TO, bool Q>
__device__ __forceinline__ void conv_s_body(const ConvArgs& a) {
    typedef typename Acc<Q>::T A;
    extern __shared__ float smem[];
    A* xs = (A*)smem;
    const int xlen = a.c * a.h * a.w_;
    const int wlen = a.c * a.kh * a.kw;
    const bool pooled = a.pool_h > 0;
    const int rows = pooled ? a.poh : a.oh, cols = pooled ? a.pow_ : a.ow;
    const int plane = rows * cols;
    const int np = pooled ? a.pool_h * a.pool_w : 1;
    const int groups4 = (a.k + 3) / 4;
    for (i64 item = blockIdx.x; item < a.items; item += gridDim.x) {
        const i64 xi = a.x_wrap ? item % a.x_wrap : item;
        __syncthreads();
        for (int i = threadIdx.x; i < xlen; i += blockDim.x) {
            const i64 xo = xi * xlen + i;
            if (Q) xs[i] = (A)ldq<TI>(a.x, xo, a.xs, a.qs, a.raw);
            else xs[i] = (A)ld<TI>(a.x, xo, a.xs);
        }
        __syncthreads();
        for (int o = threadIdx.x; o < groups4 * plane; o += blockDim.x) {
            const int g = o / plane, p = o - g * plane;
            const int k0 = g * 4;
            const int oy = p / cols, ox = p - oy * cols;
            int cy[4], cx[4];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const int qy = pooled ? q / a.pool_w : 0, qx = pooled ? q % a.pool_w : 0;
                cy[q] = (pooled ? oy * a.pool_sh + qy : oy) * a.sh - a.ph;
                cx[q] = (pooled ? ox * a.pool_sw + qx : ox) * a.sw - a.pw;
            }
            A acc[4][4];
#pragma unroll
            for (int c = 0; c < 4; c++)
#pragma unroll
                for (int q = 0; q < 4; q++) acc[c][q] = 0;
            int wk[4];
#pragma unroll
            for (int c = 0; c < 4; c++) wk[c] = min(k0 + c, a.k - 1) * wlen;
            for (int ci = 0; ci < a.c; ci++) {
                for (int ky = 0; ky < a.kh; ky++) {
                    for (int kx = 0; kx < a.kw; kx++) {
                        const int wo = (ci * a.kh + ky) * a.kw + kx;
                        A wv[4];
#pragma unroll
                        for (int c = 0; c < 4; c++) wv[c] = Q ? (A)a.wq[wk[c] + wo] : (A)a.w[wk[c] + wo];
#pragma unroll
                        for (int q = 0; q < 4; q++) {
                            if (q >= np) break;
                            const int iy = cy[q] + ky * a.dh, ix = cx[q] + kx * a.dw;
                            const A xv = (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w_) ? xs[(ci * a.h + iy) * a.w_ + ix] : (A)0;
#pragma unroll
                            for (int c = 0; c < 4; c++) acc[c][q] += xv * wv[c];
                        }
                    }
                }
            }
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int k = k0 + c;
                if (k >= a.k) break;
                const float scale = Q ? a.wscale[k] : 1.0f;
                float v = NEG_INF;
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    if (q >= np) break;
                    const float s = Q ? __fadd_rn(__fmul_rn((float)acc[c][q], scale), a.bias[k]) : (float)acc[c][q] + a.bias[k];
                    v = fmaxf(v, activate(a.act, a.alpha, a.beta, s));
                }
                st<TO>(a.y, (item * a.k + k) * plane + p, v, a.ys);
            }
        }
    }
}

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
template <typename TI, typename TO, bool Q, int KH, int KW, int PY, int PX>
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
        for (int i = threadIdx.x; i < n * xlen; i += blockDim.x) {
            const int slot = i / xlen;
            const i64 item = item0 + slot;
            const i64 xi = a.x_wrap ? item % a.x_wrap : item;
            const i64 xo = xi * xlen + (i - slot * xlen);
            xs[i] = Q ? (float)ldq<TI>(a.x, xo, a.xs, a.qs, a.raw) : ld<TI>(a.x, xo, a.xs);
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
                        const bool row_ok = iy >= 0 && iy < a.h;
#pragma unroll
                        for (int s = 0; s < WW; s++) {
                            const int ix = x0 + s;
                            row[s] = (row_ok && ix >= 0 && ix < a.w_) ? xc[iy * a.w_ + ix] : 0.0f;
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

// The shallow variants' shapes: 3x3 and 5x5 kernels, unpooled or with 2x2 pooling windows.
#define CONV_T(NAME, TI, TO, Q, K, P) \
    extern "C" __global__ void __launch_bounds__(256, 4) NAME##_t##K##P(const ConvArgs a) { conv_t_body<TI, TO, Q, K, K, P, P>(a); }
#define CONV_TS(NAME, TI, TO, Q) \
    CONV_T(NAME, TI, TO, Q, 3, 1) CONV_T(NAME, TI, TO, Q, 3, 2) CONV_T(NAME, TI, TO, Q, 5, 1) CONV_T(NAME, TI, TO, Q, 5, 2)

#define CONV(NAME, TI, TO, Q) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const ConvArgs a) { conv_body<TI, TO, Q>(a); } \
    extern "C" __global__ void __launch_bounds__(256) NAME##_s(const ConvArgs a) { conv_s_body<TI, TO, Q>(a); } \
    CONV_TS(NAME, TI, TO, Q)
CONV(conv_f_f32_f32, F32, F32, false) CONV(conv_f_f32_f16, F32, F16, false) CONV(conv_f_f32_i8, F32, I8, false)
CONV(conv_f_f16_f32, F16, F32, false) CONV(conv_f_f16_f16, F16, F16, false) CONV(conv_f_f16_i8, F16, I8, false)
CONV(conv_f_i8_f32, I8, F32, false) CONV(conv_f_i8_f16, I8, F16, false) CONV(conv_f_i8_i8, I8, I8, false)
CONV(conv_q_f32_f32, F32, F32, true) CONV(conv_q_f32_f16, F32, F16, true) CONV(conv_q_f32_i8, F32, I8, true)
CONV(conv_q_f16_f32, F16, F32, true) CONV(conv_q_f16_f16, F16, F16, true) CONV(conv_q_f16_i8, F16, I8, true)
CONV(conv_q_i8_f32, I8, F32, true) CONV(conv_q_i8_f16, I8, F16, true) CONV(conv_q_i8_i8, I8, I8, true)
