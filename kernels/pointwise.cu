// One-input element-wise layers: activation, unary, scale, identity and storage conversion. A
// batch-invariant input (x_n < n) repeats across the batch, as backend/cpu's `pointwise` does.

struct MapArgs {
    const void* x;
    void* y;
    i64 n;    // output elements
    i64 x_n;  // elements stored in x
    int op;   // 0 activation, 1 unary, 2 scale, 3 copy
    int code;
    float alpha, beta;
    const float* shift;
    const float* scale;
    const float* power;
    int run_len, coefs, runs;  // scale: elements sharing a coefficient, coefficients, runs per item
    int xt, yt;
    float xs, ys;
};

__device__ __forceinline__ float unary_op(int code, float v) {
    switch (code) {
    case 0: return expf(v);
    case 1: return logf(v);
    case 2: return sqrtf(v);
    case 3: return 1.0f / v;
    case 4: return fabsf(v);
    case 5: return -v;
    case 6: return sinf(v);
    case 7: return cosf(v);
    case 8: return tanf(v);
    case 9: return sinhf(v);
    case 10: return coshf(v);
    case 11: return asinf(v);
    case 12: return acosf(v);
    case 13: return atanf(v);
    case 14: return asinhf(v);
    case 15: return acoshf(v);
    case 16: return atanhf(v);
    case 17: return ceilf(v);
    case 18: return floorf(v);
    default: return erff(v);
    }
}

extern "C" __global__ void __launch_bounds__(256) map(const MapArgs a) {
    GRID_LOOP(i, a.n) {
        const i64 xi = i % a.x_n;
        const float v = load_t(a.x, xi, a.xt, a.xs);
        float r;
        if (a.op == 0) r = activate(a.code, a.alpha, a.beta, v);
        else if (a.op == 1) r = unary_op(a.code, v);
        else if (a.op == 2) {
            const int c = (int)((xi / a.run_len) % a.runs % a.coefs);
            const float p = a.power[c];
            r = v * a.scale[c] + a.shift[c];
            if (p != 1.0f) r = powf(r, p);
        } else r = v;
        store_t(a.y, i, r, a.yt, a.ys);
    }
}

// Two inputs broadcast to the output (ElementWise, ParametricRelu), or three (Select, whose
// condition is `c`): strides are 0 along the dimensions an input repeats, as in
// backend/cpu/eltwise.rs.
struct BinArgs {
    const void* a;
    const void* b;
    void* y;
    i64 n;
    int rank;
    int dims[8];
    i64 sa[8];
    i64 sb[8];
    int op;  // ElementWiseOperation codes 0..7, 8 parametric ReLU, 9 select (c != 0 ? a : b)
    int at, bt, yt;
    float as, bs, ys;
    const void* c;
    i64 sc[8];
    int ct;
    float cs;
};

extern "C" __global__ void __launch_bounds__(256) binary(const BinArgs p) {
    GRID_LOOP(i, p.n) {
        i64 rest = i, oa = 0, ob = 0, oc = 0;
        for (int d = p.rank - 1; d >= 0; d--) {
            const i64 q = rest / p.dims[d];
            const int c = (int)(rest - q * p.dims[d]);
            oa += c * p.sa[d];
            ob += c * p.sb[d];
            oc += c * p.sc[d];
            rest = q;
        }
        const float x = load_t(p.a, oa, p.at, p.as), y = load_t(p.b, ob, p.bt, p.bs);
        float r;
        switch (p.op) {
        case 0: r = x + y; break;
        case 1: r = x * y; break;
        case 2: r = fmaxf(x, y); break;
        case 3: r = fminf(x, y); break;
        case 4: r = x - y; break;
        case 5: r = x / y; break;
        case 6: r = powf(x, y); break;
        case 7: r = floorf(x / y); break;
        case 8: r = x >= 0.0f ? x : x * y; break;
        default: r = load_t(p.c, oc, p.ct, p.cs) != 0.0f ? x : y; break;
        }
        store_t(p.y, i, r, p.yt, p.ys);
    }
}
