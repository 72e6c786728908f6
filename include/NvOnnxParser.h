/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvOnnxParser.h: ONNX model parser (ModelProto -> explicit-batch INetworkDefinition), the
 * interface of TensorRT 7's parser (parser version 0.1.0).
 * Library: libnvonnxparser.so (a name of libinfer8).
 * Slot numbers in comments are vtable indices; a virtual destructor takes two.
 */
#ifndef NV_ONNX_PARSER_H
#define NV_ONNX_PARSER_H

#include "NvInfer.h"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#define NV_ONNX_PARSER_MAJOR 0
#define NV_ONNX_PARSER_MINOR 1
#define NV_ONNX_PARSER_PATCH 0

static const int NV_ONNX_PARSER_VERSION
    = ((NV_ONNX_PARSER_MAJOR * 10000) + (NV_ONNX_PARSER_MINOR * 100) + NV_ONNX_PARSER_PATCH);

/* Node indices of a run of nodes, and whether the parser supports them. */
typedef std::pair<std::vector<size_t>, bool> SubGraph_t;
typedef std::vector<SubGraph_t> SubGraphCollection_t;

/* ONNXIFI weight descriptor; only declared (parseWithWeightDescriptors is not supported). */
class onnxTensorDescriptorV1;

/* infer8: sub-graph `index` of the last supportsModel of `parser` (an nvonnxparser::IParser*): its
   node indices (owned by the parser until its next supportsModel or destroy) through `nodes`,
   whether it is supported through `supported`; returns its node count, -1 past the last one.
   IParser::supportsModel below uses it to fill a SubGraphCollection_t on the C++ side. */
extern "C" TENSORRTAPI int64_t infer8_onnx_parser_subgraph(
    const void* parser, int index, const size_t** nodes, bool* supported);

namespace nvonnxparser
{

template <typename T>
inline int EnumMax();

enum class ErrorCode : int
{
    kSUCCESS = 0,
    kINTERNAL_ERROR = 1,
    kMEM_ALLOC_FAILED = 2,
    kMODEL_DESERIALIZE_FAILED = 3,
    kINVALID_VALUE = 4,
    kINVALID_GRAPH = 5,
    kINVALID_NODE = 6,
    kUNSUPPORTED_GRAPH = 7,
    kUNSUPPORTED_NODE = 8
};
template <>
inline int EnumMax<ErrorCode>()
{
    return 9;
}

/* One parse error; owned by the parser until clearErrors() or destroy(). */
class IParserError
{
public:
    /* 0 */ virtual ErrorCode code() const = 0;
    /* 1: names the model, node and field at fault */
    virtual const char* desc() const = 0;
    /* 2, 3, 4: where in the parser the error was raised */
    virtual const char* file() const = 0;
    virtual int line() const = 0;
    virtual const char* func() const = 0;
    /* 5: index of the graph node, -1 if the error is not about one node */
    virtual int node() const = 0;

protected:
    /* 6, 7 */
    virtual ~IParserError() {}
};

/* Parses ONNX models into the network given at creation, which must have been made by
   createNetworkV2(1U << NetworkDefinitionCreationFlag::kEXPLICIT_BATCH). */
class IParser
{
public:
    /* 0 */ virtual bool parse(void const* serialized_onnx_model, size_t serialized_onnx_model_size) = 0;
    /* 1: verbosity is an ILogger::Severity; at kINFO or above a success is logged */
    virtual bool parseFromFile(const char* onnxModelFile, int verbosity) = 0;
    /* 2: true if every node has an importer. The library cannot build a std::vector, so the slot
       takes the collection by pointer (a reference has the same ABI): a program built against
       another NvOnnxParser.h passes its vector, which is left unchanged; the wrapper below passes
       nullptr and fills the vector itself. */
    virtual bool supportsModel(void const* serialized_onnx_model, size_t serialized_onnx_model_size,
        SubGraphCollection_t* sub_graph_collection)
        = 0;
    /* Appends each run of nodes (indices, supported) of the model to sub_graph_collection. */
    bool supportsModel(void const* serialized_onnx_model, size_t serialized_onnx_model_size,
        SubGraphCollection_t& sub_graph_collection)
    {
        bool ok = supportsModel(
            serialized_onnx_model, serialized_onnx_model_size, static_cast<SubGraphCollection_t*>(nullptr));
        const size_t* nodes = nullptr;
        bool supported = false;
        int64_t n = 0;
        for (int i = 0; (n = infer8_onnx_parser_subgraph(this, i, &nodes, &supported)) >= 0; i++)
            sub_graph_collection.push_back(
                SubGraph_t(std::vector<size_t>(nodes, nodes + static_cast<size_t>(n)), supported));
        return ok;
    }
    /* 3: not supported (returns false) */
    virtual bool parseWithWeightDescriptors(void const* serialized_onnx_model, size_t serialized_onnx_model_size,
        uint32_t weight_count, onnxTensorDescriptorV1 const* weight_descriptors)
        = 0;
    /* 4 */ virtual bool supportsOperator(const char* op_name) const = 0;
    /* 5 */ virtual void destroy() = 0;
    /* 6 */ virtual int getNbErrors() const = 0;
    /* 7 */ virtual IParserError const* getError(int index) const = 0;
    /* 8 */ virtual void clearErrors() = 0;

protected:
    /* 9, 10 */
    virtual ~IParser() {}
};

} // namespace nvonnxparser

extern "C" TENSORRTAPI void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version);
extern "C" TENSORRTAPI int getNvOnnxParserVersion();

namespace nvonnxparser
{
namespace
{

inline IParser* createParser(nvinfer1::INetworkDefinition& network, nvinfer1::ILogger& logger)
{
    return static_cast<IParser*>(createNvOnnxParser_INTERNAL(&network, &logger, NV_ONNX_PARSER_VERSION));
}

} // namespace
} // namespace nvonnxparser

#endif /* NV_ONNX_PARSER_H */
