#!/usr/bin/python3
"""Writes slice_brightness.onnx, a tiny model for the series step "infer" that a newcomer can switch on.

Usage: make_slice_brightness.py OUTPUT_FOLDER   (needs Debian's python3-onnx and python3-numpy; nothing downloaded)

The model takes a stack of 16 slices of 224 x 224 (1 x 1 x 16 x 224 x 224, the [series.infer] defaults: input_size
[224, 224], one channel, layout "ncdhw") and gives one score per slice (1 x 1 x 16): the slice's mean brightness
after the window mapping. The node resamples every series to 16 slices, reports the finding "bright" when a slice
scores at or above the threshold (default 0.5), and refers to the slices that did. With the model written to
/opt/creni/examples/series-model/, three lines switch it on:

    [series.infer]
    model = "/opt/creni/examples/series-model/slice_brightness.onnx"
    labels = ["bright"]
"""
import os
import sys

try:
    import onnx
    from onnx import TensorProto, helper
except ImportError as error:
    sys.stderr.write("python3-onnx is required (apt-get install python3-onnx): %s\n" % error)
    sys.exit(3)


def slice_brightness():
    stack = helper.make_tensor_value_info("stack", TensorProto.FLOAT, [1, 1, 16, 224, 224])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 16])
    mean = helper.make_node("ReduceMean", ["stack"], ["scores"], axes=[3, 4], keepdims=0)
    graph = helper.make_graph([mean], "slice-brightness", [stack], [scores])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="creni-node example")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make_slice_brightness.py OUTPUT_FOLDER\n")
        return 2
    os.makedirs(sys.argv[1], exist_ok=True)
    onnx.save(slice_brightness(), os.path.join(sys.argv[1], "slice_brightness.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
