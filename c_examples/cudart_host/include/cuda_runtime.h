/* infer8 host CUDA runtime: cuda_runtime.h includes the runtime API (no kernel language support). */
#ifndef INFER8_CUDART_HOST_CUDA_RUNTIME_H
#define INFER8_CUDART_HOST_CUDA_RUNTIME_H
#include "cuda_runtime_api.h"
#endif
