// Custom layers through the Caffe parser's plugin factories, in the style of TensorRT's samplePlugin:
// LeNet's `relu1` becomes an IPluginExt (made by an IPluginFactoryExt) and `ip2` an IPluginV2Ext
// fully connected layer computed from the caffemodel's blobs (made by an IPluginFactoryV2, re-created
// from the engine file by an IPluginCreator in the plugin registry). The plugin engine must score 1000
// MNIST images like the engine without plugins (same top-1, probabilities within 1e-5: the plugin's
// fully connected layer sums in its own order, in double on the host, where the engine's own runs in
// FP32), and give bit-identical outputs after serialize/deserialize. Then the error paths: a factory
// returning null, a plugin with the wrong number of outputs, deserializing without the factory or the
// creator, an enqueue that fails; each must fail with a logged error naming the layer, and no plugin
// object may leak or stay initialized.
// Arguments: lenet.prototxt lenet_iter_10000.caffemodel t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
//            [images: a multiple of 100, default 1000 (fewer for slow checkers such as valgrind)]
//
// As in TensorRT, a plugin's enqueue gets the engine's memory and the caller's stream: device
// pointers and the enqueue's stream on infer8's CUDA backend, host pointers and a null stream on its
// CPU backend. These plugins compute on the host (the sample has no device code), so they copy their
// tensors through host buffers on that stream; cudaMemcpyDefault copies between any two addresses the
// runtime knows (unified addressing), host to host too, so the same code serves both backends, with
// the real CUDA runtime or c_examples/cudart_host.
#include <NvCaffeParser.h>
#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace nvinfer1;
using namespace nvcaffeparser1;

namespace
{
std::vector<std::string> gErrors;

class Logger : public ILogger
{
    void log(Severity severity, const char* msg) override
    {
        if (severity <= Severity::kERROR)
            gErrors.push_back(msg);
        if (severity <= Severity::kWARNING)
            std::printf("[TRT] %s\n", msg);
    }
} gLogger;

// Whether an error logged since `from` mentions `word`.
bool loggedSince(size_t from, const char* word)
{
    for (size_t i = from; i < gErrors.size(); i++)
        if (gErrors[i].find(word) != std::string::npos)
            return true;
    return false;
}

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

// Plugin objects alive and initialized, across all plugins: both must be 0 at the end.
int gAlive = 0;
int gInitialized = 0;
// Makes every Relu enqueue fail (the error path of enqueue).
bool gFailEnqueue = false;

// `count` floats of a plugin tensor at `src` (device or host memory) into `dst`, on `stream`.
bool toHost(std::vector<float>& dst, const void* src, int count, cudaStream_t stream)
{
    dst.resize(count);
    return cudaMemcpyAsync(dst.data(), src, count * sizeof(float), cudaMemcpyDefault, stream) == cudaSuccess
        && cudaStreamSynchronize(stream) == cudaSuccess;
}

// `src` into the plugin tensor at `dst`, on `stream`, finished before the next layer reads it.
bool fromHost(void* dst, const std::vector<float>& src, cudaStream_t stream)
{
    return cudaMemcpyAsync(dst, src.data(), src.size() * sizeof(float), cudaMemcpyDefault, stream) == cudaSuccess
        && cudaStreamSynchronize(stream) == cudaSuccess;
}

int volume(const Dims& d)
{
    int v = 1;
    for (int i = 0; i < d.nbDims; i++)
        v *= d.d[i];
    return v;
}

// ---- relu1: ReLU as an IPluginExt. Serialized state: the element count per image.
class Relu : public IPluginExt
{
public:
    explicit Relu(int nbOutputs = 1, int count = 0)
        : mNbOutputs(nbOutputs)
        , mCount(count)
    {
        gAlive++;
    }
    ~Relu() override { gAlive--; }
    int getNbOutputs() const override { return mNbOutputs; }
    Dims getOutputDimensions(int, const Dims* inputs, int) override { return inputs[0]; }
    bool supportsFormat(DataType type, PluginFormat format) const override
    {
        return type == DataType::kFLOAT && format == PluginFormat::kNCHW;
    }
    void configureWithFormat(const Dims* in, int, const Dims*, int, DataType, PluginFormat, int) override
    {
        mCount = volume(in[0]);
    }
    int initialize() override
    {
        gInitialized++;
        return 0;
    }
    void terminate() override { gInitialized--; }
    size_t getWorkspaceSize(int) const override { return 0; }
    int enqueue(int batch, const void* const* inputs, void** outputs, void*, cudaStream_t stream) override
    {
        std::vector<float> x;
        if (gFailEnqueue || !toHost(x, inputs[0], batch * mCount, stream))
            return 1;
        for (float& v : x)
            v = v > 0.0f ? v : 0.0f;
        return fromHost(outputs[0], x, stream) ? 0 : 1;
    }
    size_t getSerializationSize() override { return sizeof mCount; }
    void serialize(void* buffer) override { std::memcpy(buffer, &mCount, sizeof mCount); }

private:
    int mNbOutputs;
    int mCount;
};

// Makes Relu plugins for `relu1` (from the parser, then from the engine file) and owns them.
class ReluFactory : public nvcaffeparser1::IPluginFactoryExt, public nvinfer1::IPluginFactory
{
public:
    explicit ReluFactory(int nbOutputs = 1)
        : mNbOutputs(nbOutputs)
    {
    }
    bool isPlugin(const char* name) override { return std::strcmp(name, "relu1") == 0; }
    bool isPluginExt(const char* name) override { return isPlugin(name); }
    IPlugin* createPlugin(const char*, const Weights*, int nbWeights) override
    {
        if (nbWeights != 0)
            return nullptr;
        mPlugins.emplace_back(new Relu(mNbOutputs));
        return mPlugins.back().get();
    }
    IPlugin* createPlugin(const char*, const void* data, size_t length) override
    {
        int count = 0;
        if (length != sizeof count)
            return nullptr;
        std::memcpy(&count, data, sizeof count);
        mPlugins.emplace_back(new Relu(1, count));
        return mPlugins.back().get();
    }

private:
    int mNbOutputs;
    std::vector<std::unique_ptr<Relu>> mPlugins;
};

// ---- ip2: a fully connected layer as an IPluginV2Ext. Serialized state: sizes, weights, bias.
class Fc : public IPluginV2Ext
{
public:
    Fc(std::vector<float> weights, std::vector<float> bias, const char* type)
        : mWeights(std::move(weights))
        , mBias(std::move(bias))
        , mType(type)
    {
        gAlive++;
    }
    Fc(const void* data, size_t length, const char* type)
        : mType(type)
    {
        gAlive++;
        const char* p = static_cast<const char*>(data);
        int nbOut = 0, nbIn = 0;
        if (length < 2 * sizeof(int))
            return;
        std::memcpy(&nbOut, p, sizeof nbOut);
        std::memcpy(&nbIn, p + sizeof nbOut, sizeof nbIn);
        if (nbOut <= 0 || nbIn <= 0 || length != 2 * sizeof(int) + sizeof(float) * nbOut * (nbIn + 1))
            return;
        mWeights.resize(nbOut * nbIn);
        mBias.resize(nbOut);
        std::memcpy(mWeights.data(), p + 2 * sizeof(int), mWeights.size() * sizeof(float));
        std::memcpy(mBias.data(), p + 2 * sizeof(int) + mWeights.size() * sizeof(float), mBias.size() * sizeof(float));
    }
    ~Fc() override { gAlive--; }

    const char* getPluginType() const override { return mType; }
    const char* getPluginVersion() const override { return "1"; }
    int getNbOutputs() const override { return 1; }
    Dims getOutputDimensions(int, const Dims*, int) override { return DimsCHW(nbOutputs(), 1, 1); }
    bool supportsFormat(DataType type, PluginFormat format) const override
    {
        return type == DataType::kFLOAT && format == PluginFormat::kNCHW;
    }
    int initialize() override
    {
        gInitialized++;
        return 0;
    }
    void terminate() override { gInitialized--; }
    size_t getWorkspaceSize(int) const override { return 0; }
    int enqueue(int batch, const void* const* inputs, void** outputs, void*, cudaStream_t stream) override
    {
        const int nbOut = nbOutputs(), nbIn = nbInputs();
        std::vector<float> x, y(batch * nbOut);
        if (!toHost(x, inputs[0], batch * nbIn, stream))
            return 1;
        for (int b = 0; b < batch; b++)
        {
            for (int o = 0; o < nbOut; o++)
            {
                double sum = mBias[o];
                for (int i = 0; i < nbIn; i++)
                    sum += double(mWeights[o * nbIn + i]) * x[b * nbIn + i];
                y[b * nbOut + o] = static_cast<float>(sum);
            }
        }
        return fromHost(outputs[0], y, stream) ? 0 : 1;
    }
    size_t getSerializationSize() const override
    {
        return 2 * sizeof(int) + (mWeights.size() + mBias.size()) * sizeof(float);
    }
    void serialize(void* buffer) const override
    {
        char* p = static_cast<char*>(buffer);
        const int nbOut = nbOutputs(), nbIn = nbInputs();
        std::memcpy(p, &nbOut, sizeof nbOut);
        std::memcpy(p + sizeof nbOut, &nbIn, sizeof nbIn);
        std::memcpy(p + 2 * sizeof(int), mWeights.data(), mWeights.size() * sizeof(float));
        std::memcpy(p + 2 * sizeof(int) + mWeights.size() * sizeof(float), mBias.data(), mBias.size() * sizeof(float));
    }
    void destroy() override { delete this; }
    IPluginV2Ext* clone() const override
    {
        Fc* copy = new Fc(mWeights, mBias, mType);
        copy->setPluginNamespace(mNamespace.c_str());
        return copy;
    }
    void setPluginNamespace(const char* ns) override { mNamespace = ns; }
    const char* getPluginNamespace() const override { return mNamespace.c_str(); }
    DataType getOutputDataType(int, const DataType*, int) const override { return DataType::kFLOAT; }
    bool isOutputBroadcastAcrossBatch(int, const bool*, int) const override { return false; }
    bool canBroadcastInputAcrossBatch(int) const override { return false; }
    void configurePlugin(const Dims* in, int nbInputs, const Dims*, int, const DataType*, const DataType*,
        const bool*, const bool*, PluginFormat format, int) override
    {
        mConfigured = nbInputs == 1 && volume(in[0]) == this->nbInputs() && format == PluginFormat::kNCHW;
    }
    bool configured() const { return mConfigured; }

private:
    int nbOutputs() const { return static_cast<int>(mBias.size()); }
    int nbInputs() const { return mBias.empty() ? 0 : static_cast<int>(mWeights.size() / mBias.size()); }

    std::vector<float> mWeights, mBias;
    const char* mType;
    std::string mNamespace;
    bool mConfigured = false;
};

const char* const kFcType = "SampleFc";
const char* const kUnregisteredType = "SampleFcUnregistered";

// Re-creates Fc plugins from engine files (registered in the plugin registry).
class FcCreator : public IPluginCreator
{
public:
    const char* getPluginName() const override { return kFcType; }
    const char* getPluginVersion() const override { return "1"; }
    const PluginFieldCollection* getFieldNames() override { return &mFields; }
    IPluginV2* createPlugin(const char*, const PluginFieldCollection*) override { return nullptr; }
    IPluginV2* deserializePlugin(const char*, const void* data, size_t length) override
    {
        return new Fc(data, length, kFcType);
    }
    void setPluginNamespace(const char* ns) override { mNamespace = ns; }
    const char* getPluginNamespace() const override { return mNamespace.c_str(); }

private:
    PluginFieldCollection mFields{0, nullptr};
    std::string mNamespace;
};

// Makes the Fc plugin for `ip2` from its two blobs (weights, bias); the factory owns what it makes.
class FcFactory : public IPluginFactoryV2
{
public:
    explicit FcFactory(const char* type = kFcType, bool fail = false)
        : mType(type)
        , mFail(fail)
    {
    }
    ~FcFactory()
    {
        for (Fc* p : mPlugins)
            p->destroy();
    }
    bool isPluginV2(const char* name) override { return std::strcmp(name, "ip2") == 0; }
    IPluginV2* createPlugin(const char*, const Weights* weights, int nbWeights, const char* ns) override
    {
        if (mFail || nbWeights != 2 || weights[0].type != DataType::kFLOAT || weights[1].type != DataType::kFLOAT
            || weights[1].count <= 0 || weights[0].count % weights[1].count != 0)
            return nullptr;
        const float* w = static_cast<const float*>(weights[0].values);
        const float* b = static_cast<const float*>(weights[1].values);
        Fc* p = new Fc(std::vector<float>(w, w + weights[0].count), std::vector<float>(b, b + weights[1].count), mType);
        p->setPluginNamespace(ns);
        mPlugins.push_back(p);
        return p;
    }

private:
    const char* mType;
    bool mFail;
    std::vector<Fc*> mPlugins;
};

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

const int kBatch = 100;
int gImages = 1000;

struct Model
{
    const char* deploy;
    const char* weights;
};

// Parses LeNet with the given factories (either may be null) and builds it; null on failure.
ICudaEngine* build(const Model& m, nvcaffeparser1::IPluginFactoryExt* ext, IPluginFactoryV2* v2)
{
    Ptr<IBuilder> builder(createInferBuilder(gLogger));
    Ptr<INetworkDefinition> net(builder->createNetwork());
    Ptr<ICaffeParser> parser(createCaffeParser());
    if (ext)
        parser->setPluginFactoryExt(ext);
    if (v2)
        parser->setPluginFactoryV2(v2);
    const IBlobNameToTensor* blobs = parser->parse(m.deploy, m.weights, *net, DataType::kFLOAT);
    if (!blobs)
        return nullptr;
    net->markOutput(*blobs->find("prob"));
    for (int i = 0; i < net->getNbLayers(); i++)
    {
        ILayer* layer = net->getLayer(i);
        if (ext && std::strcmp(layer->getName(), "relu1") == 0
            && (layer->getType() != LayerType::kPLUGIN || !static_cast<IPluginLayer*>(layer)->getPlugin().getNbOutputs()))
        {
            std::printf("relu1 is not a plugin layer\n");
            return nullptr;
        }
        if (v2 && std::strcmp(layer->getName(), "ip2") == 0 && layer->getType() != LayerType::kPLUGIN_V2)
        {
            std::printf("ip2 is not a plugin V2 layer\n");
            return nullptr;
        }
    }
    builder->setMaxBatchSize(kBatch);
    builder->setMaxWorkspaceSize(16 << 20);
    return builder->buildCudaEngine(*net);
}

// Probabilities of the first gImages images; empty on failure.
std::vector<float> score(ICudaEngine& engine, const std::vector<float>& images)
{
    std::vector<float> out(gImages * 10);
    Ptr<IExecutionContext> ctx(engine.createExecutionContext());
    const int in = engine.getBindingIndex("data"), pr = engine.getBindingIndex("prob");
    void* buffers[2] = {nullptr, nullptr};
    if (!ctx || in < 0 || pr < 0 || cudaMalloc(&buffers[in], kBatch * 784 * 4) != cudaSuccess
        || cudaMalloc(&buffers[pr], kBatch * 10 * 4) != cudaSuccess)
        return {};
    bool ok = true;
    for (int b = 0; ok && b < gImages / kBatch; b++)
    {
        cudaMemcpy(buffers[in], &images[b * kBatch * 784], kBatch * 784 * 4, cudaMemcpyHostToDevice);
        ok = ctx->execute(kBatch, buffers);
        cudaMemcpy(&out[b * kBatch * 10], buffers[pr], kBatch * 10 * 4, cudaMemcpyDeviceToHost);
    }
    cudaFree(buffers[0]);
    cudaFree(buffers[1]);
    return ok ? out : std::vector<float>();
}

int top1(const std::vector<float>& p, int image)
{
    int best = 0;
    for (int c = 1; c < 10; c++)
        if (p[image * 10 + c] > p[image * 10 + best])
            best = c;
    return best;
}

int failures = 0;

void check(bool ok, const char* what)
{
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += ok ? 0 : 1;
}
} // namespace

int main(int argc, char** argv)
{
    if (argc == 6)
        gImages = std::atoi(argv[5]);
    if ((argc != 5 && argc != 6) || gImages <= 0 || gImages % kBatch != 0)
    {
        std::printf("usage: %s lenet.prototxt lenet.caffemodel t10k-images-idx3-ubyte t10k-labels-idx1-ubyte [images]\n",
            argv[0]);
        return 1;
    }
    const Model model{argv[1], argv[2]};
    std::vector<uint8_t> pixels, labels;
    if (!readIdx(argv[3], 2051, pixels, 16) || !readIdx(argv[4], 2049, labels, 8)
        || pixels.size() < size_t(gImages) * 784)
    {
        std::printf("could not read the MNIST files\n");
        return 1;
    }
    // The LeNet deploy file takes pixels scaled by 1/256 (Caffe's training transform).
    std::vector<float> images(gImages * 784);
    for (size_t i = 0; i < images.size(); i++)
        images[i] = pixels[i] * 0.00390625f;

    FcCreator creator;
    check(getPluginRegistry()->registerCreator(creator, ""), "the Fc creator registers");
    {
        std::vector<float> reference, plugged, loaded;
        {
            Ptr<ICudaEngine> plain(build(model, nullptr, nullptr));
            check(plain != nullptr, "LeNet builds without plugins");
            if (plain)
                reference = score(*plain, images);
        }
        ReluFactory relus;
        FcFactory fcs;
        Ptr<ICudaEngine> engine(build(model, &relus, &fcs));
        check(engine != nullptr, "LeNet builds with relu1 and ip2 as plugins");
        if (!engine)
            return 1;
        plugged = score(*engine, images);
        Ptr<IHostMemory> plan(engine->serialize());
        check(plan != nullptr, "the plugin engine serializes");
        Ptr<IRuntime> runtime(createInferRuntime(gLogger));
        {
            Ptr<ICudaEngine> back(runtime->deserializeCudaEngine(plan->data(), plan->size(), &relus));
            check(back != nullptr, "it deserializes through the IPluginFactory and the registry");
            if (back)
                loaded = score(*back, images);
        }
        check(reference.size() == plugged.size() && !plugged.empty(), "both engines score the images");
        int same = 0, correct = 0;
        double maxDiff = 0;
        for (int i = 0; i < gImages && reference.size() == plugged.size(); i++)
        {
            same += top1(reference, i) == top1(plugged, i);
            correct += top1(plugged, i) == labels[i];
            for (int c = 0; c < 10; c++)
                maxDiff = std::fmax(maxDiff, std::fabs(double(reference[i * 10 + c]) - plugged[i * 10 + c]));
        }
        std::printf("top-1 with plugins %d/%d, same class as without %d/%d, largest difference %.3g\n", correct,
            gImages, same, gImages, maxDiff);
        check(same == gImages, "top-1 equals the engine without plugins on every image");
        check(maxDiff <= 1e-5, "probabilities within 1e-5 of the engine without plugins");
        check(loaded.size() == plugged.size() && std::memcmp(loaded.data(), plugged.data(), 4 * loaded.size()) == 0,
            "outputs bit-identical after serialize/deserialize");

        // A plugin whose enqueue fails: execute returns false, the error names the layer.
        gFailEnqueue = true;
        size_t failMark = gErrors.size();
        check(score(*engine, images).empty() && loggedSince(failMark, "relu1"),
            "an enqueue returning 1: execute fails, error names relu1");
        gFailEnqueue = false;

        // Errors at deserialization: no IPluginFactory for relu1.
        size_t mark = gErrors.size();
        Ptr<ICudaEngine> none(runtime->deserializeCudaEngine(plan->data(), plan->size(), nullptr));
        check(!none && loggedSince(mark, "relu1"), "without the IPluginFactory: null, error names relu1");
    }

    // A V2 plugin whose type no creator has: builds, but does not deserialize.
    {
        FcFactory unregistered(kUnregisteredType);
        Ptr<ICudaEngine> engine(build(model, nullptr, &unregistered));
        check(engine != nullptr, "an engine with an unregistered plugin type builds");
        if (engine)
        {
            Ptr<IHostMemory> plan(engine->serialize());
            Ptr<IRuntime> runtime(createInferRuntime(gLogger));
            size_t mark = gErrors.size();
            Ptr<ICudaEngine> back(runtime->deserializeCudaEngine(plan->data(), plan->size(), nullptr));
            check(!back && loggedSince(mark, "ip2") && loggedSince(mark, kUnregisteredType),
                "missing creator: null, error names ip2 and the plugin type");
        }
    }
    // Factories that fail at parse time.
    {
        FcFactory failing(kFcType, true);
        size_t mark = gErrors.size();
        Ptr<ICudaEngine> engine(build(model, nullptr, &failing));
        check(!engine && loggedSince(mark, "ip2"), "createPlugin returning null: no network, error names ip2");
    }
    {
        ReluFactory twoOutputs(2);
        size_t mark = gErrors.size();
        Ptr<ICudaEngine> engine(build(model, &twoOutputs, nullptr));
        check(!engine && loggedSince(mark, "relu1"), "a plugin with 2 outputs for 1 top: no network, error names relu1");
    }
    check(gInitialized == 0, "every initialized plugin was terminated");
    check(gAlive == 0, "every plugin object was destroyed");
    std::printf("sample_plugin: %s\n", failures == 0 ? "PASSED" : "FAILED");
    return failures == 0 ? 0 : 1;
}
