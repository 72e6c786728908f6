// A C++ program written for TensorRT 7: an explicit-batch network whose input has -1 dimensions,
// built with the Nd layer calls (addConvolutionNd with setPaddingNd, addPoolingNd with
// setStrideNd, addPaddingNd), one IOptimizationProfile, buildEngineWithConfig, then run with
// executeV2 at two shapes set by setBindingDimensions. Each run is compared with a double
// reference computed here (largest error relative to the largest reference value <= 1e-5); a
// shape outside the profile must be refused. Exit status 0 on success.
#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

using namespace nvinfer1;

namespace
{
class Logger : public ILogger
{
    void log(Severity severity, const char* msg) override
    {
        if (severity <= Severity::kWARNING)
            std::printf("[TRT] %s\n", msg);
    }
} gLogger;

struct Destroy
{
    template <typename T>
    void operator()(T* p) const
    {
        if (p)
            p->destroy();
    }
};
template <typename T>
using Ptr = std::unique_ptr<T, Destroy>;

const int C = 2, K = 3;

float weight(int i)
{
    return static_cast<float>(i * 7 % 11 - 5) / 8.0f;
}

// conv 3x3 (K maps, padding 1) -> ReLU -> max pool 2x2 stride 2 -> padding (pre 1,0; post 0,1)
std::vector<double> reference(const std::vector<float>& x, int n, int h, int w,
    const std::vector<float>& kw, const std::vector<float>& kb)
{
    std::vector<double> conv(static_cast<size_t>(n) * K * h * w);
    for (int b = 0; b < n; b++)
        for (int k = 0; k < K; k++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                {
                    double s = kb[k];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int iy = y + ky - 1, ix = xx + kx - 1;
                                if (iy < 0 || ix < 0 || iy >= h || ix >= w)
                                    continue;
                                s += static_cast<double>(x[((b * C + c) * h + iy) * w + ix])
                                    * kw[((k * C + c) * 3 + ky) * 3 + kx];
                            }
                    conv[((b * K + k) * h + y) * w + xx] = std::max(s, 0.0);
                }
    int ph = h / 2, pw = w / 2, oh = ph + 1, ow = pw + 1;
    std::vector<double> out(static_cast<size_t>(n) * K * oh * ow, 0.0);
    for (int b = 0; b < n; b++)
        for (int k = 0; k < K; k++)
            for (int y = 0; y < ph; y++)
                for (int xx = 0; xx < pw; xx++)
                {
                    double m = -INFINITY;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            m = std::max(m, conv[((b * K + k) * h + 2 * y + dy) * w + 2 * xx + dx]);
                    out[((b * K + k) * oh + y + 1) * ow + xx] = m;
                }
    return out;
}

bool runAt(IExecutionContext& context, int n, int h, int w, const std::vector<float>& kw,
    const std::vector<float>& kb)
{
    if (!context.setBindingDimensions(0, Dims4(n, C, h, w)) || !context.allInputDimensionsSpecified())
    {
        std::printf("setBindingDimensions(%d, %d, %d, %d) failed\n", n, C, h, w);
        return false;
    }
    Dims out = context.getBindingDimensions(1);
    int oh = h / 2 + 1, ow = w / 2 + 1;
    if (out.nbDims != 4 || out.d[0] != n || out.d[1] != K || out.d[2] != oh || out.d[3] != ow)
    {
        std::printf("output dimensions are not [%d, %d, %d, %d]\n", n, K, oh, ow);
        return false;
    }
    std::vector<float> x(static_cast<size_t>(n) * C * h * w);
    for (size_t i = 0; i < x.size(); i++)
        x[i] = static_cast<float>(static_cast<int>(i * 13 % 17) - 8) / 4.0f;
    std::vector<float> y(static_cast<size_t>(n) * K * oh * ow);
    void* buffers[2] = {nullptr, nullptr};
    cudaMalloc(&buffers[0], x.size() * sizeof(float));
    cudaMalloc(&buffers[1], y.size() * sizeof(float));
    cudaMemcpy(buffers[0], x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice);
    bool ok = context.executeV2(buffers);
    cudaMemcpy(y.data(), buffers[1], y.size() * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(buffers[0]);
    cudaFree(buffers[1]);
    if (!ok)
    {
        std::printf("executeV2 failed at [%d, %d, %d, %d]\n", n, C, h, w);
        return false;
    }
    std::vector<double> want = reference(x, n, h, w, kw, kb);
    double scale = 1e-6, err = 0.0;
    for (size_t i = 0; i < want.size(); i++)
    {
        scale = std::max(scale, std::fabs(want[i]));
        err = std::max(err, std::fabs(y[i] - want[i]));
    }
    std::printf("[%d, %d, %d, %d] -> [%d, %d, %d, %d]: relative error %.3g\n", n, C, h, w, n, K, oh, ow,
        err / scale);
    return err / scale <= 1e-5;
}
} // namespace

int main()
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    const auto explicitBatch = 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
    Ptr<INetworkDefinition> network(builder->createNetworkV2(explicitBatch));
    ITensor* x = network->addInput("x", DataType::kFLOAT, Dims4(-1, C, -1, -1));

    std::vector<float> kw(K * C * 9), kb(K);
    for (size_t i = 0; i < kw.size(); i++)
        kw[i] = weight(static_cast<int>(i));
    for (int k = 0; k < K; k++)
        kb[k] = 0.125f * static_cast<float>(k - 1);
    Weights w{DataType::kFLOAT, kw.data(), static_cast<int64_t>(kw.size())};
    Weights b{DataType::kFLOAT, kb.data(), K};
    IConvolutionLayer* conv = network->addConvolutionNd(*x, K, DimsHW(3, 3), w, b);
    conv->setPaddingNd(DimsHW(1, 1));
    IActivationLayer* relu = network->addActivation(*conv->getOutput(0), ActivationType::kRELU);
    IPoolingLayer* pool = network->addPoolingNd(*relu->getOutput(0), PoolingType::kMAX, DimsHW(2, 2));
    pool->setStrideNd(DimsHW(2, 2));
    IPaddingLayer* pad = network->addPaddingNd(*pool->getOutput(0), DimsHW(1, 0), DimsHW(0, 1));
    pad->getOutput(0)->setName("y");
    network->markOutput(*pad->getOutput(0));

    // A 3D window has no kernel: refused with an error, no layer.
    if (network->addPoolingNd(*x, PoolingType::kMAX, Dims3(2, 2, 2)) != nullptr)
    {
        std::printf("a 3D pooling window was accepted\n");
        return 1;
    }

    Ptr<IBuilderConfig> config(builder->createBuilderConfig());
    IOptimizationProfile* profile = builder->createOptimizationProfile();
    profile->setDimensions("x", OptProfileSelector::kMIN, Dims4(1, C, 4, 4));
    profile->setDimensions("x", OptProfileSelector::kOPT, Dims4(1, C, 8, 8));
    profile->setDimensions("x", OptProfileSelector::kMAX, Dims4(2, C, 16, 16));
    config->addOptimizationProfile(profile);
    Ptr<ICudaEngine> engine(builder->buildEngineWithConfig(*network, *config));
    if (!engine)
    {
        std::printf("build failed\n");
        return 1;
    }
    Dims in = engine->getBindingDimensions(0);
    std::printf("engine input dimensions: [%d, %d, %d, %d]\n", in.d[0], in.d[1], in.d[2], in.d[3]);
    Ptr<IExecutionContext> context(engine->createExecutionContext());
    if (!runAt(*context, 1, 6, 8, kw, kb) || !runAt(*context, 2, 12, 10, kw, kb))
        return 1;
    if (context->setBindingDimensions(0, Dims4(3, C, 8, 8)))
    {
        std::printf("a batch of 3 (profile maximum 2) was accepted\n");
        return 1;
    }
    std::printf("sample_dynamic_nd: passed\n");
    return 0;
}
