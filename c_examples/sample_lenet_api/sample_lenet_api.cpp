// A C++ program in the style of TensorRT's sampleMNISTAPI, written for infer8: builds LeNet layer by
// layer through INetworkDefinition with weights read from a .wts file (count, then per blob
// "name type size hex..."), serializes, deserializes and runs 100 MNIST test images, and checks that
// both engines give bit-identical outputs and top-1 >= 97/100.
// Arguments: lenet.wts t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
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

std::map<std::string, std::vector<float>> loadWeights(const char* path)
{
    std::map<std::string, std::vector<float>> weights;
    std::ifstream in(path);
    int count = 0;
    in >> count;
    for (int i = 0; i < count && in; i++)
    {
        std::string name;
        int type = 0;
        long size = 0;
        in >> name >> type >> size;
        if (type != static_cast<int>(DataType::kFLOAT) || size <= 0)
            return {};
        std::vector<float>& w = weights[name];
        w.resize(size);
        for (long j = 0; j < size; j++)
        {
            uint32_t bits = 0;
            in >> std::hex >> bits >> std::dec;
            std::memcpy(&w[j], &bits, sizeof bits);
        }
    }
    return in ? weights : std::map<std::string, std::vector<float>>();
}

Weights wts(std::map<std::string, std::vector<float>>& w, const std::string& name)
{
    std::vector<float>& v = w[name];
    return Weights{DataType::kFLOAT, v.data(), static_cast<int64_t>(v.size())};
}

bool readIdx(const char* path, uint32_t magic, std::vector<uint8_t>& data, size_t header)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < header
        || ((uint32_t) bytes[0] << 24 | (uint32_t) bytes[1] << 16 | (uint32_t) bytes[2] << 8 | bytes[3]) != magic)
        return false;
    data.assign(bytes.begin() + header, bytes.end());
    return true;
}

ICudaEngine* build(std::map<std::string, std::vector<float>>& w, int maxBatch)
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    Ptr<INetworkDefinition> net(builder->createNetwork());
    ITensor* data = net->addInput("data", DataType::kFLOAT, DimsCHW{1, 28, 28});
    IConvolutionLayer* conv1 = net->addConvolution(*data, 20, DimsHW{5, 5}, wts(w, "conv1filter"), wts(w, "conv1bias"));
    conv1->setStride(DimsHW{1, 1});
    IPoolingLayer* pool1 = net->addPooling(*conv1->getOutput(0), PoolingType::kMAX, DimsHW{2, 2});
    pool1->setStride(DimsHW{2, 2});
    IConvolutionLayer* conv2
        = net->addConvolution(*pool1->getOutput(0), 50, DimsHW{5, 5}, wts(w, "conv2filter"), wts(w, "conv2bias"));
    IPoolingLayer* pool2 = net->addPooling(*conv2->getOutput(0), PoolingType::kMAX, DimsHW{2, 2});
    pool2->setStride(DimsHW{2, 2});
    IFullyConnectedLayer* ip1
        = net->addFullyConnected(*pool2->getOutput(0), 500, wts(w, "ip1filter"), wts(w, "ip1bias"));
    IActivationLayer* relu = net->addActivation(*ip1->getOutput(0), ActivationType::kRELU);
    IFullyConnectedLayer* ip2
        = net->addFullyConnected(*relu->getOutput(0), 10, wts(w, "ip2filter"), wts(w, "ip2bias"));
    ISoftMaxLayer* prob = net->addSoftMax(*ip2->getOutput(0));
    prob->getOutput(0)->setName("prob");
    net->markOutput(*prob->getOutput(0));
    builder->setMaxBatchSize(maxBatch);
    builder->setMaxWorkspaceSize(16 << 20);
    return builder->buildCudaEngine(*net);
}

// Runs `batch` images; returns the probabilities.
std::vector<float> infer(ICudaEngine& engine, const std::vector<float>& input, int batch)
{
    std::vector<float> out(batch * 10);
    Ptr<IExecutionContext> ctx(engine.createExecutionContext());
    const int in = engine.getBindingIndex("data"), pr = engine.getBindingIndex("prob");
    void* buffers[2] = {nullptr, nullptr};
    if (!ctx || in < 0 || pr < 0 || cudaMalloc(&buffers[in], input.size() * 4) != cudaSuccess
        || cudaMalloc(&buffers[pr], out.size() * 4) != cudaSuccess)
        return {};
    cudaMemcpy(buffers[in], input.data(), input.size() * 4, cudaMemcpyHostToDevice);
    const bool ok = ctx->execute(batch, buffers);
    cudaMemcpy(out.data(), buffers[pr], out.size() * 4, cudaMemcpyDeviceToHost);
    cudaFree(buffers[0]);
    cudaFree(buffers[1]);
    return ok ? out : std::vector<float>();
}
} // namespace

int main(int argc, char** argv)
{
    if (argc != 4)
    {
        std::printf("usage: %s lenet.wts t10k-images-idx3-ubyte t10k-labels-idx1-ubyte\n", argv[0]);
        return 1;
    }
    auto weights = loadWeights(argv[1]);
    std::vector<uint8_t> pixels, labels;
    if (weights.empty() || !readIdx(argv[2], 2051, pixels, 16) || !readIdx(argv[3], 2049, labels, 8))
    {
        std::printf("could not read the weights or MNIST files\n");
        return 1;
    }
    const int batch = 100;
    std::vector<float> input(batch * 784);
    for (size_t i = 0; i < input.size(); i++)
        input[i] = pixels[i] / 255.0f;

    Ptr<ICudaEngine> engine(build(weights, batch));
    if (!engine)
        return 1;
    Ptr<IHostMemory> plan(engine->serialize());
    Ptr<IRuntime> runtime(createInferRuntime(gLogger));
    Ptr<ICudaEngine> loaded(runtime->deserializeCudaEngine(plan->data(), plan->size(), nullptr));
    if (!loaded)
        return 1;
    const std::vector<float> a = infer(*engine, input, batch), b = infer(*loaded, input, batch);
    if (a.empty() || a.size() != b.size() || std::memcmp(a.data(), b.data(), a.size() * 4) != 0)
    {
        std::printf("outputs differ after serialize/deserialize\n");
        return 1;
    }
    int correct = 0;
    for (int i = 0; i < batch; i++)
    {
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (a[i * 10 + c] > a[i * 10 + best])
                best = c;
        correct += best == labels[i];
    }
    std::printf("sample_lenet_api: top-1 %d/%d, engine file %zu bytes, outputs bit-identical after deserialize\n",
                correct, batch, static_cast<size_t>(plan->size()));
    return correct >= 97 ? 0 : 1;
}
