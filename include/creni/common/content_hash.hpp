#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "creni/common/result.hpp"

namespace creni {

/// SHA-256 over bytes handed in pieces; one object per digest. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* bytes, std::size_t size);
  /// The digest of everything updated so far, as 64 lowercase hex digits; ends the object's use.
  [[nodiscard]] std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// `size` bytes as lowercase hex digits, two per byte: how the journal writes content hashes.
[[nodiscard]] std::string lowercase_hex(const unsigned char* bytes, std::size_t size);

/// SHA-256 of an open file's bytes from `from_offset` on, read with pread (the descriptor's offset is not moved).
/// Error "io_error".
[[nodiscard]] Result<std::string> sha256_of(int fd, std::uint64_t from_offset = 0);

/// SHA-256 of a file's bytes from `from_offset` on, as 64 lowercase hex digits. Opens with O_NOFOLLOW and
/// O_NONBLOCK and reads only a regular file. Errors "not_regular_file" (FIFO, device, socket, directory),
/// "unreadable" (permission denied), "io_error".
[[nodiscard]] Result<std::string> sha256_of_file(const std::filesystem::path& path, std::uint64_t from_offset = 0);

}  // namespace creni
