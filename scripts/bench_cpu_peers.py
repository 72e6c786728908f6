#!/usr/bin/env python3
"""The CPU peers of infer8's benchmark (issue 8): ONNX Runtime (FP32, and INT8 QDQ from
quantize_static) and OpenCV dnn (readNetFromCaffe), on the same models, inputs and batch sizes as
infer8-bench-cpu. Writes CSV rows `model,engine,device,precision,batch,median_ms,top1` that
infer8-bench-cpu reads with --peers. Run by scripts/bench-cpu.sh, which installs the packages.

    bench_cpu_peers.py DATA_DIR WORK_DIR OUT.csv [--iterations N] [--threads T]

Every session runs with intra_op_num_threads = T (default 2, the size of infer8's rayon pool on
the benchmark machine) and inter_op_num_threads = 1; OpenCV gets cv2.setNumThreads(T).
"""

import argparse
import gzip
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

WARMUP = 20
# (model, input shape, batch sizes, Caffe files, output checked against OpenCV's reference)
MODELS = [
    ("lenet", (1, 28, 28), (1, 100), "models/lenet/lenet.prototxt",
     "models/lenet/lenet_iter_10000.caffemodel", None),
    ("cifar10_full", (3, 32, 32), (1, 64), "models/cifar10_full/cifar10_full.prototxt",
     "models/cifar10_full/cifar10_full_iter_70000.caffemodel", "models/cifar10_full/reference"),
    ("det3", (3, 48, 48), (1, 64), "models/mtcnn/det3.prototxt", "models/mtcnn/det3.caffemodel",
     "models/mtcnn/reference/mtcnn_det3"),
]
REFERENCE_OUTPUT = {"cifar10_full": "prob.npy", "det3": "conv6-2.npy"}


def mnist(data):
    with gzip.open(data / "mnist/t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(data / "mnist/t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels


def synthetic(shape, batch):
    """The deterministic input infer8-bench-cpu uses for models without a data set."""
    n = batch * int(np.prod(shape))
    return ((np.arange(n) % 251) / 251.0).astype(np.float32).reshape(batch, *shape)


def median_ms(run, iterations):
    for _ in range(WARMUP):
        run()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def session(path, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class Calibration(CalibrationDataReader):
    """Calibration images in batches of 50, as infer8's calibrator reads them: MNIST images
    0-499 for LeNet, 100 images of the synthetic pattern for CIFAR-10 and det3."""

    def __init__(self, images):
        self.batches = iter([{"data": images[i:i + 50]} for i in range(0, len(images), 50)])

    def get_next(self):
        return next(self.batches, None)


def top1(predict, images, labels):
    hits = 0
    for i in range(500, 10000, 100):
        hits += int((predict(images[i:i + 100]).argmax(axis=1) == labels[i:i + 100]).sum())
    return hits / 9500


def opencv_net(data, prototxt, weights, threads):
    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromCaffe(str(data / prototxt), str(data / weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    subprocess.run([sys.executable, str(Path(__file__).with_name("caffe_to_onnx.py")),
                    str(a.data), str(a.work)], check=True)
    images, labels = mnist(a.data)
    rows = []

    def emit(model, engine, precision, batch, ms, acc):
        rows.append(f"{model},{engine},CPU,{precision},{batch},{ms:.5f},{acc}")
        print(rows[-1], flush=True)

    for model, shape, batches, prototxt, weights, reference in MODELS:
        int8 = a.work / f"{model}_int8_qdq.onnx"
        cal = images[:500] if model == "lenet" else synthetic(shape, 100)
        quantize_static(str(a.work / f"{model}.onnx"), str(int8), Calibration(cal),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.Entropy)
        variants = [("ONNX Runtime", "FP32", a.work / f"{model}.onnx"),
                    ("ONNX Runtime", "INT8 QDQ", int8)]
        for engine, precision, path in variants:
            sess = session(path, a.threads)
            predict = lambda x, s=sess: s.run(None, {"data": x})[0]
            if model == "lenet":
                acc = f"{top1(predict, images, labels):.6f}"
            elif precision != "FP32":
                acc = ""
            else:
                ref = np.load(a.data / reference / "input.npy")
                outs = dict(zip([o.name for o in sess.get_outputs()],
                                sess.run(None, {"data": ref})))
                want = np.load(a.data / reference / REFERENCE_OUTPUT[model])
                got = outs[REFERENCE_OUTPUT[model][:-4]]
                diff = float(np.abs(got - want).max())
                if diff > 1e-3:
                    raise SystemExit(f"{model}: ONNX model differs from OpenCV's reference by {diff}")
                acc = ""
            for batch in batches:
                x = images[:batch] if model == "lenet" else synthetic(shape, batch)
                emit(model, engine, precision, batch,
                     median_ms(lambda: sess.run(None, {"data": x}), a.iterations), acc)

        net = opencv_net(a.data, prototxt, weights, a.threads)
        out_name = "prob" if model != "det3" else "conv6-2"

        def cv_forward(x, net=net, out_name=out_name):
            net.setInput(x)
            return net.forward(out_name)

        acc = f"{top1(cv_forward, images, labels):.6f}" if model == "lenet" else ""
        for batch in batches:
            x = images[:batch] if model == "lenet" else synthetic(shape, batch)
            emit(model, "OpenCV dnn", "FP32", batch,
                 median_ms(lambda: cv_forward(x), a.iterations), acc)

    a.out.write_text("model,engine,device,precision,batch,median_ms,top1\n" + "\n".join(rows) + "\n")
    print(f"wrote {a.out}; onnxruntime {ort.__version__}, opencv {cv2.__version__}, "
          f"{a.threads} threads")


if __name__ == "__main__":
    main()
