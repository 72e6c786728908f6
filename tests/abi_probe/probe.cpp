// infer8 ABI probe.
//
// Compiled against infer8's include/ folder, it prints the vtable slot of every virtual
// method of every interface, one line "Interface method slot", sorted by interface then
// slot, followed by the layout of the value types. The slot comes from the
// pointer-to-member (Itanium C++ ABI: for a virtual function the `ptr` field holds
// 1 + the byte offset of the entry in the vtable). Only methods an application can name
// are listed: destructors and protected overrides are not (their slots follow from the
// comments in the headers). The later-declared of two overloads is printed as name#2.
// Finally the probe checks a set of slots quoted in docs/trt-legacy-api.md and exits
// with status 1 on a mismatch.

#include "NvCaffeParser.h"
#include "NvInfer.h"
#include "NvInferPlugin.h"
#include "NvOnnxParser.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

namespace
{

struct Entry
{
    std::string iface;
    std::string method;
    long slot;
};

std::vector<Entry> gEntries;
int gErrors = 0;

template <typename PMF>
long slotOf(PMF pmf)
{
    struct Rep
    {
        std::uintptr_t ptr;
        std::ptrdiff_t adj;
    } rep;
    static_assert(sizeof(PMF) == sizeof(Rep), "unexpected pointer-to-member size (not Itanium ABI?)");
    std::memcpy(&rep, &pmf, sizeof(rep));
    if ((rep.ptr & 1u) == 0 || rep.adj != 0)
    {
        return -1; // not virtual, or not in the primary vtable
    }
    return static_cast<long>((rep.ptr - 1) / sizeof(void*));
}

void add(const char* iface, const char* method, long slot)
{
    if (slot < 0)
    {
        std::fprintf(stderr, "probe: %s::%s is not a virtual function of the primary vtable\n", iface, method);
        ++gErrors;
    }
    gEntries.push_back(Entry{iface, method, slot});
}

} // namespace

using namespace nvinfer1;

// S: nvinfer1 interface, non-overloaded method. O: overload selected by member type.
// C: nvcaffeparser1 interface.
#define S(I, m) add(#I, #m, slotOf(&nvinfer1::I::m))
#define O(I, m, name, T) add(#I, name, slotOf(static_cast<T>(&nvinfer1::I::m)))
#define C(I, m) add(#I, #m, slotOf(&nvcaffeparser1::I::m))
#define X(I, m) add(#I, #m, slotOf(&nvonnxparser::I::m))

static void collect()
{
    // ---- NvInferRuntimeCommon.h
    S(ILogger, log);

    S(IGpuAllocator, allocate);
    S(IGpuAllocator, free);

    S(IErrorRecorder, getNbErrors);
    S(IErrorRecorder, getErrorCode);
    S(IErrorRecorder, getErrorDesc);
    S(IErrorRecorder, hasOverflowed);
    S(IErrorRecorder, clear);
    S(IErrorRecorder, reportError);
    S(IErrorRecorder, incRefCount);
    S(IErrorRecorder, decRefCount);

    S(IPluginV2, getTensorRTVersion);
    S(IPluginV2, getPluginType);
    S(IPluginV2, getPluginVersion);
    S(IPluginV2, getNbOutputs);
    S(IPluginV2, getOutputDimensions);
    S(IPluginV2, supportsFormat);
    S(IPluginV2, configureWithFormat);
    S(IPluginV2, initialize);
    S(IPluginV2, terminate);
    S(IPluginV2, getWorkspaceSize);
    S(IPluginV2, enqueue);
    S(IPluginV2, getSerializationSize);
    S(IPluginV2, serialize);
    S(IPluginV2, destroy);
    S(IPluginV2, clone);
    S(IPluginV2, setPluginNamespace);
    S(IPluginV2, getPluginNamespace);

    S(IPluginV2Ext, getOutputDataType);
    S(IPluginV2Ext, isOutputBroadcastAcrossBatch);
    S(IPluginV2Ext, canBroadcastInputAcrossBatch);
    S(IPluginV2Ext, configurePlugin);
    S(IPluginV2Ext, attachToContext);
    S(IPluginV2Ext, detachFromContext);
    S(IPluginV2Ext, clone);

    O(IPluginV2IOExt, configurePlugin, "configurePlugin#2",
        void (IPluginV2IOExt::*)(const PluginTensorDesc*, int, const PluginTensorDesc*, int));
    S(IPluginV2IOExt, supportsFormatCombination);

    S(IPluginCreator, getTensorRTVersion);
    S(IPluginCreator, getPluginName);
    S(IPluginCreator, getPluginVersion);
    S(IPluginCreator, getFieldNames);
    S(IPluginCreator, createPlugin);
    S(IPluginCreator, deserializePlugin);
    S(IPluginCreator, setPluginNamespace);
    S(IPluginCreator, getPluginNamespace);

    S(IPluginRegistry, registerCreator);
    S(IPluginRegistry, getPluginCreatorList);
    S(IPluginRegistry, getPluginCreator);
    S(IPluginRegistry, setErrorRecorder);
    S(IPluginRegistry, getErrorRecorder);

    // ---- NvInferRuntime.h
    S(IHostMemory, data);
    S(IHostMemory, size);
    S(IHostMemory, type);
    S(IHostMemory, destroy);

    S(IPlugin, getNbOutputs);
    S(IPlugin, getOutputDimensions);
    S(IPlugin, configure);
    S(IPlugin, initialize);
    S(IPlugin, terminate);
    S(IPlugin, getWorkspaceSize);
    S(IPlugin, enqueue);
    S(IPlugin, getSerializationSize);
    S(IPlugin, serialize);

    S(IPluginExt, getTensorRTVersion);
    S(IPluginExt, supportsFormat);
    S(IPluginExt, configureWithFormat);

    S(IProfiler, reportLayerTime);

    O(IRuntime, deserializeCudaEngine, "deserializeCudaEngine",
        ICudaEngine* (IRuntime::*)(const void*, std::size_t, IPluginFactory*));
    S(IRuntime, setDLACore);
    S(IRuntime, getDLACore);
    S(IRuntime, getNbDLACores);
    S(IRuntime, destroy);
    S(IRuntime, setGpuAllocator);
    S(IRuntime, setErrorRecorder);
    S(IRuntime, getErrorRecorder);

    S(IRefitter, setWeights);
    S(IRefitter, refitCudaEngine);
    S(IRefitter, getMissing);
    S(IRefitter, getAll);
    S(IRefitter, destroy);
    S(IRefitter, setDynamicRange);
    S(IRefitter, getDynamicRangeMin);
    S(IRefitter, getDynamicRangeMax);
    S(IRefitter, getTensorsWithDynamicRange);
    S(IRefitter, setErrorRecorder);
    S(IRefitter, getErrorRecorder);

    // nvinfer1::IPluginFactory shares its short name with nvcaffeparser1::IPluginFactory.
    add("IRuntimePluginFactory", "createPlugin", slotOf(&nvinfer1::IPluginFactory::createPlugin));

    S(IOptimizationProfile, setDimensions);
    S(IOptimizationProfile, getDimensions);
    S(IOptimizationProfile, setShapeValues);
    S(IOptimizationProfile, getNbShapeValues);
    S(IOptimizationProfile, getShapeValues);
    S(IOptimizationProfile, setExtraMemoryTarget);
    S(IOptimizationProfile, getExtraMemoryTarget);
    S(IOptimizationProfile, isValid);

    S(ICudaEngine, getNbBindings);
    S(ICudaEngine, getBindingIndex);
    S(ICudaEngine, getBindingName);
    S(ICudaEngine, bindingIsInput);
    S(ICudaEngine, getBindingDimensions);
    S(ICudaEngine, getBindingDataType);
    S(ICudaEngine, getMaxBatchSize);
    S(ICudaEngine, getNbLayers);
    S(ICudaEngine, getWorkspaceSize);
    S(ICudaEngine, serialize);
    S(ICudaEngine, createExecutionContext);
    S(ICudaEngine, destroy);
    S(ICudaEngine, getLocation);
    S(ICudaEngine, createExecutionContextWithoutDeviceMemory);
    S(ICudaEngine, getDeviceMemorySize);
    S(ICudaEngine, isRefittable);
    S(ICudaEngine, getBindingBytesPerComponent);
    S(ICudaEngine, getBindingComponentsPerElement);
    S(ICudaEngine, getBindingFormat);
    S(ICudaEngine, getBindingFormatDesc);
    S(ICudaEngine, getBindingVectorizedDim);
    S(ICudaEngine, getName);
    S(ICudaEngine, getNbOptimizationProfiles);
    S(ICudaEngine, getProfileDimensions);
    S(ICudaEngine, getProfileShapeValues);
    S(ICudaEngine, isShapeBinding);
    S(ICudaEngine, isExecutionBinding);
    S(ICudaEngine, getEngineCapability);
    S(ICudaEngine, setErrorRecorder);
    S(ICudaEngine, getErrorRecorder);
    S(ICudaEngine, hasImplicitBatchDimension);

    S(IExecutionContext, execute);
    S(IExecutionContext, enqueue);
    S(IExecutionContext, setDebugSync);
    S(IExecutionContext, getDebugSync);
    S(IExecutionContext, setProfiler);
    S(IExecutionContext, getProfiler);
    S(IExecutionContext, getEngine);
    S(IExecutionContext, destroy);
    S(IExecutionContext, setName);
    S(IExecutionContext, getName);
    S(IExecutionContext, setDeviceMemory);
    S(IExecutionContext, getStrides);
    S(IExecutionContext, setOptimizationProfile);
    S(IExecutionContext, getOptimizationProfile);
    S(IExecutionContext, setBindingDimensions);
    S(IExecutionContext, getBindingDimensions);
    S(IExecutionContext, setInputShapeBinding);
    S(IExecutionContext, getShapeBinding);
    S(IExecutionContext, allInputDimensionsSpecified);
    S(IExecutionContext, allInputShapesSpecified);
    S(IExecutionContext, setErrorRecorder);
    S(IExecutionContext, getErrorRecorder);
    S(IExecutionContext, executeV2);
    S(IExecutionContext, enqueueV2);

    // ---- NvInfer.h
    S(ITensor, setName);
    S(ITensor, getName);
    S(ITensor, setDimensions);
    S(ITensor, getDimensions);
    S(ITensor, setType);
    S(ITensor, getType);
    S(ITensor, setDynamicRange);
    S(ITensor, getDynamicRange);
    S(ITensor, isNetworkInput);
    S(ITensor, isNetworkOutput);
    S(ITensor, setBroadcastAcrossBatch);
    S(ITensor, getBroadcastAcrossBatch);
    S(ITensor, getLocation);
    S(ITensor, setLocation);
    S(ITensor, dynamicRangeIsSet);
    S(ITensor, resetDynamicRange);
    S(ITensor, getDynamicRangeMin);
    S(ITensor, getDynamicRangeMax);
    S(ITensor, setAllowedFormats);
    S(ITensor, getAllowedFormats);
    S(ITensor, isShapeTensor);
    S(ITensor, isExecutionTensor);

    S(ILayer, getType);
    S(ILayer, setName);
    S(ILayer, getName);
    S(ILayer, getNbInputs);
    S(ILayer, getInput);
    S(ILayer, getNbOutputs);
    S(ILayer, getOutput);
    S(ILayer, setInput);
    S(ILayer, setPrecision);
    S(ILayer, getPrecision);
    S(ILayer, precisionIsSet);
    S(ILayer, resetPrecision);
    S(ILayer, setOutputType);
    S(ILayer, getOutputType);
    S(ILayer, outputTypeIsSet);
    S(ILayer, resetOutputType);

    S(IConvolutionLayer, setKernelSize);
    S(IConvolutionLayer, getKernelSize);
    S(IConvolutionLayer, setNbOutputMaps);
    S(IConvolutionLayer, getNbOutputMaps);
    S(IConvolutionLayer, setStride);
    S(IConvolutionLayer, getStride);
    S(IConvolutionLayer, setPadding);
    S(IConvolutionLayer, getPadding);
    S(IConvolutionLayer, setNbGroups);
    S(IConvolutionLayer, getNbGroups);
    S(IConvolutionLayer, setKernelWeights);
    S(IConvolutionLayer, getKernelWeights);
    S(IConvolutionLayer, setBiasWeights);
    S(IConvolutionLayer, getBiasWeights);
    S(IConvolutionLayer, setDilation);
    S(IConvolutionLayer, getDilation);
    S(IConvolutionLayer, setPrePadding);
    S(IConvolutionLayer, getPrePadding);
    S(IConvolutionLayer, setPostPadding);
    S(IConvolutionLayer, getPostPadding);
    S(IConvolutionLayer, setPaddingMode);
    S(IConvolutionLayer, getPaddingMode);
    S(IConvolutionLayer, setKernelSizeNd);
    S(IConvolutionLayer, getKernelSizeNd);
    S(IConvolutionLayer, setStrideNd);
    S(IConvolutionLayer, getStrideNd);
    S(IConvolutionLayer, setPaddingNd);
    S(IConvolutionLayer, getPaddingNd);
    S(IConvolutionLayer, setDilationNd);
    S(IConvolutionLayer, getDilationNd);

    S(IFullyConnectedLayer, setNbOutputChannels);
    S(IFullyConnectedLayer, getNbOutputChannels);
    S(IFullyConnectedLayer, setKernelWeights);
    S(IFullyConnectedLayer, getKernelWeights);
    S(IFullyConnectedLayer, setBiasWeights);
    S(IFullyConnectedLayer, getBiasWeights);

    S(IActivationLayer, setActivationType);
    S(IActivationLayer, getActivationType);
    S(IActivationLayer, setAlpha);
    S(IActivationLayer, setBeta);
    S(IActivationLayer, getAlpha);
    S(IActivationLayer, getBeta);

    S(IPoolingLayer, setPoolingType);
    S(IPoolingLayer, getPoolingType);
    S(IPoolingLayer, setWindowSize);
    S(IPoolingLayer, getWindowSize);
    S(IPoolingLayer, setStride);
    S(IPoolingLayer, getStride);
    S(IPoolingLayer, setPadding);
    S(IPoolingLayer, getPadding);
    S(IPoolingLayer, setBlendFactor);
    S(IPoolingLayer, getBlendFactor);
    S(IPoolingLayer, setAverageCountExcludesPadding);
    S(IPoolingLayer, getAverageCountExcludesPadding);
    S(IPoolingLayer, setPrePadding);
    S(IPoolingLayer, getPrePadding);
    S(IPoolingLayer, setPostPadding);
    S(IPoolingLayer, getPostPadding);
    S(IPoolingLayer, setPaddingMode);
    S(IPoolingLayer, getPaddingMode);
    S(IPoolingLayer, setWindowSizeNd);
    S(IPoolingLayer, getWindowSizeNd);
    S(IPoolingLayer, setStrideNd);
    S(IPoolingLayer, getStrideNd);
    S(IPoolingLayer, setPaddingNd);
    S(IPoolingLayer, getPaddingNd);

    S(ILRNLayer, setWindowSize);
    S(ILRNLayer, getWindowSize);
    S(ILRNLayer, setAlpha);
    S(ILRNLayer, getAlpha);
    S(ILRNLayer, setBeta);
    S(ILRNLayer, getBeta);
    S(ILRNLayer, setK);
    S(ILRNLayer, getK);

    S(IScaleLayer, setMode);
    S(IScaleLayer, getMode);
    S(IScaleLayer, setShift);
    S(IScaleLayer, getShift);
    S(IScaleLayer, setScale);
    S(IScaleLayer, getScale);
    S(IScaleLayer, setPower);
    S(IScaleLayer, getPower);
    S(IScaleLayer, getChannelAxis);

    S(ISoftMaxLayer, setAxes);
    S(ISoftMaxLayer, getAxes);

    S(IConcatenationLayer, setAxis);
    S(IConcatenationLayer, getAxis);

    S(IDeconvolutionLayer, setKernelSize);
    S(IDeconvolutionLayer, getKernelSize);
    S(IDeconvolutionLayer, setNbOutputMaps);
    S(IDeconvolutionLayer, getNbOutputMaps);
    S(IDeconvolutionLayer, setStride);
    S(IDeconvolutionLayer, getStride);
    S(IDeconvolutionLayer, setPadding);
    S(IDeconvolutionLayer, getPadding);
    S(IDeconvolutionLayer, setNbGroups);
    S(IDeconvolutionLayer, getNbGroups);
    S(IDeconvolutionLayer, setKernelWeights);
    S(IDeconvolutionLayer, getKernelWeights);
    S(IDeconvolutionLayer, setBiasWeights);
    S(IDeconvolutionLayer, getBiasWeights);
    S(IDeconvolutionLayer, setPrePadding);
    S(IDeconvolutionLayer, getPrePadding);
    S(IDeconvolutionLayer, setPostPadding);
    S(IDeconvolutionLayer, getPostPadding);
    S(IDeconvolutionLayer, setPaddingMode);
    S(IDeconvolutionLayer, getPaddingMode);
    S(IDeconvolutionLayer, setKernelSizeNd);
    S(IDeconvolutionLayer, getKernelSizeNd);
    S(IDeconvolutionLayer, setStrideNd);
    S(IDeconvolutionLayer, getStrideNd);
    S(IDeconvolutionLayer, setPaddingNd);
    S(IDeconvolutionLayer, getPaddingNd);
    S(IDeconvolutionLayer, setDilationNd);
    S(IDeconvolutionLayer, getDilationNd);

    S(IElementWiseLayer, setOperation);
    S(IElementWiseLayer, getOperation);

    S(IGatherLayer, setGatherAxis);
    S(IGatherLayer, getGatherAxis);
    S(IGatherLayer, setNbElementWiseDims);
    S(IGatherLayer, getNbElementWiseDims);

    S(IRNNLayer, getLayerCount);
    S(IRNNLayer, getHiddenSize);
    S(IRNNLayer, getSeqLength);
    S(IRNNLayer, setOperation);
    S(IRNNLayer, getOperation);
    S(IRNNLayer, setInputMode);
    S(IRNNLayer, getInputMode);
    S(IRNNLayer, setDirection);
    S(IRNNLayer, getDirection);
    S(IRNNLayer, setWeights);
    S(IRNNLayer, getWeights);
    S(IRNNLayer, setBias);
    S(IRNNLayer, getBias);
    S(IRNNLayer, getDataLength);
    S(IRNNLayer, setHiddenState);
    S(IRNNLayer, getHiddenState);
    S(IRNNLayer, setCellState);
    S(IRNNLayer, getCellState);

    S(IRNNv2Layer, getLayerCount);
    S(IRNNv2Layer, getHiddenSize);
    S(IRNNv2Layer, getMaxSeqLength);
    S(IRNNv2Layer, getDataLength);
    S(IRNNv2Layer, setSequenceLengths);
    S(IRNNv2Layer, getSequenceLengths);
    S(IRNNv2Layer, setOperation);
    S(IRNNv2Layer, getOperation);
    S(IRNNv2Layer, setInputMode);
    S(IRNNv2Layer, getInputMode);
    S(IRNNv2Layer, setDirection);
    S(IRNNv2Layer, getDirection);
    S(IRNNv2Layer, setWeightsForGate);
    S(IRNNv2Layer, getWeightsForGate);
    S(IRNNv2Layer, setBiasForGate);
    S(IRNNv2Layer, getBiasForGate);
    S(IRNNv2Layer, setHiddenState);
    S(IRNNv2Layer, getHiddenState);
    S(IRNNv2Layer, setCellState);
    S(IRNNv2Layer, getCellState);

    S(IOutputDimensionsFormula, compute);

    S(IPluginLayer, getPlugin);
    S(IPluginV2Layer, getPlugin);

    S(IUnaryLayer, setOperation);
    S(IUnaryLayer, getOperation);

    S(IReduceLayer, setOperation);
    S(IReduceLayer, getOperation);
    S(IReduceLayer, setReduceAxes);
    S(IReduceLayer, getReduceAxes);
    S(IReduceLayer, setKeepDimensions);
    S(IReduceLayer, getKeepDimensions);

    S(IPaddingLayer, setPrePadding);
    S(IPaddingLayer, getPrePadding);
    S(IPaddingLayer, setPostPadding);
    S(IPaddingLayer, getPostPadding);
    S(IPaddingLayer, setPrePaddingNd);
    S(IPaddingLayer, getPrePaddingNd);
    S(IPaddingLayer, setPostPaddingNd);
    S(IPaddingLayer, getPostPaddingNd);

    S(IShuffleLayer, setFirstTranspose);
    S(IShuffleLayer, getFirstTranspose);
    S(IShuffleLayer, setReshapeDimensions);
    S(IShuffleLayer, getReshapeDimensions);
    S(IShuffleLayer, setSecondTranspose);
    S(IShuffleLayer, getSecondTranspose);
    S(IShuffleLayer, setZeroIsPlaceholder);
    S(IShuffleLayer, getZeroIsPlaceholder);

    S(ISliceLayer, setStart);
    S(ISliceLayer, getStart);
    S(ISliceLayer, setSize);
    S(ISliceLayer, getSize);
    S(ISliceLayer, setStride);
    S(ISliceLayer, getStride);
    S(ISliceLayer, setMode);
    S(ISliceLayer, getMode);

    S(ITopKLayer, setOperation);
    S(ITopKLayer, getOperation);
    S(ITopKLayer, setK);
    S(ITopKLayer, getK);
    S(ITopKLayer, setReduceAxes);
    S(ITopKLayer, getReduceAxes);

    S(IMatrixMultiplyLayer, setOperation);
    S(IMatrixMultiplyLayer, getOperation);
    S(IMatrixMultiplyLayer, setTranspose);
    S(IMatrixMultiplyLayer, getTranspose);

    S(IConstantLayer, setWeights);
    S(IConstantLayer, getWeights);
    S(IConstantLayer, setDimensions);
    S(IConstantLayer, getDimensions);

    S(IResizeLayer, setOutputDimensions);
    S(IResizeLayer, getOutputDimensions);
    S(IResizeLayer, setScales);
    S(IResizeLayer, getScales);
    S(IResizeLayer, setResizeMode);
    S(IResizeLayer, getResizeMode);
    S(IResizeLayer, setAlignCorners);
    S(IResizeLayer, getAlignCorners);

    S(ILoopBoundaryLayer, getLoop);
    S(ILoopOutputLayer, getLoopOutput);
    S(ILoopOutputLayer, setAxis);
    S(ILoopOutputLayer, getAxis);
    S(ITripLimitLayer, getTripLimit);
    S(IIteratorLayer, setAxis);
    S(IIteratorLayer, getAxis);
    S(IIteratorLayer, setReverse);
    S(IIteratorLayer, getReverse);

    S(ILoop, addRecurrence);
    S(ILoop, addTripLimit);
    S(ILoop, addIterator);
    S(ILoop, addLoopOutput);
    S(ILoop, setName);
    S(ILoop, getName);

    S(IFillLayer, setDimensions);
    S(IFillLayer, getDimensions);
    S(IFillLayer, setOperation);
    S(IFillLayer, getOperation);
    S(IFillLayer, setAlpha);
    S(IFillLayer, getAlpha);
    S(IFillLayer, setBeta);
    S(IFillLayer, getBeta);

    S(INetworkDefinition, addInput);
    S(INetworkDefinition, markOutput);
    S(INetworkDefinition, addConvolution);
    S(INetworkDefinition, addFullyConnected);
    S(INetworkDefinition, addActivation);
    S(INetworkDefinition, addPooling);
    S(INetworkDefinition, addLRN);
    S(INetworkDefinition, addScale);
    S(INetworkDefinition, addSoftMax);
    S(INetworkDefinition, addConcatenation);
    S(INetworkDefinition, addDeconvolution);
    S(INetworkDefinition, addElementWise);
    S(INetworkDefinition, addRNN);
    S(INetworkDefinition, addPlugin);
    S(INetworkDefinition, addUnary);
    S(INetworkDefinition, addPadding);
    S(INetworkDefinition, addShuffle);
    S(INetworkDefinition, setPoolingOutputDimensionsFormula);
    S(INetworkDefinition, getPoolingOutputDimensionsFormula);
    S(INetworkDefinition, setConvolutionOutputDimensionsFormula);
    S(INetworkDefinition, getConvolutionOutputDimensionsFormula);
    S(INetworkDefinition, setDeconvolutionOutputDimensionsFormula);
    S(INetworkDefinition, getDeconvolutionOutputDimensionsFormula);
    S(INetworkDefinition, getNbLayers);
    S(INetworkDefinition, getLayer);
    S(INetworkDefinition, getNbInputs);
    S(INetworkDefinition, getInput);
    S(INetworkDefinition, getNbOutputs);
    S(INetworkDefinition, getOutput);
    S(INetworkDefinition, destroy);
    S(INetworkDefinition, addReduce);
    S(INetworkDefinition, addTopK);
    S(INetworkDefinition, addGather);
    S(INetworkDefinition, addRaggedSoftMax);
    O(INetworkDefinition, addMatrixMultiply, "addMatrixMultiply",
        IMatrixMultiplyLayer* (INetworkDefinition::*)(ITensor&, MatrixOperation, ITensor&, MatrixOperation));
    O(INetworkDefinition, addMatrixMultiply, "addMatrixMultiply#2",
        IMatrixMultiplyLayer* (INetworkDefinition::*)(ITensor&, bool, ITensor&, bool));
    S(INetworkDefinition, addConstant);
    S(INetworkDefinition, addRNNv2);
    S(INetworkDefinition, addPluginExt);
    S(INetworkDefinition, addIdentity);
    S(INetworkDefinition, removeTensor);
    S(INetworkDefinition, unmarkOutput);
    S(INetworkDefinition, addPluginV2);
    S(INetworkDefinition, addSlice);
    S(INetworkDefinition, setName);
    S(INetworkDefinition, getName);
    S(INetworkDefinition, addShape);
    S(INetworkDefinition, hasImplicitBatchDimension);
    S(INetworkDefinition, markOutputForShapes);
    S(INetworkDefinition, unmarkOutputForShapes);
    S(INetworkDefinition, addParametricReLU);
    S(INetworkDefinition, addConvolutionNd);
    S(INetworkDefinition, addPoolingNd);
    S(INetworkDefinition, addDeconvolutionNd);
    S(INetworkDefinition, addScaleNd);
    S(INetworkDefinition, addResize);
    S(INetworkDefinition, hasExplicitPrecision);
    S(INetworkDefinition, addLoop);
    S(INetworkDefinition, addSelect);
    S(INetworkDefinition, addFill);
    S(INetworkDefinition, addPaddingNd);

    S(IInt8Calibrator, getBatchSize);
    S(IInt8Calibrator, getBatch);
    S(IInt8Calibrator, readCalibrationCache);
    S(IInt8Calibrator, writeCalibrationCache);
    S(IInt8Calibrator, getAlgorithm);
    S(IInt8EntropyCalibrator, getAlgorithm);
    S(IInt8EntropyCalibrator2, getAlgorithm);
    S(IInt8MinMaxCalibrator, getAlgorithm);
    S(IInt8LegacyCalibrator, getAlgorithm);
    S(IInt8LegacyCalibrator, getQuantile);
    S(IInt8LegacyCalibrator, getRegressionCutoff);
    S(IInt8LegacyCalibrator, readHistogramCache);
    S(IInt8LegacyCalibrator, writeHistogramCache);

    S(IBuilderConfig, setMinTimingIterations);
    S(IBuilderConfig, getMinTimingIterations);
    S(IBuilderConfig, setAvgTimingIterations);
    S(IBuilderConfig, getAvgTimingIterations);
    S(IBuilderConfig, setEngineCapability);
    S(IBuilderConfig, getEngineCapability);
    S(IBuilderConfig, setInt8Calibrator);
    S(IBuilderConfig, getInt8Calibrator);
    S(IBuilderConfig, setMaxWorkspaceSize);
    S(IBuilderConfig, getMaxWorkspaceSize);
    S(IBuilderConfig, setFlags);
    S(IBuilderConfig, getFlags);
    S(IBuilderConfig, clearFlag);
    S(IBuilderConfig, setFlag);
    S(IBuilderConfig, getFlag);
    S(IBuilderConfig, setDeviceType);
    S(IBuilderConfig, getDeviceType);
    S(IBuilderConfig, isDeviceTypeSet);
    S(IBuilderConfig, resetDeviceType);
    S(IBuilderConfig, canRunOnDLA);
    S(IBuilderConfig, setDLACore);
    S(IBuilderConfig, getDLACore);
    S(IBuilderConfig, setDefaultDeviceType);
    S(IBuilderConfig, getDefaultDeviceType);
    S(IBuilderConfig, reset);
    S(IBuilderConfig, destroy);
    S(IBuilderConfig, setProfileStream);
    S(IBuilderConfig, getProfileStream);
    S(IBuilderConfig, addOptimizationProfile);
    S(IBuilderConfig, getNbOptimizationProfiles);

    S(IBuilder, createNetwork);
    S(IBuilder, setMaxBatchSize);
    S(IBuilder, getMaxBatchSize);
    S(IBuilder, setMaxWorkspaceSize);
    S(IBuilder, getMaxWorkspaceSize);
    S(IBuilder, setHalf2Mode);
    S(IBuilder, getHalf2Mode);
    S(IBuilder, setDebugSync);
    S(IBuilder, getDebugSync);
    S(IBuilder, setMinFindIterations);
    S(IBuilder, getMinFindIterations);
    S(IBuilder, setAverageFindIterations);
    S(IBuilder, getAverageFindIterations);
    S(IBuilder, buildCudaEngine);
    S(IBuilder, platformHasFastFp16);
    S(IBuilder, platformHasFastInt8);
    S(IBuilder, destroy);
    S(IBuilder, setInt8Mode);
    S(IBuilder, getInt8Mode);
    S(IBuilder, setInt8Calibrator);
    S(IBuilder, setDeviceType);
    S(IBuilder, getDeviceType);
    S(IBuilder, isDeviceTypeSet);
    S(IBuilder, resetDeviceType);
    S(IBuilder, canRunOnDLA);
    S(IBuilder, setDefaultDeviceType);
    S(IBuilder, getDefaultDeviceType);
    S(IBuilder, getMaxDLABatchSize);
    S(IBuilder, allowGPUFallback);
    S(IBuilder, getNbDLACores);
    S(IBuilder, setDLACore);
    S(IBuilder, getDLACore);
    O(IBuilder, reset, "reset", void (IBuilder::*)(INetworkDefinition&));
    S(IBuilder, setGpuAllocator);
    S(IBuilder, setFp16Mode);
    S(IBuilder, getFp16Mode);
    S(IBuilder, setStrictTypeConstraints);
    S(IBuilder, getStrictTypeConstraints);
    S(IBuilder, setRefittable);
    S(IBuilder, getRefittable);
    S(IBuilder, setEngineCapability);
    S(IBuilder, getEngineCapability);
    S(IBuilder, createBuilderConfig);
    S(IBuilder, buildEngineWithConfig);
    S(IBuilder, createNetworkV2);
    S(IBuilder, createOptimizationProfile);
    S(IBuilder, setErrorRecorder);
    S(IBuilder, getErrorRecorder);
    O(IBuilder, reset, "reset#2", void (IBuilder::*)());

    // ---- NvCaffeParser.h
    C(IBlobNameToTensor, find);

    C(IBinaryProtoBlob, getData);
    C(IBinaryProtoBlob, getDimensions);
    C(IBinaryProtoBlob, getDataType);
    C(IBinaryProtoBlob, destroy);

    C(IPluginFactory, isPlugin);
    C(IPluginFactory, createPlugin);
    C(IPluginFactoryExt, getVersion);
    C(IPluginFactoryExt, isPluginExt);
    C(IPluginFactoryV2, isPluginV2);
    C(IPluginFactoryV2, createPlugin);

    C(ICaffeParser, parse);
    C(ICaffeParser, parseBuffers);
    C(ICaffeParser, parseBinaryProto);
    C(ICaffeParser, setProtobufBufferSize);
    C(ICaffeParser, setPluginFactory);
    C(ICaffeParser, setPluginFactoryExt);
    C(ICaffeParser, destroy);
    C(ICaffeParser, setPluginFactoryV2);
    C(ICaffeParser, setPluginNamespace);
    C(ICaffeParser, setErrorRecorder);
    C(ICaffeParser, getErrorRecorder);

    // ---- NvOnnxParser.h
    X(IParserError, code);
    X(IParserError, desc);
    X(IParserError, file);
    X(IParserError, line);
    X(IParserError, func);
    X(IParserError, node);

    X(IParser, parse);
    X(IParser, parseFromFile);
    // The slot; the reference overload is the header's inline wrapper.
    add("IParser", "supportsModel",
        slotOf(static_cast<bool (nvonnxparser::IParser::*)(void const*, size_t, SubGraphCollection_t*)>(
            &nvonnxparser::IParser::supportsModel)));
    X(IParser, parseWithWeightDescriptors);
    X(IParser, supportsOperator);
    X(IParser, destroy);
    X(IParser, getNbErrors);
    X(IParser, getError);
    X(IParser, clearErrors);
}

static long find(const char* iface, const char* method)
{
    for (const Entry& e : gEntries)
    {
        if (e.iface == iface && e.method == method)
        {
            return e.slot;
        }
    }
    return -2;
}

static void expect(const char* iface, const char* method, long slot)
{
    long got = find(iface, method);
    if (got != slot)
    {
        std::fprintf(stderr, "probe: MISMATCH %s %s: expected slot %ld, got %ld\n", iface, method, slot, got);
        ++gErrors;
    }
}

static void expectSize(const char* what, std::size_t got, std::size_t want)
{
    if (got != want)
    {
        std::fprintf(stderr, "probe: MISMATCH %s: expected %zu, got %zu\n", what, want, got);
        ++gErrors;
    }
}

int main()
{
    collect();

    std::sort(gEntries.begin(), gEntries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.iface, a.slot, a.method) < std::tie(b.iface, b.slot, b.method);
    });
    for (const Entry& e : gEntries)
    {
        std::printf("%s %s %ld\n", e.iface.c_str(), e.method.c_str(), e.slot);
    }

    std::printf("sizeof Dims %zu\n", sizeof(Dims));
    std::printf("offsetof Dims d %zu\n", offsetof(Dims, d));
    std::printf("offsetof Dims type %zu\n", offsetof(Dims, type));
    std::printf("sizeof Weights %zu\n", sizeof(Weights));
    std::printf("offsetof Weights values %zu\n", offsetof(Weights, values));
    std::printf("offsetof Weights count %zu\n", offsetof(Weights, count));
    std::printf("sizeof Permutation %zu\n", sizeof(Permutation));
    std::printf("sizeof PluginField %zu\n", sizeof(PluginField));
    std::printf("sizeof PluginFieldCollection %zu\n", sizeof(PluginFieldCollection));
    std::printf("sizeof PluginTensorDesc %zu\n", sizeof(PluginTensorDesc));
    std::printf("sizeof PluginFormat %zu\n", sizeof(PluginFormat));

    // Layout checks (trt-legacy-api.md 1.3).
    expectSize("sizeof Dims", sizeof(Dims), 68);
    expectSize("offsetof Dims d", offsetof(Dims, d), 4);
    expectSize("offsetof Dims type", offsetof(Dims, type), 36);
    expectSize("sizeof DimsHW", sizeof(DimsHW), 68);
    expectSize("sizeof DimsCHW", sizeof(DimsCHW), 68);
    expectSize("sizeof DimsNCHW", sizeof(DimsNCHW), 68);
    expectSize("sizeof Weights", sizeof(Weights), 24);
    expectSize("offsetof Weights values", offsetof(Weights, values), 8);
    expectSize("offsetof Weights count", offsetof(Weights, count), 16);
    expectSize("sizeof Permutation", sizeof(Permutation), 32);

    // Slot checks quoted in trt-legacy-api.md 1.3 / 1.6 / 2.1.
    expect("IBuilder", "setFp16Mode", 36);
    expect("IBuilder", "buildCudaEngine", 13);
    expect("IBuilder", "createBuilderConfig", 44);
    expect("IBuilder", "buildEngineWithConfig", 45);
    expect("IBuilder", "reset", 32);
    expect("IBuilder", "reset#2", 50);
    expect("IInt8Calibrator", "getBatch", 1);
    expect("IInt8Calibrator", "getAlgorithm", 4);
    expect("IInt8EntropyCalibrator2", "getAlgorithm", 4);
    expect("IInt8LegacyCalibrator", "getQuantile", 7);
    expect("ICaffeParser", "parse", 0);
    expect("ICaffeParser", "setErrorRecorder", 11);
    expect("ILayer", "setPrecision", 8);
    expect("IBuilderConfig", "setFlag", 13);
    expect("IBuilderConfig", "getNbOptimizationProfiles", 29);
    expect("IExecutionContext", "enqueue", 1);
    expect("IExecutionContext", "enqueueV2", 25);
    expect("ITensor", "getDimensions", 3);
    expect("ITensor", "setBroadcastAcrossBatch", 12);
    expect("INetworkDefinition", "addConvolution", 2);
    expect("INetworkDefinition", "addReduce", 32);
    expect("INetworkDefinition", "addMatrixMultiply#2", 37);
    expect("INetworkDefinition", "addSlice", 45);
    expect("INetworkDefinition", "hasImplicitBatchDimension", 49);
    expect("INetworkDefinition", "addPaddingNd", 62);
    expect("ICudaEngine", "createExecutionContextWithoutDeviceMemory", 15);
    expect("ICudaEngine", "hasImplicitBatchDimension", 32);
    expect("IRuntime", "setGpuAllocator", 7);
    expect("IConvolutionLayer", "setKernelSize", 18);
    expect("IConvolutionLayer", "setPrePadding", 34);
    expect("IScaleLayer", "getChannelAxis", 26);
    expect("ISoftMaxLayer", "setAxes", 18);
    expect("ILogger", "log", 0);
    expect("IProfiler", "reportLayerTime", 0);
    expect("IGpuAllocator", "free", 1);
    expect("IHostMemory", "destroy", 3);
    expect("IParser", "parseFromFile", 1);
    expect("IParser", "clearErrors", 8);
    expect("IParserError", "node", 5);

    if (gErrors != 0)
    {
        std::fprintf(stderr, "probe: %d error(s)\n", gErrors);
        return 1;
    }
    return 0;
}
