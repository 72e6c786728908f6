// Direct convolution with the bias, activation and storage conversion of the output fused in.
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
};

template <typename TI, typename TO, bool Q>
__device__ __forceinline__ void conv_body(const ConvArgs& a) {
    const int cg = a.c / a.groups, kg = a.k / a.groups;
    const int plane = a.oh * a.ow;
    const i64 per_item = (i64)a.k * plane;
    GRID_LOOP(idx, a.items * per_item) {
        const i64 item = idx / per_item;
        const int r = (int)(idx - item * per_item);
        const int k = r / plane, p = r - k * plane;
        const int oy = p / a.ow, ox = p - oy * a.ow;
        const int g = k / kg;
        const i64 xi = a.x_wrap ? item % a.x_wrap : item;
        const i64 xbase = (xi * a.c + (i64)g * cg) * a.h * a.w_;
        const int wbase = k * cg * a.kh * a.kw;
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
        float v = Q ? (float)acci * (a.qs * a.wscale[k]) : accf;
        v = activate(a.act, a.alpha, a.beta, v + a.bias[k]);
        st<TO>(a.y, idx, v, a.ys);
    }
}

#define CONV(NAME, TI, TO, Q) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const ConvArgs a) { conv_body<TI, TO, Q>(a); }
CONV(conv_f_f32_f32, F32, F32, false) CONV(conv_f_f32_f16, F32, F16, false) CONV(conv_f_f32_i8, F32, I8, false)
CONV(conv_f_f16_f32, F16, F32, false) CONV(conv_f_f16_f16, F16, F16, false) CONV(conv_f_f16_i8, F16, I8, false)
CONV(conv_f_i8_f32, I8, F32, false) CONV(conv_f_i8_f16, I8, F16, false) CONV(conv_f_i8_i8, I8, I8, false)
CONV(conv_q_f32_f32, F32, F32, true) CONV(conv_q_f32_f16, F32, F16, true) CONV(conv_q_f32_i8, F32, I8, true)
CONV(conv_q_f16_f32, F16, F32, true) CONV(conv_q_f16_f16, F16, F16, true) CONV(conv_q_f16_i8, F16, I8, true)
CONV(conv_q_i8_f32, I8, F32, true) CONV(conv_q_i8_f16, I8, F16, true) CONV(conv_q_i8_i8, I8, I8, true)
