// Small batches of an INT8 network that is a chain of convolutions (each with an optional ReLU and
// max pooling) and then two FC layers (and a softmax): two launches instead of one a layer. At
// such batches the time is launches and each kernel's latency chain, not arithmetic (LeNet at
// batch 100 on an H200: four launches in a graph, 54 µs), so:
// - chain_conv takes one item a block (block-stride) through every convolution of the chain, the
//   item's activations in shared memory. A convolution is an implicit GEMM on mma m16n8k32 whose
//   reduction runs over groups of 4 channels at one tap: the staged input is HWC with channels
//   padded to 4 and zeros around the plane, so each A fragment register is one 32-bit load at a
//   row's window origin plus the group's offset, with no bounds checks. Weights (as B fragments),
//   group offsets and epilogue factors of every layer come in one blob, copied into shared memory
//   once a block around the first item's staging.
// - chain_fc takes 16 items x 32 outputs of the first FC layer a block (rows and weights staged by
//   cp.async, mma m16n8k32 in two halves of the reduction), its epilogue, then that slice's share
//   of the second layer's integer sums, added to a device accumulator by integer atomics (exact:
//   the order does not matter). The last block of each 16 items (a ticket) takes the sums,
//   zeroing them and the ticket for the next run, and runs the second epilogue and the softmax.
//   (Clusters of the 16 blocks of 16 items adding their sums through each other's shared memory
//   instead ran LeNet at batch 100 in 16.2 µs against 14.0 on an H200: cluster blocks did not start
//   beside the running chain_conv, so their weights were no longer staged while it ran.)
// Integers, epilogue operations and softmax are igemm.cu's: the outputs are bit-identical to the
// plan's launches layer by layer. Each network's kernels are compiled for its shapes (compile.rs):
// the program ends with the generated structs of its layers and one CHAIN_CONV and one CHAIN_FC
// line, so that every loop bound, stride and offset is a constant.
//
// A convolution's constants (Rust: backend::cuda::plan::chain::ConvLayer): staged input CP
// channels (a multiple of 4) by HP x WP (with padding), PH, PW of it before the C x H x W input;
// K output channels in NT n8 tiles, an OH x OW plane of stride SH, SW, KSTEPS 32-deep reduction
// steps (8 groups of 4 channels at a tap each; with PACK, a one-channel first layer staged in rows,
// of 4 taps of a row: plan/chain.rs Taps); RELU; max pooling PKH x PKW of stride PSH, PSW
// into POH x POW (1x1 of stride 1: none); byte offsets in the blob of GOFF (KSTEPS x 8 ints: a
// group's byte offset from a window's origin, 0 past the reduction), WFRAG (NT x KSTEPS x 32
// uint2 B fragments) and EMUL, EADD (NT x 8 floats, zero past K). The network's: BLOB bytes (a
// multiple of 16) of which the first layer's data take the first BLOB0, R0 and R1 the byte offsets of the two staged inputs (layers alternate between
// them) and R2 of the convolution outputs (layers not pooled 2x2 in registers).

struct ChainConvArgs {
    const float* x;      // first layer's input, quantized as staged
    signed char* y;      // last layer's output, INT8, CHW
    const int4* blob;
    i64 items;
    float qs;
};

__device__ __forceinline__ unsigned pack4(int a, int b, int c, int d) {
    return (a & 255) | (b & 255) << 8 | (c & 255) << 16 | (unsigned)(d & 255) << 24;
}

// Threads of a chain_conv block (Rust: plan/chain.rs CONV_THREADS): one item a block, so at
// small batches its warps are all an SM has to hide latency with.
#define CHAIN_THREADS 512

// The first layer's input of one item into the staged layout, quantized with the layer's scale
// (`qr` its reciprocal): every load of a pass in flight before the first is used.
template <class L>
__device__ __forceinline__ void chain_stage(const ChainConvArgs& a, i64 item, unsigned char* s, float qr) {
    constexpr int G = L::CP / 4, PLANE = L::H * L::W, WORDS = L::HP * L::WP * G;
    constexpr int PASS = (WORDS + CHAIN_THREADS - 1) / CHAIN_THREADS < 4 ? (WORDS + CHAIN_THREADS - 1) / CHAIN_THREADS : 4;
    for (int i0 = threadIdx.x; i0 < WORDS; i0 += PASS * CHAIN_THREADS) {
        float v[PASS][4];
#pragma unroll
        for (int u = 0; u < PASS; u++) {
            const int i = i0 + u * CHAIN_THREADS, pix = i / G, g = i - pix * G;
            const int sy = pix / L::WP, py = sy - L::PH, px = pix - sy * L::WP - L::PW;
            const bool row = i < WORDS && (unsigned)py < (unsigned)L::H;
            const float* p = a.x + (item * L::C + g * 4) * PLANE + py * L::W + px;
#pragma unroll
            for (int e = 0; e < 4; e++) {
                // PACK: the word holds the pixel and the next three of its row (one channel).
                const int x = px + (L::PACK ? e : 0);
                const bool in = row && (unsigned)x < (unsigned)L::W && (L::PACK || g * 4 + e < L::C);
                v[u][e] = in ? p[L::PACK ? e : e * PLANE] : 0.0f;
            }
        }
#pragma unroll
        for (int u = 0; u < PASS; u++) {
            const int i = i0 + u * CHAIN_THREADS;
            if (i < WORDS)
                ((unsigned*)s)[i] = pack4(quant_r(v[u][0], a.qs, qr), quant_r(v[u][1], a.qs, qr),
                                          quant_r(v[u][2], a.qs, qr), quant_r(v[u][3], a.qs, qr));
        }
    }
}

// One warp's job: 16 output positions from `mt * 16` by NN n8 tiles from `n0`.
template <class L, int NN>
__device__ __forceinline__ void chain_job(const unsigned char* blob, const unsigned char* xs, signed char* cs, int mt, int n0,
                                          const int* o0, const int* o1) {
    constexpr int M = L::OH * L::OW, KP = L::NT * 8;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int row[2], base[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        row[h] = mt * 16 + g + 8 * h;
        const int r = min(row[h], M - 1), oy = r / L::OW, ox = r - oy * L::OW;
        base[h] = (oy * L::SH * L::WP + ox * L::SW) * L::CP;
    }
    const uint2* wf = (const uint2*)(blob + L::WFRAG) + n0 * L::KSTEPS * 32 + lane;
    int acc[NN][4];
#pragma unroll
    for (int j = 0; j < NN; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[j][e] = 0;
#pragma unroll
    for (int ks = 0; ks < L::KSTEPS; ks++) {
        const unsigned af[4] = {word_at(xs + base[0] + o0[ks]), word_at(xs + base[1] + o0[ks]),
                                word_at(xs + base[0] + o1[ks]), word_at(xs + base[1] + o1[ks])};
#pragma unroll
        for (int j = 0; j < NN; j++) {
            const uint2 b = wf[(j * L::KSTEPS + ks) * 32];
            mma_i8(acc[j], af, b.x, b.y);
        }
    }
    // Every column below KP is written: padding channels (zero factors) store zeros, which the
    // next layer's staging takes as its padding channels. The values are in the output's units
    // (int8_epilogue on the host), requantized with scale 1.
    const float* emul = (const float*)(blob + L::EMUL);
    const float* eadd = (const float*)(blob + L::EADD);
#pragma unroll
    for (int j = 0; j < NN; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int r = row[e >> 1], col = (n0 + j) * 8 + 2 * t + (e & 1);
            // The CPU's epilogue operation for operation (no contraction into an FMA).
            float v = __fadd_rn(__fmul_rn((float)acc[j][e], emul[col]), eadd[col]);
            if (L::RELU) v = fmaxf(v, 0.0f);
            if (r < M) cs[r * KP + col] = (signed char)quant(v, 1.0f);
        }
    }
}

// One convolution, staged input `xs` -> `cs` ([OH x OW][NT x 8] INT8).
// This thread's group offsets at every step (its A fragment columns 4t.. and 16 + 4t..).
template <class L>
__device__ __forceinline__ void chain_offsets(const unsigned char* blob, int* o0, int* o1) {
    const int t = threadIdx.x & 3;
    const int* goff = (const int*)(blob + L::GOFF);
#pragma unroll
    for (int ks = 0; ks < L::KSTEPS; ks++) {
        o0[ks] = goff[ks * 8 + t];
        o1[ks] = goff[ks * 8 + 4 + t];
    }
}

// A job takes up to 4 n8 tiles, so that each A fragment it loads feeds four mma: the fragment
// loads bound these kernels by shared memory's bandwidth, not by idle warps (LeNet conv2 at batch
// 100 on an H200, jobs of one n8 tile: 14 warps, 16 steps in 4880 cycles, about 300 a step).
template <int MJOBS, int NT>
struct ChainWidth {
    static constexpr int WARPS = CHAIN_THREADS / 32, NW = 4;
    static constexpr int NG = (NT + NW - 1) / NW, LAST = NT - NW * (NG - 1);
};

// A job is 16 positions by up to 4 n8 tiles.
template <class L>
__device__ __forceinline__ void chain_conv_layer(const unsigned char* blob, const unsigned char* xs, signed char* cs) {
    constexpr int MT = (L::OH * L::OW + 15) / 16;
    typedef ChainWidth<MT, L::NT> W;
    constexpr int WARPS = W::WARPS, NW = W::NW, NG = W::NG, LAST = W::LAST;
    const int warp = threadIdx.x >> 5;
    int o0[L::KSTEPS], o1[L::KSTEPS];
    chain_offsets<L>(blob, o0, o1);
    for (int job = warp; job < MT * NG; job += WARPS) {
        const int mt = job % MT, ng = job / MT;
        if (ng == NG - 1) chain_job<L, LAST>(blob, xs, cs, mt, NW * ng, o0, o1);
        else chain_job<L, NW>(blob, xs, cs, mt, NW * ng, o0, o1);
    }
}

// 4 channels of one pooled position: the maximum of their words over the window (quantization
// never decreases, so pooling the stored values is pooling the sums).
template <class L>
__device__ __forceinline__ unsigned chain_pooled(const signed char* cs, int py, int px, int c4) {
    unsigned v = 0x80808080u;
#pragma unroll
    for (int i = 0; i < L::PKH; i++)
#pragma unroll
        for (int j = 0; j < L::PKW; j++)
            v = __vmaxs4(v, word_at(cs + ((py * L::PSH + i) * L::OW + px * L::PSW + j) * (L::NT * 8) + c4));
    return v;
}

// Pooling of layer L's outputs into layer N's staged input.
template <class L, class N>
__device__ __forceinline__ void chain_pool_into(const signed char* cs, unsigned char* s) {
    constexpr int G = N::CP / 4;
    for (int i = threadIdx.x; i < N::HP * N::WP * G; i += CHAIN_THREADS) {
        const int pix = i / G, g = i - pix * G;
        const int sy = pix / N::WP, py = sy - N::PH, px = pix - sy * N::WP - N::PW;
        const bool in = (unsigned)py < (unsigned)L::POH && (unsigned)px < (unsigned)L::POW;
        ((unsigned*)s)[i] = in ? chain_pooled<L>(cs, py, px, g * 4) : 0u;
    }
}

// Pooling of the last layer's outputs into the item's output (CHW).
template <class L>
__device__ __forceinline__ void chain_pool_out(const signed char* cs, signed char* y) {
    constexpr int PLANE = L::POH * L::POW;
    for (int i = threadIdx.x; i < L::K * PLANE; i += CHAIN_THREADS) {
        const int c = i / PLANE, p = i - c * PLANE, py = p / L::POW, px = p - py * L::POW;
        y[i] = (signed char)(chain_pooled<L>(cs, py, px, c & ~3) >> (8 * (c & 3)));
    }
}

// The output of the last convolution (CHW in device memory), where the next layer would be.
struct ChainOut {};
template <class N> struct ChainIsOut { static constexpr bool V = false; };
template <> struct ChainIsOut<ChainOut> { static constexpr bool V = true; };

// A convolution under 2x2 max pooling of stride 2, pooled in registers: a job's two m16 tiles
// are 8 pooled positions (rows g and g + 8 of tile u are window positions (u, 0) and (u, 1) of
// pooled position g), so each thread holds whole windows; their sums' maximum takes the one
// epilogue (which never decreases: positive factors, ReLU or none), written straight into the
// next layer's staged input `ns` (whose border is zero) or the output `y`.
template <class L, class N, int NN>
__device__ __forceinline__ void chain_job_pooled(const unsigned char* blob, const unsigned char* xs, unsigned char* ns, signed char* y,
                                                 int mj, int n0, const int* o0, const int* o1) {
    constexpr int P = L::POH * L::POW;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int p = mj * 8 + g, pc = min(p, P - 1), py = pc / L::POW, px = pc - py * L::POW;
    int base[2][2];
#pragma unroll
    for (int u = 0; u < 2; u++)
#pragma unroll
        for (int h = 0; h < 2; h++) base[u][h] = ((2 * py + u) * L::SH * L::WP + (2 * px + h) * L::SW) * L::CP;
    const uint2* wf = (const uint2*)(blob + L::WFRAG) + n0 * L::KSTEPS * 32 + lane;
    int acc[2][NN][4];
#pragma unroll
    for (int u = 0; u < 2; u++)
#pragma unroll
        for (int j = 0; j < NN; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[u][j][e] = 0;
#pragma unroll
    for (int ks = 0; ks < L::KSTEPS; ks++) {
        unsigned af[2][4];
#pragma unroll
        for (int u = 0; u < 2; u++) {
            af[u][0] = word_at(xs + base[u][0] + o0[ks]);
            af[u][1] = word_at(xs + base[u][1] + o0[ks]);
            af[u][2] = word_at(xs + base[u][0] + o1[ks]);
            af[u][3] = word_at(xs + base[u][1] + o1[ks]);
        }
#pragma unroll
        for (int j = 0; j < NN; j++) {
            const uint2 b = wf[(j * L::KSTEPS + ks) * 32];
            mma_i8(acc[0][j], af[0], b.x, b.y);
            mma_i8(acc[1][j], af[1], b.x, b.y);
        }
    }
    const float* emul = (const float*)(blob + L::EMUL);
    const float* eadd = (const float*)(blob + L::EADD);
#pragma unroll
    for (int j = 0; j < NN; j++) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const int col = (n0 + j) * 8 + 2 * t + e;
            const int m = max(max(acc[0][j][e], acc[0][j][2 + e]), max(acc[1][j][e], acc[1][j][2 + e]));
            // The CPU's epilogue operation for operation (no contraction into an FMA).
            float v = __fadd_rn(__fmul_rn((float)m, emul[col]), eadd[col]);
            if (L::RELU) v = fmaxf(v, 0.0f);
            const signed char q = (signed char)quant(v, 1.0f);
            if (p >= P) continue;
            if constexpr (ChainIsOut<N>::V) {
                if (col < L::K) y[col * P + p] = q;
            } else if (col < N::CP) {
                ns[((py + N::PH) * N::WP + px + N::PW) * N::CP + col] = q;
            }
        }
    }
}

template <class L, class N>
__device__ __forceinline__ void chain_conv_pooled(const unsigned char* blob, const unsigned char* xs, unsigned char* ns, signed char* y) {
    constexpr int MJ = (L::POH * L::POW + 7) / 8;
    typedef ChainWidth<MJ, L::NT> W;
    const int warp = threadIdx.x >> 5;
    int o0[L::KSTEPS], o1[L::KSTEPS];
    chain_offsets<L>(blob, o0, o1);
    for (int job = warp; job < MJ * W::NG; job += W::WARPS) {
        const int mj = job % MJ, ng = job / MJ;
        if (ng == W::NG - 1) chain_job_pooled<L, N, W::LAST>(blob, xs, ns, y, mj, W::NW * ng, o0, o1);
        else chain_job_pooled<L, N, W::NW>(blob, xs, ns, y, mj, W::NW * ng, o0, o1);
    }
}

template <class L>
struct ChainPool2 {
    static constexpr bool V = L::PKH == 2 && L::PKW == 2 && L::PSH == 2 && L::PSW == 2;
};

// Layer L reads its staged input `xa`; the next layer's is staged into `xb`.
template <class L>
__device__ __forceinline__ void chain_layers(const unsigned char* blob, unsigned char* xa, unsigned char* xb, signed char* cs, signed char* y) {
    if constexpr (ChainPool2<L>::V) {
        chain_conv_pooled<L, ChainOut>(blob, xa, nullptr, y);
    } else {
        chain_conv_layer<L>(blob, xa, cs);
        __syncthreads();
        chain_pool_out<L>(cs, y);
    }
    __syncthreads();
}

template <class L, class N, class... Rest>
__device__ __forceinline__ void chain_layers(const unsigned char* blob, unsigned char* xa, unsigned char* xb, signed char* cs, signed char* y) {
    if constexpr (ChainPool2<L>::V) {
        // Pooled windows write only the interior of the next staged plane: zeros around it.
        if constexpr (N::HP != N::H || N::WP != N::W) {
            for (int i = threadIdx.x; i < N::HP * N::WP * N::CP / 4; i += CHAIN_THREADS) ((unsigned*)xb)[i] = 0;
            __syncthreads();
        }
        chain_conv_pooled<L, N>(blob, xa, xb, nullptr);
    } else {
        chain_conv_layer<L>(blob, xa, cs);
        __syncthreads();
        chain_pool_into<L, N>(cs, xb);
    }
    // The rest of the blob (a no-op after the first item).
    asm volatile("cp.async.wait_group 0;");
    __syncthreads();
    chain_layers<N, Rest...>(blob, xb, xa, cs, y);
}

template <class... Ls> struct ChainLast;
template <class L> struct ChainLast<L> { typedef L T; };
template <class L, class N, class... Rest> struct ChainLast<L, N, Rest...> { typedef typename ChainLast<N, Rest...>::T T; };

template <class NET, class First, class... Rest>
__device__ __forceinline__ void chain_conv_body(const ChainConvArgs& a) {
    extern __shared__ __align__(16) unsigned char chain_smem[];
    unsigned char* xs = chain_smem + NET::R0;
    unsigned char* xt = chain_smem + NET::R1;
    signed char* cs = (signed char*)(chain_smem + NET::R2);
    // chain_fc may start now (programmatic dependent launch): it stages its weights while this
    // kernel runs, and waits for it before reading its outputs.
    asm volatile("griddepcontrol.launch_dependents;");
    // The first layer's part of the blob ahead of the first item's staging, the rest behind it
    // (the first layer's time covers its copy): staging's loads no longer queue behind 30 KB of
    // copies.
    for (int i = threadIdx.x; i < NET::BLOB0 / 16; i += CHAIN_THREADS) cp_async16(chain_smem + 16 * i, a.blob + i, 16);
    asm volatile("cp.async.commit_group;");
    const float qr = 1.0f / a.qs;
    typedef typename ChainLast<First, Rest...>::T Last;
    constexpr int OUT = Last::K * Last::POH * Last::POW;
    for (i64 item = blockIdx.x; item < a.items; item += gridDim.x) {
        chain_stage<First>(a, item, xs, qr);
        if (item == blockIdx.x) {
            for (int i = NET::BLOB0 / 16 + threadIdx.x; i < NET::BLOB / 16; i += CHAIN_THREADS)
                cp_async16(chain_smem + 16 * i, a.blob + i, 16);
            asm volatile("cp.async.commit_group;");
            asm volatile("cp.async.wait_group 1;");
        }
        __syncthreads();
        chain_layers<First, Rest...>(chain_smem, xs, xt, cs, a.y + item * OUT);
    }
}

#define CHAIN_CONV(NAME, NET, ...) \
    extern "C" __global__ void __launch_bounds__(CHAIN_THREADS) NAME(const ChainConvArgs a) { chain_conv_body<NET, __VA_ARGS__>(a); }

// The FC pair (Rust: backend::cuda::plan::chain). Constants: K1 inputs (a multiple of 4) in
// KSTEPS 32-deep steps, GROUPS of 32 outputs of the first layer, RELU1 after it; N2 outputs of
// the second (at most 64), SOFTMAX over them.
struct ChainFcArgs {
    const signed char* x;  // [items][K1] INT8 on the first layer's grid
    float* y;              // [items][N2], after the softmax when fused
    const uint2* w1;       // per group of 32 outputs: 4 n8 tiles x KSTEPS x 32 B fragments
    const float* emul1;    // GROUPS x 32, zero past the first layer's outputs
    const float* eadd1;
    const signed char* w2; // per group: [N2][32], zero past the first layer's outputs
    const float* emul2;    // N2
    const float* eadd2;
    int* acc;              // [items][N2] second-layer sums, zero between runs
    int* tickets;          // per 16 items, zero between runs
    i64 items;
};

#define CFC_ROWS 16

// Takes a ticket: the counter's old value, incremented with release and acquire semantics.
__device__ __forceinline__ int ticket(int* counter) {
    int old;
    asm volatile("atom.add.acq_rel.gpu.s32 %0, [%1], 1;" : "=r"(old) : "l"(counter) : "memory");
    return old;
}

// 4 bytes from global to shared memory, for rows not aligned to 16 bytes.
__device__ __forceinline__ void cp_async4(void* dst, const void* src) {
    unsigned d;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(d) : "l"(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(d), "l"(src) : "memory");
}

// COUNT steps of the first FC layer from step KB, one n8 tile `nt`.
template <class F, int KB, int COUNT>
__device__ __forceinline__ void chain_fc_steps(const unsigned char* sa, const uint2* sb, int nt, int* acc) {
    constexpr int RS = F::K1 + 16;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int s = 0; s < COUNT; s++) {
        const unsigned char* p = sa + g * RS + (KB + s) * 32 + 4 * t;
        const unsigned af[4] = {word_at(p), word_at(p + 8 * RS), word_at(p + 16), word_at(p + 8 * RS + 16)};
        const uint2 b = sb[(nt * F::KSTEPS + KB + s) * 32 + lane];
        mma_i8(acc, af, b.x, b.y);
    }
}

template <class F>
__device__ __forceinline__ void chain_fc_body(const ChainFcArgs& a) {
    // Staged row stride: the 8 rows of a fragment on distinct banks.
    constexpr int RS = F::K1 + 16;
    extern __shared__ __align__(16) unsigned char chain_smem[];
    unsigned char* sa = chain_smem;                                   // [16][RS]
    uint2* sb = (uint2*)(sa + CFC_ROWS * RS);                         // [4][KSTEPS][32]
    signed char* sw2 = (signed char*)(sb + 4 * F::KSTEPS * 32);       // [N2][32]
    signed char* sq = sw2 + F::N2 * 32;                               // [16][32]
    int* sred = (int*)(sq + CFC_ROWS * 32);                           // [4][32][4]
    float* sf = (float*)(sred + 4 * 32 * 4);                          // [16][N2]
    __shared__ int last_block;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const i64 i0 = (i64)blockIdx.x * CFC_ROWS;
    const int rows = (int)min((i64)CFC_ROWS, a.items - i0), grp = blockIdx.y;

    const int4* wsrc = (const int4*)(a.w1 + (i64)grp * 4 * F::KSTEPS * 32);
    for (int i = tid; i < F::KSTEPS * 64; i += blockDim.x) cp_async16(sb + 2 * i, wsrc + i, 16);
    const int4* w2src = (const int4*)(a.w2 + (i64)grp * F::N2 * 32);
    for (int i = tid; i < F::N2 * 2; i += blockDim.x) cp_async16(sw2 + 16 * i, w2src + i, 16);
    // The epilogue factors this thread applies, loaded while the convolutions run.
    const int ncol = grp * 32 + (warp & 3) * 8 + 2 * t;
    const float m1[2] = {a.emul1[ncol], a.emul1[ncol + 1]}, d1[2] = {a.eadd1[ncol], a.eadd1[ncol + 1]};
    __shared__ float m2[64], d2[64];
    if (tid < F::N2) {
        m2[tid] = a.emul2[tid];
        d2[tid] = a.eadd2[tid];
    }
    // The convolutions' outputs (chain_conv, launched before this kernel) are complete from here.
    asm volatile("griddepcontrol.wait;" ::: "memory");
    // Rows past the last repeat it (their results are dropped).
    if ((((unsigned long long)a.x | F::K1) & 15) == 0) {
        constexpr int CH = F::K1 / 16;
        for (int i = tid; i < CFC_ROWS * CH; i += blockDim.x) {
            const int r = i / CH, c = i - r * CH;
            cp_async16(sa + r * RS + c * 16, a.x + (i0 + min(r, rows - 1)) * F::K1 + c * 16, 16);
        }
    } else {
        constexpr int WORDS = F::K1 / 4;
        for (int i = tid; i < CFC_ROWS * WORDS; i += blockDim.x) {
            const int r = i / WORDS, c = i - r * WORDS;
            cp_async4(sa + r * RS + c * 4, a.x + (i0 + min(r, rows - 1)) * F::K1 + c * 4);
        }
    }
    asm volatile("cp.async.commit_group;");
    asm volatile("cp.async.wait_group 0;");
    __syncthreads();

    // Warp: one n8 tile, one half of the reduction. Steps past K1 read the row's padding or the
    // next row against zero weights.
    constexpr int KH = (F::KSTEPS + 1) / 2;
    const int nt = warp & 3, half = warp >> 2;
    int acc[4] = {0, 0, 0, 0};
    if (half) chain_fc_steps<F, KH, F::KSTEPS - KH>(sa, sb, nt, acc);
    else chain_fc_steps<F, 0, KH>(sa, sb, nt, acc);
    if (half) {
#pragma unroll
        for (int e = 0; e < 4; e++) sred[(nt * 32 + lane) * 4 + e] = acc[e];
    }
    __syncthreads();
    if (!half) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int r = g + 8 * (e >> 1), col = nt * 8 + 2 * t + (e & 1);
            const int sum = acc[e] + sred[(nt * 32 + lane) * 4 + e];
            float v = __fadd_rn(__fmul_rn((float)sum, m1[e & 1]), d1[e & 1]);
            if (F::RELU1) v = fmaxf(v, 0.0f);
            sq[r * 32 + col] = (signed char)quant(v, 1.0f);
        }
    }
    __syncthreads();

    // This group's share of the second layer's sums.
    for (int i = tid; i < rows * F::N2; i += blockDim.x) {
        const int r = i / F::N2, j = i - r * F::N2;
        const int* q = (const int*)(sq + r * 32);
        const int* w = (const int*)(sw2 + j * 32);
        int s = 0;
#pragma unroll
        for (int e = 0; e < 8; e++) s = dp4a(q[e], w[e], s);
        atomicAdd(&a.acc[(i0 + r) * F::N2 + j], s);
    }
    // The barrier orders the block's additions before thread 0's ticket, whose release and
    // acquire order them before the last block's reads: no full fence (__threadfence) per thread.
    __syncthreads();
    if (tid == 0) last_block = ticket(&a.tickets[blockIdx.x]) == F::GROUPS - 1;
    __syncthreads();
    if (!last_block) return;
    for (int i = tid; i < rows * F::N2; i += blockDim.x) {
        const int j = i % F::N2;
        const int s = atomicExch(&a.acc[i0 * F::N2 + i], 0);
        sf[i] = __fadd_rn(__fmul_rn((float)s, m2[j]), d2[j]);
    }
    if (tid == 0) a.tickets[blockIdx.x] = 0;
    __syncthreads();
    if (F::SOFTMAX) {
        // igemm.cu's softmax (store_tile), value for value.
        if (tid < rows) {
            const float* v = sf + tid * F::N2;
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < F::N2; c++) mx = fmaxf(mx, v[c]);
            for (int c = 0; c < F::N2; c++) sum += expf(v[c] - mx);
            for (int c = 0; c < F::N2; c++) a.y[(i0 + tid) * F::N2 + c] = expf(v[c] - mx) / sum;
        }
    } else {
        for (int i = tid; i < rows * F::N2; i += blockDim.x) a.y[i0 * F::N2 + i] = sf[i];
    }
}

#define CHAIN_FC(NAME, F) \
    extern "C" __global__ void __launch_bounds__(256) NAME(const ChainFcArgs a) { chain_fc_body<F>(a); }
