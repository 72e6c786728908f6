// FP16 and INT8 fully connected layers over many rows, on the tensor cores. An FC layer's rows
// (items) are its input as stored, already in the multiplication's type (half, or INT8 on the
// layer's grid) and contiguous: they are copied into shared memory as they are, 16 bytes at a
// time by cp.async, through a four-stage pipeline, where igemm.cu gathers through its offset
// table and converts each value in registers. A block computes a 128x64 tile, a warp 32x32
// (eight mma per 32-deep step); results go through a shared tile so that a row's channels are
// stored together. Same sums as igemm.cu: INT8 exactly the CPU's integers, FP16 products exact
// in FP32 accumulators.

#define FCM 128
#define FCN 64
#define FC_STAGES 4

// Bytes of a staged row: a 32-deep step (32 INT8 values or 32 halves) and 16 bytes of padding,
// which put the eight rows of a warp's fragment reads on distinct banks.
template <int MODE> struct FcRow;
template <> struct FcRow<MODE_I8> { static constexpr int BYTES = 48; };
template <> struct FcRow<MODE_F16> { static constexpr int BYTES = 80; };

template <typename TO, int MODE>
__device__ __forceinline__ void fc_mma(const GemmArgs& a) {
    constexpr int ROW = FcRow<MODE>::BYTES;
    constexpr int ES = MODE == MODE_I8 ? 1 : 2;
    constexpr int CH = GK * ES / 16;  // 16-byte chunks of a row's step
    extern __shared__ __align__(16) unsigned char fc_smem[];
    unsigned char* sa = fc_smem;                           // [stage][FCM rows][ROW]
    unsigned char* sb = fc_smem + FC_STAGES * FCM * ROW;   // [stage][FCN columns][ROW]
    float(*cs)[FCN + 1] = (float(*)[FCN + 1])fc_smem;     // after the last step
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int gq = lane >> 2, t = lane & 3;
    const i64 m0 = (i64)blockIdx.x * FCM;
    const int n0 = blockIdx.y * FCN;
    const int wm = (warp & 3) * 32, wn = (warp >> 2) * 32;
    const int steps = a.kpad / GK;
    const i64 rbytes = (i64)a.kdim * ES;
    const char* x = (const char*)a.x;
    const char* w = (const char*)a.w + (i64)n0 * a.kpad * ES;

    // The input's rows are whole 16-byte words (the host's condition) where the tensor starts on
    // one; an activation arena places tensors at 4-byte multiples, so the start is checked here.
    const bool aligned = ((unsigned long long)x & 15) == 0;
    // Step s into stage st: rows past the last and bytes past the row are zeros.
    auto load = [&](int s, int st) {
        const int kb = s * GK * ES;
        for (int c = tid; c < FCM * CH; c += blockDim.x) {
            const int r = c / CH, off = kb + (c - r * CH) * 16;
            const bool in = m0 + r < a.items && off < rbytes;
            unsigned char* dst = sa + (st * FCM + r) * ROW + off - kb;
            const char* src = in ? x + (m0 + r) * rbytes + off : x;
            if (aligned) {
                cp_async16(dst, src, in ? 16 : 0);
            } else {
                unsigned v[4] = {0, 0, 0, 0};
                if (in)
#pragma unroll
                    for (int q = 0; q < 4; q++) v[q] = word_at(src + 4 * q);
                *(uint4*)dst = make_uint4(v[0], v[1], v[2], v[3]);
            }
        }
        for (int c = tid; c < FCN * CH; c += blockDim.x) {
            const int r = c / CH, off = kb + (c - r * CH) * 16;
            cp_async16(sb + (st * FCN + r) * ROW + off - kb, w + (i64)r * a.kpad * ES + off, 16);
        }
    };

    typedef typename Acc<MODE == MODE_I8>::T A;
    A acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0;

#pragma unroll
    for (int s = 0; s < FC_STAGES - 1; s++) {
        if (s < steps) load(s, s);
        asm volatile("cp.async.commit_group;");
    }
    for (int s = 0; s < steps; s++) {
        asm volatile("cp.async.wait_group %0;" ::"n"(FC_STAGES - 2));
        // Step s has landed for every thread, and step s - 1's stage is free to refill.
        __syncthreads();
        if (s + FC_STAGES - 1 < steps) load(s + FC_STAGES - 1, (s + FC_STAGES - 1) % FC_STAGES);
        asm volatile("cp.async.commit_group;");
        const unsigned char* as = sa + (s % FC_STAGES) * FCM * ROW;
        const unsigned char* bs = sb + (s % FC_STAGES) * FCN * ROW;
        // One k32 mma step (INT8) or two k16 steps (FP16) of 32 bytes: a fragment register is
        // the word at byte 4t (first half) or 16 + 4t (second) of its row, for A and B alike.
#pragma unroll
        for (int kb = 0; kb < GK * ES; kb += 32) {
            unsigned af[2][4], bf[4][2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const unsigned char* r0 = as + (wm + i * 16 + gq) * ROW + kb + 4 * t;
                af[i][0] = word_at(r0);
                af[i][1] = word_at(r0 + 8 * ROW);
                af[i][2] = word_at(r0 + 16);
                af[i][3] = word_at(r0 + 8 * ROW + 16);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const unsigned char* r0 = bs + (wn + j * 8 + gq) * ROW + kb + 4 * t;
                bf[j][0] = word_at(r0);
                bf[j][1] = word_at(r0 + 16);
            }
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    if constexpr (MODE == MODE_I8) mma_i8(acc[i][j], af[i], bf[j][0], bf[j][1]);
                    else mma_f16(acc[i][j], af[i], bf[j][0], bf[j][1]);
                }
        }
    }
    asm volatile("cp.async.wait_group 0;");
    __syncthreads();

    // Scale (INT8: the CPU's per-channel factors, operation for operation), bias, activation,
    // into the shared tile: accumulator r of tiles (i, j) is row wm + 16i + gq + 8 (r >> 1),
    // column wn + 8j + 2t + (r & 1).
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int col = wn + j * 8 + 2 * t;
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int c = col + (r & 1);
            float m, b;
            if constexpr (MODE == MODE_I8) {
                m = a.emul[n0 + c];
                b = a.eadd[n0 + c];
            } else {
                m = 1.0f;
                b = a.bias[n0 + c];
            }
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const float v = MODE == MODE_I8 ? __fadd_rn(__fmul_rn((float)acc[i][j][r], m), b) : acc[i][j][r] + b;
                cs[wm + i * 16 + gq + 8 * (r >> 1)][c] = activate_fast(a.act, a.alpha, a.beta, v);
            }
        }
    }
    __syncthreads();
    // Row-major output: consecutive threads on consecutive channels of a row.
    const int ncols = min(FCN, a.n - n0);
    for (int o = tid; o < FCM * FCN; o += blockDim.x) {
        const int r = o / FCN, c = o - r * FCN;
        if (c < ncols && m0 + r < a.items) st<TO>(a.y, (m0 + r) * a.n + n0 + c, cs[r][c], a.ys);
    }
}

// fc_mma_h_f16_{output} (FP16) and fc_mma_q_i8_{output} (INT8).
#define FC_MMA(NAME, TO, MODE) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const GemmArgs a) { fc_mma<TO, MODE>(a); }
FC_MMA(fc_mma_h_f16_f32, F32, MODE_F16)
FC_MMA(fc_mma_h_f16_f16, F16, MODE_F16)
FC_MMA(fc_mma_h_f16_i8, I8, MODE_F16)
FC_MMA(fc_mma_h_f16_f32h, F32H, MODE_F16)
FC_MMA(fc_mma_q_i8_f32, F32, MODE_I8)
FC_MMA(fc_mma_q_i8_f16, F16, MODE_I8)
FC_MMA(fc_mma_q_i8_i8, I8, MODE_I8)
