// Compile check: every infer8 header together, with strict warnings (see CMakeLists.txt).
#include "NvCaffeParser.h"
#include "NvInfer.h"
#include "NvInferPlugin.h"
#include "NvInferRuntime.h"
#include "NvInferRuntimeCommon.h"
#include "NvInferVersion.h"
#include "NvOnnxParser.h"

static_assert(NV_TENSORRT_MAJOR == 5 && NV_TENSORRT_MINOR == 1 && NV_TENSORRT_PATCH == 5, "version macros");
static_assert(sizeof(nvinfer1::Dims) == 68, "Dims layout");
static_assert(sizeof(nvinfer1::Weights) == 24, "Weights layout");

// A 5.1-style user logger and calibrator must compile without noexcept.
class Logger : public nvinfer1::ILogger
{
public:
    void log(Severity severity, const char* msg) override
    {
        (void) severity;
        (void) msg;
    }
};

class Calibrator : public nvinfer1::IInt8EntropyCalibrator2
{
public:
    int getBatchSize() const override { return 1; }
    bool getBatch(void* bindings[], const char* names[], int nbBindings) override
    {
        (void) bindings;
        (void) names;
        (void) nbBindings;
        return false;
    }
    const void* readCalibrationCache(std::size_t& length) override
    {
        length = 0;
        return nullptr;
    }
    void writeCalibrationCache(const void* ptr, std::size_t length) override
    {
        (void) ptr;
        (void) length;
    }
};

int main()
{
    Logger logger;
    Calibrator calibrator;
    return (calibrator.getAlgorithm() == nvinfer1::CalibrationAlgoType::kENTROPY_CALIBRATION_2
               && NV_TENSORRT_VERSION == 5105)
        ? 0
        : 1;
}
