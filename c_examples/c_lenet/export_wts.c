/* export_wts: writes the weights of a trained Caffe model in sampleMNISTAPI's .wts text format,
 * through infer8's Caffe parser, for c_lenet to build the same network by hand.
 *
 *   export_wts <deploy.prototxt> <model.caffemodel> <out.wts>
 */
#include <stdio.h>

#include "infer8.h"

static void log_message(void *user, int32_t severity, const char *msg) {
    (void)user;
    if (severity <= INFER8_SEVERITY_WARNING) {
        fprintf(stderr, "export_wts: %s\n", msg);
    }
}

int main(int argc, char **argv) {
    infer8_logger logger = {NULL, log_message};
    if (argc != 4) {
        fprintf(stderr, "usage: %s <deploy.prototxt> <model.caffemodel> <out.wts>\n", argv[0]);
        return 2;
    }
    if (!infer8_caffe_export_wts(&logger, argv[1], argv[2], argv[3])) {
        fprintf(stderr, "export_wts: failed: %s\n", infer8_last_error());
        return 1;
    }
    printf("export_wts: wrote %s\n", argv[3]);
    return 0;
}
