/* c_lenet: LeNet on MNIST through infer8's C API (infer8.h), in plain C99.
 *
 *   c_lenet <lenet.wts> <t10k-images-idx3-ubyte> <t10k-labels-idx1-ubyte>
 *
 * Builds conv(20, 5x5) -> max pool 2/2 -> conv(50, 5x5) -> max pool 2/2 -> fc(500) -> relu -> fc(10)
 * -> softmax by hand with the weights of a .wts file (sampleMNISTAPI's text format, written by
 * export_wts from BVLC's trained LeNet), runs the first 100 test images (pixels / 255), serializes the
 * engine, deserializes it and runs them again. Fails unless top-1 >= 97/100 and both runs are
 * bit-identical.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer8.h"

#define BATCH 100
#define NB_BLOBS_MAX 16
#define PIXELS (28 * 28)
#define CLASSES 10

typedef struct {
    char name[64];
    int64_t count;
    float *values;
} blob;

typedef struct {
    blob blobs[NB_BLOBS_MAX];
    int nb;
} weights;

static void log_message(void *user, int32_t severity, const char *msg) {
    (void)user;
    if (severity <= INFER8_SEVERITY_WARNING) {
        fprintf(stderr, "c_lenet [%d]: %s\n", (int)severity, msg);
    }
}

static int fail(const char *what) {
    const char *err = infer8_last_error();
    fprintf(stderr, "c_lenet: %s failed: %s\n", what, err ? err : "(no message)");
    return 1;
}

/* .wts: the number of blobs, then per blob "name type count" and count hex IEEE-754 bit patterns. */
static int read_wts(const char *path, weights *w) {
    FILE *f = fopen(path, "r");
    int nb = 0;
    if (!f) {
        perror(path);
        return 1;
    }
    if (fscanf(f, "%d", &nb) != 1 || nb < 0 || nb > NB_BLOBS_MAX) {
        fprintf(stderr, "%s: bad blob count\n", path);
        fclose(f);
        return 1;
    }
    for (w->nb = 0; w->nb < nb; w->nb++) {
        blob *b = &w->blobs[w->nb];
        int type = -1;
        long long count = 0;
        int64_t i;
        if (fscanf(f, "%63s %d %lld", b->name, &type, &count) != 3 || type != INFER8_DATA_TYPE_FLOAT || count <= 0) {
            fprintf(stderr, "%s: bad header for blob %d\n", path, w->nb);
            fclose(f);
            return 1;
        }
        b->count = count;
        b->values = malloc((size_t)count * sizeof(float));
        if (!b->values) {
            fclose(f);
            return 1;
        }
        for (i = 0; i < b->count; i++) {
            unsigned long bits = 0;
            uint32_t u;
            if (fscanf(f, "%lx", &bits) != 1) {
                fprintf(stderr, "%s: blob %s is truncated\n", path, b->name);
                fclose(f);
                return 1;
            }
            u = (uint32_t)bits;
            memcpy(&b->values[i], &u, sizeof u);
        }
    }
    fclose(f);
    return 0;
}

static const blob *find_blob(const weights *w, const char *name) {
    int i;
    for (i = 0; i < w->nb; i++) {
        if (strcmp(w->blobs[i].name, name) == 0) {
            return &w->blobs[i];
        }
    }
    fprintf(stderr, "c_lenet: the weights file has no blob '%s'\n", name);
    return NULL;
}

/* IDX files are big-endian. */
static uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Reads the first `n` items of an IDX file whose header is `header_len` bytes with the given magic. */
static unsigned char *read_idx(const char *path, uint32_t magic, size_t header_len, size_t item_len, size_t n) {
    unsigned char header[16];
    unsigned char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    if (fread(header, 1, header_len, f) != header_len || be32(header) != magic || be32(header + 4) < n) {
        fprintf(stderr, "%s: not an IDX file with magic %u and %u items\n", path, (unsigned)magic, (unsigned)n);
    } else if ((data = malloc(item_len * n)) != NULL && fread(data, item_len, n, f) != n) {
        fprintf(stderr, "%s: truncated\n", path);
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* conv(nb_outputs, 5x5, stride 1) with <name>filter and <name>bias. */
static infer8_tensor *conv(infer8_network *net, infer8_tensor *in, const weights *w, const char *name, int nb_outputs) {
    char key[80];
    const blob *k, *b;
    infer8_layer *layer;
    sprintf(key, "%sfilter", name);
    k = find_blob(w, key);
    sprintf(key, "%sbias", name);
    b = find_blob(w, key);
    if (!k || !b) {
        return NULL;
    }
    layer = infer8_network_add_convolution(net, in, nb_outputs, 5, 5, k->values, k->count, b->values, b->count);
    if (!layer || !infer8_layer_set_stride(layer, 1, 1) || !infer8_layer_set_name(layer, name)) {
        return NULL;
    }
    return infer8_layer_get_output(layer, 0);
}

static infer8_tensor *max_pool(infer8_network *net, infer8_tensor *in) {
    infer8_layer *layer = infer8_network_add_pooling(net, in, INFER8_POOLING_TYPE_MAX, 2, 2);
    if (!layer || !infer8_layer_set_stride(layer, 2, 2)) {
        return NULL;
    }
    return infer8_layer_get_output(layer, 0);
}

static infer8_tensor *fc(infer8_network *net, infer8_tensor *in, const weights *w, const char *name, int nb_outputs) {
    char key[80];
    const blob *k, *b;
    infer8_layer *layer;
    sprintf(key, "%sfilter", name);
    k = find_blob(w, key);
    sprintf(key, "%sbias", name);
    b = find_blob(w, key);
    if (!k || !b) {
        return NULL;
    }
    layer = infer8_network_add_fully_connected(net, in, nb_outputs, k->values, k->count, b->values, b->count);
    return layer ? infer8_layer_get_output(layer, 0) : NULL;
}

static infer8_engine *build(const infer8_logger *logger, const weights *w) {
    infer8_engine *engine = NULL;
    infer8_builder *builder = infer8_builder_create(logger);
    infer8_network *net = builder ? infer8_builder_create_network(builder) : NULL;
    const int32_t dims[3] = {1, 28, 28};
    infer8_tensor *x = net ? infer8_network_add_input(net, "data", INFER8_DATA_TYPE_FLOAT, dims, 3) : NULL;
    infer8_layer *relu, *softmax;
    x = x ? conv(net, x, w, "conv1", 20) : NULL;
    x = x ? max_pool(net, x) : NULL;
    x = x ? conv(net, x, w, "conv2", 50) : NULL;
    x = x ? max_pool(net, x) : NULL;
    x = x ? fc(net, x, w, "ip1", 500) : NULL;
    relu = x ? infer8_network_add_activation(net, x, INFER8_ACTIVATION_TYPE_RELU) : NULL;
    x = relu ? fc(net, infer8_layer_get_output(relu, 0), w, "ip2", CLASSES) : NULL;
    softmax = x ? infer8_network_add_softmax(net, x) : NULL;
    x = softmax ? infer8_layer_get_output(softmax, 0) : NULL;
    if (x && infer8_tensor_set_name(x, "prob") && infer8_network_mark_output(net, x) &&
        infer8_builder_set_max_batch_size(builder, BATCH) && infer8_builder_set_max_workspace_size(builder, (size_t)16 << 20)) {
        engine = infer8_builder_build_engine(builder, net);
    }
    infer8_network_destroy(net);
    infer8_builder_destroy(builder);
    return engine;
}

/* Runs BATCH images; `probs` gets BATCH * CLASSES values. */
static int run(infer8_engine *engine, const float *input, float *probs) {
    int ok = 0;
    void *bindings[2];
    int in = infer8_engine_get_binding_index(engine, "data");
    int out = infer8_engine_get_binding_index(engine, "prob");
    infer8_dims d = infer8_engine_get_binding_dims(engine, out);
    infer8_context *ctx = infer8_engine_create_execution_context(engine);
    if (infer8_engine_get_nb_bindings(engine) != 2 || in < 0 || out < 0 || !infer8_engine_binding_is_input(engine, in) ||
        d.nb_dims != 3 || d.d[0] != CLASSES || d.d[1] != 1 || d.d[2] != 1) {
        fprintf(stderr, "c_lenet: unexpected bindings\n");
    } else if (ctx) {
        bindings[in] = (void *)input;
        bindings[out] = probs;
        ok = infer8_context_execute(ctx, BATCH, bindings);
    }
    infer8_context_destroy(ctx);
    return ok;
}

int main(int argc, char **argv) {
    infer8_logger logger = {NULL, log_message};
    weights w;
    unsigned char *pixels, *labels;
    static float input[BATCH * PIXELS], before[BATCH * CLASSES], after[BATCH * CLASSES];
    infer8_engine *engine, *loaded;
    infer8_host_memory *plan;
    infer8_runtime *runtime;
    int i, c, correct = 0, status = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: %s <lenet.wts> <t10k-images-idx3-ubyte> <t10k-labels-idx1-ubyte>\n", argv[0]);
        return 2;
    }
    memset(&w, 0, sizeof w);
    if (read_wts(argv[1], &w)) {
        return 1;
    }
    pixels = read_idx(argv[2], 2051, 16, PIXELS, BATCH);
    labels = read_idx(argv[3], 2049, 8, 1, BATCH);
    if (!pixels || !labels) {
        return 1;
    }
    for (i = 0; i < BATCH * PIXELS; i++) {
        input[i] = (float)pixels[i] / 255.0f;
    }

    engine = build(&logger, &w);
    if (!engine) {
        return fail("building the engine");
    }
    if (!run(engine, input, before)) {
        return fail("running the built engine");
    }

    plan = infer8_engine_serialize(engine);
    runtime = infer8_runtime_create(&logger);
    if (!plan || !runtime) {
        return fail("serializing");
    }
    loaded = infer8_runtime_deserialize_engine(runtime, infer8_host_memory_data(plan), infer8_host_memory_size(plan));
    if (!loaded) {
        return fail("deserializing");
    }
    if (!run(loaded, input, after)) {
        return fail("running the deserialized engine");
    }

    for (i = 0; i < BATCH; i++) {
        int best = 0;
        for (c = 1; c < CLASSES; c++) {
            if (before[i * CLASSES + c] > before[i * CLASSES + best]) {
                best = c;
            }
        }
        correct += best == labels[i];
    }
    printf("c_lenet: top-1 %d/%d; engine file %lu bytes\n", correct, BATCH, (unsigned long)infer8_host_memory_size(plan));
    if (correct < 97) {
        fprintf(stderr, "c_lenet: top-1 %d/%d is below 97\n", correct, BATCH);
        status = 1;
    }
    if (memcmp(before, after, sizeof before) != 0) {
        fprintf(stderr, "c_lenet: the deserialized engine's outputs differ from the built engine's\n");
        status = 1;
    }

    infer8_engine_destroy(loaded);
    infer8_runtime_destroy(runtime);
    infer8_host_memory_destroy(plan);
    infer8_engine_destroy(engine);
    for (i = 0; i < w.nb; i++) {
        free(w.blobs[i].values);
    }
    free(pixels);
    free(labels);
    return status;
}
