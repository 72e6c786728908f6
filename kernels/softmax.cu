// Softmax along one axis, shifted by the maximum (backend/cpu/softmax.rs): one thread per
// (row, inner position); rows are batch items times the dimensions before the axis.

struct SoftmaxArgs {
    const void* x;
    void* y;
    i64 rows;
    i64 x_wrap;
    int n, inner;
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) softmax(const SoftmaxArgs a) {
    GRID_LOOP(idx, a.rows * a.inner) {
        const i64 row = idx / a.inner;
        const int i = (int)(idx - row * a.inner);
        const i64 len = (i64)a.n * a.inner;
        const i64 src = (a.x_wrap ? row % a.x_wrap : row) * len + i;
        const i64 dst = row * len + i;
        float mx = NEG_INF;
        for (int j = 0; j < a.n; j++) mx = fmaxf(mx, load_t(a.x, src + (i64)j * a.inner, a.xt, a.xs));
        float sum = 0.0f;
        for (int j = 0; j < a.n; j++) sum += expf(load_t(a.x, src + (i64)j * a.inner, a.xt, a.xs) - mx);
        for (int j = 0; j < a.n; j++) {
            const float e = expf(load_t(a.x, src + (i64)j * a.inner, a.xt, a.xs) - mx);
            store_t(a.y, dst + (i64)j * a.inner, e / sum, a.yt, a.ys);
        }
    }
}
