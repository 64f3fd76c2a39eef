#!/usr/bin/python3
"""Builds the tiny ONNX models the inference tests run, from nothing (Debian's python3-onnx, no download).

Usage: make_test_models.py OUTPUT_DIR [--bench]

Every model has a known output, so that tests can assert exact findings:
  classifier.onnx      image 1x1x32x32 -> scores 1x2 = [mean(image), 1 - mean(image)]; second output mean 1x1
  classifier_rgb.onnx  image 1x3x32x32 -> scores 1x3 = the mean of each channel (R, G, B)
  classifier_nhwc.onnx image 1x32x32x1 -> scores 1x1 = mean(image)
  segmentation.onnx    image 1x1x32x32 -> mask 1x1x32x32 = sigmoid(40 * (image - 0.5)): above 0.5 where image > 0.5
  dynamic_dense.onnx   image 1x1xHxW (H, W symbolic) -> a dense layer that only accepts 32x32 (1024 values)
Series models (a stack of slices, for [series.infer]):
  series_mean.onnx     stack 1x1x4x16x16 (ncdhw) -> scores 1x2 = [mean(stack), 1 - mean(stack)]
  series_slices.onnx   stack 1x1x4x16x16 (ncdhw) -> scores 1x1x4 = the mean of each slice
  series_channels.onnx stack 1x4x16x16 (ndhw, slices as channels) -> scores 1x1 = mean(stack)
  series_dense.onnx    stack 1x1xDx16x16 (D symbolic) -> a dense layer that only accepts D = 4 (1024 values)
With --bench also:
  cnn256.onnx          image 1x1x256x256 -> a small CNN with random weights (4 conv blocks, global pool, dense)
"""
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:  # the C++ test prints this and fails
    sys.stderr.write("python3-onnx and python3-numpy are required (scripts/install-deps.sh test): %s\n" % error)
    sys.exit(3)


def model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "creni-test", inputs, outputs, initializer=list(initializers))
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="creni-node tests")
    built.ir_version = 7  # ONNX 1.7 and later read it; nothing here needs a newer IR
    onnx.checker.check_model(built)
    return built


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def constant(name, values, shape=None):
    array = np.asarray(values, dtype=np.float32)
    if shape is not None:
        array = array.reshape(shape)
    return numpy_helper.from_array(array, name)


def classifier():
    return model(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["mean"], axis=1),
         helper.make_node("Sub", ["one", "mean"], ["rest"]),
         helper.make_node("Concat", ["mean", "rest"], ["scores"], axis=1)],
        [tensor("image", [1, 1, 32, 32])],
        [tensor("scores", [1, 2]), tensor("mean", [1, 1])],
        [constant("one", [1.0])])


def classifier_rgb():
    return model(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["scores"], axis=1)],
        [tensor("image", [1, 3, 32, 32])],
        [tensor("scores", [1, 3])])


def classifier_nhwc():
    return model(
        [helper.make_node("Transpose", ["image"], ["planar"], perm=[0, 3, 1, 2]),
         helper.make_node("GlobalAveragePool", ["planar"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["scores"], axis=1)],
        [tensor("image", [1, 32, 32, 1])],
        [tensor("scores", [1, 1])])


def segmentation():
    return model(
        [helper.make_node("Sub", ["image", "half"], ["centered"]),
         helper.make_node("Mul", ["centered", "gain"], ["steep"]),
         helper.make_node("Sigmoid", ["steep"], ["mask"])],
        [tensor("image", [1, 1, 32, 32])],
        [tensor("mask", [1, 1, 32, 32])],
        [constant("half", [0.5]), constant("gain", [40.0])])


def dynamic_dense():
    weights = np.full((1024, 2), 1.0 / 1024, dtype=np.float32)
    return model(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "weights"], ["scores"])],
        [tensor("image", [1, 1, "H", "W"])],
        [tensor("scores", [1, 2])],
        [numpy_helper.from_array(weights, "weights")])


def series_mean():
    return model(
        [helper.make_node("ReduceMean", ["stack"], ["mean"], axes=[2, 3, 4], keepdims=0),
         helper.make_node("Sub", ["one", "mean"], ["rest"]),
         helper.make_node("Concat", ["mean", "rest"], ["scores"], axis=1)],
        [tensor("stack", [1, 1, 4, 16, 16])],
        [tensor("scores", [1, 2])],
        [constant("one", [1.0])])


def series_slices():
    return model(
        [helper.make_node("ReduceMean", ["stack"], ["scores"], axes=[3, 4], keepdims=0)],
        [tensor("stack", [1, 1, 4, 16, 16])],
        [tensor("scores", [1, 1, 4])])


def series_channels():
    return model(
        [helper.make_node("GlobalAveragePool", ["stack"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["per_slice"], axis=1),
         helper.make_node("ReduceMean", ["per_slice"], ["scores"], axes=[1], keepdims=1)],
        [tensor("stack", [1, 4, 16, 16])],
        [tensor("scores", [1, 1])])


def series_dense():
    weights = np.full((1024, 1), 1.0 / 1024, dtype=np.float32)
    return model(
        [helper.make_node("Flatten", ["stack"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "weights"], ["scores"])],
        [tensor("stack", [1, 1, "D", 16, 16])],
        [tensor("scores", [1, 1])],
        [numpy_helper.from_array(weights, "weights")])


def cnn256():
    random = np.random.default_rng(7)
    nodes, initializers = [], []
    current, channels = "image", 1
    for block, width in enumerate([16, 32, 64, 64]):
        weights = random.normal(0, (2.0 / (channels * 9)) ** 0.5, (width, channels, 3, 3)).astype(np.float32)
        bias = np.zeros(width, dtype=np.float32)
        initializers += [numpy_helper.from_array(weights, "w%d" % block), numpy_helper.from_array(bias, "b%d" % block)]
        nodes += [
            helper.make_node("Conv", [current, "w%d" % block, "b%d" % block], ["c%d" % block], kernel_shape=[3, 3],
                             pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c%d" % block], ["r%d" % block]),
            helper.make_node("MaxPool", ["r%d" % block], ["p%d" % block], kernel_shape=[2, 2], strides=[2, 2]),
        ]
        current, channels = "p%d" % block, width
    dense = random.normal(0, 0.1, (1, channels)).astype(np.float32)  # transB=1, as exporters write it
    initializers += [numpy_helper.from_array(dense, "dense"), constant("dense_bias", [0.0])]
    nodes += [
        helper.make_node("GlobalAveragePool", [current], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "dense", "dense_bias"], ["logit"], transB=1),
        helper.make_node("Sigmoid", ["logit"], ["scores"]),
    ]
    return model(nodes, [tensor("image", [1, 1, 256, 256])], [tensor("scores", [1, 1])], initializers)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: make_test_models.py OUTPUT_DIR [--bench]\n")
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    builders = {
        "classifier.onnx": classifier,
        "classifier_rgb.onnx": classifier_rgb,
        "classifier_nhwc.onnx": classifier_nhwc,
        "segmentation.onnx": segmentation,
        "dynamic_dense.onnx": dynamic_dense,
        "series_mean.onnx": series_mean,
        "series_slices.onnx": series_slices,
        "series_channels.onnx": series_channels,
        "series_dense.onnx": series_dense,
    }
    if "--bench" in sys.argv[2:]:
        builders["cnn256.onnx"] = cnn256
    for name, build in builders.items():
        onnx.save(build(), os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
