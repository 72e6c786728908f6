/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvInfer.h: network definition (tensors, layers), calibrators, the builder and its
 * configuration. Including this file alone gives the whole API, as in the 5.1 generation.
 *
 * Layout rules (binary compatibility): the declaration order of the virtual functions
 * is the vtable order; a virtual destructor takes two slots where it is declared; a
 * layer subclass starts with ILayer's 18 slots (0..15 methods, 16/17 destructor).
 * Methods after a version tag were appended by that generation. Where the 6.0/7.x
 * generation inserted methods before an existing destructor, infer8 keeps the 5.1
 * layout and appends those methods after the destructor (noted at the class).
 */
#ifndef NV_INFER_H
#define NV_INFER_H

#include "NvInferRuntime.h"

namespace nvinfer1
{

/* Two dimensions (only nbDims and d[] are set). */
class Dims2 : public Dims
{
public:
    Dims2()
    {
        nbDims = 2;
        d[0] = d[1] = 0;
    }
    Dims2(int d0, int d1)
    {
        nbDims = 2;
        d[0] = d0;
        d[1] = d1;
    }
};

/* Height and width. */
class DimsHW : public Dims2
{
public:
    DimsHW()
        : Dims2()
    {
        type[0] = type[1] = DimensionType::kSPATIAL;
    }
    DimsHW(int height, int width)
        : Dims2(height, width)
    {
        type[0] = type[1] = DimensionType::kSPATIAL;
    }
    int& h() { return d[0]; }
    int h() const { return d[0]; }
    int& w() { return d[1]; }
    int w() const { return d[1]; }
};

/* Three dimensions (only nbDims and d[] are set). */
class Dims3 : public Dims
{
public:
    Dims3()
    {
        nbDims = 3;
        d[0] = d[1] = d[2] = 0;
    }
    Dims3(int d0, int d1, int d2)
    {
        nbDims = 3;
        d[0] = d0;
        d[1] = d1;
        d[2] = d2;
    }
};

/* Channels, height, width. */
class DimsCHW : public Dims3
{
public:
    DimsCHW()
        : Dims3()
    {
        type[0] = DimensionType::kCHANNEL;
        type[1] = type[2] = DimensionType::kSPATIAL;
    }
    DimsCHW(int channels, int height, int width)
        : Dims3(channels, height, width)
    {
        type[0] = DimensionType::kCHANNEL;
        type[1] = type[2] = DimensionType::kSPATIAL;
    }
    int& c() { return d[0]; }
    int c() const { return d[0]; }
    int& h() { return d[1]; }
    int h() const { return d[1]; }
    int& w() { return d[2]; }
    int w() const { return d[2]; }
};

/* Four dimensions (only nbDims and d[] are set). */
class Dims4 : public Dims
{
public:
    Dims4()
    {
        nbDims = 4;
        d[0] = d[1] = d[2] = d[3] = 0;
    }
    Dims4(int d0, int d1, int d2, int d3)
    {
        nbDims = 4;
        d[0] = d0;
        d[1] = d1;
        d[2] = d2;
        d[3] = d3;
    }
};

/* Batch, channels, height, width. */
class DimsNCHW : public Dims4
{
public:
    DimsNCHW()
        : Dims4()
    {
        type[0] = DimensionType::kINDEX;
        type[1] = DimensionType::kCHANNEL;
        type[2] = type[3] = DimensionType::kSPATIAL;
    }
    DimsNCHW(int batchSize, int channels, int height, int width)
        : Dims4(batchSize, channels, height, width)
    {
        type[0] = DimensionType::kINDEX;
        type[1] = DimensionType::kCHANNEL;
        type[2] = type[3] = DimensionType::kSPATIAL;
    }
    int& n() { return d[0]; }
    int n() const { return d[0]; }
    int& c() { return d[1]; }
    int c() const { return d[1]; }
    int& h() { return d[2]; }
    int h() const { return d[2]; }
    int& w() { return d[3]; }
    int w() const { return d[3]; }
};

/* Kind of a layer, as returned by ILayer::getType(). */
enum class LayerType : int
{
    kCONVOLUTION = 0,
    kFULLY_CONNECTED = 1,
    kACTIVATION = 2,
    kPOOLING = 3,
    kLRN = 4,
    kSCALE = 5,
    kSOFTMAX = 6,
    kDECONVOLUTION = 7,
    kCONCATENATION = 8,
    kELEMENTWISE = 9,
    kPLUGIN = 10,
    kRNN = 11,
    kUNARY = 12,
    kPADDING = 13,
    kSHUFFLE = 14,
    kREDUCE = 15,
    kTOPK = 16,
    kGATHER = 17,
    kMATRIX_MULTIPLY = 18,
    kRAGGED_SOFTMAX = 19,
    kCONSTANT = 20,
    kRNN_V2 = 21,
    kIDENTITY = 22,
    kPLUGIN_V2 = 23,
    kSLICE = 24,
    kSHAPE = 25,           /* 6.0 */
    kPARAMETRIC_RELU = 26, /* 6.0 */
    kRESIZE = 27,          /* 6.0 */
    kTRIP_LIMIT = 28,      /* 7.0 */
    kRECURRENCE = 29,      /* 7.0 */
    kITERATOR = 30,        /* 7.0 */
    kLOOP_OUTPUT = 31,     /* 7.0 */
    kSELECT = 32,          /* 7.0 */
    kFILL = 33             /* 7.0 */
};
template <>
constexpr inline int EnumMax<LayerType>()
{
    return 34;
}

/* A tensor of a network definition (library-implemented). */
class ITensor
{
public:
    /* 0 */ virtual void setName(const char* name) TRTNOEXCEPT = 0;
    /* 1 */ virtual const char* getName() const TRTNOEXCEPT = 0;
    /* 2: network inputs only */
    virtual void setDimensions(Dims dimensions) TRTNOEXCEPT = 0;
    /* 3 */ virtual Dims getDimensions() const TRTNOEXCEPT = 0;
    /* 4 */ virtual void setType(DataType type) TRTNOEXCEPT = 0;
    /* 5 */ virtual DataType getType() const TRTNOEXCEPT = 0;
    /* 6 */ virtual bool setDynamicRange(float min, float max) TRTNOEXCEPT = 0;
    /* 7 */ virtual float getDynamicRange() const TRTNOEXCEPT = 0;
    /* 8 */ virtual bool isNetworkInput() const TRTNOEXCEPT = 0;
    /* 9 */ virtual bool isNetworkOutput() const TRTNOEXCEPT = 0;

protected:
    /* 10, 11 */
    virtual ~ITensor() {}

public:
    /* 12 */ virtual void setBroadcastAcrossBatch(bool broadcastAcrossBatch) TRTNOEXCEPT = 0;
    /* 13 */ virtual bool getBroadcastAcrossBatch() const TRTNOEXCEPT = 0;
    /* 14 */ virtual TensorLocation getLocation() const TRTNOEXCEPT = 0;
    /* 15 */ virtual void setLocation(TensorLocation location) TRTNOEXCEPT = 0;
    /* 16 */ virtual bool dynamicRangeIsSet() const TRTNOEXCEPT = 0;
    /* 17 */ virtual void resetDynamicRange() TRTNOEXCEPT = 0;
    /* 18 */ virtual float getDynamicRangeMin() const TRTNOEXCEPT = 0;
    /* 19 */ virtual float getDynamicRangeMax() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 20 */ virtual void setAllowedFormats(TensorFormats formats) TRTNOEXCEPT = 0;
    /* 21 */ virtual TensorFormats getAllowedFormats() const TRTNOEXCEPT = 0;
    /* 22 */ virtual bool isShapeTensor() const TRTNOEXCEPT = 0;
    /* 23 */ virtual bool isExecutionTensor() const TRTNOEXCEPT = 0;
};

/* Base of all layers (library-implemented). */
class ILayer
{
public:
    /* 0 */ virtual LayerType getType() const TRTNOEXCEPT = 0;
    /* 1 */ virtual void setName(const char* name) TRTNOEXCEPT = 0;
    /* 2 */ virtual const char* getName() const TRTNOEXCEPT = 0;
    /* 3 */ virtual int getNbInputs() const TRTNOEXCEPT = 0;
    /* 4 */ virtual ITensor* getInput(int index) const TRTNOEXCEPT = 0;
    /* 5 */ virtual int getNbOutputs() const TRTNOEXCEPT = 0;
    /* 6 */ virtual ITensor* getOutput(int index) const TRTNOEXCEPT = 0;
    /* 7 */ virtual void setInput(int index, ITensor& tensor) TRTNOEXCEPT = 0;
    /* 8 */ virtual void setPrecision(DataType dataType) TRTNOEXCEPT = 0;
    /* 9 */ virtual DataType getPrecision() const TRTNOEXCEPT = 0;
    /* 10 */ virtual bool precisionIsSet() const TRTNOEXCEPT = 0;
    /* 11 */ virtual void resetPrecision() TRTNOEXCEPT = 0;
    /* 12 */ virtual void setOutputType(int index, DataType dataType) TRTNOEXCEPT = 0;
    /* 13 */ virtual DataType getOutputType(int index) const TRTNOEXCEPT = 0;
    /* 14 */ virtual bool outputTypeIsSet(int index) const TRTNOEXCEPT = 0;
    /* 15 */ virtual void resetOutputType(int index) TRTNOEXCEPT = 0;

protected:
    /* 16, 17 */
    virtual ~ILayer() {}
};

/* How convolution, deconvolution and pooling compute padding and output size. */
enum class PaddingMode : int
{
    kEXPLICIT_ROUND_DOWN = 0,
    kEXPLICIT_ROUND_UP = 1,
    kSAME_UPPER = 2,
    kSAME_LOWER = 3,
    kCAFFE_ROUND_DOWN = 4,
    kCAFFE_ROUND_UP = 5
};
template <>
constexpr inline int EnumMax<PaddingMode>()
{
    return 6;
}

/* 2D (or Nd) convolution. */
class IConvolutionLayer : public ILayer
{
public:
    /* 18 */ virtual void setKernelSize(DimsHW kernelSize) TRTNOEXCEPT = 0;
    /* 19 */ virtual DimsHW getKernelSize() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setNbOutputMaps(int nbOutputMaps) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getNbOutputMaps() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setStride(DimsHW stride) TRTNOEXCEPT = 0;
    /* 23 */ virtual DimsHW getStride() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setPadding(DimsHW padding) TRTNOEXCEPT = 0;
    /* 25 */ virtual DimsHW getPadding() const TRTNOEXCEPT = 0;
    /* 26 */ virtual void setNbGroups(int nbGroups) TRTNOEXCEPT = 0;
    /* 27 */ virtual int getNbGroups() const TRTNOEXCEPT = 0;
    /* 28: GKCRS order */
    virtual void setKernelWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 29 */ virtual Weights getKernelWeights() const TRTNOEXCEPT = 0;
    /* 30: count 0 = no bias */
    virtual void setBiasWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 31 */ virtual Weights getBiasWeights() const TRTNOEXCEPT = 0;
    /* 32 */ virtual void setDilation(DimsHW dilation) TRTNOEXCEPT = 0;
    /* 33 */ virtual DimsHW getDilation() const TRTNOEXCEPT = 0;

protected:
    /* overrides 16, 17 */
    virtual ~IConvolutionLayer() {}

public:
    /* 34 */ virtual void setPrePadding(Dims padding) TRTNOEXCEPT = 0;
    /* 35 */ virtual Dims getPrePadding() const TRTNOEXCEPT = 0;
    /* 36 */ virtual void setPostPadding(Dims padding) TRTNOEXCEPT = 0;
    /* 37 */ virtual Dims getPostPadding() const TRTNOEXCEPT = 0;
    /* 38 */ virtual void setPaddingMode(PaddingMode paddingMode) TRTNOEXCEPT = 0;
    /* 39 */ virtual PaddingMode getPaddingMode() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 40 */ virtual void setKernelSizeNd(Dims kernelSize) TRTNOEXCEPT = 0;
    /* 41 */ virtual Dims getKernelSizeNd() const TRTNOEXCEPT = 0;
    /* 42 */ virtual void setStrideNd(Dims stride) TRTNOEXCEPT = 0;
    /* 43 */ virtual Dims getStrideNd() const TRTNOEXCEPT = 0;
    /* 44 */ virtual void setPaddingNd(Dims padding) TRTNOEXCEPT = 0;
    /* 45 */ virtual Dims getPaddingNd() const TRTNOEXCEPT = 0;
    /* 46 */ virtual void setDilationNd(Dims dilation) TRTNOEXCEPT = 0;
    /* 47 */ virtual Dims getDilationNd() const TRTNOEXCEPT = 0;
};

/* Y = X * W^T + bias over the last three dimensions; output {K,1,1}. */
class IFullyConnectedLayer : public ILayer
{
public:
    /* 18 */ virtual void setNbOutputChannels(int nbOutputs) TRTNOEXCEPT = 0;
    /* 19 */ virtual int getNbOutputChannels() const TRTNOEXCEPT = 0;
    /* 20: K x C row-major */
    virtual void setKernelWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 21 */ virtual Weights getKernelWeights() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setBiasWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 23 */ virtual Weights getBiasWeights() const TRTNOEXCEPT = 0;

protected:
    virtual ~IFullyConnectedLayer() {}
};

/* Elementwise activation. */
class IActivationLayer : public ILayer
{
public:
    /* 18 */ virtual void setActivationType(ActivationType type) TRTNOEXCEPT = 0;
    /* 19 */ virtual ActivationType getActivationType() const TRTNOEXCEPT = 0;

protected:
    virtual ~IActivationLayer() {}

public:
    /* 20 */ virtual void setAlpha(float alpha) TRTNOEXCEPT = 0;
    /* 21 */ virtual void setBeta(float beta) TRTNOEXCEPT = 0;
    /* 22 */ virtual float getAlpha() const TRTNOEXCEPT = 0;
    /* 23 */ virtual float getBeta() const TRTNOEXCEPT = 0;
};

/* Pooling reductions. */
enum class PoolingType : int
{
    kMAX = 0,
    kAVERAGE = 1,
    kMAX_AVERAGE_BLEND = 2
};
template <>
constexpr inline int EnumMax<PoolingType>()
{
    return 3;
}

/* Windowed pooling. */
class IPoolingLayer : public ILayer
{
public:
    /* 18 */ virtual void setPoolingType(PoolingType type) TRTNOEXCEPT = 0;
    /* 19 */ virtual PoolingType getPoolingType() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setWindowSize(DimsHW windowSize) TRTNOEXCEPT = 0;
    /* 21 */ virtual DimsHW getWindowSize() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setStride(DimsHW stride) TRTNOEXCEPT = 0;
    /* 23 */ virtual DimsHW getStride() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setPadding(DimsHW padding) TRTNOEXCEPT = 0;
    /* 25 */ virtual DimsHW getPadding() const TRTNOEXCEPT = 0;
    /* 26 */ virtual void setBlendFactor(float blendFactor) TRTNOEXCEPT = 0;
    /* 27 */ virtual float getBlendFactor() const TRTNOEXCEPT = 0;
    /* 28 */ virtual void setAverageCountExcludesPadding(bool exclusive) TRTNOEXCEPT = 0;
    /* 29 */ virtual bool getAverageCountExcludesPadding() const TRTNOEXCEPT = 0;

protected:
    virtual ~IPoolingLayer() {}

public:
    /* 30 */ virtual void setPrePadding(Dims padding) TRTNOEXCEPT = 0;
    /* 31 */ virtual Dims getPrePadding() const TRTNOEXCEPT = 0;
    /* 32 */ virtual void setPostPadding(Dims padding) TRTNOEXCEPT = 0;
    /* 33 */ virtual Dims getPostPadding() const TRTNOEXCEPT = 0;
    /* 34 */ virtual void setPaddingMode(PaddingMode paddingMode) TRTNOEXCEPT = 0;
    /* 35 */ virtual PaddingMode getPaddingMode() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 36 */ virtual void setWindowSizeNd(Dims windowSize) TRTNOEXCEPT = 0;
    /* 37 */ virtual Dims getWindowSizeNd() const TRTNOEXCEPT = 0;
    /* 38 */ virtual void setStrideNd(Dims stride) TRTNOEXCEPT = 0;
    /* 39 */ virtual Dims getStrideNd() const TRTNOEXCEPT = 0;
    /* 40 */ virtual void setPaddingNd(Dims padding) TRTNOEXCEPT = 0;
    /* 41 */ virtual Dims getPaddingNd() const TRTNOEXCEPT = 0;
};

/* Local response normalization across channels. */
class ILRNLayer : public ILayer
{
public:
    /* 18 */ virtual void setWindowSize(int windowSize) TRTNOEXCEPT = 0;
    /* 19 */ virtual int getWindowSize() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setAlpha(float alpha) TRTNOEXCEPT = 0;
    /* 21 */ virtual float getAlpha() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setBeta(float beta) TRTNOEXCEPT = 0;
    /* 23 */ virtual float getBeta() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setK(float k) TRTNOEXCEPT = 0;
    /* 25 */ virtual float getK() const TRTNOEXCEPT = 0;

protected:
    virtual ~ILRNLayer() {}
};

/* Granularity of the scale layer coefficients. */
enum class ScaleMode : int
{
    kUNIFORM = 0,
    kCHANNEL = 1,
    kELEMENTWISE = 2
};
template <>
constexpr inline int EnumMax<ScaleMode>()
{
    return 3;
}

/* output = (input * scale + shift) ^ power; empty weights mean 1, 0 and 1. */
class IScaleLayer : public ILayer
{
public:
    /* 18 */ virtual void setMode(ScaleMode mode) TRTNOEXCEPT = 0;
    /* 19 */ virtual ScaleMode getMode() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setShift(Weights shift) TRTNOEXCEPT = 0;
    /* 21 */ virtual Weights getShift() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setScale(Weights scale) TRTNOEXCEPT = 0;
    /* 23 */ virtual Weights getScale() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setPower(Weights power) TRTNOEXCEPT = 0;
    /* 25 */ virtual Weights getPower() const TRTNOEXCEPT = 0;

protected:
    virtual ~IScaleLayer() {}

public:
    /* 6.0 */
    /* 26 */ virtual int getChannelAxis() const TRTNOEXCEPT = 0;
};

/* Softmax along one axis. Its destructor is declared first (slots 16/17 as usual). */
class ISoftMaxLayer : public ILayer
{
protected:
    virtual ~ISoftMaxLayer() {}

public:
    /* 18: bit mask of non-batch axes */
    virtual void setAxes(uint32_t axes) TRTNOEXCEPT = 0;
    /* 19 */ virtual uint32_t getAxes() const TRTNOEXCEPT = 0;
};

/* Concatenation along one axis (default: channels). */
class IConcatenationLayer : public ILayer
{
protected:
    virtual ~IConcatenationLayer() {}

public:
    /* 18 */ virtual void setAxis(int axis) TRTNOEXCEPT = 0;
    /* 19 */ virtual int getAxis() const TRTNOEXCEPT = 0;
};

/* Transposed convolution. */
class IDeconvolutionLayer : public ILayer
{
public:
    /* 18 */ virtual void setKernelSize(DimsHW kernelSize) TRTNOEXCEPT = 0;
    /* 19 */ virtual DimsHW getKernelSize() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setNbOutputMaps(int nbOutputMaps) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getNbOutputMaps() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setStride(DimsHW stride) TRTNOEXCEPT = 0;
    /* 23 */ virtual DimsHW getStride() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setPadding(DimsHW padding) TRTNOEXCEPT = 0;
    /* 25 */ virtual DimsHW getPadding() const TRTNOEXCEPT = 0;
    /* 26 */ virtual void setNbGroups(int nbGroups) TRTNOEXCEPT = 0;
    /* 27 */ virtual int getNbGroups() const TRTNOEXCEPT = 0;
    /* 28: CKRS order */
    virtual void setKernelWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 29 */ virtual Weights getKernelWeights() const TRTNOEXCEPT = 0;
    /* 30 */ virtual void setBiasWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 31 */ virtual Weights getBiasWeights() const TRTNOEXCEPT = 0;

protected:
    virtual ~IDeconvolutionLayer() {}

public:
    /* 32 */ virtual void setPrePadding(Dims padding) TRTNOEXCEPT = 0;
    /* 33 */ virtual Dims getPrePadding() const TRTNOEXCEPT = 0;
    /* 34 */ virtual void setPostPadding(Dims padding) TRTNOEXCEPT = 0;
    /* 35 */ virtual Dims getPostPadding() const TRTNOEXCEPT = 0;
    /* 36 */ virtual void setPaddingMode(PaddingMode paddingMode) TRTNOEXCEPT = 0;
    /* 37 */ virtual PaddingMode getPaddingMode() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 38 */ virtual void setKernelSizeNd(Dims kernelSize) TRTNOEXCEPT = 0;
    /* 39 */ virtual Dims getKernelSizeNd() const TRTNOEXCEPT = 0;
    /* 40 */ virtual void setStrideNd(Dims stride) TRTNOEXCEPT = 0;
    /* 41 */ virtual Dims getStrideNd() const TRTNOEXCEPT = 0;
    /* 42 */ virtual void setPaddingNd(Dims padding) TRTNOEXCEPT = 0;
    /* 43 */ virtual Dims getPaddingNd() const TRTNOEXCEPT = 0;
    /* 7.x */
    /* 44 */ virtual void setDilationNd(Dims dilation) TRTNOEXCEPT = 0;
    /* 45 */ virtual Dims getDilationNd() const TRTNOEXCEPT = 0;
};

/* Binary elementwise operations. */
enum class ElementWiseOperation : int
{
    kSUM = 0,
    kPROD = 1,
    kMAX = 2,
    kMIN = 3,
    kSUB = 4,
    kDIV = 5,
    kPOW = 6,
    kFLOOR_DIV = 7, /* 6.0 */
    kAND = 8,       /* 7.0 */
    kOR = 9,        /* 7.0 */
    kXOR = 10,      /* 7.0 */
    kEQUAL = 11,    /* 7.0 */
    kGREATER = 12,  /* 7.0 */
    kLESS = 13      /* 7.0 */
};
template <>
constexpr inline int EnumMax<ElementWiseOperation>()
{
    return 14;
}

/* Binary elementwise layer with broadcasting of size-1 dimensions. */
class IElementWiseLayer : public ILayer
{
public:
    /* 18 */ virtual void setOperation(ElementWiseOperation op) TRTNOEXCEPT = 0;
    /* 19 */ virtual ElementWiseOperation getOperation() const TRTNOEXCEPT = 0;

protected:
    virtual ~IElementWiseLayer() {}
};

/* Gather along one axis. 7.x inserted set/getNbElementWiseDims before the destructor;
 * infer8 keeps the 5.1 layout and appends them. */
class IGatherLayer : public ILayer
{
public:
    /* 18 */ virtual void setGatherAxis(int axis) TRTNOEXCEPT = 0;
    /* 19 */ virtual int getGatherAxis() const TRTNOEXCEPT = 0;

protected:
    /* 20, 21 */
    virtual ~IGatherLayer() {}

public:
    /* 7.x (appended) */
    /* 22 */ virtual void setNbElementWiseDims(int k) TRTNOEXCEPT = 0;
    /* 23 */ virtual int getNbElementWiseDims() const TRTNOEXCEPT = 0;
};

/* Recurrent cell types. */
enum class RNNOperation : int
{
    kRELU = 0,
    kTANH = 1,
    kLSTM = 2,
    kGRU = 3
};
template <>
constexpr inline int EnumMax<RNNOperation>()
{
    return 4;
}

enum class RNNDirection : int
{
    kUNIDIRECTION = 0,
    kBIDIRECTION = 1
};
template <>
constexpr inline int EnumMax<RNNDirection>()
{
    return 2;
}

enum class RNNInputMode : int
{
    kLINEAR = 0,
    kSKIP = 1
};
template <>
constexpr inline int EnumMax<RNNInputMode>()
{
    return 2;
}

/* First-generation RNN layer (deprecated in 5.1). */
class IRNNLayer : public ILayer
{
public:
    /* 18 */ virtual unsigned getLayerCount() const TRTNOEXCEPT = 0;
    /* 19 */ virtual std::size_t getHiddenSize() const TRTNOEXCEPT = 0;
    /* 20 */ virtual int getSeqLength() const TRTNOEXCEPT = 0;
    /* 21 */ virtual void setOperation(RNNOperation op) TRTNOEXCEPT = 0;
    /* 22 */ virtual RNNOperation getOperation() const TRTNOEXCEPT = 0;
    /* 23 */ virtual void setInputMode(RNNInputMode op) TRTNOEXCEPT = 0;
    /* 24 */ virtual RNNInputMode getInputMode() const TRTNOEXCEPT = 0;
    /* 25 */ virtual void setDirection(RNNDirection op) TRTNOEXCEPT = 0;
    /* 26 */ virtual RNNDirection getDirection() const TRTNOEXCEPT = 0;
    /* 27 */ virtual void setWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 28 */ virtual Weights getWeights() const TRTNOEXCEPT = 0;
    /* 29 */ virtual void setBias(Weights bias) TRTNOEXCEPT = 0;
    /* 30 */ virtual Weights getBias() const TRTNOEXCEPT = 0;
    /* 31 */ virtual int getDataLength() const TRTNOEXCEPT = 0;
    /* 32 */ virtual void setHiddenState(ITensor& hidden) TRTNOEXCEPT = 0;
    /* 33 */ virtual ITensor* getHiddenState() const TRTNOEXCEPT = 0;
    /* 34 */ virtual void setCellState(ITensor& cell) TRTNOEXCEPT = 0;
    /* 35 */ virtual ITensor* getCellState() const TRTNOEXCEPT = 0;

protected:
    virtual ~IRNNLayer() {}
};

/* Gates of a recurrent cell. */
enum class RNNGateType : int
{
    kINPUT = 0,
    kOUTPUT = 1,
    kFORGET = 2,
    kUPDATE = 3,
    kRESET = 4,
    kCELL = 5,
    kHIDDEN = 6
};
template <>
constexpr inline int EnumMax<RNNGateType>()
{
    return 7;
}

/* Second-generation RNN layer. */
class IRNNv2Layer : public ILayer
{
public:
    /* 18 */ virtual int32_t getLayerCount() const TRTNOEXCEPT = 0;
    /* 19 */ virtual int32_t getHiddenSize() const TRTNOEXCEPT = 0;
    /* 20 */ virtual int32_t getMaxSeqLength() const TRTNOEXCEPT = 0;
    /* 21 */ virtual int32_t getDataLength() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setSequenceLengths(ITensor& seqLengths) TRTNOEXCEPT = 0;
    /* 23 */ virtual ITensor* getSequenceLengths() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setOperation(RNNOperation op) TRTNOEXCEPT = 0;
    /* 25 */ virtual RNNOperation getOperation() const TRTNOEXCEPT = 0;
    /* 26 */ virtual void setInputMode(RNNInputMode op) TRTNOEXCEPT = 0;
    /* 27 */ virtual RNNInputMode getInputMode() const TRTNOEXCEPT = 0;
    /* 28 */ virtual void setDirection(RNNDirection op) TRTNOEXCEPT = 0;
    /* 29 */ virtual RNNDirection getDirection() const TRTNOEXCEPT = 0;
    /* 30 */ virtual void setWeightsForGate(int layerIndex, RNNGateType gate, bool isW, Weights weights) TRTNOEXCEPT = 0;
    /* 31 */ virtual Weights getWeightsForGate(int layerIndex, RNNGateType gate, bool isW) const TRTNOEXCEPT = 0;
    /* 32 */ virtual void setBiasForGate(int layerIndex, RNNGateType gate, bool isW, Weights bias) TRTNOEXCEPT = 0;
    /* 33 */ virtual Weights getBiasForGate(int layerIndex, RNNGateType gate, bool isW) const TRTNOEXCEPT = 0;
    /* 34 */ virtual void setHiddenState(ITensor& hidden) TRTNOEXCEPT = 0;
    /* 35 */ virtual ITensor* getHiddenState() const TRTNOEXCEPT = 0;
    /* 36 */ virtual void setCellState(ITensor& cell) TRTNOEXCEPT = 0;
    /* 37 */ virtual ITensor* getCellState() const TRTNOEXCEPT = 0;

protected:
    virtual ~IRNNv2Layer() {}
};

/* Application-implemented output size rule (superseded by PaddingMode). */
class IOutputDimensionsFormula
{
public:
    /* 0 */ virtual DimsHW compute(DimsHW inputDims, DimsHW kernelSize, DimsHW stride, DimsHW padding,
        DimsHW dilation, const char* layerName) const TRTNOEXCEPT = 0;
    /* 1, 2 */
    virtual ~IOutputDimensionsFormula() {}
};

/* Layer wrapping an IPlugin / IPluginExt. */
class IPluginLayer : public ILayer
{
public:
    /* 18 */ virtual IPlugin& getPlugin() TRTNOEXCEPT = 0;

protected:
    virtual ~IPluginLayer() {}
};

/* Layer wrapping an IPluginV2. */
class IPluginV2Layer : public ILayer
{
public:
    /* 18 */ virtual IPluginV2& getPlugin() TRTNOEXCEPT = 0;

protected:
    virtual ~IPluginV2Layer() {}
};

/* Unary elementwise operations. */
enum class UnaryOperation : int
{
    kEXP = 0,
    kLOG = 1,
    kSQRT = 2,
    kRECIP = 3,
    kABS = 4,
    kNEG = 5,
    kSIN = 6,
    kCOS = 7,
    kTAN = 8,
    kSINH = 9,
    kCOSH = 10,
    kASIN = 11,
    kACOS = 12,
    kATAN = 13,
    kASINH = 14,
    kACOSH = 15,
    kATANH = 16,
    kCEIL = 17,
    kFLOOR = 18,
    kERF = 19, /* 7.0 */
    kNOT = 20  /* 7.0 */
};
template <>
constexpr inline int EnumMax<UnaryOperation>()
{
    return 21;
}

class IUnaryLayer : public ILayer
{
public:
    /* 18 */ virtual void setOperation(UnaryOperation op) TRTNOEXCEPT = 0;
    /* 19 */ virtual UnaryOperation getOperation() const TRTNOEXCEPT = 0;

protected:
    virtual ~IUnaryLayer() {}
};

/* Reductions. */
enum class ReduceOperation : int
{
    kSUM = 0,
    kPROD = 1,
    kMAX = 2,
    kMIN = 3,
    kAVG = 4
};
template <>
constexpr inline int EnumMax<ReduceOperation>()
{
    return 5;
}

class IReduceLayer : public ILayer
{
public:
    /* 18 */ virtual void setOperation(ReduceOperation op) TRTNOEXCEPT = 0;
    /* 19 */ virtual ReduceOperation getOperation() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setReduceAxes(uint32_t reduceAxes) TRTNOEXCEPT = 0;
    /* 21 */ virtual uint32_t getReduceAxes() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setKeepDimensions(bool keepDimensions) TRTNOEXCEPT = 0;
    /* 23 */ virtual bool getKeepDimensions() const TRTNOEXCEPT = 0;

protected:
    virtual ~IReduceLayer() {}
};

/* Zero padding (negative values crop) of the two innermost dimensions. */
class IPaddingLayer : public ILayer
{
public:
    /* 18 */ virtual void setPrePadding(DimsHW padding) TRTNOEXCEPT = 0;
    /* 19 */ virtual DimsHW getPrePadding() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setPostPadding(DimsHW padding) TRTNOEXCEPT = 0;
    /* 21 */ virtual DimsHW getPostPadding() const TRTNOEXCEPT = 0;

protected:
    virtual ~IPaddingLayer() {}

public:
    /* 7.0 */
    /* 22 */ virtual void setPrePaddingNd(Dims padding) TRTNOEXCEPT = 0;
    /* 23 */ virtual Dims getPrePaddingNd() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setPostPaddingNd(Dims padding) TRTNOEXCEPT = 0;
    /* 25 */ virtual Dims getPostPaddingNd() const TRTNOEXCEPT = 0;
};

/* Dimension permutation: output index = order[input index]. 32 bytes. */
struct Permutation
{
    int order[Dims::MAX_DIMS];
};

/* Transpose, reshape, transpose. */
class IShuffleLayer : public ILayer
{
public:
    /* 18 */ virtual void setFirstTranspose(Permutation permutation) TRTNOEXCEPT = 0;
    /* 19 */ virtual Permutation getFirstTranspose() const TRTNOEXCEPT = 0;
    /* 20: 0 copies the input dimension, -1 is inferred */
    virtual void setReshapeDimensions(Dims dimensions) TRTNOEXCEPT = 0;
    /* 21 */ virtual Dims getReshapeDimensions() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setSecondTranspose(Permutation permutation) TRTNOEXCEPT = 0;
    /* 23 */ virtual Permutation getSecondTranspose() const TRTNOEXCEPT = 0;

protected:
    virtual ~IShuffleLayer() {}

public:
    /* 7.x */
    /* 24 */ virtual void setZeroIsPlaceholder(bool zeroIsPlaceholder) TRTNOEXCEPT = 0;
    /* 25 */ virtual bool getZeroIsPlaceholder() const TRTNOEXCEPT = 0;
};

/* Out-of-bounds behaviour of ISliceLayer (6.0). */
enum class SliceMode : int
{
    kDEFAULT = 0,
    kWRAP = 1
};
template <>
constexpr inline int EnumMax<SliceMode>()
{
    return 2;
}

/* Strided slice. 6.0/7.x inserted set/getMode before the destructor; infer8 keeps the
 * 5.1 layout and appends them. */
class ISliceLayer : public ILayer
{
public:
    /* 18 */ virtual void setStart(Dims start) TRTNOEXCEPT = 0;
    /* 19 */ virtual Dims getStart() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setSize(Dims size) TRTNOEXCEPT = 0;
    /* 21 */ virtual Dims getSize() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setStride(Dims stride) TRTNOEXCEPT = 0;
    /* 23 */ virtual Dims getStride() const TRTNOEXCEPT = 0;

protected:
    /* 24, 25 */
    virtual ~ISliceLayer() {}

public:
    /* 6.0 (appended) */
    /* 26 */ virtual void setMode(SliceMode mode) TRTNOEXCEPT = 0;
    /* 27 */ virtual SliceMode getMode() const TRTNOEXCEPT = 0;
};

/* Shape of its input as a 1D INT32 tensor (6.0). */
class IShapeLayer : public ILayer
{
protected:
    virtual ~IShapeLayer() {}
};

enum class TopKOperation : int
{
    kMAX = 0,
    kMIN = 1
};
template <>
constexpr inline int EnumMax<TopKOperation>()
{
    return 2;
}

/* k largest or smallest values and their indices. */
class ITopKLayer : public ILayer
{
public:
    /* 18 */ virtual void setOperation(TopKOperation op) TRTNOEXCEPT = 0;
    /* 19 */ virtual TopKOperation getOperation() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setK(int k) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getK() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setReduceAxes(uint32_t reduceAxes) TRTNOEXCEPT = 0;
    /* 23 */ virtual uint32_t getReduceAxes() const TRTNOEXCEPT = 0;

protected:
    virtual ~ITopKLayer() {}
};

/* Treatment of a matrix multiply operand. */
enum class MatrixOperation : int
{
    kNONE = 0,
    kTRANSPOSE = 1,
    kVECTOR = 2
};
template <>
constexpr inline int EnumMax<MatrixOperation>()
{
    return 3;
}

class IMatrixMultiplyLayer : public ILayer
{
public:
    /* 18 */ virtual void setOperation(int index, MatrixOperation op) TRTNOEXCEPT = 0;
    /* 19 */ virtual MatrixOperation getOperation(int index) const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setTranspose(int index, bool val) TRTNOEXCEPT = 0;
    /* 21 */ virtual bool getTranspose(int index) const TRTNOEXCEPT = 0;

protected:
    virtual ~IMatrixMultiplyLayer() {}
};

class IRaggedSoftMaxLayer : public ILayer
{
protected:
    virtual ~IRaggedSoftMaxLayer() {}
};

class IIdentityLayer : public ILayer
{
protected:
    virtual ~IIdentityLayer() {}
};

/* Constant tensor from weights. */
class IConstantLayer : public ILayer
{
public:
    /* 18 */ virtual void setWeights(Weights weights) TRTNOEXCEPT = 0;
    /* 19 */ virtual Weights getWeights() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setDimensions(Dims dimensions) TRTNOEXCEPT = 0;
    /* 21 */ virtual Dims getDimensions() const TRTNOEXCEPT = 0;

protected:
    virtual ~IConstantLayer() {}
};

/* Leaky ReLU with a slope tensor (6.0). */
class IParametricReLULayer : public ILayer
{
protected:
    virtual ~IParametricReLULayer() {}
};

enum class ResizeMode : int
{
    kNEAREST = 0,
    kLINEAR = 1
};
template <>
constexpr inline int EnumMax<ResizeMode>()
{
    return 2;
}

/* Resize (6.0). */
class IResizeLayer : public ILayer
{
public:
    /* 18 */ virtual void setOutputDimensions(Dims dimensions) TRTNOEXCEPT = 0;
    /* 19 */ virtual Dims getOutputDimensions() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setScales(const float* scales, int nbScales) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getScales(int size, float* scales) const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setResizeMode(ResizeMode resizeMode) TRTNOEXCEPT = 0;
    /* 23 */ virtual ResizeMode getResizeMode() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setAlignCorners(bool alignCorners) TRTNOEXCEPT = 0;
    /* 25 */ virtual bool getAlignCorners() const TRTNOEXCEPT = 0;

protected:
    virtual ~IResizeLayer() {}
};

/* Loops (7.0). */
enum class LoopOutput : int
{
    kLAST_VALUE = 0,
    kCONCATENATE = 1,
    kREVERSE = 2
};
template <>
constexpr inline int EnumMax<LoopOutput>()
{
    return 3;
}

enum class TripLimit : int
{
    kCOUNT = 0,
    kWHILE = 1
};
template <>
constexpr inline int EnumMax<TripLimit>()
{
    return 2;
}

class ILoop;

class ILoopBoundaryLayer : public ILayer
{
public:
    /* 18 */ virtual ILoop* getLoop() const TRTNOEXCEPT = 0;
};

class IRecurrenceLayer : public ILoopBoundaryLayer
{
};

class ILoopOutputLayer : public ILoopBoundaryLayer
{
public:
    /* 19 */ virtual LoopOutput getLoopOutput() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setAxis(int axis) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getAxis() const TRTNOEXCEPT = 0;
};

class ITripLimitLayer : public ILoopBoundaryLayer
{
public:
    /* 19 */ virtual TripLimit getTripLimit() const TRTNOEXCEPT = 0;
};

class IIteratorLayer : public ILoopBoundaryLayer
{
public:
    /* 19 */ virtual void setAxis(int axis) TRTNOEXCEPT = 0;
    /* 20 */ virtual int getAxis() const TRTNOEXCEPT = 0;
    /* 21 */ virtual void setReverse(bool reverse) TRTNOEXCEPT = 0;
    /* 22 */ virtual bool getReverse() const TRTNOEXCEPT = 0;
};

/* A recurrent subgraph (7.0). */
class ILoop
{
public:
    /* 0 */ virtual IRecurrenceLayer* addRecurrence(ITensor& initialValue) TRTNOEXCEPT = 0;
    /* 1 */ virtual ITripLimitLayer* addTripLimit(ITensor& tensor, TripLimit limit) TRTNOEXCEPT = 0;
    /* 2 */ virtual IIteratorLayer* addIterator(ITensor& tensor, int axis = 0, bool reverse = false) TRTNOEXCEPT = 0;
    /* 3 */ virtual ILoopOutputLayer* addLoopOutput(ITensor& tensor, LoopOutput outputKind, int axis = 0) TRTNOEXCEPT = 0;
    /* 4 */ virtual void setName(const char* name) TRTNOEXCEPT = 0;
    /* 5 */ virtual const char* getName() const TRTNOEXCEPT = 0;

protected:
    /* 6, 7 */
    virtual ~ILoop() {}
};

/* Elementwise choice between two tensors (7.0). */
class ISelectLayer : public ILayer
{
protected:
    virtual ~ISelectLayer() {}
};

enum class FillOperation : int
{
    kLINSPACE = 0,
    kRANDOM_UNIFORM = 1
};
template <>
constexpr inline int EnumMax<FillOperation>()
{
    return 2;
}

/* Generated tensor (7.0). */
class IFillLayer : public ILayer
{
public:
    /* 18 */ virtual void setDimensions(Dims dimensions) TRTNOEXCEPT = 0;
    /* 19 */ virtual Dims getDimensions() const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setOperation(FillOperation op) TRTNOEXCEPT = 0;
    /* 21 */ virtual FillOperation getOperation() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setAlpha(double alpha) TRTNOEXCEPT = 0;
    /* 23 */ virtual double getAlpha() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void setBeta(double beta) TRTNOEXCEPT = 0;
    /* 25 */ virtual double getBeta() const TRTNOEXCEPT = 0;

protected:
    virtual ~IFillLayer() {}
};

/* A network under construction (library-implemented). */
class INetworkDefinition
{
public:
    /* 0 */ virtual ITensor* addInput(const char* name, DataType type, Dims dimensions) TRTNOEXCEPT = 0;
    /* 1 */ virtual void markOutput(ITensor& tensor) TRTNOEXCEPT = 0;
    /* 2 */ virtual IConvolutionLayer* addConvolution(ITensor& input, int nbOutputMaps, DimsHW kernelSize,
        Weights kernelWeights, Weights biasWeights) TRTNOEXCEPT = 0;
    /* 3 */ virtual IFullyConnectedLayer* addFullyConnected(ITensor& input, int nbOutputs, Weights kernelWeights,
        Weights biasWeights) TRTNOEXCEPT = 0;
    /* 4 */ virtual IActivationLayer* addActivation(ITensor& input, ActivationType type) TRTNOEXCEPT = 0;
    /* 5 */ virtual IPoolingLayer* addPooling(ITensor& input, PoolingType type, DimsHW windowSize) TRTNOEXCEPT = 0;
    /* 6 */ virtual ILRNLayer* addLRN(ITensor& input, int window, float alpha, float beta, float k) TRTNOEXCEPT = 0;
    /* 7 */ virtual IScaleLayer* addScale(ITensor& input, ScaleMode mode, Weights shift, Weights scale,
        Weights power) TRTNOEXCEPT = 0;
    /* 8 */ virtual ISoftMaxLayer* addSoftMax(ITensor& input) TRTNOEXCEPT = 0;
    /* 9 */ virtual IConcatenationLayer* addConcatenation(ITensor* const* inputs, int nbInputs) TRTNOEXCEPT = 0;
    /* 10 */ virtual IDeconvolutionLayer* addDeconvolution(ITensor& input, int nbOutputMaps, DimsHW kernelSize,
        Weights kernelWeights, Weights biasWeights) TRTNOEXCEPT = 0;
    /* 11 */ virtual IElementWiseLayer* addElementWise(ITensor& input1, ITensor& input2, ElementWiseOperation op) TRTNOEXCEPT = 0;
    /* 12 */ virtual IRNNLayer* addRNN(ITensor& inputs, int layerCount, std::size_t hiddenSize, int maxSeqLen,
        RNNOperation op, RNNInputMode mode, RNNDirection dir, Weights weights, Weights bias) TRTNOEXCEPT = 0;
    /* 13 */ virtual IPluginLayer* addPlugin(ITensor* const* inputs, int nbInputs, IPlugin& plugin) TRTNOEXCEPT = 0;
    /* 14 */ virtual IUnaryLayer* addUnary(ITensor& input, UnaryOperation operation) TRTNOEXCEPT = 0;
    /* 15 */ virtual IPaddingLayer* addPadding(ITensor& input, DimsHW prePadding, DimsHW postPadding) TRTNOEXCEPT = 0;
    /* 16 */ virtual IShuffleLayer* addShuffle(ITensor& input) TRTNOEXCEPT = 0;
    /* 17 */ virtual void setPoolingOutputDimensionsFormula(IOutputDimensionsFormula* formula) TRTNOEXCEPT = 0;
    /* 18 */ virtual IOutputDimensionsFormula& getPoolingOutputDimensionsFormula() const TRTNOEXCEPT = 0;
    /* 19 */ virtual void setConvolutionOutputDimensionsFormula(IOutputDimensionsFormula* formula) TRTNOEXCEPT = 0;
    /* 20 */ virtual IOutputDimensionsFormula& getConvolutionOutputDimensionsFormula() const TRTNOEXCEPT = 0;
    /* 21 */ virtual void setDeconvolutionOutputDimensionsFormula(IOutputDimensionsFormula* formula) TRTNOEXCEPT = 0;
    /* 22 */ virtual IOutputDimensionsFormula& getDeconvolutionOutputDimensionsFormula() const TRTNOEXCEPT = 0;
    /* 23 */ virtual int getNbLayers() const TRTNOEXCEPT = 0;
    /* 24 */ virtual ILayer* getLayer(int index) const TRTNOEXCEPT = 0;
    /* 25 */ virtual int getNbInputs() const TRTNOEXCEPT = 0;
    /* 26 */ virtual ITensor* getInput(int index) const TRTNOEXCEPT = 0;
    /* 27 */ virtual int getNbOutputs() const TRTNOEXCEPT = 0;
    /* 28 */ virtual ITensor* getOutput(int index) const TRTNOEXCEPT = 0;
    /* 29 */ virtual void destroy() TRTNOEXCEPT = 0;

protected:
    /* 30, 31 */
    virtual ~INetworkDefinition() {}

public:
    /* 32 */ virtual IReduceLayer* addReduce(ITensor& input, ReduceOperation operation, uint32_t reduceAxes,
        bool keepDimensions) TRTNOEXCEPT = 0;
    /* 33 */ virtual ITopKLayer* addTopK(ITensor& input, TopKOperation op, int k, uint32_t reduceAxes) TRTNOEXCEPT = 0;
    /* 34 */ virtual IGatherLayer* addGather(ITensor& data, ITensor& indices, int axis) TRTNOEXCEPT = 0;
    /* 35 */ virtual IRaggedSoftMaxLayer* addRaggedSoftMax(ITensor& input, ITensor& bounds) TRTNOEXCEPT = 0;
    /* 36 */ virtual IMatrixMultiplyLayer* addMatrixMultiply(ITensor& input0, MatrixOperation op0, ITensor& input1,
        MatrixOperation op1) TRTNOEXCEPT = 0;
    /* 37 */ virtual IMatrixMultiplyLayer* addMatrixMultiply(ITensor& input0, bool transpose0, ITensor& input1,
        bool transpose1) TRTNOEXCEPT = 0;
    /* 38 */ virtual IConstantLayer* addConstant(Dims dimensions, Weights weights) TRTNOEXCEPT = 0;
    /* 39 */ virtual IRNNv2Layer* addRNNv2(ITensor& input, int32_t layerCount, int32_t hiddenSize, int32_t maxSeqLen,
        RNNOperation op) TRTNOEXCEPT = 0;
    /* 40 */ virtual IPluginLayer* addPluginExt(ITensor* const* inputs, int nbInputs, IPluginExt& plugin) TRTNOEXCEPT = 0;
    /* 41 */ virtual IIdentityLayer* addIdentity(ITensor& input) TRTNOEXCEPT = 0;
    /* 42 */ virtual void removeTensor(ITensor& tensor) TRTNOEXCEPT = 0;
    /* 43 */ virtual void unmarkOutput(ITensor& tensor) TRTNOEXCEPT = 0;
    /* 44 */ virtual IPluginV2Layer* addPluginV2(ITensor* const* inputs, int nbInputs, IPluginV2& plugin) TRTNOEXCEPT = 0;
    /* 45 */ virtual ISliceLayer* addSlice(ITensor& input, Dims start, Dims size, Dims stride) TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 46 */ virtual void setName(const char* name) TRTNOEXCEPT = 0;
    /* 47 */ virtual const char* getName() const TRTNOEXCEPT = 0;
    /* 48 */ virtual IShapeLayer* addShape(ITensor& input) TRTNOEXCEPT = 0;
    /* 49 */ virtual bool hasImplicitBatchDimension() const TRTNOEXCEPT = 0;
    /* 50 */ virtual bool markOutputForShapes(ITensor& tensor) TRTNOEXCEPT = 0;
    /* 51 */ virtual bool unmarkOutputForShapes(ITensor& tensor) TRTNOEXCEPT = 0;
    /* 52 */ virtual IParametricReLULayer* addParametricReLU(ITensor& input, ITensor& slope) TRTNOEXCEPT = 0;
    /* 53 */ virtual IConvolutionLayer* addConvolutionNd(ITensor& input, int nbOutputMaps, Dims kernelSize,
        Weights kernelWeights, Weights biasWeights) TRTNOEXCEPT = 0;
    /* 54 */ virtual IPoolingLayer* addPoolingNd(ITensor& input, PoolingType type, Dims windowSize) TRTNOEXCEPT = 0;
    /* 55 */ virtual IDeconvolutionLayer* addDeconvolutionNd(ITensor& input, int nbOutputMaps, Dims kernelSize,
        Weights kernelWeights, Weights biasWeights) TRTNOEXCEPT = 0;
    /* 56 */ virtual IScaleLayer* addScaleNd(ITensor& input, ScaleMode mode, Weights shift, Weights scale,
        Weights power, int channelAxis) TRTNOEXCEPT = 0;
    /* 57 */ virtual IResizeLayer* addResize(ITensor& input) TRTNOEXCEPT = 0;
    /* 58 */ virtual bool hasExplicitPrecision() const TRTNOEXCEPT = 0;
    /* 7.0 */
    /* 59 */ virtual ILoop* addLoop() TRTNOEXCEPT = 0;
    /* 60 */ virtual ISelectLayer* addSelect(ITensor& condition, ITensor& thenInput, ITensor& elseInput) TRTNOEXCEPT = 0;
    /* 61 */ virtual IFillLayer* addFill(Dims dimensions, FillOperation op) TRTNOEXCEPT = 0;
    /* 62 */ virtual IPaddingLayer* addPaddingNd(ITensor& input, Dims prePadding, Dims postPadding) TRTNOEXCEPT = 0;
};

/* INT8 calibration algorithm; its value is also the first token of legacy caches. */
enum class CalibrationAlgoType : int
{
    kLEGACY_CALIBRATION = 0,
    kENTROPY_CALIBRATION = 1,
    kENTROPY_CALIBRATION_2 = 2,
    kMINMAX_CALIBRATION = 3 /* 6.0 */
};
template <>
constexpr inline int EnumMax<CalibrationAlgoType>()
{
    return 4;
}

/* Application-implemented INT8 calibrator. The library calls slot 4 to learn the algorithm. */
class IInt8Calibrator
{
public:
    /* 0 */ virtual int getBatchSize() const TRTNOEXCEPT = 0;
    /* 1: fill bindings[i] (device pointers) for the inputs named names[i]; false = no more batches */
    virtual bool getBatch(void* bindings[], const char* names[], int nbBindings) TRTNOEXCEPT = 0;
    /* 2: nullptr / length 0 when there is no cache */
    virtual const void* readCalibrationCache(std::size_t& length) TRTNOEXCEPT = 0;
    /* 3 */ virtual void writeCalibrationCache(const void* ptr, std::size_t length) TRTNOEXCEPT = 0;
    /* 4 */ virtual CalibrationAlgoType getAlgorithm() TRTNOEXCEPT = 0;
    /* 5, 6 */
    virtual ~IInt8Calibrator() {}
};

/* Entropy calibration, first version. */
class IInt8EntropyCalibrator : public IInt8Calibrator
{
public:
    CalibrationAlgoType getAlgorithm() TRTNOEXCEPT _TENSORRT_OVERRIDE { return CalibrationAlgoType::kENTROPY_CALIBRATION; }
    virtual ~IInt8EntropyCalibrator() {}
};

/* Entropy calibration, second version (per-tensor ranges). */
class IInt8EntropyCalibrator2 : public IInt8Calibrator
{
public:
    CalibrationAlgoType getAlgorithm() TRTNOEXCEPT _TENSORRT_OVERRIDE { return CalibrationAlgoType::kENTROPY_CALIBRATION_2; }
    virtual ~IInt8EntropyCalibrator2() {}
};

/* Min-max calibration (6.0). */
class IInt8MinMaxCalibrator : public IInt8Calibrator
{
public:
    CalibrationAlgoType getAlgorithm() TRTNOEXCEPT _TENSORRT_OVERRIDE { return CalibrationAlgoType::kMINMAX_CALIBRATION; }
    virtual ~IInt8MinMaxCalibrator() {}
};

/* Quantile / regression-cutoff calibration. Slots 7..10 after IInt8Calibrator. */
class IInt8LegacyCalibrator : public IInt8Calibrator
{
public:
    CalibrationAlgoType getAlgorithm() TRTNOEXCEPT _TENSORRT_OVERRIDE { return CalibrationAlgoType::kLEGACY_CALIBRATION; }
    /* 7 */ virtual double getQuantile() const TRTNOEXCEPT = 0;
    /* 8 */ virtual double getRegressionCutoff() const TRTNOEXCEPT = 0;
    /* 9 */ virtual const void* readHistogramCache(std::size_t& length) TRTNOEXCEPT = 0;
    /* 10 */ virtual void writeHistogramCache(const void* ptr, std::size_t length) TRTNOEXCEPT = 0;
    virtual ~IInt8LegacyCalibrator() {}
};

/* Builder options as a bit set: 1U << BuilderFlag (6.0). */
typedef uint32_t BuilderFlags;

enum class BuilderFlag : int
{
    kFP16 = 0,
    kINT8 = 1,
    kDEBUG = 2,
    kGPU_FALLBACK = 3,
    kSTRICT_TYPES = 4,
    kREFIT = 5,
    kDISABLE_TIMING_CACHE = 6, /* 7.1 */
    kTF32 = 7                  /* 7.1 */
};
template <>
constexpr inline int EnumMax<BuilderFlag>()
{
    return 8;
}

/* Build configuration (6.0). */
class IBuilderConfig
{
public:
    /* 0 */ virtual void setMinTimingIterations(int minTiming) TRTNOEXCEPT = 0;
    /* 1 */ virtual int getMinTimingIterations() const TRTNOEXCEPT = 0;
    /* 2 */ virtual void setAvgTimingIterations(int avgTiming) TRTNOEXCEPT = 0;
    /* 3 */ virtual int getAvgTimingIterations() const TRTNOEXCEPT = 0;
    /* 4 */ virtual void setEngineCapability(EngineCapability capability) TRTNOEXCEPT = 0;
    /* 5 */ virtual EngineCapability getEngineCapability() const TRTNOEXCEPT = 0;
    /* 6 */ virtual void setInt8Calibrator(IInt8Calibrator* calibrator) TRTNOEXCEPT = 0;
    /* 7 */ virtual IInt8Calibrator* getInt8Calibrator() const TRTNOEXCEPT = 0;
    /* 8 */ virtual void setMaxWorkspaceSize(std::size_t workspaceSize) TRTNOEXCEPT = 0;
    /* 9 */ virtual std::size_t getMaxWorkspaceSize() const TRTNOEXCEPT = 0;
    /* 10 */ virtual void setFlags(BuilderFlags builderFlags) TRTNOEXCEPT = 0;
    /* 11 */ virtual BuilderFlags getFlags() const TRTNOEXCEPT = 0;
    /* 12 */ virtual void clearFlag(BuilderFlag builderFlag) TRTNOEXCEPT = 0;
    /* 13 */ virtual void setFlag(BuilderFlag builderFlag) TRTNOEXCEPT = 0;
    /* 14 */ virtual bool getFlag(BuilderFlag builderFlag) const TRTNOEXCEPT = 0;
    /* 15 */ virtual void setDeviceType(const ILayer* layer, DeviceType deviceType) TRTNOEXCEPT = 0;
    /* 16 */ virtual DeviceType getDeviceType(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 17 */ virtual bool isDeviceTypeSet(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 18 */ virtual void resetDeviceType(const ILayer* layer) TRTNOEXCEPT = 0;
    /* 19 */ virtual bool canRunOnDLA(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 20 */ virtual void setDLACore(int dlaCore) TRTNOEXCEPT = 0;
    /* 21 */ virtual int getDLACore() const TRTNOEXCEPT = 0;
    /* 22 */ virtual void setDefaultDeviceType(DeviceType deviceType) TRTNOEXCEPT = 0;
    /* 23 */ virtual DeviceType getDefaultDeviceType() const TRTNOEXCEPT = 0;
    /* 24 */ virtual void reset() TRTNOEXCEPT = 0;
    /* 25 */ virtual void destroy() TRTNOEXCEPT = 0;
    /* 26 */ virtual void setProfileStream(const cudaStream_t stream) TRTNOEXCEPT = 0;
    /* 27 */ virtual cudaStream_t getProfileStream() const TRTNOEXCEPT = 0;
    /* 28 */ virtual int addOptimizationProfile(const IOptimizationProfile* profile) TRTNOEXCEPT = 0;
    /* 29 */ virtual int getNbOptimizationProfiles() const TRTNOEXCEPT = 0;

protected:
    /* 30, 31 */
    virtual ~IBuilderConfig() {}
};

/* Network creation options as a bit set: 1U << NetworkDefinitionCreationFlag (6.0). */
typedef uint32_t NetworkDefinitionCreationFlags;

enum class NetworkDefinitionCreationFlag : int
{
    kEXPLICIT_BATCH = 0,
    kEXPLICIT_PRECISION = 1
};
template <>
constexpr inline int EnumMax<NetworkDefinitionCreationFlag>()
{
    return 2;
}

/* Builds engines from network definitions. */
class IBuilder
{
public:
    /* 0 */ virtual INetworkDefinition* createNetwork() TRTNOEXCEPT = 0;
    /* 1 */ virtual void setMaxBatchSize(int batchSize) TRTNOEXCEPT = 0;
    /* 2 */ virtual int getMaxBatchSize() const TRTNOEXCEPT = 0;
    /* 3 */ virtual void setMaxWorkspaceSize(std::size_t workspaceSize) TRTNOEXCEPT = 0;
    /* 4 */ virtual std::size_t getMaxWorkspaceSize() const TRTNOEXCEPT = 0;
    /* 5: superseded by setFp16Mode */
    virtual void setHalf2Mode(bool mode) TRTNOEXCEPT = 0;
    /* 6 */ virtual bool getHalf2Mode() const TRTNOEXCEPT = 0;
    /* 7 */ virtual void setDebugSync(bool sync) TRTNOEXCEPT = 0;
    /* 8 */ virtual bool getDebugSync() const TRTNOEXCEPT = 0;
    /* 9 */ virtual void setMinFindIterations(int minFind) TRTNOEXCEPT = 0;
    /* 10 */ virtual int getMinFindIterations() const TRTNOEXCEPT = 0;
    /* 11 */ virtual void setAverageFindIterations(int avgFind) TRTNOEXCEPT = 0;
    /* 12 */ virtual int getAverageFindIterations() const TRTNOEXCEPT = 0;
    /* 13 */ virtual ICudaEngine* buildCudaEngine(INetworkDefinition& network) TRTNOEXCEPT = 0;
    /* 14 */ virtual bool platformHasFastFp16() const TRTNOEXCEPT = 0;
    /* 15 */ virtual bool platformHasFastInt8() const TRTNOEXCEPT = 0;
    /* 16 */ virtual void destroy() TRTNOEXCEPT = 0;
    /* 17 */ virtual void setInt8Mode(bool mode) TRTNOEXCEPT = 0;
    /* 18 */ virtual bool getInt8Mode() const TRTNOEXCEPT = 0;
    /* 19 */ virtual void setInt8Calibrator(IInt8Calibrator* calibrator) TRTNOEXCEPT = 0;
    /* 20 */ virtual void setDeviceType(ILayer* layer, DeviceType deviceType) TRTNOEXCEPT = 0;
    /* 21 */ virtual DeviceType getDeviceType(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 22 */ virtual bool isDeviceTypeSet(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 23 */ virtual void resetDeviceType(ILayer* layer) TRTNOEXCEPT = 0;
    /* 24 */ virtual bool canRunOnDLA(const ILayer* layer) const TRTNOEXCEPT = 0;
    /* 25 */ virtual void setDefaultDeviceType(DeviceType deviceType) TRTNOEXCEPT = 0;
    /* 26 */ virtual DeviceType getDefaultDeviceType() const TRTNOEXCEPT = 0;
    /* 27 */ virtual int getMaxDLABatchSize() const TRTNOEXCEPT = 0;
    /* 28 */ virtual void allowGPUFallback(bool setFallBackMode) TRTNOEXCEPT = 0;
    /* 29 */ virtual int getNbDLACores() const TRTNOEXCEPT = 0;
    /* 30 */ virtual void setDLACore(int dlaCore) TRTNOEXCEPT = 0;
    /* 31 */ virtual int getDLACore() const TRTNOEXCEPT = 0;
    /* 32 */ virtual void reset(INetworkDefinition& network) TRTNOEXCEPT = 0;

protected:
    /* 33, 34 */
    virtual ~IBuilder() {}

public:
    /* 35 */ virtual void setGpuAllocator(IGpuAllocator* allocator) TRTNOEXCEPT = 0;
    /* 36 */ virtual void setFp16Mode(bool mode) TRTNOEXCEPT = 0;
    /* 37 */ virtual bool getFp16Mode() const TRTNOEXCEPT = 0;
    /* 38 */ virtual void setStrictTypeConstraints(bool mode) TRTNOEXCEPT = 0;
    /* 39 */ virtual bool getStrictTypeConstraints() const TRTNOEXCEPT = 0;
    /* 40 */ virtual void setRefittable(bool canRefit) TRTNOEXCEPT = 0;
    /* 41 */ virtual bool getRefittable() const TRTNOEXCEPT = 0;
    /* 42 */ virtual void setEngineCapability(EngineCapability capability) TRTNOEXCEPT = 0;
    /* 43 */ virtual EngineCapability getEngineCapability() const TRTNOEXCEPT = 0;
    /* 6.0 */
    /* 44 */ virtual IBuilderConfig* createBuilderConfig() TRTNOEXCEPT = 0;
    /* 45 */ virtual ICudaEngine* buildEngineWithConfig(INetworkDefinition& network, IBuilderConfig& config) TRTNOEXCEPT = 0;
    /* 46 */ virtual INetworkDefinition* createNetworkV2(NetworkDefinitionCreationFlags flags) TRTNOEXCEPT = 0;
    /* 47 */ virtual IOptimizationProfile* createOptimizationProfile() TRTNOEXCEPT = 0;
    /* 48 */ virtual void setErrorRecorder(IErrorRecorder* recorder) TRTNOEXCEPT = 0;
    /* 49 */ virtual IErrorRecorder* getErrorRecorder() const TRTNOEXCEPT = 0;
    /* 50 */ virtual void reset() TRTNOEXCEPT = 0;
};

} // namespace nvinfer1

/* Library entry point behind createInferBuilder(); `logger` is an ILogger*, `version` the
 * caller's NV_TENSORRT_VERSION. Returns an IBuilder* or nullptr. */
extern "C" TENSORRTAPI void* createInferBuilder_INTERNAL(void* logger, int version);

namespace nvinfer1
{
namespace // internal linkage: each translation unit passes its own header version
{

inline IBuilder* createInferBuilder(ILogger& logger)
{
    return static_cast<IBuilder*>(createInferBuilder_INTERNAL(&logger, NV_TENSORRT_VERSION));
}

} // namespace
} // namespace nvinfer1

#endif // NV_INFER_H
