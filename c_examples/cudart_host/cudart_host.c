/*
 * infer8 host CUDA runtime (libcudart.so for machines without CUDA).
 *
 * "Device" memory is 64-byte aligned host memory, copies and memsets run at call time,
 * streams are therefore always idle, and events record the host monotonic clock when
 * they are recorded. Null or unknown arguments return an error code; nothing crashes.
 */
#define _POSIX_C_SOURCE 200809L

#include "cuda_runtime_api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STREAM_MAGIC 0x31534838u /* "8HS1" */
#define EVENT_MAGIC 0x31454838u  /* "8HE1" */
#define ALIGNMENT 64

struct CUstream_st
{
    unsigned int magic;
    unsigned int flags;
};

struct CUevent_st
{
    unsigned int magic;
    unsigned int flags;
    int recorded;
    double ms; /* CLOCK_MONOTONIC at record time, in milliseconds */
};

static _Thread_local cudaError_t g_last_error = cudaSuccess;
static _Thread_local int g_device = 0;

static cudaError_t set_error(cudaError_t e)
{
    if (e != cudaSuccess)
        g_last_error = e;
    return e;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1.0e6;
}

/* The legacy default stream (0) and the per-thread stream handles (1, 2) are valid. */
static int stream_ok(cudaStream_t s)
{
    if ((uintptr_t) s <= 2)
        return 1;
    return s->magic == STREAM_MAGIC;
}

static int event_ok(cudaEvent_t e)
{
    return e != NULL && e->magic == EVENT_MAGIC;
}

static cudaError_t aligned_alloc64(void** p, size_t size)
{
    if (p == NULL)
        return set_error(cudaErrorInvalidValue);
    *p = NULL;
    if (size == 0)
        return cudaSuccess;
    void* mem = NULL;
    if (posix_memalign(&mem, ALIGNMENT, size) != 0 || mem == NULL)
        return set_error(cudaErrorMemoryAllocation);
    *p = mem;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void** devPtr, size_t size)
{
    return aligned_alloc64(devPtr, size);
}

cudaError_t cudaFree(void* devPtr)
{
    free(devPtr);
    return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t size)
{
    return aligned_alloc64(ptr, size);
}

cudaError_t cudaHostAlloc(void** pHost, size_t size, unsigned int flags)
{
    if (flags & ~(unsigned int) (cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined))
        return set_error(cudaErrorInvalidValue);
    return aligned_alloc64(pHost, size);
}

cudaError_t cudaFreeHost(void* ptr)
{
    free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind)
{
    if ((int) kind < (int) cudaMemcpyHostToHost || (int) kind > (int) cudaMemcpyDefault)
        return set_error(cudaErrorInvalidMemcpyDirection);
    if (count == 0)
        return cudaSuccess;
    if (dst == NULL || src == NULL)
        return set_error(cudaErrorInvalidValue);
    memmove(dst, src, count);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
{
    if (!stream_ok(stream))
        return set_error(cudaErrorInvalidResourceHandle);
    return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count)
{
    if (count == 0)
        return cudaSuccess;
    if (devPtr == NULL)
        return set_error(cudaErrorInvalidValue);
    memset(devPtr, value, count);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream)
{
    if (!stream_ok(stream))
        return set_error(cudaErrorInvalidResourceHandle);
    return cudaMemset(devPtr, value, count);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags)
{
    if (pStream == NULL || (flags & ~(unsigned int) cudaStreamNonBlocking))
        return set_error(cudaErrorInvalidValue);
    struct CUstream_st* s = (struct CUstream_st*) calloc(1, sizeof(*s));
    if (s == NULL)
        return set_error(cudaErrorMemoryAllocation);
    s->magic = STREAM_MAGIC;
    s->flags = flags;
    *pStream = s;
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* pStream)
{
    return cudaStreamCreateWithFlags(pStream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    if ((uintptr_t) stream <= 2 || stream->magic != STREAM_MAGIC)
        return set_error(cudaErrorInvalidResourceHandle);
    stream->magic = 0;
    free(stream);
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    return stream_ok(stream) ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaStreamQuery(cudaStream_t stream)
{
    return stream_ok(stream) ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags)
{
    if (event == NULL
        || (flags & ~(unsigned int) (cudaEventBlockingSync | cudaEventDisableTiming)))
        return set_error(cudaErrorInvalidValue);
    struct CUevent_st* e = (struct CUevent_st*) calloc(1, sizeof(*e));
    if (e == NULL)
        return set_error(cudaErrorMemoryAllocation);
    e->magic = EVENT_MAGIC;
    e->flags = flags;
    *event = e;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event)
{
    return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    if (!event_ok(event) || !stream_ok(stream))
        return set_error(cudaErrorInvalidResourceHandle);
    /* all work submitted to the stream has already completed */
    event->ms = now_ms();
    event->recorded = 1;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event)
{
    return event_ok(event) ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventQuery(cudaEvent_t event)
{
    return event_ok(event) ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end)
{
    if (ms == NULL)
        return set_error(cudaErrorInvalidValue);
    if (!event_ok(start) || !event_ok(end))
        return set_error(cudaErrorInvalidResourceHandle);
    if ((start->flags & cudaEventDisableTiming) || (end->flags & cudaEventDisableTiming))
        return set_error(cudaErrorInvalidResourceHandle);
    if (!start->recorded || !end->recorded)
        return set_error(cudaErrorInvalidResourceHandle);
    *ms = (float) (end->ms - start->ms);
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event)
{
    if (!event_ok(event))
        return set_error(cudaErrorInvalidResourceHandle);
    event->magic = 0;
    free(event);
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    return cudaSuccess;
}

cudaError_t cudaDeviceReset(void)
{
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count)
{
    if (count == NULL)
        return set_error(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device)
{
    if (device != 0)
        return set_error(cudaErrorInvalidDevice);
    g_device = device;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device)
{
    if (device == NULL)
        return set_error(cudaErrorInvalidValue);
    *device = g_device;
    return cudaSuccess;
}

static size_t host_memory_bytes(void)
{
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        return (size_t) pages * (size_t) page;
#endif
    return (size_t) 0;
}

static int host_cpu_count(void)
{
#if defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 0)
        return (int) n;
#endif
    return 1;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device)
{
    if (prop == NULL)
        return set_error(cudaErrorInvalidValue);
    if (device != 0)
        return set_error(cudaErrorInvalidDevice);
    memset(prop, 0, sizeof(*prop));
    strncpy(prop->name, "infer8 host (no CUDA)", sizeof(prop->name) - 1);
    prop->totalGlobalMem = host_memory_bytes();
    prop->sharedMemPerBlock = 48 * 1024;
    prop->regsPerBlock = 65536;
    prop->warpSize = 32;
    prop->memPitch = (size_t) 1 << 31;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = 1024;
    prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 2147483647;
    prop->maxGridSize[1] = 65535;
    prop->maxGridSize[2] = 65535;
    prop->clockRate = 1000000;
    prop->totalConstMem = 64 * 1024;
    prop->major = 0;
    prop->minor = 0;
    prop->textureAlignment = 512;
    prop->multiProcessorCount = host_cpu_count();
    prop->integrated = 1;
    prop->canMapHostMemory = 1;
    prop->unifiedAddressing = 1;
    prop->memoryClockRate = 1000000;
    prop->memoryBusWidth = 64;
    prop->l2CacheSize = 1024 * 1024;
    prop->maxThreadsPerMultiProcessor = 1024;
    prop->managedMemory = 1;
    return cudaSuccess;
}

const char* cudaGetErrorName(cudaError_t error)
{
    switch (error)
    {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
    }
    return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error)
{
    switch (error)
    {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
    }
    return "unrecognized error code";
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = g_last_error;
    g_last_error = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void)
{
    return g_last_error;
}

cudaError_t cudaDriverGetVersion(int* driverVersion)
{
    if (driverVersion == NULL)
        return set_error(cudaErrorInvalidValue);
    *driverVersion = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* runtimeVersion)
{
    if (runtimeVersion == NULL)
        return set_error(cudaErrorInvalidValue);
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}
