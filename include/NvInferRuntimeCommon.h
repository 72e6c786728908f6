/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvInferRuntimeCommon.h: basic value types, the logger, the GPU allocator, the error
 * recorder and the plugin (V2) interfaces, plus the library-wide C entry points.
 *
 * ABI note: every interface below is a C++ class made only of virtual functions.
 * Objects created by the library are laid out as { vptr, ... } and the order of the
 * virtual functions in each class is the vtable slot order the library implements.
 * A virtual destructor occupies two slots (complete + deleting) at the point where
 * it is declared. Never reorder declarations in this file.
 */
#ifndef NV_INFER_RUNTIME_COMMON_H
#define NV_INFER_RUNTIME_COMMON_H

#include "NvInferVersion.h"
#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>

/* Override / final markers (C++11 and later). */
#if __cplusplus >= 201103L
#define _TENSORRT_FINAL final
#define _TENSORRT_OVERRIDE override
#else
#define _TENSORRT_FINAL
#define _TENSORRT_OVERRIDE
#endif

/* The 5.1 generation has no deprecation attributes and no noexcept on interface
 * methods; both macros are empty so that 5.1 programs overriding the user interfaces
 * (ILogger, IInt8Calibrator, ...) compile unchanged, also with -Werror. */
#define TRT_DEPRECATED
#define TRT_DEPRECATED_ENUM
#define TRTNOEXCEPT

/* Export marker: only the library build defines TENSORRT_BUILD_LIB. */
#ifdef TENSORRT_BUILD_LIB
#define TENSORRTAPI __attribute__((visibility("default")))
#else
#define TENSORRTAPI
#endif

struct cublasContext;
struct cudnnContext;

/* Header generation as a number: MAJOR*1000 + MINOR*100 + PATCH (5105 here). It is
 * compiled into the caller and passed to createInferBuilder_INTERNAL and friends. */
static const int NV_TENSORRT_VERSION = (NV_TENSORRT_MAJOR * 1000) + (NV_TENSORRT_MINOR * 100) + NV_TENSORRT_PATCH;

namespace nvinfer1
{

class IErrorRecorder;
class IGpuAllocator;

/* Number of values of an enumeration; specialised for every enum of the API. */
template <typename T>
constexpr inline int EnumMax();

/* Element type of tensors and weights. */
enum class DataType : int
{
    kFLOAT = 0, /* 32-bit IEEE float */
    kHALF = 1,  /* 16-bit IEEE float */
    kINT8 = 2,  /* 8-bit signed integer, quantized with a per-tensor scale */
    kINT32 = 3, /* 32-bit signed integer */
    kBOOL = 4   /* 8-bit boolean (7.0) */
};
template <>
constexpr inline int EnumMax<DataType>()
{
    return 5;
}

/* Activation functions of IActivationLayer. */
enum class ActivationType : int
{
    kRELU = 0,
    kSIGMOID = 1,
    kTANH = 2,
    kLEAKY_RELU = 3,
    kELU = 4,
    kSELU = 5,
    kSOFTSIGN = 6,
    kSOFTPLUS = 7,
    kCLIP = 8,
    kHARD_SIGMOID = 9,
    kSCALED_TANH = 10,
    kTHRESHOLDED_RELU = 11
};
template <>
constexpr inline int EnumMax<ActivationType>()
{
    return 12;
}

/* Meaning of a dimension (informational only; the library never relies on it). */
enum class DimensionType : int
{
    kSPATIAL = 0,
    kCHANNEL = 1,
    kINDEX = 2,
    kSEQUENCE = 3
};
template <>
constexpr inline int EnumMax<DimensionType>()
{
    return 4;
}

/* Tensor shape. 68 bytes: nbDims @0, d @4, type @36. Passed and returned by value
 * through virtual calls. Only d[0..nbDims) is meaningful. */
class Dims
{
public:
    static const int MAX_DIMS = 8;
    int nbDims;
    int d[MAX_DIMS];
    DimensionType type[MAX_DIMS];
};

/* Bit set of TensorFormat values (1U << format). */
typedef uint32_t TensorFormats;

/* Memory layout of a binding or plugin tensor (6.0). */
enum class TensorFormat : int
{
    kLINEAR = 0,
    kNCHW = kLINEAR,
    kCHW2 = 1,
    kNC2HW2 = kCHW2,
    kHWC8 = 2,
    kNHWC8 = kHWC8,
    kCHW4 = 3,
    kCHW16 = 4,
    kCHW32 = 5
};
template <>
constexpr inline int EnumMax<TensorFormat>()
{
    return 6;
}

/* Plugin tensor format as the 5.1 generation defines it: a one-byte enumeration
 * (argument passing differs from TensorFormat, so it stays a distinct type).
 * The later spellings are accepted as aliases. */
enum class PluginFormat : uint8_t
{
    kNCHW = 0,
    kNC2HW2 = 1,
    kNHWC8 = 2,
    kLINEAR = kNCHW,
    kCHW2 = kNC2HW2,
    kHWC8 = kNHWC8
};
template <>
constexpr inline int EnumMax<PluginFormat>()
{
    return 3;
}

/* Description of one plugin input or output (6.0). */
struct PluginTensorDesc
{
    Dims dims;
    DataType type;
    TensorFormat format;
    float scale;
};

/* Tag stored in the top byte of IPluginV2::getTensorRTVersion() by the subclasses. */
enum class PluginVersion : uint8_t
{
    kV2 = 0,
    kV2_EXT = 1,
    kV2_IOEXT = 2,
    kV2_DYNAMICEXT = 3
};

/* User-implemented layer, version 2. Slots 0..16, destructor 17/18. */
class IPluginV2
{
public:
    /* 0: header generation the plugin was compiled with; do not override. */
    virtual int getTensorRTVersion() const TRTNOEXCEPT { return NV_TENSORRT_VERSION; }
    /* 1 */ virtual const char* getPluginType() const TRTNOEXCEPT = 0;
    /* 2 */ virtual const char* getPluginVersion() const TRTNOEXCEPT = 0;
    /* 3 */ virtual int getNbOutputs() const TRTNOEXCEPT = 0;
    /* 4 */ virtual Dims getOutputDimensions(int index, const Dims* inputs, int nbInputDims) TRTNOEXCEPT = 0;
    /* 5 */ virtual bool supportsFormat(DataType type, PluginFormat format) const TRTNOEXCEPT = 0;
    /* 6 */ virtual void configureWithFormat(const Dims* inputDims, int nbInputs, const Dims* outputDims,
        int nbOutputs, DataType type, PluginFormat format, int maxBatchSize) TRTNOEXCEPT = 0;
    /* 7 */ virtual int initialize() TRTNOEXCEPT = 0;
    /* 8 */ virtual void terminate() TRTNOEXCEPT = 0;
    /* 9 */ virtual size_t getWorkspaceSize(int maxBatchSize) const TRTNOEXCEPT = 0;
    /* 10 */ virtual int enqueue(int batchSize, const void* const* inputs, void** outputs, void* workspace,
        cudaStream_t stream) TRTNOEXCEPT = 0;
    /* 11 */ virtual size_t getSerializationSize() const TRTNOEXCEPT = 0;
    /* 12 */ virtual void serialize(void* buffer) const TRTNOEXCEPT = 0;
    /* 13 */ virtual void destroy() TRTNOEXCEPT = 0;
    /* 14 */ virtual IPluginV2* clone() const TRTNOEXCEPT = 0;
    /* 15 */ virtual void setPluginNamespace(const char* pluginNamespace) TRTNOEXCEPT = 0;
    /* 16 */ virtual const char* getPluginNamespace() const TRTNOEXCEPT = 0;

protected:
    /* 17, 18 */
    virtual ~IPluginV2() {}
};

/* Plugin with per-output types and batch broadcast. Slots 19..24 after IPluginV2. */
class IPluginV2Ext : public IPluginV2
{
public:
    /* 19 */ virtual DataType getOutputDataType(int index, const DataType* inputTypes, int nbInputs) const TRTNOEXCEPT = 0;
    /* 20 */ virtual bool isOutputBroadcastAcrossBatch(int outputIndex, const bool* inputIsBroadcasted, int nbInputs) const TRTNOEXCEPT = 0;
    /* 21 */ virtual bool canBroadcastInputAcrossBatch(int inputIndex) const TRTNOEXCEPT = 0;
    /* 22 */ virtual void configurePlugin(const Dims* inputDims, int nbInputs, const Dims* outputDims, int nbOutputs,
        const DataType* inputTypes, const DataType* outputTypes, const bool* inputIsBroadcast,
        const bool* outputIsBroadcast, PluginFormat floatFormat, int maxBatchSize) TRTNOEXCEPT = 0;

    /* overrides the IPluginV2 destructor slots (17, 18) */
    virtual ~IPluginV2Ext() {}

    /* 23 */ virtual void attachToContext(cudnnContext* /*cudnn*/, cublasContext* /*cublas*/, IGpuAllocator* /*allocator*/) TRTNOEXCEPT {}
    /* 24 */ virtual void detachFromContext() TRTNOEXCEPT {}
    /* slot 14 (covariant override) */
    virtual IPluginV2Ext* clone() const _TENSORRT_OVERRIDE TRTNOEXCEPT = 0;

protected:
    /* slot 0: version with the kV2_EXT tag in the top byte */
    int getTensorRTVersion() const _TENSORRT_OVERRIDE TRTNOEXCEPT
    {
        return (static_cast<int>(PluginVersion::kV2_EXT) << 24) | (NV_TENSORRT_VERSION & 0xFFFFFF);
    }
    /* slot 6: not used by V2Ext plugins */
    void configureWithFormat(const Dims* /*inputDims*/, int /*nbInputs*/, const Dims* /*outputDims*/, int /*nbOutputs*/,
        DataType /*type*/, PluginFormat /*format*/, int /*maxBatchSize*/) _TENSORRT_OVERRIDE TRTNOEXCEPT
    {
    }
};

/* Plugin configured with full tensor descriptions (6.0). Slots 25, 26 after IPluginV2Ext. */
class IPluginV2IOExt : public IPluginV2Ext
{
public:
    /* 25 */ virtual void configurePlugin(const PluginTensorDesc* in, int nbInput, const PluginTensorDesc* out, int nbOutput) TRTNOEXCEPT = 0;
    /* 26 */ virtual bool supportsFormatCombination(int pos, const PluginTensorDesc* inOut, int nbInputs, int nbOutputs) const TRTNOEXCEPT = 0;

protected:
    int getTensorRTVersion() const _TENSORRT_OVERRIDE TRTNOEXCEPT
    {
        return (static_cast<int>(PluginVersion::kV2_IOEXT) << 24) | (NV_TENSORRT_VERSION & 0xFFFFFF);
    }
    void configureWithFormat(const Dims*, int, const Dims*, int, DataType, PluginFormat, int) _TENSORRT_OVERRIDE _TENSORRT_FINAL {}
    void configurePlugin(const Dims*, int, const Dims*, int, const DataType*, const DataType*, const bool*, const bool*,
        PluginFormat, int) _TENSORRT_OVERRIDE _TENSORRT_FINAL
    {
    }
    bool supportsFormat(DataType, PluginFormat) const _TENSORRT_OVERRIDE _TENSORRT_FINAL { return false; }
};

/* Type of a plugin creation field. */
enum class PluginFieldType : int
{
    kFLOAT16 = 0,
    kFLOAT32 = 1,
    kFLOAT64 = 2,
    kINT8 = 3,
    kINT16 = 4,
    kINT32 = 5,
    kCHAR = 6,
    kDIMS = 7,
    kUNKNOWN = 8
};

/* One named plugin creation parameter: name @0, data @8, type @16, length @20. */
struct PluginField
{
    const char* name;
    const void* data;
    PluginFieldType type;
    int length;

    PluginField(const char* name_ = nullptr, const void* data_ = nullptr,
        const PluginFieldType type_ = PluginFieldType::kUNKNOWN, int length_ = 0)
        : name(name_)
        , data(data_)
        , type(type_)
        , length(length_)
    {
    }
};

/* Array of plugin fields. */
struct PluginFieldCollection
{
    int nbFields;
    const PluginField* fields;
};

/* Factory of IPluginV2 objects, registered in the plugin registry. */
class IPluginCreator
{
public:
    /* 0 */ virtual int getTensorRTVersion() const TRTNOEXCEPT { return NV_TENSORRT_VERSION; }
    /* 1 */ virtual const char* getPluginName() const TRTNOEXCEPT = 0;
    /* 2 */ virtual const char* getPluginVersion() const TRTNOEXCEPT = 0;
    /* 3 */ virtual const PluginFieldCollection* getFieldNames() TRTNOEXCEPT = 0;
    /* 4 */ virtual IPluginV2* createPlugin(const char* name, const PluginFieldCollection* fc) TRTNOEXCEPT = 0;
    /* 5 */ virtual IPluginV2* deserializePlugin(const char* name, const void* serialData, size_t serialLength) TRTNOEXCEPT = 0;
    /* 6 */ virtual void setPluginNamespace(const char* pluginNamespace) TRTNOEXCEPT = 0;
    /* 7 */ virtual const char* getPluginNamespace() const TRTNOEXCEPT = 0;
    /* 8, 9 */
    virtual ~IPluginCreator() {}
};

/* Process-wide plugin registry (library-implemented). */
class IPluginRegistry
{
public:
    /* 0 */ virtual bool registerCreator(IPluginCreator& creator, const char* pluginNamespace) TRTNOEXCEPT = 0;
    /* 1 */ virtual IPluginCreator* const* getPluginCreatorList(int* numCreators) const TRTNOEXCEPT = 0;
    /* 2 */ virtual IPluginCreator* getPluginCreator(const char* pluginType, const char* pluginVersion,
        const char* pluginNamespace = "") TRTNOEXCEPT = 0;

protected:
    /* 3, 4 */
    virtual ~IPluginRegistry() {}

public:
    /* 7.x additions */
    /* 5 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 6 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
};

/* Where a tensor's data lives. */
enum class TensorLocation : int
{
    kDEVICE = 0,
    kHOST = 1
};
template <>
constexpr inline int EnumMax<TensorLocation>()
{
    return 2;
}

/* Application-implemented device memory allocator. */
class IGpuAllocator
{
public:
    /* 0: return memory of at least `size` bytes aligned to `alignment` (0 = any), or nullptr */
    virtual void* allocate(uint64_t size, uint64_t alignment, uint32_t flags) TRTNOEXCEPT = 0;
    /* 1 */ virtual void free(void* memory) TRTNOEXCEPT = 0;
    /* 2, 3 */
    virtual ~IGpuAllocator() {}
};

/* Application-implemented logger. The library calls slot 0 only. */
class ILogger
{
public:
    enum class Severity : int
    {
        kINTERNAL_ERROR = 0,
        kERROR = 1,
        kWARNING = 2,
        kINFO = 3,
        kVERBOSE = 4
    };

    /* 0 */ virtual void log(Severity severity, const char* msg) TRTNOEXCEPT = 0;
    /* 1, 2 */
    virtual ~ILogger() {}
};
template <>
constexpr inline int EnumMax<ILogger::Severity>()
{
    return 5;
}

/* Error categories reported to an IErrorRecorder (6.0). */
enum class ErrorCode : int
{
    kSUCCESS = 0,
    kUNSPECIFIED_ERROR = 1,
    kINTERNAL_ERROR = 2,
    kINVALID_ARGUMENT = 3,
    kINVALID_CONFIG = 4,
    kFAILED_ALLOCATION = 5,
    kFAILED_INITIALIZATION = 6,
    kFAILED_EXECUTION = 7,
    kFAILED_COMPUTATION = 8,
    kINVALID_STATE = 9,
    kUNSUPPORTED_STATE = 10
};
template <>
constexpr inline int EnumMax<ErrorCode>()
{
    return 11;
}

/* Application-implemented, reference-counted error sink (6.0).
 * Note: its destructor is declared first and takes slots 0 and 1. */
class IErrorRecorder
{
public:
    typedef const char* ErrorDesc;
    typedef int32_t RefCount;

    /* 0, 1 */
    virtual ~IErrorRecorder() {}
    /* 2 */ virtual int32_t getNbErrors() const TRTNOEXCEPT = 0;
    /* 3 */ virtual ErrorCode getErrorCode(int32_t errorIdx) const TRTNOEXCEPT = 0;
    /* 4 */ virtual ErrorDesc getErrorDesc(int32_t errorIdx) const TRTNOEXCEPT = 0;
    /* 5 */ virtual bool hasOverflowed() const TRTNOEXCEPT = 0;
    /* 6 */ virtual void clear() TRTNOEXCEPT = 0;
    /* 7: returns true when the error is fatal */
    virtual bool reportError(ErrorCode val, ErrorDesc desc) TRTNOEXCEPT = 0;
    /* 8 */ virtual RefCount incRefCount() TRTNOEXCEPT = 0;
    /* 9 */ virtual RefCount decRefCount() TRTNOEXCEPT = 0;
};

} // namespace nvinfer1

/* The logger given to the most recent builder/runtime, or nullptr. */
extern "C" TENSORRTAPI nvinfer1::ILogger* getLogger();

/* Library version, same encoding as NV_TENSORRT_VERSION. */
extern "C" TENSORRTAPI int getInferLibVersion();

/* The process-wide plugin registry. */
extern "C" TENSORRTAPI nvinfer1::IPluginRegistry* getPluginRegistry();

namespace nvinfer1
{

/* Registers one T (an IPluginCreator) in the plugin registry at static-initialisation time. */
template <typename T>
class PluginRegistrar
{
public:
    PluginRegistrar() { getPluginRegistry()->registerCreator(instance, ""); }

private:
    T instance{};
};

} // namespace nvinfer1

#define REGISTER_TENSORRT_PLUGIN(name) static nvinfer1::PluginRegistrar<name> pluginRegistrar##name {}

#endif // NV_INFER_RUNTIME_COMMON_H
