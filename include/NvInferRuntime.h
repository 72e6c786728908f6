/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvInferRuntime.h: weights, host memory, the runtime, engines, execution contexts,
 * the refitter, legacy (IPlugin) plugins and optimization profiles.
 *
 * Slot numbers in the comments are vtable indices (two per virtual destructor).
 * Methods after a destructor that carry a version tag were appended by that generation.
 */
#ifndef NV_INFER_RUNTIME_H
#define NV_INFER_RUNTIME_H

#include "NvInferRuntimeCommon.h"

namespace nvinfer1
{

class IExecutionContext;
class ICudaEngine;
class IPluginFactory;

/* Restrictions an engine is built for. */
enum class EngineCapability : int
{
    kDEFAULT = 0,
    kSAFE_GPU = 1,
    kSAFE_DLA = 2
};
template <>
constexpr inline int EnumMax<EngineCapability>()
{
    return 3;
}

/* Layer parameters: 24 bytes, type @0, values @8, count @16. Held by reference until
 * the engine is built, so the data must stay valid until then. */
class Weights
{
public:
    DataType type;
    const void* values;
    int64_t count;
};

/* Library-owned host buffer (e.g. a serialized engine). */
class IHostMemory
{
public:
    /* 0 */ virtual void* data() const TRTNOEXCEPT = 0;
    /* 1 */ virtual std::size_t size() const TRTNOEXCEPT = 0;
    /* 2 */ virtual DataType type() const TRTNOEXCEPT = 0;
    /* 3 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 4, 5 */
    virtual ~IHostMemory() {}
};

/* User-implemented layer, first generation. */
class IPlugin
{
public:
    /* 0 */ virtual int getNbOutputs() const TRTNOEXCEPT = 0;
    /* 1 */ virtual Dims getOutputDimensions(int index, const Dims* inputs, int nbInputDims) TRTNOEXCEPT = 0;
    /* 2 */ virtual void configure(const Dims* inputDims, int nbInputs, const Dims* outputDims, int nbOutputs,
        int maxBatchSize) TRTNOEXCEPT = 0;
    /* 3 */ virtual int initialize() TRTNOEXCEPT = 0;
    /* 4 */ virtual void terminate() TRTNOEXCEPT = 0;
    /* 5 */ virtual size_t getWorkspaceSize(int maxBatchSize) const TRTNOEXCEPT = 0;
    /* 6 */ virtual int enqueue(int batchSize, const void* const* inputs, void** outputs, void* workspace,
        cudaStream_t stream) TRTNOEXCEPT = 0;
    /* 7 */ virtual size_t getSerializationSize() TRTNOEXCEPT = 0;
    /* 8 */ virtual void serialize(void* buffer) TRTNOEXCEPT = 0;
    /* 9, 10 */
    virtual ~IPlugin() {}
};

/* User-implemented layer with format negotiation. Slots 11..13 after IPlugin. */
class IPluginExt : public IPlugin
{
public:
    /* 11: header generation the plugin was compiled with; do not override. */
    virtual int getTensorRTVersion() const TRTNOEXCEPT { return NV_TENSORRT_VERSION; }
    /* 12 */ virtual bool supportsFormat(DataType type, PluginFormat format) const TRTNOEXCEPT = 0;
    /* 13 */ virtual void configureWithFormat(const Dims* inputDims, int nbInputs, const Dims* outputDims,
        int nbOutputs, DataType type, PluginFormat format, int maxBatchSize) TRTNOEXCEPT = 0;
    /* overrides slots 9, 10 */
    virtual ~IPluginExt() {}

protected:
    /* slot 2: not called for IPluginExt plugins */
    void configure(const Dims* /*inputDims*/, int /*nbInputs*/, const Dims* /*outputDims*/, int /*nbOutputs*/,
        int /*maxBatchSize*/) _TENSORRT_FINAL TRTNOEXCEPT
    {
    }
};

/* Application-implemented per-layer timing sink. */
class IProfiler
{
public:
    /* 0 */ virtual void reportLayerTime(const char* layerName, float ms) TRTNOEXCEPT = 0;
    /* 1, 2 */
    virtual ~IProfiler() {}
};

/* Which weights of a layer a refit call replaces. */
enum class WeightsRole : int
{
    kKERNEL = 0,
    kBIAS = 1,
    kSHIFT = 2,
    kSCALE = 3,
    kCONSTANT = 4
};
template <>
constexpr inline int EnumMax<WeightsRole>()
{
    return 5;
}

/* Execution device of a layer. */
enum class DeviceType : int
{
    kGPU = 0,
    kDLA = 1
};
template <>
constexpr inline int EnumMax<DeviceType>()
{
    return 2;
}

/* Deserializes engines. */
class IRuntime
{
public:
    /* 0 */ virtual ICudaEngine* deserializeCudaEngine(const void* blob, std::size_t size, IPluginFactory* pluginFactory) TRTNOEXCEPT = 0;
    /* 1 */ virtual void setDLACore(int dlaCore) TRTNOEXCEPT = 0;
    /* 2 */ virtual int getDLACore() const TRTNOEXCEPT = 0;
    /* 3 */ virtual int getNbDLACores() const TRTNOEXCEPT = 0;
    /* 4 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 5, 6 */
    virtual ~IRuntime() {}

public:
    /* 7 */ virtual void setGpuAllocator(IGpuAllocator* allocator) TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 8 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 9 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;

    /* Not virtual (no slot): deserialize without a plugin factory. */
    ICudaEngine* deserializeCudaEngine(const void* blob, std::size_t size) TRTNOEXCEPT
    {
        return deserializeCudaEngine(blob, size, nullptr);
    }
};

/* Replaces weights of a refittable engine. */
class IRefitter
{
public:
    /* 0 */ virtual bool setWeights(const char* layerName, WeightsRole role, Weights weights) TRTNOEXCEPT = 0;
    /* 1 */ virtual bool refitCudaEngine() TRTNOEXCEPT = 0;
    /* 2 */ virtual int getMissing(int size, const char** layerNames, WeightsRole* roles) TRTNOEXCEPT = 0;
    /* 3 */ virtual int getAll(int size, const char** layerNames, WeightsRole* roles) TRTNOEXCEPT = 0;
    /* 4 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 5, 6 */
    virtual ~IRefitter() {}

public:
    /* 6.0 / 7.x */
    /* 7 */ virtual bool setDynamicRange(const char* tensorName, float min, float max) TRTNOEXCEPT = 0;
    /* 8 */ virtual float getDynamicRangeMin(const char* tensorName) const TRTNOEXCEPT = 0;
    /* 9 */ virtual float getDynamicRangeMax(const char* tensorName) const TRTNOEXCEPT = 0;
    /* 10 */ virtual int getTensorsWithDynamicRange(int size, const char** tensorNames) const TRTNOEXCEPT = 0;
    /* 11 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 12 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
};

/* Application-implemented factory that recreates IPlugin objects during deserialization. */
class IPluginFactory
{
public:
    /* 0 */ virtual IPlugin* createPlugin(const char* layerName, const void* serialData, size_t serialLength) TRTNOEXCEPT = 0;
    /* 1, 2 (present from 6.0; appended after the only 5.1 slot) */
    virtual ~IPluginFactory() {}
};

/* Selects the minimum, optimum or maximum of an optimization profile entry (6.0). */
enum class OptProfileSelector : int
{
    kMIN = 0,
    kOPT = 1,
    kMAX = 2
};
template <>
constexpr inline int EnumMax<OptProfileSelector>()
{
    return 3;
}

/* Ranges of dynamic input shapes (6.0). Its destructor is not virtual: no slots. */
class IOptimizationProfile
{
public:
    /* 0 */ virtual bool setDimensions(const char* inputName, OptProfileSelector select, Dims dims) TRTNOEXCEPT = 0;
    /* 1 */ virtual Dims getDimensions(const char* inputName, OptProfileSelector select) const TRTNOEXCEPT = 0;
    /* 2 */ virtual bool setShapeValues(const char* inputName, OptProfileSelector select, const int32_t* values,
        int nbValues) TRTNOEXCEPT = 0;
    /* 3 */ virtual int getNbShapeValues(const char* inputName) const TRTNOEXCEPT = 0;
    /* 4 */ virtual const int32_t* getShapeValues(const char* inputName, OptProfileSelector select) const TRTNOEXCEPT = 0;
    /* 5 */ virtual bool setExtraMemoryTarget(float target) TRTNOEXCEPT = 0;
    /* 6 */ virtual float getExtraMemoryTarget() const TRTNOEXCEPT = 0;
    /* 7 */ virtual bool isValid() const TRTNOEXCEPT = 0;

protected:
    ~IOptimizationProfile() {}
};

/* A built network, ready for execution. */
class ICudaEngine
{
public:
    /* 0 */ virtual int getNbBindings() const TRTNOEXCEPT = 0;
    /* 1: -1 if the name is unknown */
    virtual int getBindingIndex(const char* name) const TRTNOEXCEPT = 0;
    /* 2 */ virtual const char* getBindingName(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 3 */ virtual bool bindingIsInput(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 4: excludes the implicit batch dimension */
    virtual Dims getBindingDimensions(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 5 */ virtual DataType getBindingDataType(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 6 */ virtual int getMaxBatchSize() const TRTNOEXCEPT = 0;
    /* 7 */ virtual int getNbLayers() const TRTNOEXCEPT = 0;
    /* 8 */ virtual std::size_t getWorkspaceSize() const TRTNOEXCEPT = 0;
    /* 9 */ virtual IHostMemory* serialize() const TRTNOEXCEPT = 0;
    /* 10 */ virtual IExecutionContext* createExecutionContext() TRTNOEXCEPT = 0;
    /* 11 */ virtual void destroy() TRTNOEXCEPT = 0;
    /* 12 */ virtual TensorLocation getLocation(int bindingIndex) const TRTNOEXCEPT = 0;

protected:
    /* 13, 14 */
    virtual ~ICudaEngine() {}

public:
    /* 15 */ virtual IExecutionContext* createExecutionContextWithoutDeviceMemory() TRTNOEXCEPT = 0;
    /* 16 */ virtual size_t getDeviceMemorySize() const TRTNOEXCEPT = 0;
    /* 17 */ virtual bool isRefittable() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 18 */ virtual int getBindingBytesPerComponent(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 19 */ virtual int getBindingComponentsPerElement(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 20 */ virtual TensorFormat getBindingFormat(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 21 */ virtual const char* getBindingFormatDesc(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 22: -1 for linear formats */
    virtual int getBindingVectorizedDim(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 23 */ virtual const char* getName() const TRTNOEXCEPT = 0;
    /* 24 */ virtual int getNbOptimizationProfiles() const TRTNOEXCEPT = 0;
    /* 25 */ virtual Dims getProfileDimensions(int bindingIndex, int profileIndex, OptProfileSelector select) const TRTNOEXCEPT = 0;
    /* 26 */ virtual const int32_t* getProfileShapeValues(int profileIndex, int inputIndex, OptProfileSelector select) const TRTNOEXCEPT = 0;
    /* 27 */ virtual bool isShapeBinding(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 28 */ virtual bool isExecutionBinding(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 29 */ virtual EngineCapability getEngineCapability() const TRTNOEXCEPT = 0;
    /* 30 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 31 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
    /* 7.0 */
    /* 32 */ virtual bool hasImplicitBatchDimension() const TRTNOEXCEPT = 0;
};

/* Per-thread execution state of an engine. */
class IExecutionContext
{
public:
    /* 0: synchronous */
    virtual bool execute(int batchSize, void** bindings) TRTNOEXCEPT = 0;
    /* 1: asynchronous on `stream`; inputConsumed (optional) is recorded when inputs may be refilled */
    virtual bool enqueue(int batchSize, void** bindings, cudaStream_t stream, cudaEvent_t* inputConsumed) TRTNOEXCEPT = 0;
    /* 2 */ virtual void setDebugSync(bool sync) TRTNOEXCEPT = 0;
    /* 3 */ virtual bool getDebugSync() const TRTNOEXCEPT = 0;
    /* 4 */ virtual void setProfiler(IProfiler*) TRTNOEXCEPT = 0;
    /* 5 */ virtual IProfiler* getProfiler() const TRTNOEXCEPT = 0;
    /* 6 */ virtual const ICudaEngine& getEngine() const TRTNOEXCEPT = 0;
    /* 7 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 8, 9 */
    virtual ~IExecutionContext() {}

public:
    /* 10 */ virtual void setName(const char* name) TRTNOEXCEPT = 0;
    /* 11 */ virtual const char* getName() const TRTNOEXCEPT = 0;
    /* 12 */ virtual void setDeviceMemory(void* memory) TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 13 */ virtual Dims getStrides(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 14 */ virtual bool setOptimizationProfile(int profileIndex) TRTNOEXCEPT = 0;
    /* 15 */ virtual int getOptimizationProfile() const TRTNOEXCEPT = 0;
    /* 16 */ virtual bool setBindingDimensions(int bindingIndex, Dims dimensions) TRTNOEXCEPT = 0;
    /* 17 */ virtual Dims getBindingDimensions(int bindingIndex) const TRTNOEXCEPT = 0;
    /* 18 */ virtual bool setInputShapeBinding(int bindingIndex, const int32_t* data) TRTNOEXCEPT = 0;
    /* 19 */ virtual bool getShapeBinding(int bindingIndex, int32_t* data) const TRTNOEXCEPT = 0;
    /* 20 */ virtual bool allInputDimensionsSpecified() const TRTNOEXCEPT = 0;
    /* 21 */ virtual bool allInputShapesSpecified() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 23 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
    /* 24 */ virtual bool executeV2(void** bindings) TRTNOEXCEPT = 0;
    /* 25 */ virtual bool enqueueV2(void** bindings, cudaStream_t stream, cudaEvent_t* inputConsumed) TRTNOEXCEPT = 0;
};

} // namespace nvinfer1

/* Library entry point behind createInferRuntime(); `logger` is an ILogger*, `version` the
 * caller's NV_TENSORRT_VERSION. Returns an IRuntime* or nullptr. */
extern "C" TENSORRTAPI void* createInferRuntime_INTERNAL(void* logger, int version);

/* Library entry point behind createInferRefitter(); returns an IRefitter* or nullptr. */
extern "C" TENSORRTAPI void* createInferRefitter_INTERNAL(void* engine, void* logger, int version);

namespace nvinfer1
{
namespace // internal linkage: each translation unit passes its own header version
{

inline IRuntime* createInferRuntime(ILogger& logger)
{
    return static_cast<IRuntime*>(createInferRuntime_INTERNAL(&logger, NV_TENSORRT_VERSION));
}

inline IRefitter* createInferRefitter(ICudaEngine& engine, ILogger& logger)
{
    return static_cast<IRefitter*>(createInferRefitter_INTERNAL(&engine, &logger, NV_TENSORRT_VERSION));
}

} // namespace
} // namespace nvinfer1

#endif // NV_INFER_RUNTIME_H
