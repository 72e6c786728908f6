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
//   once a block while the first item is staged.
// - chain_fc takes 16 items x 32 outputs of the first FC layer a block (rows and weights staged by
//   cp.async, mma m16n8k32 in two halves of the reduction), its epilogue, then that slice's share
//   of the second layer's integer sums, added to a device accumulator by integer atomics (exact:
//   the order does not matter). The last block of each 16 items (a ticket) takes the sums,
//   zeroing them and the ticket for the next run, and runs the second epilogue and the softmax.
// Integers, epilogue operations and softmax are igemm.cu's: the outputs are bit-identical to the
// plan's launches layer by layer.

// One convolution of the chain (Rust: backend::cuda::plan::chain::ConvLayer), with offsets in
// bytes from the blob's start.
struct ChainConv {
    int cp, hp, wp;     // staged input: channels (a multiple of 4), rows, columns (with padding)
    int c, h, w;        // the input's channels and plane
    int ph, pw;         // padding before the plane
    int k, nt;          // output channels, 8-channel tiles
    int oh, ow, sh, sw; // convolution output plane and stride
    int ksteps;         // 32-deep reduction steps (8 groups of 4 channels at a tap each)
    int relu;
    int pkh, pkw, psh, psw, poh, pow_;  // max pooling (a 1x1 window of stride 1: none)
    int goff;           // ksteps x 8 ints: a group's byte offset from a window origin (0: padding)
    int wfrag;          // nt x ksteps x 32 uint2: B fragments, zero past the reduction and k
    int emul, eadd;     // nt x 8 floats, zero past k
    int pad_[6];
};

struct ChainConvArgs {
    const float* x;      // first layer's input, quantized as staged
    signed char* y;      // last layer's output, INT8, CHW
    const int4* blob;    // 16 bytes of header (layer count), the layers, then their data
    i64 items;
    int blob_bytes;      // a multiple of 16
    int nl;
    float qs;
    int r0, r1;          // shared memory: byte offsets of the staged input and of the convolution
                         // outputs (the blob is at 0)
};

// 4 bytes from global to shared memory, for rows not aligned to 16 bytes.
__device__ __forceinline__ void cp_async4(void* dst, const void* src) {
    unsigned d;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(d) : "l"(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(d), "l"(src) : "memory");
}

__device__ __forceinline__ unsigned pack4(int a, int b, int c, int d) {
    return (a & 255) | (b & 255) << 8 | (c & 255) << 16 | (unsigned)(d & 255) << 24;
}

// The first layer's input of one item into the staged layout, quantized with the layer's scale.
__device__ __forceinline__ void chain_stage(const ChainConvArgs& a, const ChainConv& L, i64 item, unsigned char* s) {
    const int groups = L.cp / 4, words = L.hp * L.wp * groups;
    const int plane = L.h * L.w;
    for (int i = threadIdx.x; i < words; i += blockDim.x) {
        const int pix = i / groups, g = i - pix * groups;
        const int py = pix / L.wp - L.ph, px = pix % L.wp - L.pw;
        int v[4] = {0, 0, 0, 0};
        if ((unsigned)py < (unsigned)L.h && (unsigned)px < (unsigned)L.w) {
            const i64 base = (item * L.c + g * 4) * plane + py * L.w + px;
#pragma unroll
            for (int e = 0; e < 4; e++) {
                if (g * 4 + e < L.c) {
                    v[e] = quant(a.x[base + e * plane], a.qs);
                }
            }
        }
        ((unsigned*)s)[i] = pack4(v[0], v[1], v[2], v[3]);
    }
}

// One convolution, staged input `xs` -> `ys` ([oh x ow][nt x 8] INT8, the epilogue's values).
__device__ __forceinline__ void chain_conv_layer(const ChainConv& L, const unsigned char* blob, const unsigned char* xs, signed char* ys) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int m = L.oh * L.ow, mtiles = (m + 15) >> 4, ngroups = (L.nt + 3) >> 2, kp = L.nt * 8;
    const int* goff = (const int*)(blob + L.goff);
    const uint2* wf = (const uint2*)(blob + L.wfrag);
    const float* emul = (const float*)(blob + L.emul);
    const float* eadd = (const float*)(blob + L.eadd);
    for (int job = warp; job < mtiles * ngroups; job += 8) {
        const int mt = job % mtiles, n0 = (job / mtiles) * 4, nn = min(4, L.nt - n0);
        int row[2], base[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            row[h] = mt * 16 + g + 8 * h;
            const int r = min(row[h], m - 1), oy = r / L.ow, ox = r - oy * L.ow;
            base[h] = (oy * L.sh * L.wp + ox * L.sw) * L.cp;
        }
        int acc[4][4];
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[j][e] = 0;
#pragma unroll 2
        for (int ks = 0; ks < L.ksteps; ks++) {
            const int o0 = goff[ks * 8 + t], o1 = goff[ks * 8 + 4 + t];
            unsigned af[4];
            af[0] = word_at(xs + base[0] + o0);
            af[1] = word_at(xs + base[1] + o0);
            af[2] = word_at(xs + base[0] + o1);
            af[3] = word_at(xs + base[1] + o1);
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (j < nn) {
                    const uint2 b = wf[((n0 + j) * L.ksteps + ks) * 32 + lane];
                    mma_i8(acc[j], af, b.x, b.y);
                }
            }
        }
        // Every column below kp is written: padding channels (zero factors) store zeros, which
        // the next layer's staging takes as its padding channels.
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if (j >= nn) continue;
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int r = row[e >> 1], col = (n0 + j) * 8 + 2 * t + (e & 1);
                if (r >= m) continue;
                // The CPU's epilogue operation for operation (no contraction into an FMA).
                float v = __fadd_rn(__fmul_rn((float)acc[j][e], emul[col]), eadd[col]);
                if (L.relu) v = fmaxf(v, 0.0f);
                ys[r * kp + col] = (signed char)quant(v, 1.0f);
            }
        }
    }
}

// Max pooling of the convolution's outputs `cs` (quantization never decreases, so pooling the
// stored values is pooling the sums) into the next layer's staged input, or the output's CHW.
__device__ __forceinline__ void chain_pool(const ChainConv& L, const ChainConv* next, const signed char* cs, unsigned char* s, signed char* y) {
    const int kp = L.nt * 8;
    // 4 channels of one pooled position: the maximum of their words over the window.
    auto pooled = [&](int py, int px, int c4) {
        unsigned v = 0x80808080u;
        for (int i = 0; i < L.pkh; i++)
            for (int j = 0; j < L.pkw; j++)
                v = __vmaxs4(v, word_at(cs + ((py * L.psh + i) * L.ow + px * L.psw + j) * kp + c4));
        return v;
    };
    if (next) {
        const ChainConv& N = *next;
        const int groups = N.cp / 4, words = N.hp * N.wp * groups;
        for (int i = threadIdx.x; i < words; i += blockDim.x) {
            const int pix = i / groups, g = i - pix * groups;
            const int py = pix / N.wp - N.ph, px = pix % N.wp - N.pw;
            const bool in = (unsigned)py < (unsigned)L.poh && (unsigned)px < (unsigned)L.pow_;
            ((unsigned*)s)[i] = in ? pooled(py, px, g * 4) : 0u;
        }
    } else {
        const int plane = L.poh * L.pow_;
        for (int i = threadIdx.x; i < L.k * plane; i += blockDim.x) {
            const int c = i / plane, p = i - c * plane, py = p / L.pow_, px = p - py * L.pow_;
            y[i] = (signed char)(pooled(py, px, c & ~3) >> (8 * (c & 3)));
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) chain_conv(const ChainConvArgs a) {
    extern __shared__ __align__(16) unsigned char chain_smem[];
    unsigned char* blob = chain_smem;
    unsigned char* xs = chain_smem + a.r0;
    signed char* cs = (signed char*)(chain_smem + a.r1);
    const ChainConv* layers = (const ChainConv*)(blob + 16);
    for (int i = threadIdx.x; i < a.blob_bytes / 16; i += blockDim.x) cp_async16(blob + 16 * i, a.blob + i, 16);
    asm volatile("cp.async.commit_group;");
    // The first layer's geometry from global memory, so that staging overlaps the blob's copy.
    const ChainConv& first = *(const ChainConv*)((const unsigned char*)a.blob + 16);
    bool copied = false;
    for (i64 item = blockIdx.x; item < a.items; item += gridDim.x) {
        chain_stage(a, first, item, xs);
        if (!copied) {
            asm volatile("cp.async.wait_group 0;");
            copied = true;
        }
        __syncthreads();
        for (int l = 0; l < a.nl; l++) {
            chain_conv_layer(layers[l], blob, xs, cs);
            __syncthreads();
            const bool last = l + 1 == a.nl;
            chain_pool(layers[l], last ? nullptr : &layers[l + 1], cs, xs, a.y + item * layers[l].k * layers[l].poh * layers[l].pow_);
            __syncthreads();
        }
    }
}

// The FC pair (Rust: backend::cuda::plan::chain).
struct ChainFcArgs {
    const signed char* x;  // [items][k1] INT8 on the first layer's grid
    float* y;              // [items][n2], after the softmax when fused
    const uint2* w1;       // per group of 32 outputs: 4 n8 tiles x ksteps x 32 B fragments
    const float* emul1;    // groups x 32, zero past n1
    const float* eadd1;
    const signed char* w2; // per group: [n2][32], zero past n1
    const float* emul2;    // n2
    const float* eadd2;
    int* acc;              // [items][n2] second-layer sums, zero between runs
    int* tickets;          // per 16 items, zero between runs
    i64 items;
    int k1, ksteps, n2, groups, relu1, softmax;
};

#define CFC_ROWS 16

extern "C" __global__ void __launch_bounds__(256) chain_fc(const ChainFcArgs a) {
    extern __shared__ __align__(16) unsigned char chain_smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int rs = a.k1 + 16;  // staged row stride: 8 rows of a fragment on distinct banks
    unsigned char* sa = chain_smem;                                    // [16][rs]
    uint2* sb = (uint2*)(sa + CFC_ROWS * rs);                          // [4][ksteps][32]
    signed char* sw2 = (signed char*)(sb + 4 * a.ksteps * 32);         // [n2][32]
    signed char* sq = sw2 + a.n2 * 32;                                 // [16][32]
    int* sred = (int*)(sq + CFC_ROWS * 32);                            // [4][32][4]
    float* sf = (float*)(sred + 4 * 32 * 4);                           // [16][n2]
    __shared__ int last_block;
    const i64 i0 = (i64)blockIdx.x * CFC_ROWS;
    const int rows = (int)min((i64)CFC_ROWS, a.items - i0), grp = blockIdx.y;

    // Rows past the last repeat it (their results are dropped).
    const bool aligned = (((unsigned long long)a.x | a.k1) & 15) == 0;
    if (aligned) {
        const int chunks = a.k1 / 16;
        for (int i = tid; i < CFC_ROWS * chunks; i += blockDim.x) {
            const int r = i / chunks, c = i - r * chunks;
            cp_async16(sa + r * rs + c * 16, a.x + (i0 + min(r, rows - 1)) * a.k1 + c * 16, 16);
        }
    } else {
        const int words = a.k1 / 4;
        for (int i = tid; i < CFC_ROWS * words; i += blockDim.x) {
            const int r = i / words, c = i - r * words;
            cp_async4(sa + r * rs + c * 4, a.x + (i0 + min(r, rows - 1)) * a.k1 + c * 4);
        }
    }
    const int4* wsrc = (const int4*)(a.w1 + (i64)grp * 4 * a.ksteps * 32);
    for (int i = tid; i < a.ksteps * 64; i += blockDim.x) cp_async16(sb + 2 * i, wsrc + i, 16);
    const int4* w2src = (const int4*)(a.w2 + (i64)grp * a.n2 * 32);
    for (int i = tid; i < a.n2 * 2; i += blockDim.x) cp_async16(sw2 + 16 * i, w2src + i, 16);
    asm volatile("cp.async.commit_group;");
    asm volatile("cp.async.wait_group 0;");
    __syncthreads();

    // Warp: one n8 tile, one half of the reduction. Steps past k1 read the row's padding or the
    // next row against zero weights.
    const int nt = warp & 3, half = warp >> 2, kh = (a.ksteps + 1) >> 1;
    const int kb = half * kh, ke = min(a.ksteps, kb + kh);
    int acc[4] = {0, 0, 0, 0};
    for (int ks = kb; ks < ke; ks++) {
        const unsigned char* p = sa + g * rs + ks * 32 + 4 * t;
        unsigned af[4] = {word_at(p), word_at(p + 8 * rs), word_at(p + 16), word_at(p + 8 * rs + 16)};
        const uint2 b = sb[(nt * a.ksteps + ks) * 32 + lane];
        mma_i8(acc, af, b.x, b.y);
    }
    if (half) {
#pragma unroll
        for (int e = 0; e < 4; e++) sred[(nt * 32 + lane) * 4 + e] = acc[e];
    }
    __syncthreads();
    if (!half) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int r = g + 8 * (e >> 1), col = nt * 8 + 2 * t + (e & 1), n = grp * 32 + col;
            const int sum = acc[e] + sred[(nt * 32 + lane) * 4 + e];
            float v = __fadd_rn(__fmul_rn((float)sum, a.emul1[n]), a.eadd1[n]);
            if (a.relu1) v = fmaxf(v, 0.0f);
            sq[r * 32 + col] = (signed char)quant(v, 1.0f);
        }
    }
    __syncthreads();

    // This group's share of the second layer's sums.
    for (int i = tid; i < rows * a.n2; i += blockDim.x) {
        const int r = i / a.n2, j = i - r * a.n2;
        const int* q = (const int*)(sq + r * 32);
        const int* w = (const int*)(sw2 + j * 32);
        int s = 0;
#pragma unroll
        for (int e = 0; e < 8; e++) s = dp4a(q[e], w[e], s);
        atomicAdd(&a.acc[(i0 + r) * a.n2 + j], s);
    }
    __threadfence();
    __syncthreads();
    if (tid == 0) last_block = atomicAdd(&a.tickets[blockIdx.x], 1) == a.groups - 1;
    __syncthreads();
    if (!last_block) return;
    __threadfence();
    for (int i = tid; i < rows * a.n2; i += blockDim.x) {
        const int j = i % a.n2;
        const int s = atomicExch(&a.acc[i0 * a.n2 + i], 0);
        sf[i] = __fadd_rn(__fmul_rn((float)s, a.emul2[j]), a.eadd2[j]);
    }
    if (tid == 0) a.tickets[blockIdx.x] = 0;
    __syncthreads();
    if (a.softmax) {
        // igemm.cu's softmax (store_tile), value for value.
        if (tid < rows) {
            const float* v = sf + tid * a.n2;
            float mx = NEG_INF, sum = 0.0f;
            for (int c = 0; c < a.n2; c++) mx = fmaxf(mx, v[c]);
            for (int c = 0; c < a.n2; c++) sum += expf(v[c] - mx);
            for (int c = 0; c < a.n2; c++) a.y[(i0 + tid) * a.n2 + c] = expf(v[c] - mx) / sum;
        }
    } else {
        for (int i = tid; i < rows * a.n2; i += blockDim.x) a.y[i0 * a.n2 + i] = sf[i];
    }
}
