/*
 * infer8 -- open implementation of the TensorRT legacy C++ inference API.
 *
 * NvInferVersion.h: version of the API generation presented by infer8.
 * infer8 presents the TensorRT 5.1 interface generation (5.1.5), extended with
 * the interfaces and methods that TensorRT 6.0/7.x appended to it.
 */
#ifndef NV_INFER_VERSION_H
#define NV_INFER_VERSION_H

#define NV_TENSORRT_MAJOR 5 /* API generation: major */
#define NV_TENSORRT_MINOR 1 /* API generation: minor */
#define NV_TENSORRT_PATCH 5 /* API generation: patch */
#define NV_TENSORRT_BUILD 0 /* build number */

#define NV_TENSORRT_SONAME_MAJOR 5 /* shared object: libnvinfer.so.5 */
#define NV_TENSORRT_SONAME_MINOR 1
#define NV_TENSORRT_SONAME_PATCH 5

#endif /* NV_INFER_VERSION_H */
