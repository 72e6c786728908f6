/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvCaffeParser.h: Caffe model parser (prototxt + caffemodel -> INetworkDefinition).
 * Library: libnvparsers.so.5 / libnvcaffe_parser.so.5 (both names of libinfer8).
 * Slot numbers in comments are vtable indices; a virtual destructor takes two.
 */
#ifndef NV_CAFFE_PARSER_H
#define NV_CAFFE_PARSER_H

#include "NvInfer.h"

namespace nvcaffeparser1
{

/* Maps Caffe blob names to network tensors; owned by the parser. */
class IBlobNameToTensor
{
public:
    /* 0: nullptr if no such blob */
    virtual nvinfer1::ITensor* find(const char* name) const TRTNOEXCEPT = 0;

protected:
    /* 1, 2 */
    virtual ~IBlobNameToTensor() {}
};

/* Contents of a .binaryproto file (e.g. a mean image). */
class IBinaryProtoBlob
{
public:
    /* 0 */ virtual const void* getData() TRTNOEXCEPT = 0;
    /* 1 */ virtual nvinfer1::DimsNCHW getDimensions() TRTNOEXCEPT = 0;
    /* 2 */ virtual nvinfer1::DataType getDataType() TRTNOEXCEPT = 0;
    /* 3 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 4, 5 */
    virtual ~IBinaryProtoBlob() {}
};

/* Application-implemented factory for layers the parser does not know (IPlugin). */
class IPluginFactory
{
public:
    /* 0 */ virtual bool isPlugin(const char* layerName) TRTNOEXCEPT = 0;
    /* 1 */ virtual nvinfer1::IPlugin* createPlugin(const char* layerName, const nvinfer1::Weights* weights,
        int nbWeights) TRTNOEXCEPT = 0;
};

/* Application-implemented factory for IPluginExt plugins. Slots 2, 3 after IPluginFactory. */
class IPluginFactoryExt : public IPluginFactory
{
public:
    /* 2: header generation; do not override */
    virtual int getVersion() const TRTNOEXCEPT { return NV_TENSORRT_VERSION; }
    /* 3 */ virtual bool isPluginExt(const char* layerName) TRTNOEXCEPT = 0;
};

/* Application-implemented factory for IPluginV2 plugins. */
class IPluginFactoryV2
{
public:
    /* 0 */ virtual bool isPluginV2(const char* layerName) TRTNOEXCEPT = 0;
    /* 1 */ virtual nvinfer1::IPluginV2* createPlugin(const char* layerName, const nvinfer1::Weights* weights,
        int nbWeights, const char* libNamespace = "") TRTNOEXCEPT = 0;
};

/* The Caffe parser (library-implemented). */
class ICaffeParser
{
public:
    /* 0: parse a prototxt file and (optionally) a caffemodel file into `network`;
     * weights are converted to weightType (kFLOAT or kHALF). nullptr on error. */
    virtual const IBlobNameToTensor* parse(const char* deploy, const char* model, nvinfer1::INetworkDefinition& network,
        nvinfer1::DataType weightType) TRTNOEXCEPT = 0;
    /* 1: same, from memory */
    virtual const IBlobNameToTensor* parseBuffers(const char* deployBuffer, std::size_t deployLength,
        const char* modelBuffer, std::size_t modelLength, nvinfer1::INetworkDefinition& network,
        nvinfer1::DataType weightType) TRTNOEXCEPT = 0;
    /* 2 */ virtual IBinaryProtoBlob* parseBinaryProto(const char* fileName) TRTNOEXCEPT = 0;
    /* 3: protobuf size limit in bytes (default 2^30) */
    virtual void setProtobufBufferSize(size_t size) TRTNOEXCEPT = 0;
    /* 4 */ virtual void setPluginFactory(IPluginFactory* factory) TRTNOEXCEPT = 0;
    /* 5 */ virtual void setPluginFactoryExt(IPluginFactoryExt* factory) TRTNOEXCEPT = 0;
    /* 6 */ virtual void destroy() TRTNOEXCEPT = 0;
    /* 7 */ virtual void setPluginFactoryV2(IPluginFactoryV2* factory) TRTNOEXCEPT = 0;
    /* 8 */ virtual void setPluginNamespace(const char* libNamespace) TRTNOEXCEPT = 0;

protected:
    /* 9, 10 */
    virtual ~ICaffeParser() {}

public:
    /* 7.x */
    /* 11 */ virtual void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 12 */ virtual nvinfer1::IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
};

/* Create a parser (exported as _ZN14nvcaffeparser117createCaffeParserEv). */
TENSORRTAPI ICaffeParser* createCaffeParser();

/* Release process-wide parser state (exported as _ZN14nvcaffeparser123shutdownProtobufLibraryEv).
 * No parser may be used afterwards. */
TENSORRTAPI void shutdownProtobufLibrary();

} // namespace nvcaffeparser1

/* C entry point returning an ICaffeParser*. */
extern "C" TENSORRTAPI void* createNvCaffeParser_INTERNAL();

#endif // NV_CAFFE_PARSER_H
