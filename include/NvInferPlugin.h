/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvInferPlugin.h: the plugin library entry point (libnvinfer_plugin.so.5, a name of libinfer8).
 */
#ifndef NV_INFER_PLUGIN_H
#define NV_INFER_PLUGIN_H

#include "NvInfer.h"

extern "C" {
/* Register the library's plugin creators in the plugin registry under `libNamespace`
 * ("" for the default namespace). `logger` is an nvinfer1::ILogger*. Returns true on success. */
TENSORRTAPI bool initLibNvInferPlugins(void* logger, const char* libNamespace);
}

#endif // NV_INFER_PLUGIN_H
