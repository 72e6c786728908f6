#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/corpus/<target>/, from ../shared/data and the infer8 CLI.

The seeds are derived from data that must stay out of git (shared/data/README.md), so they are made
on each machine instead of committed. Usage: fuzz-seeds.py DATA_DIR INFER8_CLI OUT_DIR
"""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

data, cli, out = sys.argv[1:4]


def put(target, name, blob):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def varint(n):
    b = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            b.append(byte | 0x80)
        else:
            b.append(byte)
            return bytes(b)


def field(number, wire, payload):
    return varint(number << 3 | wire) + payload


def delimited(number, payload):
    return field(number, 2, varint(len(payload)) + payload)


def blob_proto(dims, values, legacy=False):
    """caffe.BlobProto: shape (7) with packed dims, or num/channels/height/width (1-4); data (5)."""
    floats = struct.pack("<%df" % len(values), *values)
    if legacy:
        head = b"".join(field(i + 1, 0, varint(d)) for i, d in enumerate(dims))
    else:
        head = delimited(7, delimited(1, b"".join(varint(d) for d in dims)))
    return head + delimited(5, floats)


# Prototxt: every Caffe net text in the data set (deploy, train/test, V1 and V2 forms).
for p in sorted(glob.glob(os.path.join(data, "models", "**", "*.prototxt"), recursive=True)):
    rel = os.path.relpath(p, os.path.join(data, "models")).replace(os.sep, "_")
    put("prototxt", rel, open(p, "rb").read())

# Caffemodel: the small MTCNN nets with their deploy files, in the target's u16-length framing.
for net in ["det1"]:
    deploy = open(os.path.join(data, "models", "mtcnn", net + ".prototxt"), "rb").read()
    model = open(os.path.join(data, "models", "mtcnn", net + ".caffemodel"), "rb").read()
    put("caffemodel", net, struct.pack("<H", len(deploy)) + deploy + model)

# Binaryproto: no mean file ships with the data, so a few shaped the way Caffe writes them.
put("binaryproto", "mean_1x3x2x2", blob_proto([1, 3, 2, 2], [i * 0.5 for i in range(12)]))
put("binaryproto", "legacy_1x1x2x3", blob_proto([1, 1, 2, 3], [1, 2, 3, 4, 5, 6], legacy=True))
put("binaryproto", "vector_4", blob_proto([4], [0.25, -1, 3, 7]))

lenet = ["--deploy", os.path.join(data, "models", "lenet", "lenet.prototxt"),
         "--model", os.path.join(data, "models", "lenet", "lenet_iter_10000.caffemodel"),
         "--output", "prob", "--device", "cpu", "--verbosity", "0"]
det1 = ["--deploy", os.path.join(data, "models", "mtcnn", "det1.prototxt"),
        "--model", os.path.join(data, "models", "mtcnn", "det1.caffemodel"),
        "--device", "cpu", "--verbosity", "0"]
images = os.path.join(data, "mnist", "t10k-images-idx3-ubyte.gz")
labels = os.path.join(data, "mnist", "t10k-labels-idx1-ubyte.gz")

with tempfile.TemporaryDirectory() as tmp:
    def run(*args):
        subprocess.run([cli, *args], check=True)

    # Calibration caches: each algorithm's header form, from LeNet on 20 images.
    for alg in ["entropy2", "entropy", "minmax", "legacy", "percentile"]:
        cache = os.path.join(tmp, alg + ".calib")
        run("calibrate", *lenet, "--mnist-images", images, "--count", "20",
            "--batch", "10", "--calib-batch", "10", "--algorithm", alg, "--cache", cache)
        put("calib_cache", "lenet_" + alg, open(cache, "rb").read())
    put("calib_cache", "trt4_headerless", b"data: 3c010a14\nconv1: 3d8f5c29\n")

    # Engines: the small MTCNN net in FP32 and FP16, and with INT8 scales from a cache.
    for name, extra in [("det1_fp32", []), ("det1_fp16", ["--fp16"])]:
        engine = os.path.join(tmp, name)
        run("build", *det1, "--batch", "2", *extra, "--save-engine", engine)
        put("engine", name, open(engine, "rb").read())

    # Batch files: sampleINT8's format, 3 images per file with labels, and one without labels.
    run("mnist-batches", "--images", images, "--labels", labels, "--out", tmp, "--per-file", "3")
    put("batch_file", "mnist_batch0", open(os.path.join(tmp, "batches", "batch0"), "rb").read())
    put("batch_file", "no_labels", struct.pack("=4i", 2, 1, 1, 2) + struct.pack("=4f", 0, 1, 2, 3))

print("seeds written to", out)
