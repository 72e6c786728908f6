#!/usr/bin/env python3
"""Builds ONNX models of LeNet, CIFAR-10 full and MTCNN det3 from their Caffe weights, for the CPU
benchmark's ONNX Runtime peer (scripts/bench_cpu_peers.py), and LeNet for the ONNX parser's tests
(tests/onnx_lenet.rs, c_examples/sampleINT8_trt7).

The architectures are written out here from the deploy prototxts in ../shared/data/models; the
weights are read from the .caffemodel files with a small protobuf wire-format reader, so nothing
depends on infer8's own Caffe parser. The batch dimension is symbolic ("N") unless --batch fixes it.

    caffe_to_onnx.py DATA_DIR OUT_DIR [--model NAME] [--batch N]
        # writes OUT_DIR/NAME.onnx for NAME in lenet, cifar10_full, det3 (all without --model)
"""

import argparse
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """(field number, wire type, value) of one protobuf message; value is bytes for wire type 2."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = varint(buf, pos)
        elif wire == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            val, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield num, wire, val


def blob_data(buf):
    """The float data of a BlobProto (field 5, packed or not)."""
    out = []
    for num, wire, val in fields(buf):
        if num == 5 and wire == 2:
            out.append(np.frombuffer(val, dtype="<f4"))
        elif num == 5 and wire == 5:
            out.append(np.array(struct.unpack("<f", val), dtype=np.float32))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def caffe_blobs(path):
    """Layer name -> list of weight arrays, from a NetParameter (V2 `layer` or V1 `layers`)."""
    net = Path(path).read_bytes()
    blobs = {}
    for num, wire, val in fields(net):
        # NetParameter.layer = 100 (LayerParameter: name 1, blobs 7);
        # NetParameter.layers = 2 (V1LayerParameter: name 4, blobs 6).
        if wire != 2 or num not in (100, 2):
            continue
        name_field, blob_field = (1, 7) if num == 100 else (4, 6)
        name, layer_blobs = None, []
        for n, w, v in fields(val):
            if n == name_field and w == 2:
                name = v.decode()
            elif n == blob_field and w == 2:
                layer_blobs.append(blob_data(v))
        if name is not None and layer_blobs:
            blobs[name] = layer_blobs
    return blobs


class Graph:
    def __init__(self, blobs, batch, channels, hw):
        self.blobs, self.batch = blobs, batch
        self.nodes, self.inits = [], []
        self.input = helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, channels, *hw])
        self.outputs = []

    def weight(self, layer, index, shape):
        try:
            w = self.blobs[layer][index]
        except (KeyError, IndexError):
            raise SystemExit(f"caffemodel has no blob {index} for layer '{layer}'")
        if w.size != int(np.prod(shape)):
            raise SystemExit(f"layer '{layer}' blob {index}: {w.size} values, expected shape {shape}")
        name = f"{layer}.{index}"
        self.inits.append(numpy_helper.from_array(w.reshape(shape).astype(np.float32), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x, layer, cin, cout, k, pad=0):
        w = self.weight(layer, 0, [cout, cin, k, k])
        b = self.weight(layer, 1, [cout])
        return self.node("Conv", [x, w, b], layer, kernel_shape=[k, k], pads=[pad] * 4)

    def fc(self, x, layer, cin, cout):
        flat = self.node("Flatten", [x], layer + ".flat", axis=1)
        w = self.weight(layer, 0, [cout, cin])
        b = self.weight(layer, 1, [cout])
        return self.node("Gemm", [flat, w, b], layer, transB=1)

    def pool(self, x, name, kind, k, s):
        # Caffe rounds the output size up; with no padding its average divides by the window
        # clipped to the input, which is ONNX's count_include_pad=0.
        op = "MaxPool" if kind == "max" else "AveragePool"
        return self.node(op, [x], name, kernel_shape=[k, k], strides=[s, s], ceil_mode=1)

    def relu(self, x, name):
        return self.node("Relu", [x], name)

    def prelu(self, x, layer, channels, spatial):
        slope = self.weight(layer, 0, [channels, 1, 1] if spatial else [channels])
        return self.node("PRelu", [x, slope], layer)

    def lrn_within_channel(self, x, name, size, alpha, beta):
        """Caffe's WITHIN_CHANNEL LRN: x * (1 + alpha * mean over a size x size window of x^2)^-beta,
        the window mean counting the zero padding (Caffe's AVE pooling with pad)."""
        sq = self.node("Mul", [x, x], name + ".sq")
        pad = (size - 1) // 2
        avg = self.node("AveragePool", [sq], name + ".avg", kernel_shape=[size, size],
                        pads=[pad] * 4, count_include_pad=1)
        c = {}
        for key, val in (("alpha", alpha), ("one", 1.0), ("beta", -beta)):
            c[key] = name + "." + key
            self.inits.append(numpy_helper.from_array(np.array(val, np.float32), c[key]))
        scaled = self.node("Mul", [avg, c["alpha"]], name + ".scaled")
        base = self.node("Add", [scaled, c["one"]], name + ".base")
        factor = self.node("Pow", [base, c["beta"]], name + ".factor")
        return self.node("Mul", [x, factor], name)

    def output(self, x, width):
        self.outputs.append(helper.make_tensor_value_info(x, TensorProto.FLOAT, [self.batch, width]))

    def model(self, name):
        graph = helper.make_graph(self.nodes, name, [self.input], self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def lenet(blobs, batch):
    g = Graph(blobs, batch, 1, [28, 28])
    x = g.conv("data", "conv1", 1, 20, 5)
    x = g.pool(x, "pool1", "max", 2, 2)
    x = g.conv(x, "conv2", 20, 50, 5)
    x = g.pool(x, "pool2", "max", 2, 2)
    x = g.fc(x, "ip1", 800, 500)
    x = g.relu(x, "relu1")
    x = g.fc(x, "ip2", 500, 10)
    g.output(g.node("Softmax", [x], "prob", axis=1), 10)
    return g.model("LeNet")


def cifar10_full(blobs, batch):
    g = Graph(blobs, batch, 3, [32, 32])
    x = g.conv("data", "conv1", 3, 32, 5, pad=2)
    x = g.relu(g.pool(x, "pool1", "max", 3, 2), "relu1")
    x = g.lrn_within_channel(x, "norm1", 3, 5e-05, 0.75)
    x = g.relu(g.conv(x, "conv2", 32, 32, 5, pad=2), "relu2")
    x = g.lrn_within_channel(g.pool(x, "pool2", "ave", 3, 2), "norm2", 3, 5e-05, 0.75)
    x = g.relu(g.conv(x, "conv3", 32, 64, 5, pad=2), "relu3")
    x = g.pool(x, "pool3", "ave", 3, 2)
    x = g.fc(x, "ip1", 64 * 4 * 4, 10)
    g.output(g.node("Softmax", [x], "prob", axis=1), 10)
    return g.model("CIFAR10_full")


def det3(blobs, batch):
    g = Graph(blobs, batch, 3, [48, 48])
    x = g.prelu(g.conv("data", "conv1", 3, 32, 3), "prelu1", 32, True)
    x = g.pool(x, "pool1", "max", 3, 2)
    x = g.prelu(g.conv(x, "conv2", 32, 64, 3), "prelu2", 64, True)
    x = g.pool(x, "pool2", "max", 3, 2)
    x = g.prelu(g.conv(x, "conv3", 64, 64, 3), "prelu3", 64, True)
    x = g.pool(x, "pool3", "max", 2, 2)
    x = g.prelu(g.conv(x, "conv4", 64, 128, 2), "prelu4", 128, True)
    x = g.prelu(g.fc(x, "conv5", 128 * 3 * 3, 256), "prelu5", 256, False)
    g.output(g.node("Softmax", [g.fc(x, "conv6-1", 256, 2)], "prob1", axis=1), 2)
    g.output(g.fc(x, "conv6-2", 256, 4), 4)
    g.output(g.fc(x, "conv6-3", 256, 10), 10)
    return g.model("ONet")


MODELS = {
    "lenet": ("models/lenet/lenet_iter_10000.caffemodel", lenet),
    "cifar10_full": ("models/cifar10_full/cifar10_full_iter_70000.caffemodel", cifar10_full),
    "det3": ("models/mtcnn/det3.caffemodel", det3),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--model", choices=sorted(MODELS), help="one model (default: all)")
    ap.add_argument("--batch", type=int, help="a fixed batch size (default: symbolic N)")
    a = ap.parse_args()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    for name, (weights, build) in MODELS.items():
        if a.model not in (None, name):
            continue
        path = a.data_dir / weights
        if not path.is_file():
            raise SystemExit(f"{path}: not found (set INFER8_DATA_DIR)")
        onnx.save(build(caffe_blobs(path), a.batch or "N"), a.out_dir / f"{name}.onnx")
        print(f"wrote {a.out_dir / name}.onnx")


if __name__ == "__main__":
    main()
