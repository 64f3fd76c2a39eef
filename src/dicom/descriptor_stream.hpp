#pragma once

#include <dcmtk/dcmdata/dcerror.h>
#include <dcmtk/dcmdata/dcistrma.h>

#include <cstdint>

#include "creni/common/content_hash.hpp"

namespace creni::dicom {

/// The bytes of one open regular file, for DCMTK, hashed as they pass (from `hash_from` on). Reads with pread at
/// its own position, so nothing else moves it; the file's size is taken once, when the producer is made.
class DescriptorProducer : public DcmProducer {
 public:
  DescriptorProducer(int fd, std::uint64_t hash_from, Sha256& hash);

  OFBool good() const override { return status_.good(); }
  OFCondition status() const override { return status_; }
  OFBool eos() override { return position_ >= size_; }
  offile_off_t avail() override { return position_ >= size_ ? 0 : static_cast<offile_off_t>(size_ - position_); }
  offile_off_t read(void* buf, offile_off_t buflen) override;
  offile_off_t skip(offile_off_t skiplen) override;
  void putback(offile_off_t num) override;

  /// Hashes whatever DCMTK did not read, up to the size taken at the start. False on a read error.
  bool finish();

 private:
  int fd_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
  std::uint64_t hashed_;  // bytes before this offset are in the hash (or before hash_from: never)
  Sha256& hash_;
  OFCondition status_ = EC_Normal;
};

/// A DCMTK input stream over DescriptorProducer. It offers no factory (newFactory() is null), so DCMTK loads
/// every value while parsing and never opens the file again by its path: what is parsed is what was hashed.
class DescriptorInputStream : public DcmInputStream {
 public:
  DescriptorInputStream(int fd, std::uint64_t hash_from, Sha256& hash);
  DcmInputStreamFactory* newFactory() const override { return nullptr; }
  bool finish() { return producer_.finish(); }

 private:
  DescriptorProducer producer_;
};

}  // namespace creni::dicom
