#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace creni {

/// SHA-256 computed incrementally (OpenSSL). Not thread-safe; one per computation.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  /// The digest as 64 lowercase hex digits; ends the computation.
  [[nodiscard]] std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace creni
