// sampleINT8 for infer8: the flow of TensorRT 5's sampleINT8, written for this project.
// Builds LeNet from Caffe, scores MNIST in FP32, FP16 and INT8 (INT8 first calibrates on sample
// batches and caches the result), serializes and deserializes each engine, and times enqueue with
// CUDA events. Arguments: [network] batch=N start=N score=N [search] [legacy] [entropy] [minmax]
//                         [datadir=DIR] [model=DIR]
#include "BatchStream.h"

#include <NvCaffeParser.h>
#include <NvInfer.h>
#include <NvInferPlugin.h>
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
    Severity reportable{Severity::kINFO};
    void log(Severity severity, const char* msg) override
    {
        if (severity > reportable)
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
    std::string network{"mnist"};
    int batchSize{100};
    int firstScoreBatch{5};
    int nbScoreBatches{95};
    bool search{false};
    CalibrationAlgoType algorithm{CalibrationAlgoType::kENTROPY_CALIBRATION_2};
    std::vector<std::string> dirs;
};

std::string locateFile(const std::string& name, const Options& o)
{
    for (const auto& d : o.dirs)
    {
        std::string path = d + "/" + name;
        if (std::ifstream(path).good())
            return path;
    }
    return std::string();
}

std::string locateAny(std::initializer_list<const char*> names, const Options& o)
{
    for (const char* n : names)
    {
        std::string p = locateFile(n, o);
        if (!p.empty())
            return p;
    }
    return std::string();
}

const int kCalBatchSize = 50;
const int kNbCalBatches = 10; // images 0-499

// Copies BatchStream batches into a device buffer for the builder.
class CalibratorBase
{
public:
    CalibratorBase(BatchStream& stream, std::string cacheName, bool readCache)
        : mStream(stream), mCacheName(std::move(cacheName)), mReadCache(readCache)
    {
        int d[4];
        if (!mStream.getDims(d))
        {
            std::printf("[E] no calibration batch files\n");
            std::exit(EXIT_FAILURE);
        }
        mInputCount = static_cast<size_t>(d[0]) * d[1] * d[2] * d[3];
        CHECK(cudaMalloc(&mDeviceInput, mInputCount * sizeof(float)));
    }
    ~CalibratorBase() { cudaFree(mDeviceInput); }

    int batchSize() const { return mStream.getBatchSize(); }

    bool batch(void* bindings[], const char* names[], int nbBindings)
    {
        if (!mStream.next())
            return false;
        if (nbBindings != 1 || std::strcmp(names[0], "data") != 0)
        {
            std::printf("[E] calibrator expected one input named data\n");
            return false;
        }
        CHECK(cudaMemcpy(mDeviceInput, mStream.getBatch(), mInputCount * sizeof(float), cudaMemcpyHostToDevice));
        bindings[0] = mDeviceInput;
        return true;
    }

    const void* readCache(size_t& length)
    {
        mCache.clear();
        std::ifstream input(mCacheName, std::ios::binary);
        if (mReadCache && input.good())
            mCache.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
        length = mCache.size();
        return length ? mCache.data() : nullptr;
    }

    void writeCache(const void* cache, size_t length)
    {
        std::ofstream(mCacheName, std::ios::binary).write(static_cast<const char*>(cache), length);
    }

private:
    BatchStream& mStream;
    std::string mCacheName;
    bool mReadCache;
    size_t mInputCount{0};
    void* mDeviceInput{nullptr};
    std::vector<char> mCache;
};

template <typename Interface>
class Calibrator : public Interface
{
public:
    Calibrator(BatchStream& s, const std::string& cache, bool readCache) : mImpl(s, cache, readCache) {}
    int getBatchSize() const override { return mImpl.batchSize(); }
    bool getBatch(void* bindings[], const char* names[], int nb) override { return mImpl.batch(bindings, names, nb); }
    const void* readCalibrationCache(size_t& length) override { return mImpl.readCache(length); }
    void writeCalibrationCache(const void* c, size_t n) override { mImpl.writeCache(c, n); }

private:
    CalibratorBase mImpl;
};

class MinMaxCalibrator : public IInt8Calibrator
{
public:
    MinMaxCalibrator(BatchStream& s, const std::string& cache) : mImpl(s, cache, true) {}
    int getBatchSize() const override { return mImpl.batchSize(); }
    bool getBatch(void* bindings[], const char* names[], int nb) override { return mImpl.batch(bindings, names, nb); }
    const void* readCalibrationCache(size_t& length) override { return mImpl.readCache(length); }
    void writeCalibrationCache(const void* c, size_t n) override { mImpl.writeCache(c, n); }
    CalibrationAlgoType getAlgorithm() override { return CalibrationAlgoType::kMINMAX_CALIBRATION; }

private:
    CalibratorBase mImpl;
};

// The legacy calibrator with TensorRT 5's parameterisation: quantile = 1 - 10^-quantileIndex.
// The histogram cache lives in the caller's vector, so the grid search collects histograms once.
class LegacyCalibrator : public IInt8LegacyCalibrator
{
public:
    LegacyCalibrator(BatchStream& s, double cutoff, double quantileIndex, bool readCache, std::vector<char>& histogram)
        : mImpl(s, "LegacyCalibrationTable", readCache), mCutoff(cutoff), mQuantile(1 - std::pow(10.0, -quantileIndex))
        , mHistogram(histogram)
    {
    }
    int getBatchSize() const override { return mImpl.batchSize(); }
    bool getBatch(void* bindings[], const char* names[], int nb) override { return mImpl.batch(bindings, names, nb); }
    const void* readCalibrationCache(size_t& length) override { return mImpl.readCache(length); }
    void writeCalibrationCache(const void* c, size_t n) override { mImpl.writeCache(c, n); }
    double getQuantile() const override { return mQuantile; }
    double getRegressionCutoff() const override { return mCutoff; }
    const void* readHistogramCache(size_t& length) override
    {
        length = mHistogram.size();
        return length ? mHistogram.data() : nullptr;
    }
    void writeHistogramCache(const void* p, size_t n) override
    {
        mHistogram.assign(static_cast<const char*>(p), static_cast<const char*>(p) + n);
    }

private:
    CalibratorBase mImpl;
    double mCutoff, mQuantile;
    std::vector<char>& mHistogram;
};

struct Score
{
    float top1{0}, top5{0};
    bool ok{false};
};

bool parseArgs(int argc, char** argv, Options& o)
{
    std::string datadir, model;
    for (int i = 1; i < argc; i++)
    {
        std::string a = argv[i];
        auto value = [&](const char* key, int& out) {
            size_t n = std::strlen(key);
            if (a.compare(0, n, key) != 0)
                return false;
            out = std::atoi(a.c_str() + n);
            return true;
        };
        if (value("batch=", o.batchSize) || value("start=", o.firstScoreBatch) || value("score=", o.nbScoreBatches))
            continue;
        if (a == "search")
            o.search = true;
        else if (a == "legacy")
            o.algorithm = CalibrationAlgoType::kLEGACY_CALIBRATION;
        else if (a == "entropy" || a == "useLegacyEntropy")
            o.algorithm = CalibrationAlgoType::kENTROPY_CALIBRATION;
        else if (a == "minmax")
            o.algorithm = CalibrationAlgoType::kMINMAX_CALIBRATION;
        else if (a.compare(0, 8, "datadir=") == 0)
            o.dirs.insert(o.dirs.begin(), a.substr(8));
        else if (a.compare(0, 6, "model=") == 0)
            o.dirs.insert(o.dirs.begin(), a.substr(6));
        else if (a[0] != '-' && a.find('=') == std::string::npos && i == 1)
            o.network = a;
        else
        {
            std::printf("[E] unknown argument %s\n", a.c_str());
            return false;
        }
    }
    for (const char* base : {"data/", "int8/", "data/int8/", "data/int8_samples/"})
        o.dirs.push_back(base + o.network);
    if (o.batchSize <= 0 || o.batchSize > 128 || o.firstScoreBatch < 0 || o.nbScoreBatches <= 0
        || static_cast<long>(o.firstScoreBatch + o.nbScoreBatches) * o.batchSize > 500000)
    {
        std::printf("[E] batch must be in 1..128, start >= 0, score > 0 and (start+score)*batch <= 500000\n");
        return false;
    }
    return true;
}

ICudaEngine* buildEngine(DataType dataType, const Options& o, IInt8Calibrator* calibrator)
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    Ptr<INetworkDefinition> network(builder->createNetwork());
    Ptr<nvcaffeparser1::ICaffeParser> parser(nvcaffeparser1::createCaffeParser());
    if ((dataType == DataType::kINT8 && !builder->platformHasFastInt8())
        || (dataType == DataType::kHALF && !builder->platformHasFastFp16()))
        return nullptr;
    const std::string deploy = locateAny({"deploy.prototxt", "lenet.prototxt"}, o);
    const std::string model = locateAny({"mnist_lenet.caffemodel", "lenet_iter_10000.caffemodel"}, o);
    const nvcaffeparser1::IBlobNameToTensor* blobs = parser->parse(
        deploy.c_str(), model.c_str(), *network, dataType == DataType::kINT8 ? DataType::kFLOAT : dataType);
    if (!blobs || !blobs->find("prob"))
    {
        std::printf("[E] could not parse %s / %s\n", deploy.c_str(), model.c_str());
        return nullptr;
    }
    network->markOutput(*blobs->find("prob"));
    builder->setMaxBatchSize(o.batchSize);
    builder->setMaxWorkspaceSize(1 << 30);
    builder->setAverageFindIterations(1);
    builder->setMinFindIterations(1);
    builder->setDebugSync(true);
    builder->setFp16Mode(dataType == DataType::kHALF);
    builder->setInt8Mode(dataType == DataType::kINT8);
    builder->setInt8Calibrator(calibrator);
    Ptr<ICudaEngine> engine(builder->buildCudaEngine(*network));
    if (!engine || network->getInput(0)->getDimensions().nbDims != 3)
        return nullptr;

    // Round-trip through the engine file, as a deployment would.
    Ptr<IHostMemory> plan(engine->serialize());
    Ptr<IRuntime> runtime(createInferRuntime(gLogger));
    return plan ? runtime->deserializeCudaEngine(plan->data(), plan->size(), nullptr) : nullptr;
}

// Top-k counts a hit when fewer than k classes score at least the label's probability.
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
    if (!context || in < 0 || out < 0)
        return s;
    const Dims inDims = engine.getBindingDimensions(in), outDims = engine.getBindingDimensions(out);
    size_t inCount = o.batchSize, outCount = o.batchSize;
    for (int i = 0; i < inDims.nbDims; i++)
        inCount *= inDims.d[i];
    for (int i = 0; i < outDims.nbDims; i++)
        outCount *= outDims.d[i];
    const int classes = static_cast<int>(outCount / o.batchSize);
    void* buffers[2];
    CHECK(cudaMalloc(&buffers[in], inCount * sizeof(float)));
    CHECK(cudaMalloc(&buffers[out], outCount * sizeof(float)));
    std::vector<float> prob(outCount);
    cudaStream_t stream;
    cudaEvent_t start, end;
    CHECK(cudaStreamCreate(&stream));
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&end));

    BatchStream batches(o.batchSize, o.nbScoreBatches, "batches/batch");
    for (const auto& d : o.dirs)
        if (std::ifstream(d + "/batches/batch0").good())
        {
            batches = BatchStream(o.batchSize, o.nbScoreBatches, d + "/batches/batch");
            break;
        }
    batches.reset(o.firstScoreBatch);
    const char* names[] = {"FP32", "FP16", "INT8"};
    std::printf("[I] %s run:%d batches of size %d starting at %d\n", names[static_cast<int>(dataType)],
                o.nbScoreBatches, o.batchSize, o.firstScoreBatch);
    int top1 = 0, top5 = 0, images = 0;
    float totalMs = 0;
    while (batches.next())
    {
        if (batches.getBatchesRead() % 100 == 1)
            std::printf("[I] Processing next set of max 100 batches\n");
        CHECK(cudaMemcpy(buffers[in], batches.getBatch(), inCount * sizeof(float), cudaMemcpyHostToDevice));
        CHECK(cudaEventRecord(start, stream));
        if (!context->enqueue(o.batchSize, buffers, stream, nullptr))
        {
            std::printf("[E] enqueue failed\n");
            return s;
        }
        CHECK(cudaEventRecord(end, stream));
        CHECK(cudaEventSynchronize(end));
        float ms = 0;
        CHECK(cudaEventElapsedTime(&ms, start, end));
        totalMs += ms;
        CHECK(cudaMemcpy(prob.data(), buffers[out], outCount * sizeof(float), cudaMemcpyDeviceToHost));
        for (int i = 0; i < o.batchSize; i++)
        {
            const int label = static_cast<int>(batches.getLabels()[i]);
            top1 += hits(&prob[i * classes], classes, label, 1);
            top5 += hits(&prob[i * classes], classes, label, 5);
        }
        images += o.batchSize;
    }
    cudaEventDestroy(start);
    cudaEventDestroy(end);
    cudaStreamDestroy(stream);
    cudaFree(buffers[in]);
    cudaFree(buffers[out]);
    if (images == 0)
    {
        std::printf("[E] no scoring batches found (run the batch tool first)\n");
        return s;
    }
    s.top1 = static_cast<float>(top1) / images;
    s.top5 = static_cast<float>(top5) / images;
    s.ok = true;
    std::printf("[I] Top1: %g, Top5: %g\n", s.top1, s.top5);
    std::printf("[I] Processing %d images averaged %g ms/image and %g ms/batch.\n", images, totalMs / images,
                totalMs / (images / o.batchSize));
    return s;
}

std::string batchPrefix(const Options& o)
{
    for (const auto& d : o.dirs)
        if (std::ifstream(d + "/batches/batch0").good())
            return d + "/batches/batch";
    return "batches/batch";
}

Score runPrecision(DataType dataType, const Options& o)
{
    BatchStream calibration(kCalBatchSize, kNbCalBatches, batchPrefix(o));
    std::vector<char> histogram;
    std::unique_ptr<IInt8Calibrator> calibrator;
    if (dataType == DataType::kINT8)
    {
        const std::string cache = "CalibrationTable" + o.network;
        switch (o.algorithm)
        {
        case CalibrationAlgoType::kENTROPY_CALIBRATION:
            calibrator.reset(new Calibrator<IInt8EntropyCalibrator>(calibration, cache, true));
            break;
        case CalibrationAlgoType::kMINMAX_CALIBRATION: calibrator.reset(new MinMaxCalibrator(calibration, cache)); break;
        case CalibrationAlgoType::kLEGACY_CALIBRATION:
            calibrator.reset(new LegacyCalibrator(calibration, 1.0, 6.0, true, histogram));
            break;
        default: calibrator.reset(new Calibrator<IInt8EntropyCalibrator2>(calibration, cache, true)); break;
        }
    }
    Ptr<ICudaEngine> engine(buildEngine(dataType, o, calibrator.get()));
    if (!engine)
    {
        std::printf("[I] %s engine not built (precision unsupported or build failed)\n",
                    dataType == DataType::kHALF ? "FP16" : dataType == DataType::kINT8 ? "INT8" : "FP32");
        return Score();
    }
    return score(*engine, o, dataType);
}

// The legacy calibrator's 2-D grid over regression cutoff and quantile index, scored on the
// calibration-independent scoring batches.
void searchLegacy(const Options& o)
{
    double bestCutoff = 1, bestQuantile = 6;
    float best = -1;
    std::vector<char> histogram;
    std::vector<double> cutoffs{1.0};
    for (double c = 0.4; c <= 0.7 + 1e-9; c += 0.05)
        cutoffs.push_back(c);
    for (double cutoff : cutoffs)
        for (double q = 2; q <= 8; q += 1)
        {
            BatchStream calibration(kCalBatchSize, kNbCalBatches, batchPrefix(o));
            LegacyCalibrator calibrator(calibration, cutoff, q, false, histogram);
            Ptr<ICudaEngine> engine(buildEngine(DataType::kINT8, o, &calibrator));
            if (!engine)
                continue;
            Score s = score(*engine, o, DataType::kINT8);
            std::printf("[I] cutoff %.2f quantileIndex %.0f: Top1 %g\n", cutoff, q, s.top1);
            if (s.top1 > best)
            {
                best = s.top1;
                bestCutoff = cutoff;
                bestQuantile = q;
            }
        }
    std::printf("[I] Best legacy calibration: cutoff %.2f quantileIndex %.0f, Top1 %g\n", bestCutoff, bestQuantile, best);
}
} // namespace

int main(int argc, char** argv)
{
    const char* cmd = "TensorRT.sample_int8";
    Options o;
    if (!parseArgs(argc, argv, o))
    {
        std::printf("&&&& FAILED %s\n", cmd);
        return EXIT_FAILURE;
    }
    std::printf("&&&& RUNNING %s # %s\n", cmd, argv[0]);
    initLibNvInferPlugins(&gLogger, "");
    if (o.search)
    {
        searchLegacy(o);
        nvcaffeparser1::shutdownProtobufLibrary();
        std::printf("&&&& PASSED %s\n", cmd);
        return EXIT_SUCCESS;
    }
    Score scores[3];
    const DataType types[3] = {DataType::kFLOAT, DataType::kHALF, DataType::kINT8};
    for (int i = 0; i < 3; i++)
        scores[i] = runPrecision(types[i], o);
    nvcaffeparser1::shutdownProtobufLibrary();

    // TensorRT 7.2's criterion: FP32 top-1/top-5 >= 0.99, other precisions within 0.01 of FP32.
    bool pass = scores[0].ok && scores[0].top1 >= 0.99f && scores[0].top5 >= 0.99f;
    for (int i = 1; i < 3; i++)
        if (scores[i].ok)
            pass = pass && std::fabs(scores[i].top1 - scores[0].top1) <= 0.01f
                && std::fabs(scores[i].top5 - scores[0].top5) <= 0.01f;
    std::printf("&&&& %s %s # %s\n", pass ? "PASSED" : "FAILED", cmd, argv[0]);
    return pass ? EXIT_SUCCESS : EXIT_FAILURE;
}
