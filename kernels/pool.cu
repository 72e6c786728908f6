// Max, average and max-average-blend pooling over the last two dimensions, windows clipped as
// backend/cpu/pool.rs clips them (Caffe's divisor when padding counts).

struct PoolArgs {
    const void* x;
    void* y;
    i64 planes;  // batch items times the dimensions before H and W
    i64 x_wrap;
    int h, w, oh, ow, wh, ww, sh, sw, ph, pw, posth, postw;
    int kind;  // 0 max, 1 average, 2 blend
    float blend;
    int exclude_padding;
    int xt, yt;
    float xs, ys;
};

__device__ __forceinline__ void pool_span(int o, int stride, int pre, int window, int n, int post, int* lo, int* hi, int* padded) {
    const int start = o * stride - pre;
    const int end = min(start + window, n + post);
    *lo = max(start, 0);
    *hi = min(max(max(end, 0), *lo), n);
    *padded = max(end - start, 0);
}

extern "C" __global__ void __launch_bounds__(256) pool(const PoolArgs a) {
    const int oplane = a.oh * a.ow;
    GRID_LOOP(idx, a.planes * oplane) {
        const i64 plane = idx / oplane;
        const int p = (int)(idx - plane * oplane);
        const int oy = p / a.ow, ox = p - oy * a.ow;
        int ylo, yhi, ypad, xlo, xhi, xpad;
        pool_span(oy, a.sh, a.ph, a.wh, a.h, a.posth, &ylo, &yhi, &ypad);
        pool_span(ox, a.sw, a.pw, a.ww, a.w, a.postw, &xlo, &xhi, &xpad);
        const int count = (yhi - ylo) * (xhi - xlo);
        float v = 0.0f;
        if (count > 0) {
            const i64 base = (a.x_wrap ? plane % a.x_wrap : plane) * a.h * a.w;
            float mx = NEG_INF, sum = 0.0f;
            for (int y = ylo; y < yhi; y++)
                for (int x = xlo; x < xhi; x++) {
                    const float e = load_t(a.x, base + y * a.w + x, a.xt, a.xs);
                    mx = fmaxf(mx, e);
                    sum += e;
                }
            const float avg = sum / (float)(a.exclude_padding ? count : ypad * xpad);
            v = a.kind == 0 ? mx : a.kind == 1 ? avg : a.blend * mx + (1.0f - a.blend) * avg;
        }
        store_t(a.y, idx, v, a.yt, a.ys);
    }
}
