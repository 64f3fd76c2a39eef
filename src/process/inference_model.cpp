#include "creni/process/inference_model.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "creni/common/content_hash.hpp"
#include "onnx_graph.hpp"

namespace creni::process {

namespace {

Error invalid(const std::string& key, const std::string& why) { return make_error("invalid_config", key + ": " + why); }

// Reads the whole file through one descriptor, so that what is hashed is exactly what is imported.
Result<std::vector<std::uint8_t>> read_model_file(const std::filesystem::path& path) {
  const auto cannot = [&](const std::string& why) { return invalid("inference.model", "cannot read " + path.string() + ": " + why); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot(std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return cannot("not a regular file");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const std::string why = got == 0 ? "file shrank while reading" : std::strerror(errno);
      ::close(fd);
      return cannot(why);
    }
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  if (bytes.empty()) return cannot("the file is empty");
  return bytes;
}

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  Sha256 digest;
  digest.update(bytes.data(), bytes.size());
  return digest.hex_digest();
}

}  // namespace

struct OpenCvDnnModel::Impl {
  cv::dnn::Net net;
  std::vector<std::int64_t> input_dims;
  std::string output;
  std::string sha256;
};

OpenCvDnnModel::OpenCvDnnModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpenCvDnnModel::~OpenCvDnnModel() = default;

Result<std::unique_ptr<OpenCvDnnModel>> OpenCvDnnModel::load(const std::filesystem::path& path, const std::string& output,
                                                             int threads) {
  auto bytes = read_model_file(path);
  if (!bytes) return bytes.error();
  auto graph = onnx::read_graph(bytes->data(), bytes->size());
  if (!graph) return invalid("inference.model", "not a valid ONNX model: " + path.string() + ": " + graph.error().message);
  if (graph->inputs.size() != 1) {
    return invalid("inference.model", "the model has " + std::to_string(graph->inputs.size()) + " inputs; one is supported");
  }

  auto impl = std::make_unique<Impl>();
  impl->sha256 = sha256_hex(bytes.value());
  impl->input_dims = graph->inputs.front().dims;
  std::string outputs;
  for (const auto& declared : graph->outputs) outputs += (outputs.empty() ? "" : ", ") + declared.name;
  impl->output = output.empty() ? graph->outputs.front().name : output;
  const bool declared = std::any_of(graph->outputs.begin(), graph->outputs.end(),
                                    [&](const onnx::TensorInfo& info) { return info.name == impl->output; });
  if (!declared) return invalid("inference.output", "the model has no output '" + impl->output + "' (outputs: " + outputs + ")");

  try {
    if (threads > 0) cv::setNumThreads(threads);
    impl->net = cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    if (impl->net.empty()) return invalid("inference.model", "OpenCV imported an empty network from " + path.string());
    impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    return invalid("inference.model", "OpenCV cannot import " + path.string() + ": " + e.what());
  } catch (const std::exception& e) {
    return invalid("inference.model", "OpenCV cannot import " + path.string() + ": " + e.what());
  }
  if (impl->net.getLayerId(impl->output) < 0) {
    return invalid("inference.output", "OpenCV does not expose output '" + impl->output + "' of the model");
  }
  return std::unique_ptr<OpenCvDnnModel>(new OpenCvDnnModel(std::move(impl)));
}

Result<cv::Mat> OpenCvDnnModel::run(const cv::Mat& input) {
  // A firewall around the foreign library: OpenCV reports shape and type problems by throwing.
  try {
    impl_->net.setInput(input);
    cv::Mat output = impl_->net.forward(impl_->output);
    if (output.depth() != CV_32F) output.convertTo(output, CV_32F);
    return output.clone();  // forward() may return a view of the network's own buffer
  } catch (const cv::Exception& e) {
    return make_error("inference_failed", e.what());
  } catch (const std::exception& e) {
    return make_error("inference_failed", e.what());
  }
}

std::vector<std::int64_t> OpenCvDnnModel::declared_input() const { return impl_->input_dims; }
const std::string& OpenCvDnnModel::output_name() const { return impl_->output; }
const std::string& OpenCvDnnModel::sha256() const { return impl_->sha256; }

}  // namespace creni::process
