#!/usr/bin/env python3
"""Exports BVLC LeNet (deploy net of models/lenet) from its Caffe weights to ONNX (opset 11).

usage: lenet_to_onnx.py CAFFEMODEL OUTPUT.onnx [--batch N]

The caffemodel is read with a small protobuf wire-format reader (no Caffe, no protoc): only
the layer names and blobs are needed, the architecture is LeNet's:
conv1 (20, 5x5) -> pool1 (max 2x2/2) -> conv2 (50, 5x5) -> pool2 -> ip1 (500) -> relu1 -> ip2 (10)
-> prob (softmax over the classes). Input "data" is [N, 1, 28, 28], output "prob" is [N, 10].
"""
import argparse
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def fields(buf):
    """(field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt} for field {num}")
        yield num, wt, v


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def blob(buf):
    """BlobProto: data (5, packed or not), shape (7: BlobShape.dim = 1) or num/channels/height/width."""
    data, dims, legacy = [], [], {}
    for num, wt, v in fields(buf):
        if num == 5:
            data.extend(struct.unpack(f"<{len(v) // 4}f", v) if wt == 2 else struct.unpack("<f", v))
        elif num == 7:
            for n2, w2, d in fields(v):
                if n2 == 1:
                    if w2 == 2:
                        j = 0
                        while j < len(d):
                            x, j = varint(d, j)
                            dims.append(x)
                    else:
                        dims.append(d)
        elif num in (1, 2, 3, 4):
            legacy[num] = v
    if not dims:
        dims = [legacy.get(k, 1) for k in (1, 2, 3, 4)]
    return np.array(data, dtype=np.float32).reshape(dims)


def caffe_weights(path):
    """Layer name -> blobs, from NetParameter.layer (100) or the V1 NetParameter.layers (2)."""
    net = open(path, "rb").read()
    weights = {}
    for num, _, layer in fields(net):
        if num not in (100, 2):
            continue
        name_field, blob_field = (1, 7) if num == 100 else (4, 6)
        name, blobs = None, []
        for n, _, v in fields(layer):
            if n == name_field:
                name = v.decode()
            elif n == blob_field:
                blobs.append(blob(v))
        if blobs:
            weights[name] = blobs
    return weights


def lenet(weights, batch):
    inits = []

    def param(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def conv(x, layer):
        w, b = weights[layer]
        return helper.make_node("Conv", [x, param(layer + "_w", w), param(layer + "_b", b.reshape(-1))],
                                [layer], name=layer, kernel_shape=list(w.shape[2:]), strides=[1, 1])

    def pool(x, layer):
        return helper.make_node("MaxPool", [x], [layer], name=layer, kernel_shape=[2, 2], strides=[2, 2])

    def fc(x, layer):
        w, b = weights[layer]
        w = w.reshape(w.shape[-2], w.shape[-1]) if w.ndim > 2 else w
        return helper.make_node("Gemm", [x, param(layer + "_w", w), param(layer + "_b", b.reshape(-1))],
                                [layer], name=layer, transB=1)

    nodes = [
        conv("data", "conv1"),
        pool("conv1", "pool1"),
        conv("pool1", "conv2"),
        pool("conv2", "pool2"),
        helper.make_node("Flatten", ["pool2"], ["flat"], name="flatten", axis=1),
        fc("flat", "ip1"),
        helper.make_node("Relu", ["ip1"], ["relu1"], name="relu1"),
        fc("relu1", "ip2"),
        helper.make_node("Softmax", ["ip2"], ["prob"], name="prob", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "LeNet",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 10])],
        inits)
    model = helper.make_model(graph, producer_name="infer8 lenet_to_onnx.py",
                              opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("caffemodel")
    ap.add_argument("output")
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    try:
        weights = caffe_weights(a.caffemodel)
        missing = [l for l in ("conv1", "conv2", "ip1", "ip2") if l not in weights]
        if missing:
            sys.exit(f"lenet_to_onnx: {a.caffemodel}: no weights for layers {missing}")
        onnx.save(lenet(weights, a.batch), a.output)
    except (OSError, ValueError) as e:
        sys.exit(f"lenet_to_onnx: {e}")
    print(f"lenet_to_onnx: wrote {a.output} (batch {a.batch})")


if __name__ == "__main__":
    main()
