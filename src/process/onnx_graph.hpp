#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "creni/common/result.hpp"

// What an ONNX file declares about its graph's inputs and outputs, read from the protobuf wire format directly
// (OpenCV's importer does not say which shape a model expects, nor the order of its outputs). Private to process.
namespace creni::process::onnx {

/// A graph input or output: its name and declared dimensions (-1 for a symbolic or missing dimension); `dims` is
/// empty when no shape is declared.
struct TensorInfo {
  std::string name;
  std::vector<std::int64_t> dims;
};

/// The graph's inputs (initializers listed as inputs by older exporters removed) and outputs, in file order.
struct GraphInfo {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

/// Reads ModelProto.graph from the bytes of an .onnx file. Error "invalid_model" when the bytes are not a
/// well-formed protobuf message or hold no graph.
[[nodiscard]] Result<GraphInfo> read_graph(const std::uint8_t* data, std::size_t size);

/// "1x3x224x224" ("?" for a symbolic dimension).
[[nodiscard]] std::string dims_text(const std::vector<std::int64_t>& dims);

}  // namespace creni::process::onnx
