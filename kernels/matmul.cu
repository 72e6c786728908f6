// Matrix multiply and transposed convolution: one thread per output element, FP32 accumulation.

// Batched matrix multiply (backend/cpu/matmul.rs): output item = lead matrices of m x n. Element
// (r, c) of operand A's matrix is at a + lead offset + r·a_rs + c·a_cs (likewise B); a lead
// dimension an operand repeats, and the batch of a batch-invariant operand, have stride 0.
struct MatmulArgs {
    const void* a;
    const void* b;
    void* y;
    i64 n;  // output elements, batch included
    i64 a_item, b_item;
    int rank;
    int lead[8];
    i64 sa[8];
    i64 sb[8];
    int m, cols, k;
    int a_rs, a_cs, b_rs, b_cs;
    int at, bt, yt;
    float as, bs, ys;
};

extern "C" __global__ void __launch_bounds__(256) matmul(const MatmulArgs p) {
    const i64 mat = (i64)p.m * p.cols;
    GRID_LOOP(i, p.n) {
        i64 l = i / mat;
        const int rc = (int)(i - l * mat);
        const int r = rc / p.cols, c = rc - r * p.cols;
        i64 oa = 0, ob = 0;
        for (int d = p.rank - 1; d >= 0; d--) {
            const i64 q = l / p.lead[d];
            const int x = (int)(l - q * p.lead[d]);
            oa += x * p.sa[d];
            ob += x * p.sb[d];
            l = q;
        }
        // What is left of `l` is the batch item.
        oa += l * p.a_item + (i64)r * p.a_rs;
        ob += l * p.b_item + (i64)c * p.b_cs;
        float acc = 0.0f;
        for (int j = 0; j < p.k; j++)
            acc = fmaf(load_t(p.a, oa + (i64)j * p.a_cs, p.at, p.as),
                       load_t(p.b, ob + (i64)j * p.b_rs, p.bt, p.bs), acc);
        store_t(p.y, i, acc, p.yt, p.ys);
    }
}

// Transposed convolution (backend/cpu/deconv.rs): input pixel (iy, ix) feeds output row
// iy·sh + ky·dh - ph. Weights are [C, K/groups, kh, kw]; each output gathers the input pixels
// that feed it, tap by tap, summing over its group's channels.
struct DeconvArgs {
    const void* x;
    void* y;
    const float* w;
    const float* bias;
    i64 items;
    i64 x_wrap;
    int c, h, w_, k, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) deconv(const DeconvArgs a) {
    const int plane = a.oh * a.ow;
    const i64 per_item = (i64)a.k * plane;
    const int cg = a.c / a.groups, kg = a.k / a.groups;
    GRID_LOOP(idx, a.items * per_item) {
        const i64 item = idx / per_item;
        const int r = (int)(idx - item * per_item);
        const int ko = r / plane, p = r - ko * plane;
        const int oy = p / a.ow, ox = p - oy * a.ow;
        const int g = ko / kg, kl = ko - g * kg;
        const i64 xbase = ((a.x_wrap ? item % a.x_wrap : item) * a.c + (i64)g * cg) * a.h * a.w_;
        const float* wg = a.w + ((i64)g * cg * kg + kl) * a.kh * a.kw;
        float acc = a.bias[ko];
        for (int ky = 0; ky < a.kh; ky++) {
            const int ty = oy + a.ph - ky * a.dh;
            if (ty < 0 || ty % a.sh != 0 || ty / a.sh >= a.h) continue;
            const int iy = ty / a.sh;
            for (int kx = 0; kx < a.kw; kx++) {
                const int tx = ox + a.pw - kx * a.dw;
                if (tx < 0 || tx % a.sw != 0 || tx / a.sw >= a.w_) continue;
                const int ix = tx / a.sw;
                float s = 0.0f;
                for (int cl = 0; cl < cg; cl++)
                    s = fmaf(wg[((i64)cl * kg * a.kh + ky) * a.kw + kx],
                             load_t(a.x, xbase + ((i64)cl * a.h + iy) * a.w_ + ix, a.xt, a.xs), s);
                acc += s;
            }
        }
        store_t(a.y, idx, acc, a.yt, a.ys);
    }
}
