// Reductions and selections along axes: one thread per output element, reading its inputs in the
// CPU's order, so sums accumulate in the same order as backend/cpu's.

// Reduce (backend/cpu/reduce.rs): the output runs over the kept dimensions in order, and each
// element folds the reduced dimensions in C order (`count` elements).
struct ReduceArgs {
    const void* x;
    void* y;
    i64 n;  // output elements, batch included
    i64 x_wrap;
    i64 x_item;
    i64 per_item;
    i64 count;
    int op;  // ReduceOperation: 0 sum, 1 prod, 2 max, 3 min, 4 average
    int kept, reduced;
    int kdims[8];
    int rdims[8];
    i64 kstrides[8];
    i64 rstrides[8];
    int xt, yt;
    float xs, ys;
};

extern "C" __global__ void __launch_bounds__(256) reduce(const ReduceArgs a) {
    GRID_LOOP(i, a.n) {
        const i64 item = i / a.per_item;
        i64 rest = i - item * a.per_item;
        i64 base = (a.x_wrap ? item % a.x_wrap : item) * a.x_item;
        for (int d = a.kept - 1; d >= 0; d--) {
            const i64 q = rest / a.kdims[d];
            base += (rest - q * a.kdims[d]) * a.kstrides[d];
            rest = q;
        }
        float acc = a.op == 1 ? 1.0f : a.op == 2 ? NEG_INF : a.op == 3 ? -NEG_INF : 0.0f;
        for (i64 j = 0; j < a.count; j++) {
            i64 r = j, at = base;
            for (int d = a.reduced - 1; d >= 0; d--) {
                const i64 q = r / a.rdims[d];
                at += (r - q * a.rdims[d]) * a.rstrides[d];
                r = q;
            }
            const float v = load_t(a.x, at, a.xt, a.xs);
            if (a.op == 1) acc *= v;
            else if (a.op == 2) acc = fmaxf(acc, v);
            else if (a.op == 3) acc = fminf(acc, v);
            else acc += v;
        }
        if (a.op == 4) acc /= (float)a.count;
        store_t(a.y, i, acc, a.yt, a.ys);
    }
}

// Top-k along one axis (backend/cpu/topk.rs): one thread per input element, which lands at its
// rank, the number of elements before it in the order best first, ties by lower index; elements
// of rank k or more are dropped. Rows are batch items times the dimensions before the axis.
struct TopkArgs {
    const void* x;
    void* values;
    void* indices;
    i64 rows;
    i64 x_wrap;
    int n, inner, k, max;
    int xt, vt, it;
    float xs, vs, is;
};

extern "C" __global__ void __launch_bounds__(256) topk(const TopkArgs a) {
    const i64 per_row = (i64)a.n * a.inner;
    GRID_LOOP(i, a.rows * per_row) {
        const i64 row = i / per_row;
        const int r = (int)(i - row * per_row);
        const int j = r / a.inner, e = r - j * a.inner;
        const i64 src = (a.x_wrap ? row % a.x_wrap : row) * per_row + e;
        const float v = load_t(a.x, src + (i64)j * a.inner, a.xt, a.xs);
        int rank = 0;
        for (int t = 0; t < a.n && rank < a.k; t++) {
            const float u = load_t(a.x, src + (i64)t * a.inner, a.xt, a.xs);
            rank += (a.max ? u > v : u < v) || (u == v && t < j);
        }
        if (rank < a.k) {
            const i64 o = (row * a.k + rank) * a.inner + e;
            store_t(a.values, o, v, a.vt, a.vs);
            store_t(a.indices, o, (float)j, a.it, a.is);
        }
    }
}
