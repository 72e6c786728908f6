// Direct convolution with the bias, activation, max pooling (windows inside the input, no
// padding) and storage conversion of the output fused in.
// FP32 math for FP32/FP16 layers; INT8 layers multiply INT8 inputs by INT8 weights (one scale per
// output channel) in INT32 and rescale once, which is what the CPU's dequantized f32 arithmetic
// computes exactly (engine/context.rs quantize_into, builder/precision.rs).

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
    int kb;  // conv_s: output channels per block
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
    const float v = Q ? (float)acci * scale : accf;
    return activate(a.act, a.alpha, a.beta, v + bias);
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
        const float scale = Q ? a.qs * a.wscale[k] : 1.0f;
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

// Shared-memory variant (groups of 1): a block takes one item and `kb` output channels, stages the
// item's whole input (quantized once, for INT8 layers) and those channels' weights in shared
// memory, then each thread computes outputs from there. Blocks loop over (item, channel chunk).
template <bool Q>
__device__ __forceinline__ float conv_at_s(const ConvArgs& a, const typename Acc<Q>::T* xs, const typename Acc<Q>::T* ws, int oy, int ox, float scale, float bias) {
    typename Acc<Q>::T acc = 0;
    for (int ci = 0; ci < a.c; ci++) {
        for (int ky = 0; ky < a.kh; ky++) {
            const int iy = oy * a.sh - a.ph + ky * a.dh;
            if (iy < 0 || iy >= a.h) continue;
            for (int kx = 0; kx < a.kw; kx++) {
                const int ix = ox * a.sw - a.pw + kx * a.dw;
                if (ix < 0 || ix >= a.w_) continue;
                acc += xs[(ci * a.h + iy) * a.w_ + ix] * ws[(ci * a.kh + ky) * a.kw + kx];
            }
        }
    }
    const float v = Q ? (float)acc * scale : (float)acc;
    return activate(a.act, a.alpha, a.beta, v + bias);
}

template <typename TI, typename TO, bool Q>
__device__ __forceinline__ void conv_s_body(const ConvArgs& a) {
    typedef typename Acc<Q>::T A;
    extern __shared__ float smem[];
    A* xs = (A*)smem;
    const int xlen = a.c * a.h * a.w_;
    A* wsm = xs + xlen;
    const int wlen = a.c * a.kh * a.kw;
    const int chunks = (a.k + a.kb - 1) / a.kb;
    const bool pooled = a.pool_h > 0;
    const int rows = pooled ? a.poh : a.oh, cols = pooled ? a.pow_ : a.ow;
    const int plane = rows * cols;
    for (i64 blk = blockIdx.x; blk < a.items * chunks; blk += gridDim.x) {
        const i64 item = blk / chunks;
        const int k0 = (int)(blk - item * chunks) * a.kb;
        const int kn = min(a.kb, a.k - k0);
        const i64 xi = a.x_wrap ? item % a.x_wrap : item;
        __syncthreads();
        for (int i = threadIdx.x; i < xlen; i += blockDim.x) {
            const i64 xo = xi * xlen + i;
            if (Q) xs[i] = (A)ldq<TI>(a.x, xo, a.xs, a.qs, a.raw);
            else xs[i] = (A)ld<TI>(a.x, xo, a.xs);
        }
        for (int i = threadIdx.x; i < kn * wlen; i += blockDim.x) {
            const i64 wo = (i64)k0 * wlen + i;
            if (Q) wsm[i] = (A)a.wq[wo];
            else wsm[i] = (A)a.w[wo];
        }
        __syncthreads();
        for (int o = threadIdx.x; o < kn * plane; o += blockDim.x) {
            const int kk = o / plane, p = o - kk * plane;
            const int k = k0 + kk;
            const int oy = p / cols, ox = p - oy * cols;
            const float scale = Q ? a.qs * a.wscale[k] : 1.0f;
            const float bias = a.bias[k];
            const A* wk = wsm + kk * wlen;
            float v;
            if (pooled) {
                v = NEG_INF;
                for (int py = 0; py < a.pool_h; py++)
                    for (int px = 0; px < a.pool_w; px++)
                        v = fmaxf(v, conv_at_s<Q>(a, xs, wk, oy * a.pool_sh + py, ox * a.pool_sw + px, scale, bias));
            } else {
                v = conv_at_s<Q>(a, xs, wk, oy, ox, scale, bias);
            }
            st<TO>(a.y, (item * a.k + k) * plane + p, v, a.ys);
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
