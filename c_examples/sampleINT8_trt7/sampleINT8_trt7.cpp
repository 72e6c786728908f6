// sampleINT8_trt7 for infer8: sampleINT8 written for TensorRT 7's API. LeNet comes from ONNX
// (scripts/caffe_to_onnx.py) through nvonnxparser into an explicit-batch network
// (createNetworkV2), is built with an IBuilderConfig (flags, INT8 entropy calibrator, an
// optimization profile) and run with enqueueV2; scores MNIST in FP32, FP16 and INT8.
// Arguments: model=FILE.onnx datadir=DIR [start=N] [score=N]
#include "BatchStream.h"

#include <NvInfer.h>
#include <NvOnnxParser.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace nvinfer1;

namespace
{
class Logger : public ILogger
{
public:
    void log(Severity severity, const char* msg) noexcept override
    {
        if (severity > Severity::kINFO)
            return;
        static const char* tags[] = {"[F] ", "[E] ", "[W] ", "[I] ", "[V] "};
        std::printf("%s[TRT] %s\n", tags[static_cast<int>(severity)], msg);
    }
} gLogger;

struct Destroy
{
    template <typename T>
    void operator()(T* obj) const
    {
        if (obj)
            obj->destroy();
    }
};
template <typename T>
using Ptr = std::unique_ptr<T, Destroy>;

#define CHECK(status)                                                                                  \
    do                                                                                                 \
    {                                                                                                  \
        cudaError_t e_ = (status);                                                                     \
        if (e_ != cudaSuccess)                                                                         \
        {                                                                                              \
            std::printf("[E] CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); \
            std::exit(EXIT_FAILURE);                                                                   \
        }                                                                                              \
    } while (0)

struct Options
{
    std::string model;
    std::string batches{"batches/batch"};
    int firstScoreBatch{5};
    int nbScoreBatches{95};
};

const int kCalibrationImages = 500; // images 0-499

// Explicit batch: each calibration batch is one whole input tensor, so getBatchSize() is 1.
class EntropyCalibrator : public IInt8EntropyCalibrator2
{
public:
    EntropyCalibrator(int batch, const Options& o)
        : mStream(batch, kCalibrationImages / batch, o.batches), mCount(static_cast<size_t>(batch) * 28 * 28)
    {
        CHECK(cudaMalloc(&mDeviceInput, mCount * sizeof(float)));
    }
    ~EntropyCalibrator() override { cudaFree(mDeviceInput); }

    int getBatchSize() const noexcept override { return 1; }

    bool getBatch(void* bindings[], const char* names[], int nbBindings) noexcept override
    {
        if (!mStream.next())
            return false;
        if (nbBindings != 1 || std::strcmp(names[0], "data") != 0)
        {
            std::printf("[E] calibrator expected one input named data\n");
            return false;
        }
        CHECK(cudaMemcpy(mDeviceInput, mStream.getBatch(), mCount * sizeof(float), cudaMemcpyHostToDevice));
        bindings[0] = mDeviceInput;
        return true;
    }

    const void* readCalibrationCache(size_t& length) noexcept override
    {
        mCache.clear();
        std::ifstream input("CalibrationTable_trt7", std::ios::binary);
        if (input.good())
            mCache.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
        length = mCache.size();
        return length ? mCache.data() : nullptr;
    }

    void writeCalibrationCache(const void* cache, size_t length) noexcept override
    {
        std::ofstream("CalibrationTable_trt7", std::ios::binary).write(static_cast<const char*>(cache), length);
    }

private:
    BatchStream mStream;
    size_t mCount;
    void* mDeviceInput{nullptr};
    std::vector<char> mCache;
};

struct Score
{
    float top1{0}, top5{0};
    bool ok{false};
};

bool parseArgs(int argc, char** argv, Options& o)
{
    for (int i = 1; i < argc; i++)
    {
        std::string a = argv[i];
        if (a.compare(0, 6, "model=") == 0)
            o.model = a.substr(6);
        else if (a.compare(0, 8, "datadir=") == 0)
            o.batches = a.substr(8) + "/batches/batch";
        else if (a.compare(0, 6, "start=") == 0)
            o.firstScoreBatch = std::atoi(a.c_str() + 6);
        else if (a.compare(0, 6, "score=") == 0)
            o.nbScoreBatches = std::atoi(a.c_str() + 6);
        else
        {
            std::printf("[E] unknown argument %s\n", a.c_str());
            return false;
        }
    }
    if (o.model.empty() || o.firstScoreBatch < 0 || o.nbScoreBatches <= 0)
    {
        std::printf("[E] usage: sampleINT8_trt7 model=FILE.onnx datadir=DIR [start=N] [score=N]\n");
        return false;
    }
    return true;
}

// The batch is the ONNX input's first dimension; the calibrator needs it before the build.
int modelBatch(const Options& o)
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    const auto explicitBatch = 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
    Ptr<INetworkDefinition> network(builder->createNetworkV2(explicitBatch));
    Ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, gLogger));
    // As trtexec does: which runs of nodes the parser supports (LeNet: one run, all supported).
    std::ifstream file(o.model, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    SubGraphCollection_t subgraphs;
    bool supported = parser->supportsModel(bytes.data(), bytes.size(), subgraphs);
    if (!supported || subgraphs.size() != 1 || !subgraphs[0].second || subgraphs[0].first.empty())
    {
        std::printf("[E] supportsModel: %zu sub-graphs, supported %d\n", subgraphs.size(), supported);
        return 0;
    }
    std::printf("supportsModel: one supported sub-graph of %zu nodes\n", subgraphs[0].first.size());
    if (!parser->parseFromFile(o.model.c_str(), static_cast<int>(ILogger::Severity::kWARNING)))
    {
        for (int i = 0; i < parser->getNbErrors(); i++)
            std::printf("[E] %s (node %d)\n", parser->getError(i)->desc(), parser->getError(i)->node());
        return 0;
    }
    return network->getInput(0)->getDimensions().d[0];
}

ICudaEngine* buildEngine(DataType dataType, const Options& o, IInt8Calibrator* calibrator)
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    const auto explicitBatch = 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
    Ptr<INetworkDefinition> network(builder->createNetworkV2(explicitBatch));
    Ptr<IBuilderConfig> config(builder->createBuilderConfig());
    Ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, gLogger));
    if ((dataType == DataType::kINT8 && !builder->platformHasFastInt8())
        || (dataType == DataType::kHALF && !builder->platformHasFastFp16()))
        return nullptr;
    if (!parser->parseFromFile(o.model.c_str(), static_cast<int>(ILogger::Severity::kWARNING)))
        return nullptr;
    if (network->hasImplicitBatchDimension() || network->getNbInputs() != 1)
    {
        std::printf("[E] expected an explicit-batch network with one input\n");
        return nullptr;
    }
    ITensor* input = network->getInput(0);
    IOptimizationProfile* profile = builder->createOptimizationProfile();
    for (OptProfileSelector s : {OptProfileSelector::kMIN, OptProfileSelector::kOPT, OptProfileSelector::kMAX})
        profile->setDimensions(input->getName(), s, input->getDimensions());
    config->addOptimizationProfile(profile);
    config->setAvgTimingIterations(1);
    config->setMinTimingIterations(1);
    config->setMaxWorkspaceSize(1 << 30);
    config->setFlag(BuilderFlag::kDEBUG);
    if (dataType == DataType::kHALF)
        config->setFlag(BuilderFlag::kFP16);
    if (dataType == DataType::kINT8)
    {
        config->setFlag(BuilderFlag::kINT8);
        config->setInt8Calibrator(calibrator);
    }
    return builder->buildEngineWithConfig(*network, *config);
}

int hits(const float* prob, int classes, int label, int k)
{
    int better = 0;
    for (int c = 0; c < classes; c++)
        better += prob[c] >= prob[label];
    return better <= k;
}

Score score(ICudaEngine& engine, const Options& o, DataType dataType)
{
    Score s;
    Ptr<IExecutionContext> context(engine.createExecutionContext());
    const int in = engine.getBindingIndex("data"), out = engine.getBindingIndex("prob");
    if (!context || in < 0 || out < 0 || engine.hasImplicitBatchDimension())
        return s;
    const Dims inDims = engine.getBindingDimensions(in), outDims = engine.getBindingDimensions(out);
    if (!context->setBindingDimensions(in, inDims))
        return s;
    const int batch = inDims.d[0];
    size_t inCount = 1, outCount = 1;
    for (int i = 0; i < inDims.nbDims; i++)
        inCount *= inDims.d[i];
    for (int i = 0; i < outDims.nbDims; i++)
        outCount *= outDims.d[i];
    const int classes = static_cast<int>(outCount / batch);
    void* buffers[2];
    CHECK(cudaMalloc(&buffers[in], inCount * sizeof(float)));
    CHECK(cudaMalloc(&buffers[out], outCount * sizeof(float)));
    std::vector<float> prob(outCount);
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));

    BatchStream batches(batch, o.nbScoreBatches, o.batches);
    batches.reset(o.firstScoreBatch);
    const char* names[] = {"FP32", "FP16", "INT8"};
    std::printf("[I] %s run:%d batches of size %d starting at %d\n", names[static_cast<int>(dataType)],
                o.nbScoreBatches, batch, o.firstScoreBatch);
    int top1 = 0, top5 = 0, images = 0;
    while (batches.next())
    {
        CHECK(cudaMemcpyAsync(buffers[in], batches.getBatch(), inCount * sizeof(float), cudaMemcpyHostToDevice, stream));
        if (!context->enqueueV2(buffers, stream, nullptr))
        {
            std::printf("[E] enqueueV2 failed\n");
            return s;
        }
        CHECK(cudaMemcpyAsync(prob.data(), buffers[out], outCount * sizeof(float), cudaMemcpyDeviceToHost, stream));
        CHECK(cudaStreamSynchronize(stream));
        for (int i = 0; i < batch; i++)
        {
            const int label = static_cast<int>(batches.getLabels()[i]);
            top1 += hits(&prob[i * classes], classes, label, 1);
            top5 += hits(&prob[i * classes], classes, label, 5);
        }
        images += batch;
    }
    cudaStreamDestroy(stream);
    cudaFree(buffers[in]);
    cudaFree(buffers[out]);
    if (images == 0)
    {
        std::printf("[E] no scoring batches under %s\n", o.batches.c_str());
        return s;
    }
    s.top1 = static_cast<float>(top1) / images;
    s.top5 = static_cast<float>(top5) / images;
    s.ok = true;
    std::printf("[I] Top1: %g, Top5: %g\n", s.top1, s.top5);
    return s;
}
} // namespace

int main(int argc, char** argv)
{
    const char* cmd = "TensorRT.sample_int8_trt7";
    Options o;
    if (!parseArgs(argc, argv, o))
    {
        std::printf("&&&& FAILED %s\n", cmd);
        return EXIT_FAILURE;
    }
    std::printf("&&&& RUNNING %s # %s\n", cmd, argv[0]);
    const int batch = modelBatch(o);
    if (batch <= 0 || kCalibrationImages % batch != 0)
    {
        std::printf("[E] %s: need a batch dividing %d\n&&&& FAILED %s\n", o.model.c_str(), kCalibrationImages, cmd);
        return EXIT_FAILURE;
    }
    Score scores[3];
    const DataType types[3] = {DataType::kFLOAT, DataType::kHALF, DataType::kINT8};
    for (int i = 0; i < 3; i++)
    {
        std::unique_ptr<EntropyCalibrator> calibrator;
        if (types[i] == DataType::kINT8)
            calibrator.reset(new EntropyCalibrator(batch, o));
        Ptr<ICudaEngine> engine(buildEngine(types[i], o, calibrator.get()));
        if (engine)
            scores[i] = score(*engine, o, types[i]);
    }
    // TensorRT 7.2's criterion: FP32 top-1/top-5 >= 0.99, other precisions within 0.01 of FP32.
    bool pass = scores[0].ok && scores[0].top1 >= 0.99f && scores[0].top5 >= 0.99f;
    for (int i = 1; i < 3; i++)
        pass = pass && scores[i].ok && std::fabs(scores[i].top1 - scores[0].top1) <= 0.01f
            && std::fabs(scores[i].top5 - scores[0].top5) <= 0.01f;
    std::printf("&&&& %s %s # %s\n", pass ? "PASSED" : "FAILED", cmd, argv[0]);
    return pass ? EXIT_SUCCESS : EXIT_FAILURE;
}
