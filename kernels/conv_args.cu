// The arguments of conv.cu's kernels and of shallow.cu's (Rust: backend::cuda::args::ConvArgs).

struct ConvArgs {
    const void* x;
    void* y;
    const float* w;
    const signed char* wq;
    const float* bias;
    const float* wscale;
    i64 items;   // batch items times the dimensions before C
    i64 x_wrap;  // a batch-invariant input repeats every x_wrap items (0: it does not)
    int c, h, w_, k, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int act;
    float alpha, beta;
    float xs, ys, qs;
    int raw;
    int pool_h, pool_w, pool_sh, pool_sw, poh, pow_;  // fused max pooling; pool_h 0: none
    int ib;  // the shallow variant: items staged per job
};
