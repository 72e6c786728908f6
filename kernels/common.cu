// Shared by every kernel file (they are compiled as one NVRTC program, this file first).
// No toolkit headers: NVRTC of CUDA 13 does not bundle <cuda_fp16.h>, so half conversions are PTX.

typedef unsigned short half_bits;
typedef long long i64;

// Storage types of a tensor (Rust: backend::cuda::plan::Store).
#define ST_F32 0
#define ST_F16 1
#define ST_I8 2
// FP32 storage of an FP16 layer's output: values rounded to half, kept as float.
#define ST_F32H 3
// INT32 bindings (indices): truncated toward zero on store, as engine/context.rs `encode` does.
#define ST_I32 4

#define NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ float h2f(half_bits h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// Round to nearest even, as half::f16::from_f32 on the CPU.
__device__ __forceinline__ half_bits f2h(float f) {
    half_bits h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// TensorRT's symmetric quantization as the CPU computes it (backend/cpu/igemm.rs `saturate`):
// v / s clamped to [-127, 127], rounded half to even (rintf).
__device__ __forceinline__ int quant(float v, float s) {
    return (int)rintf(fminf(fmaxf(v / s, -127.0f), 127.0f));
}

// `quant(v, s)` given r = 1/s, dividing only near a rounding tie: v * r lies within 2 ulp of
// v / s, which moves the rounded integer only where v / s is that close to a half-integer (the
// clamp to +-127 is monotonic), so the result is quant's bits at a multiply's cost. Non-finite
// products take the division too.
__device__ __forceinline__ int quant_r(float v, float s, float r) {
    const float q = v * r;
    if (!(fabsf(fabsf(q - truncf(q)) - 0.5f) >= 1e-3f)) return quant(v, s);
    return (int)rintf(fminf(fmaxf(q, -127.0f), 127.0f));
}

// Loads and stores by a storage tag known at run time (memory-bound kernels).
__device__ __forceinline__ float load_t(const void* p, i64 i, int t, float s) {
    if (t == ST_F16) return h2f(((const half_bits*)p)[i]);
    if (t == ST_I8) return (float)((const signed char*)p)[i] * s;
    if (t == ST_I32) return (float)((const int*)p)[i];
    return ((const float*)p)[i];
}

__device__ __forceinline__ void store_t(void* p, i64 i, float v, int t, float s) {
    if (t == ST_F16) ((half_bits*)p)[i] = f2h(v);
    else if (t == ST_I8) ((signed char*)p)[i] = (signed char)quant(v, s);
    else if (t == ST_F32H) ((float*)p)[i] = h2f(f2h(v));
    else if (t == ST_I32) ((int*)p)[i] = (int)v;
    else ((float*)p)[i] = v;
}

// The same by a storage type known at compile time (compute kernels).
struct F32 { typedef float T; };
struct F16 { typedef half_bits T; };
struct I8 { typedef signed char T; };
// FP32 storage of half values (an FP16 layer writing an FP32 output binding).
struct F32H { typedef float T; };
// FP32 storage read as half values (an FP16 layer reading an FP32 input binding rounds it, as
// the CPU rounds FP16 engines' inputs).
struct F32R { typedef float T; };

template <typename S> __device__ __forceinline__ float ld(const void* p, i64 i, float s);
template <> __device__ __forceinline__ float ld<F32>(const void* p, i64 i, float) { return ((const float*)p)[i]; }
template <> __device__ __forceinline__ float ld<F16>(const void* p, i64 i, float) { return h2f(((const half_bits*)p)[i]); }
template <> __device__ __forceinline__ float ld<I8>(const void* p, i64 i, float s) { return (float)((const signed char*)p)[i] * s; }
template <> __device__ __forceinline__ float ld<F32R>(const void* p, i64 i, float) { return h2f(f2h(((const float*)p)[i])); }

template <typename S> __device__ __forceinline__ void st(void* p, i64 i, float v, float s);
template <> __device__ __forceinline__ void st<F32>(void* p, i64 i, float v, float) { ((float*)p)[i] = v; }
template <> __device__ __forceinline__ void st<F16>(void* p, i64 i, float v, float) { ((half_bits*)p)[i] = f2h(v); }
template <> __device__ __forceinline__ void st<I8>(void* p, i64 i, float v, float s) { ((signed char*)p)[i] = (signed char)quant(v, s); }
template <> __device__ __forceinline__ void st<F32H>(void* p, i64 i, float v, float) { ((float*)p)[i] = h2f(f2h(v)); }

// The integer an INT8 layer reads: the stored value itself when the tensor is already INT8 on the
// layer's grid (raw), else the value quantized with the layer's input scale.
template <typename S> __device__ __forceinline__ int ldq(const void* p, i64 i, float xs, float qs, int raw) {
    return quant(ld<S>(p, i, xs), qs);
}
template <> __device__ __forceinline__ int ldq<I8>(const void* p, i64 i, float xs, float qs, int raw) {
    int v = ((const signed char*)p)[i];
    return raw ? v : quant((float)v * xs, qs);
}

// Accumulator of a layer: float, or int for INT8 layers.
template <bool Q> struct Acc { typedef float T; };
template <> struct Acc<true> { typedef int T; };

// Activation codes (Rust: backend::cuda::plan::act_code). -1: none.
__device__ __forceinline__ float softplus_f(float v) { return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))); }

__device__ __forceinline__ float activate(int kind, float a, float b, float v) {
    switch (kind) {
    case 0: return fmaxf(v, 0.0f);
    case 1: return 1.0f / (1.0f + expf(-v));
    case 2: return tanhf(v);
    case 3: return v >= 0.0f ? v : a * v;
    case 4: return v >= 0.0f ? v : a * expm1f(v);
    case 5: return v > 0.0f ? b * v : b * a * expm1f(v);
    case 6: return v / (1.0f + fabsf(v));
    case 7: return a * softplus_f(b * v);
    case 8: return fmaxf(a, fminf(b, v));
    case 9: return fminf(fmaxf(a * v + b, 0.0f), 1.0f);
    case 10: return a * tanhf(b * v);
    case 11: return v > a ? v : 0.0f;
    default: return v;
    }
}

// The same, for epilogues that activate many values in unrolled code: ReLU and no activation
// inline, the rest (rare next to them) called, where an inlined switch at each value made kernels
// tens of thousands of instructions long.
__device__ __noinline__ float activate_call(int kind, float a, float b, float v) { return activate(kind, a, b, v); }
__device__ __forceinline__ float activate_fast(int kind, float a, float b, float v) {
    return kind == 0 ? fmaxf(v, 0.0f) : kind < 0 ? v : activate_call(kind, a, b, v);
}

__device__ __forceinline__ unsigned word_at(const void* p) { return *(const unsigned*)p; }

// D += A B on the tensor cores: a 16x16 half A tile (4 words per thread), a 16x8 half B tile
// (2 words), FP32 accumulators (4 per thread). Half products are exact in FP32.
__device__ __forceinline__ void mma_f16(float* d, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D += A B on the tensor cores: a 16x32 INT8 A tile (4 words per thread), a 32x8 INT8 B tile (2
// words), INT32 accumulators (4 per thread).
__device__ __forceinline__ void mma_i8(int* d, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ int dp4a(int a, int b, int c) {
    int d;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

// 16 bytes from global to shared memory, the first `bytes` of them (0 or 16) copied and the rest
// zeroed, without passing through registers.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
    unsigned d;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(d) : "l"(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(d), "l"(src), "r"(bytes) : "memory");
}

// Grid-stride loops: grids are capped on the host, so any batch (65536 and beyond) fits.
#define GRID_LOOP(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)
