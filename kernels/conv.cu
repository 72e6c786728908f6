// Direct convolution with the bias, activation, max pooling (windows inside the input, no
// padding) and storage conversion of the output fused in.
// FP32 math for FP32/FP16 layers; INT8 layers multiply INT8 inputs by INT8 weights in INT32 and
// apply the CPU's per-channel epilogue factors (`wscale` and `bias` hold them; plan.rs
// `int8_epilogue`), operation for operation, so they compute what the CPU's INT8 kernels do.

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

#define CONV(NAME, TI, TO, Q) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const ConvArgs a) { conv_body<TI, TO, Q>(a); } \
    extern "C" __global__ void __launch_bounds__(256) NAME##_s(const ConvArgs a) { conv_s_body<TI, TO, Q>(a); }
CONV(conv_f_f32_f32, F32, F32, false) CONV(conv_f_f32_f16, F32, F16, false) CONV(conv_f_f32_i8, F32, I8, false)
CONV(conv_f_f16_f32, F16, F32, false) CONV(conv_f_f16_f16, F16, F16, false) CONV(conv_f_f16_i8, F16, I8, false)
CONV(conv_f_i8_f32, I8, F32, false) CONV(conv_f_i8_f16, I8, F16, false) CONV(conv_f_i8_i8, I8, I8, false)
CONV(conv_q_f32_f32, F32, F32, true) CONV(conv_q_f32_f16, F32, F16, true) CONV(conv_q_f32_i8, F32, I8, true)
CONV(conv_q_f16_f32, F16, F32, true) CONV(conv_q_f16_f16, F16, F16, true) CONV(conv_q_f16_i8, F16, I8, true)
CONV(conv_q_i8_f32, I8, F32, true) CONV(conv_q_i8_f16, I8, F16, true) CONV(conv_q_i8_i8, I8, I8, true)
