// Layers that only move data: concatenation (one launch per input), padding, and the copies of
// constants and outputs into bindings.

struct CopyArgs {
    const void* x;
    void* y;
    i64 rows;
    i64 x_wrap;
    int len, row, off;  // y[r * row + off + j] = x[(r wrapped) * len + j]
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) copy_rows(const CopyArgs a) {
    GRID_LOOP(i, a.rows * a.len) {
        const i64 r = i / a.len;
        const int j = (int)(i - r * a.len);
        const i64 xr = a.x_wrap ? r % a.x_wrap : r;
        store_t(a.y, r * a.row + a.off + j, load_t(a.x, xr * a.len + j, a.xt, a.xs), a.yt, a.ys);
    }
}

struct PadArgs {
    const void* x;
    void* y;
    i64 planes;
    i64 x_wrap;
    int h, w, oh, ow, pre_h, pre_w;
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) pad(const PadArgs a) {
    const int oplane = a.oh * a.ow;
    GRID_LOOP(idx, a.planes * oplane) {
        const i64 plane = idx / oplane;
        const int p = (int)(idx - plane * oplane);
        const int iy = p / a.ow - a.pre_h, ix = p % a.ow - a.pre_w;
        float v = 0.0f;
        if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) {
            const i64 base = (a.x_wrap ? plane % a.x_wrap : plane) * a.h * a.w;
            v = load_t(a.x, base + (i64)iy * a.w + ix, a.xt, a.xs);
        }
        store_t(a.y, idx, v, a.yt, a.ys);
    }
}

// Cross-channel LRN (backend/cpu/lrn.rs): y = x / (k + alpha / window · Σ x²)^beta.
struct LrnArgs {
    const void* x;
    void* y;
    i64 items;
    i64 x_wrap;
    int c, plane, window;
    float alpha, beta, k;
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) lrn(const LrnArgs a) {
    const i64 per_item = (i64)a.c * a.plane;
    GRID_LOOP(idx, a.items * per_item) {
        const i64 item = idx / per_item;
        const int r = (int)(idx - item * per_item);
        const int ch = r / a.plane, i = r - ch * a.plane;
        const i64 base = (a.x_wrap ? item % a.x_wrap : item) * per_item + i;
        const int half_w = a.window / 2;
        const int lo = max(ch - half_w, 0), hi = min(ch + half_w + 1, a.c);
        float sum = 0.0f;
        for (int j = lo; j < hi; j++) {
            const float v = load_t(a.x, base + (i64)j * a.plane, a.xt, a.xs);
            sum += v * v;
        }
        const float v = load_t(a.x, base + (i64)ch * a.plane, a.xt, a.xs);
        store_t(a.y, idx, v / powf(a.k + a.alpha / (float)a.window * sum, a.beta), a.yt, a.ys);
    }
}
