// Fully connected layer for a few rows (small batches): one warp per output column reads that
// column's weights once, in 16-byte pieces, and multiplies them with every row; the rows sit in
// shared memory. fc.cu's and igemm.cu's tiles spend most of a batch-1 launch in staging,
// prologue and epilogue; this kernel's latency is about one pass over the weights. Warp sums
// are reduced by shuffles: INT8 sums are exact integers, so they equal the CPU's; FP32 sums are
// in another order than the CPU's. Storage types come as run-time tags (FcArgs.xt, .yt): each
// value is loaded and stored once.

#define FCR_ROWS 8
#define FCR_WARPS 8

__device__ __forceinline__ int dot16(int4 w, int4 x, int acc) {
    return dp4a(w.w, x.w, dp4a(w.z, x.z, dp4a(w.y, x.y, dp4a(w.x, x.x, acc))));
}

__device__ __forceinline__ float dot4(float4 w, float4 x, float acc) {
    return fmaf(w.w, x.w, fmaf(w.z, x.z, fmaf(w.y, x.y, fmaf(w.x, x.x, acc))));
}

template <bool Q>
__device__ __forceinline__ void fc_rows_body(const FcArgs& a) {
    typedef typename Acc<Q>::T A;
    // The rows, as the layer's integers (INT8) or floats: a.rows x a.kdim, 16-byte aligned.
    extern __shared__ int4 staged[];
    __shared__ float soft[FCR_ROWS][64];
    const int rows = (int)a.rows, kd = a.kdim;
    for (int i = threadIdx.x; i < rows * kd; i += blockDim.x) {
        const int r = i / kd;
        const i64 src = (a.x_wrap ? r % a.x_wrap : r) * (i64)kd + (i - r * kd);
        if (Q) {
            const int v = a.xt == ST_I8 && a.raw ? ((const signed char*)a.x)[src] : quant(load_t(a.x, src, a.xt, a.xs), a.qs);
            ((signed char*)staged)[i] = (signed char)v;
        } else {
            ((float*)staged)[i] = load_t(a.x, src, a.xt, a.xs);
        }
    }
    __syncthreads();
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    // Whole 16-byte pieces when every row (of weights and of staged inputs) starts aligned.
    const int per = Q ? 16 : 4;
    const bool pieces = kd % per == 0;
    for (int col = blockIdx.x * FCR_WARPS + warp; col < a.n; col += gridDim.x * FCR_WARPS) {
        A acc[FCR_ROWS];
#pragma unroll
        for (int r = 0; r < FCR_ROWS; r++) acc[r] = 0;
        if (pieces) {
            const int np = kd / per;
            for (int p = lane; p < np; p += 32) {
                if (Q) {
                    const int4 w = ((const int4*)(a.wq + (i64)col * kd))[p];
#pragma unroll
                    for (int r = 0; r < FCR_ROWS; r++)
                        if (r < rows) acc[r] = dot16(w, staged[r * np + p], acc[r]);
                } else {
                    const float4 w = ((const float4*)(a.w + (i64)col * kd))[p];
#pragma unroll
                    for (int r = 0; r < FCR_ROWS; r++)
                        if (r < rows) acc[r] = dot4(w, ((const float4*)staged)[r * np + p], acc[r]);
                }
            }
        } else {
            for (int k = lane; k < kd; k += 32) {
                const A w = Q ? (A)a.wq[(i64)col * kd + k] : (A)a.w[(i64)col * kd + k];
#pragma unroll
                for (int r = 0; r < FCR_ROWS; r++) {
                    if (r >= rows) continue;
                    if (Q) acc[r] += w * (A)((const signed char*)staged)[r * kd + k];
                    else acc[r] = fmaf(w, ((const float*)staged)[r * kd + k], acc[r]);
                }
            }
        }
        // Every lane ends with every row's sum; lane r keeps row r's.
        A mine = 0;
#pragma unroll
        for (int r = 0; r < FCR_ROWS; r++) {
            A s = acc[r];
            for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
            if (r == lane) mine = s;
        }
        if (lane < rows) {
            float v = Q ? __fadd_rn(__fmul_rn((float)mine, a.wscale[col]), a.bias[col]) : (float)mine + a.bias[col];
            v = activate(a.act, a.alpha, a.beta, v);
            if (a.softmax) soft[lane][col] = v;
            else store_t(a.y, (i64)lane * a.n + col, v, a.yt, a.ys);
        }
    }
    // A fused softmax: one block (the host launches one) holds every column of every row.
    if (a.softmax) {
        __syncthreads();
        if (threadIdx.x < rows) {
            const int r = threadIdx.x;
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < a.n; c++) mx = fmaxf(mx, soft[r][c]);
            for (int c = 0; c < a.n; c++) sum += expf(soft[r][c] - mx);
            for (int c = 0; c < a.n; c++) store_t(a.y, (i64)r * a.n + c, expf(soft[r][c] - mx) / sum, a.yt, a.ys);
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) fc_rows_f(const FcArgs a) { fc_rows_body<false>(a); }
extern "C" __global__ void __launch_bounds__(256) fc_rows_q(const FcArgs a) { fc_rows_body<true>(a); }
