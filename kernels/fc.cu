// Fully connected layer as a tiled GEMM, `y[rows, n] = x[rows, kdim] · Wᵀ + bias`, with the
// activation and the output's storage conversion fused. 256 threads compute a 64×64 tile; each
// thread owns rows ty + 16i and columns tx + 16j, so its stores are coalesced across the warp.
// INT8 layers accumulate INT8 products in INT32 (see conv.cu for why that equals the CPU). A
// softmax over the (at most 64) outputs of each row can be fused too: one tile holds a whole row.

struct FcArgs {
    const void* x;
    void* y;
    const float* w;
    const signed char* wq;
    const float* bias;
    const float* wscale;
    i64 rows;
    i64 x_wrap;
    int kdim, n;
    int act;
    float alpha, beta;
    float xs, ys, qs;
    int raw;
    int softmax;
    // Storage tags of x and y (fc_rows.cu; fc.cu's kernels are typed at compile time).
    int xt, yt;
};

template <typename TI, typename TO, bool Q>
__device__ __forceinline__ void fc_body(const FcArgs& a) {
    typedef typename Acc<Q>::T A;
    __shared__ A xt[16][65];
    __shared__ A wt[16][65];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const i64 row0 = (i64)blockIdx.x * 64;
    const int col0 = blockIdx.y * 64;
    A acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = 0;
    for (int k0 = 0; k0 < a.kdim; k0 += 16) {
        for (int l = threadIdx.x; l < 1024; l += 256) {
            const int r = l / 16, kk = l % 16, kx = k0 + kk;
            const i64 row = row0 + r;
            const int col = col0 + r;
            A xv = 0, wv = 0;
            if (row < a.rows && kx < a.kdim) {
                const i64 xo = (a.x_wrap ? row % a.x_wrap : row) * a.kdim + kx;
                if (Q) xv = (A)ldq<TI>(a.x, xo, a.xs, a.qs, a.raw);
                else xv = (A)ld<TI>(a.x, xo, a.xs);
            }
            if (col < a.n && kx < a.kdim) {
                const i64 wo = (i64)col * a.kdim + kx;
                if (Q) wv = (A)a.wq[wo];
                else wv = (A)a.w[wo];
            }
            xt[kk][r] = xv;
            wt[kk][r] = wv;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < 16; kk++) {
            A xr[4], wr[4];
            for (int i = 0; i < 4; i++) xr[i] = xt[kk][ty + 16 * i];
            for (int j = 0; j < 4; j++) wr[j] = wt[kk][tx + 16 * j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] += xr[i] * wr[j];
        }
        __syncthreads();
    }
    if (a.softmax) {
        __shared__ float tile[64][65];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const int col = tx + 16 * j;
                const int cc = min(col, a.n - 1);
                float v = Q ? __fadd_rn(__fmul_rn((float)acc[i][j], a.wscale[cc]), a.bias[cc]) : (float)acc[i][j] + a.bias[cc];
                if (col < a.n) v = activate(a.act, a.alpha, a.beta, v);
                tile[ty + 16 * i][col] = v;
            }
        __syncthreads();
        const i64 row = row0 + threadIdx.x;
        if (threadIdx.x < 64 && row < a.rows) {
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < a.n; c++) mx = fmaxf(mx, tile[threadIdx.x][c]);
            for (int c = 0; c < a.n; c++) sum += expf(tile[threadIdx.x][c] - mx);
            for (int c = 0; c < a.n; c++) st<TO>(a.y, row * a.n + c, expf(tile[threadIdx.x][c] - mx) / sum, a.ys);
        }
        return;
    }
    for (int i = 0; i < 4; i++) {
        const i64 row = row0 + ty + 16 * i;
        if (row >= a.rows) continue;
        for (int j = 0; j < 4; j++) {
            const int col = col0 + tx + 16 * j;
            if (col >= a.n) continue;
            float v = Q ? __fadd_rn(__fmul_rn((float)acc[i][j], a.wscale[col]), a.bias[col]) : (float)acc[i][j] + a.bias[col];
            v = activate(a.act, a.alpha, a.beta, v);
            st<TO>(a.y, row * a.n + col, v, a.ys);
        }
    }
}

#define FC(NAME, TI, TO, Q) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const FcArgs a) { fc_body<TI, TO, Q>(a); }
FC(fc_f_f32_f32, F32, F32, false) FC(fc_f_f32_f16, F32, F16, false) FC(fc_f_f32_i8, F32, I8, false)
FC(fc_f_f16_f32, F16, F32, false) FC(fc_f_f16_f16, F16, F16, false) FC(fc_f_f16_i8, F16, I8, false)
FC(fc_f_i8_f32, I8, F32, false) FC(fc_f_i8_f16, I8, F16, false) FC(fc_f_i8_i8, I8, I8, false)
FC(fc_q_f32_f32, F32, F32, true) FC(fc_q_f32_f16, F32, F16, true) FC(fc_q_f32_i8, F32, I8, true)
FC(fc_q_f16_f32, F16, F32, true) FC(fc_q_f16_f16, F16, F16, true) FC(fc_q_f16_i8, F16, I8, true)
FC(fc_q_i8_f32, I8, F32, true) FC(fc_q_i8_f16, I8, F16, true) FC(fc_q_i8_i8, I8, I8, true)
