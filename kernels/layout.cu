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

// Shuffle and Slice (backend/cpu/shuffle.rs, slice.rs): each output element, in C order over
// `dims`, reads x at `base + Σ index[d] · strides[d]` within its item. A shuffle whose reshape
// sits between two transposes goes through the reshaped tensor's index space: the strides then
// give the position in the first transpose's output (C order over `mid_dims`), and `mid_strides`
// map that to x. Strides may be negative (reversed slices).
struct StridedArgs {
    const void* x;
    void* y;
    i64 n;  // output elements, batch included
    i64 per_item;
    i64 x_item;
    i64 x_wrap;
    i64 base;
    int rank, mid_rank;  // mid_rank 0: the strides address x directly
    int dims[8];
    int mid_dims[8];
    i64 strides[8];
    i64 mid_strides[8];
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) strided(const StridedArgs a) {
    GRID_LOOP(i, a.n) {
        const i64 item = i / a.per_item;
        i64 rest = i - item * a.per_item, at = 0;
        for (int d = a.rank - 1; d >= 0; d--) {
            const i64 q = rest / a.dims[d];
            at += (rest - q * a.dims[d]) * a.strides[d];
            rest = q;
        }
        if (a.mid_rank > 0) {
            i64 m = at;
            at = 0;
            for (int d = a.mid_rank - 1; d >= 0; d--) {
                const i64 q = m / a.mid_dims[d];
                at += (m - q * a.mid_dims[d]) * a.mid_strides[d];
                m = q;
            }
        }
        const i64 xi = (a.x_wrap ? item % a.x_wrap : item) * a.x_item + a.base + at;
        store_t(a.y, i, load_t(a.x, xi, a.xt, a.xs), a.yt, a.ys);
    }
}

// Gather along one axis (backend/cpu/gather.rs): y[o, j, e] = x[o, idx[j], e] per item, with
// `outer` rows before the axis and `inner` elements after it. The CPU rejects an index outside
// the axis; a kernel cannot, so such an element reads as 0 rather than out of bounds.
struct GatherArgs {
    const void* x;
    const void* idx;
    void* y;
    i64 n;  // output elements, batch included
    i64 x_wrap;
    i64 idx_wrap;
    int outer, len, inner, nidx;
    int xt, it, yt;
    float xs, is, ys;
};

extern "C" __global__ void __launch_bounds__(256) gather(const GatherArgs a) {
    const i64 per_item = (i64)a.outer * a.nidx * a.inner;
    GRID_LOOP(i, a.n) {
        const i64 item = i / per_item;
        const i64 r = i - item * per_item;
        const i64 row = r / a.inner;
        const int e = (int)(r - row * a.inner);
        const int o = (int)(row / a.nidx), j = (int)(row - (i64)o * a.nidx);
        const i64 ii = (a.idx_wrap ? item % a.idx_wrap : item) * a.nidx + j;
        const float v = load_t(a.idx, ii, a.it, a.is);
        float val = 0.0f;
        if (v >= 0.0f && v < (float)a.len && v == floorf(v)) {
            const i64 xi = (a.x_wrap ? item % a.x_wrap : item) * a.outer + o;
            val = load_t(a.x, (xi * a.len + (int)v) * a.inner + e, a.xt, a.xs);
        }
        store_t(a.y, i, val, a.yt, a.ys);
    }
}
