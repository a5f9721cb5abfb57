#!/usr/bin/python3
"""Writes one of the small ONNX models the lit tests compile: make_model.py NAME OUT.onnx.

Built with onnx.helper (no training, no torch), so they are tiny and exact."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tensor(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def scalar(name, value):
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def model(nodes, inputs, outputs, inits, opset=13):
    graph = helper.make_graph(nodes, "lit", inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def io(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def conv_bn():
    bn = [tensor("bn_scale", [4], 1), tensor("bn_bias", [4], 2), tensor("bn_mean", [4], 3),
          numpy_helper.from_array(np.linspace(0.5, 2, 4).astype(np.float32), "bn_var")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean",
                                                     "bn_var"], ["bn"], "bn"),
             helper.make_node("Relu", ["bn"], ["r"], "relu"),
             helper.make_node("BatchNormalization", ["r", "bn_scale", "bn_bias", "bn_mean",
                                                     "bn_var"], ["y"], "bn_after_relu")]
    return model(nodes, [io("x", [1, 2, 6, 6])], [io("y", [1, 4, 6, 6])],
                 [tensor("w", [4, 2, 3, 3])] + bn)


def activations():
    nodes = [helper.make_node("Identity", ["x"], ["i"], "identity"),
             helper.make_node("Clip", ["i", "zero", "six"], ["r6"], "clip06"),
             helper.make_node("HardSigmoid", ["r6"], ["hs"], "hsig", alpha=1.0 / 6),
             helper.make_node("Mul", ["r6", "hs"], ["hswish"], "mul"),
             helper.make_node("Dropout", ["hswish"], ["d"], "dropout"),
             helper.make_node("Flatten", ["d"], ["y"], "flatten")]
    return model(nodes, [io("x", [1, 3, 4, 4])], [io("y", [1, 48])],
                 [scalar("zero", 0.0), scalar("six", 6.0)])


def shape_subgraph():
    """y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): flatten as exporters emit."""
    nodes = [helper.make_node("Shape", ["x"], ["s"], "shape"),
             helper.make_node("Gather", ["s", "zero"], ["n"], "gather"),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze"),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], "concat", axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"], "reshape")]
    return model(nodes, [io("x", [1, 2, 3, 3])], [io("y", [1, 18])],
                 [ints("zero", 0), ints("axes", [0]), ints("minus1", [-1])])


def residual():
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], "conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["r"], "relu"),
             helper.make_node("Conv", ["r", "w2"], ["b"], "conv2", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["b", "r"], ["s"], "add"),
             helper.make_node("GlobalAveragePool", ["s"], ["g"], "gap"),
             helper.make_node("Flatten", ["g"], ["f"], "flatten"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], "fc", transB=1)]
    return model(nodes, [io("x", [1, 3, 8, 8])], [io("y", [1, 5])],
                 [tensor("w1", [8, 3, 3, 3]), tensor("w2", [8, 8, 3, 3], 1),
                  tensor("fc", [5, 8], 2)])


def wide_residual():
    """residual() on 48x48 inputs: every activation (72 KiB) is bigger than a 64 KiB DTCM."""
    m = residual()
    m.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 48
    m.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 48
    return m


def shared_weight():
    """One 3x3 weight used by two Conv layers."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], "conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["r"], "relu"),
             helper.make_node("Conv", ["r", "w"], ["b"], "conv2", pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["b"], ["g"], "gap"),
             helper.make_node("Flatten", ["g"], ["f"], "flatten"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], "fc", transB=1)]
    return model(nodes, [io("x", [1, 4, 6, 6])], [io("y", [1, 3])],
                 [tensor("w", [4, 4, 3, 3]), tensor("fc", [3, 4], 2)])


def unsupported_op():
    nodes = [helper.make_node("Erf", ["x"], ["y"], "my_erf")]
    return model(nodes, [io("x", [1, 4])], [io("y", [1, 4])], [])


def dynamic_batch():
    nodes = [helper.make_node("Relu", ["x"], ["y"], "relu")]
    return model(nodes, [io("x", ["N", 4])], [io("y", ["N", 4])], [])


ODD = 'a*/b <c>&"d"\'|`e\nf\\'


def odd_names():
    """residual() with every name holding what breaks C comments, XML, Markdown and lines."""
    m = residual()
    renamed = {}
    for node in m.graph.node:
        node.name = ODD + node.name
        for i, name in enumerate(node.input):
            node.input[i] = renamed.setdefault(name, name if name in ("x", "y") else ODD + name)
        for i, name in enumerate(node.output):
            node.output[i] = renamed.setdefault(name, name if name == "y" else ODD + name)
    for init in m.graph.initializer:
        init.name = renamed[init.name]
    return m


MODELS = {f.__name__: f for f in [conv_bn, activations, shape_subgraph, residual, wide_residual,
                                   shared_weight, unsupported_op, dynamic_batch, odd_names]}
# Models whose bytes are edited after saving: (model, old bytes, new bytes of the same length).
# A Python string cannot hold invalid UTF-8, so the bad name is written as bytes.
BYTE_EDITS = {"bad_utf8_name": ("residual", b"conv1", b"con\xff1")}

if __name__ == "__main__":
    base, old, new = BYTE_EDITS.get(sys.argv[1], (sys.argv[1], b"", b""))
    m = MODELS[base]()
    onnx.checker.check_model(m)
    data = m.SerializeToString()
    with open(sys.argv[2], "wb") as f:
        f.write(data.replace(old, new) if old else data)
