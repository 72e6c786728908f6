// INT8 calibration statistics on the device (backend/cuda/calibrate.rs), binned exactly as
// calib/histogram.rs bins on the host: |x| in double, bin = floor(|x| / range * 2048) capped at
// the last bin, exact zeros and NaNs in two slots after the bins. Counts are integers and the
// maximum is a maximum, so the order in which blocks add them does not matter.

#define CALIB_BINS 2048

struct CalibArgs {
    const float* x;
    unsigned* absmax;  // a float's bits: non-negative floats order as their bits do
    unsigned long long* bins;  // CALIB_BINS + 2 counters
    i64 n;
    float range;
};

// Largest finite |x| (the host ignores infinities and NaNs when it sets the range).
extern "C" __global__ void __launch_bounds__(256) calib_absmax(const CalibArgs a) {
    __shared__ float warps[8];
    float m = 0.0f;
    GRID_LOOP(i, a.n) {
        const float v = fabsf(a.x[i]);
        if (v <= 3.402823466e38f) m = fmaxf(m, v);
    }
    for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < 8; w++) m = fmaxf(m, warps[w]);
        atomicMax(a.absmax, __float_as_uint(m));
    }
}

extern "C" __global__ void __launch_bounds__(256) calib_histogram(const CalibArgs a) {
    __shared__ unsigned counts[CALIB_BINS + 2];
    for (int i = threadIdx.x; i < CALIB_BINS + 2; i += blockDim.x) counts[i] = 0;
    __syncthreads();
    const double range = a.range;
    GRID_LOOP(i, a.n) {
        const double v = fabs((double)a.x[i]);
        int bin = CALIB_BINS - 1;
        if (v != v) bin = CALIB_BINS + 1;
        else if (v == 0.0) bin = CALIB_BINS;
        else if (range > 0.0) {
            const double q = v / range * CALIB_BINS;
            if (q < CALIB_BINS - 1) bin = (int)q;
        }
        atomicAdd(&counts[bin], 1u);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < CALIB_BINS + 2; i += blockDim.x)
        if (counts[i]) atomicAdd(&a.bins[i], (unsigned long long)counts[i]);
}
