#include "dataset_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "creni/common/atomic_file.hpp"

namespace creni::ingest {

namespace {

// Never returns an error to glibc: after a failed cookie write, glibc 2.36's fwrite falls back to a buffer copy
// that overruns the FILE's buffer (seen as a crash here). A failure is recorded instead, the bytes are dropped, and
// close() reports it; the association stays in step, so the sender still gets its 0xA700.
ssize_t write_capped(void* cookie, const char* data, size_t size) {
  auto& state = *static_cast<DatasetSink::State*>(cookie);
  if (state.fd < 0 || state.exceeded || state.failed) return static_cast<ssize_t>(size);  // counted, not stored
  if (state.written + size > state.limit) {
    // Too large: what is stored so far is given back at once; the rest of the data set is only read.
    state.exceeded = true;
    (void)::ftruncate(state.fd, 0);
    return static_cast<ssize_t>(size);
  }
  if (!fs::write_all(state.fd, data, size)) {
    state.failed = true;  // disk full or broken: what is stored is given back, the rest only read
    (void)::ftruncate(state.fd, 0);
    return static_cast<ssize_t>(size);
  }
  state.written += size;
  if (state.hash != nullptr) state.hash->update(data, size);
  return static_cast<ssize_t>(size);
}

// The descriptor belongs to the sink's caller, not to the FILE*.
int close_nothing(void*) { return 0; }

}  // namespace

DatasetSink::DatasetSink(int fd, std::uint64_t limit) {
  state_.fd = fd;
  state_.limit = limit;
  state_.hash = &hash_;
}

DatasetSink::~DatasetSink() { (void)close(); }

Result<std::unique_ptr<DatasetSink>> DatasetSink::writing_to(int fd, const std::string& head, std::uint64_t limit) {
  if (!fs::write_all(fd, head.data(), head.size())) {
    return make_error("io_error", std::string("cannot write the meta header: ") + std::strerror(errno));
  }
  std::unique_ptr<DatasetSink> sink(new DatasetSink(fd, limit));
  if (!sink->open_stream()) return make_error("io_error", "cannot set up the spool stream");
  return sink;
}

Result<std::unique_ptr<DatasetSink>> DatasetSink::discarding() {
  std::unique_ptr<DatasetSink> sink(new DatasetSink(-1, 0));
  if (!sink->open_stream()) return make_error("io_error", "cannot set up a discarding stream");
  return sink;
}

bool DatasetSink::open_stream() {
  const cookie_io_functions_t functions{nullptr, write_capped, nullptr, close_nothing};
  FILE* cookie_file = ::fopencookie(&state_, "w", functions);
  if (cookie_file == nullptr) return false;
  // DCMTK hands over whole PDVs: each goes to write_capped as it is, not cut at the edges of a stdio buffer.
  (void)::setvbuf(cookie_file, nullptr, _IONBF, 0);
  // DcmOutputFileStream closes the FILE* when it is destroyed.
  stream_ = std::make_unique<DcmOutputFileStream>(cookie_file);
  return stream_->good();
}

bool DatasetSink::close() {
  if (closed_) return !state_.failed;
  closed_ = true;
  if (stream_) {
    stream_->flush();
    if (!stream_->good()) state_.failed = true;
    stream_.reset();
  }
  return !state_.failed;
}

}  // namespace creni::ingest
