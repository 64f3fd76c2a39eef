#include "onnx_graph.hpp"

#include <set>

namespace creni::process::onnx {

namespace {

// Field numbers of onnx.proto (ONNX IR, stable since IR version 3).
constexpr std::uint32_t kModelGraph = 7;
constexpr std::uint32_t kGraphInitializer = 5;
constexpr std::uint32_t kGraphInput = 11;
constexpr std::uint32_t kGraphOutput = 12;
constexpr std::uint32_t kTensorName = 8;
constexpr std::uint32_t kValueInfoName = 1;
constexpr std::uint32_t kValueInfoType = 2;
constexpr std::uint32_t kTypeTensor = 1;
constexpr std::uint32_t kTensorTypeShape = 2;
constexpr std::uint32_t kShapeDim = 1;
constexpr std::uint32_t kDimValue = 1;

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

// A view of one protobuf message: walks its fields, skipping those the caller does not ask for.
class Message {
 public:
  Message(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  struct Field {
    std::uint32_t number = 0;
    std::uint32_t wire = 0;
    std::uint64_t varint = 0;        // kVarint
    const std::uint8_t* bytes = nullptr;  // kBytes
    std::size_t length = 0;
  };

  // Reads the next field into `field`; false at the end. Sets `broken_` on malformed input.
  bool next(Field& field) {
    if (broken_ || pos_ >= size_) return false;
    std::uint64_t key = 0;
    if (!varint(key)) return false;
    field = Field{};
    field.number = static_cast<std::uint32_t>(key >> 3);
    field.wire = static_cast<std::uint32_t>(key & 7);
    if (field.number == 0) return broken();
    switch (field.wire) {
      case kVarint:
        return varint(field.varint);
      case kFixed64:
        return skip(8);
      case kFixed32:
        return skip(4);
      case kBytes: {
        std::uint64_t length = 0;
        if (!varint(length)) return false;
        if (length > size_ - pos_) return broken();
        field.bytes = data_ + pos_;
        field.length = static_cast<std::size_t>(length);
        pos_ += field.length;
        return true;
      }
      default:
        return broken();  // groups (3, 4) are not used by ONNX
    }
  }

  [[nodiscard]] bool is_broken() const { return broken_; }

 private:
  bool broken() {
    broken_ = true;
    return false;
  }

  bool varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= size_) return broken();
      const std::uint8_t byte = data_[pos_++];
      out |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return broken();
  }

  bool skip(std::size_t count) {
    if (count > size_ - pos_) return broken();
    pos_ += count;
    return true;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  bool broken_ = false;
};

Error malformed(const std::string& what) { return make_error("invalid_model", "not a well-formed ONNX model (" + what + ")"); }

Result<std::vector<std::int64_t>> read_shape(const std::uint8_t* data, std::size_t size) {
  std::vector<std::int64_t> dims;
  Message shape(data, size);
  Message::Field field;
  while (shape.next(field)) {
    if (field.number != kShapeDim || field.wire != kBytes) continue;
    std::int64_t value = -1;  // a dim_param (symbolic) or nothing at all
    Message dim(field.bytes, field.length);
    Message::Field inner;
    while (dim.next(inner)) {
      if (inner.number == kDimValue && inner.wire == kVarint) value = static_cast<std::int64_t>(inner.varint);
    }
    if (dim.is_broken()) return malformed("dimension");
    dims.push_back(value > 0 ? value : -1);
  }
  if (shape.is_broken()) return malformed("shape");
  return dims;
}

Result<TensorInfo> read_value_info(const std::uint8_t* data, std::size_t size) {
  TensorInfo info;
  Message value_info(data, size);
  Message::Field field;
  while (value_info.next(field)) {
    if (field.wire != kBytes) continue;
    if (field.number == kValueInfoName) {
      info.name.assign(reinterpret_cast<const char*>(field.bytes), field.length);
    } else if (field.number == kValueInfoType) {
      Message type(field.bytes, field.length);
      Message::Field type_field;
      while (type.next(type_field)) {
        if (type_field.number != kTypeTensor || type_field.wire != kBytes) continue;
        Message tensor(type_field.bytes, type_field.length);
        Message::Field tensor_field;
        while (tensor.next(tensor_field)) {
          if (tensor_field.number != kTensorTypeShape || tensor_field.wire != kBytes) continue;
          auto dims = read_shape(tensor_field.bytes, tensor_field.length);
          if (!dims) return dims.error();
          info.dims = std::move(dims).value();
        }
        if (tensor.is_broken()) return malformed("tensor type");
      }
      if (type.is_broken()) return malformed("type");
    }
  }
  if (value_info.is_broken()) return malformed("value info");
  return info;
}

std::string tensor_name(const std::uint8_t* data, std::size_t size) {
  Message tensor(data, size);
  Message::Field field;
  while (tensor.next(field)) {
    if (field.number == kTensorName && field.wire == kBytes) return std::string(reinterpret_cast<const char*>(field.bytes), field.length);
  }
  return {};
}

}  // namespace

Result<GraphInfo> read_graph(const std::uint8_t* data, std::size_t size) {
  Message model(data, size);
  Message::Field field;
  const std::uint8_t* graph_bytes = nullptr;
  std::size_t graph_length = 0;
  while (model.next(field)) {
    if (field.number == kModelGraph && field.wire == kBytes) {
      graph_bytes = field.bytes;
      graph_length = field.length;
    }
  }
  if (model.is_broken()) return malformed("model");
  if (graph_bytes == nullptr) return make_error("invalid_model", "the file holds no ONNX graph");

  GraphInfo info;
  std::set<std::string> initializers;
  Message graph(graph_bytes, graph_length);
  while (graph.next(field)) {
    if (field.wire != kBytes) continue;
    if (field.number == kGraphInitializer) {
      initializers.insert(tensor_name(field.bytes, field.length));
    } else if (field.number == kGraphInput || field.number == kGraphOutput) {
      auto tensor = read_value_info(field.bytes, field.length);
      if (!tensor) return tensor.error();
      (field.number == kGraphInput ? info.inputs : info.outputs).push_back(std::move(tensor).value());
    }
  }
  if (graph.is_broken()) return malformed("graph");
  std::vector<TensorInfo> inputs;
  for (auto& input : info.inputs) {
    if (initializers.count(input.name) == 0) inputs.push_back(std::move(input));
  }
  info.inputs = std::move(inputs);
  if (info.inputs.empty() || info.outputs.empty()) return make_error("invalid_model", "the ONNX graph declares no input or no output");
  return info;
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    text += (i == 0 ? "" : "x") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  }
  return text.empty() ? "(no shape)" : text;
}

}  // namespace creni::process::onnx
