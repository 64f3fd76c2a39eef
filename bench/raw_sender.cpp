// A lean C-STORE sender for bench/scp_ingest.py --lean-sender: every file's data set is read into memory before the
// association opens, then sent as it is (raw PDVs, no parsing, no encoding) one C-STORE after the other, each
// waiting for its response like storescu. What is left of the sender's time per image is the network exchange, so a
// receiver's own share of the serial chain shows.
//
// Usage: creni-bench-sender PORT CALLING_AE CALLED_AE FILE...
// Prints "images=N seconds=S failed=K" (S: first request to last response), then "latency_ms" and each C-STORE's
// milliseconds on a second line; exit status 1 when any C-STORE failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "creni/dicom/part10_meta.hpp"
#include "raw_store_scu.hpp"

namespace {

struct Loaded {
  std::string sop_class;
  std::string sop_instance;
  std::string dataset;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PORT CALLING_AE CALLED_AE FILE...\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  std::vector<Loaded> images;
  std::vector<creni::testing::RawContext> contexts;
  for (int i = 4; i < argc; ++i) {
    const auto meta = creni::dicom::read_meta_identity(argv[i]);
    if (!meta) {
      std::fprintf(stderr, "%s: %s\n", argv[i], meta.error().describe().c_str());
      return 2;
    }
    Loaded image;
    image.sop_class = meta->media_storage_sop_class_uid;
    image.sop_instance = meta->media_storage_sop_instance_uid;
    image.dataset = creni::testing::dataset_of(argv[i]);
    images.push_back(std::move(image));
    // One context per SOP class, in the syntax the files are in (the bench's series share both).
    const bool proposed = std::any_of(contexts.begin(), contexts.end(), [&](const creni::testing::RawContext& c) {
      return c.sop_class == meta->media_storage_sop_class_uid;
    });
    if (!proposed) {
      creni::testing::RawContext context;
      context.sop_class = meta->media_storage_sop_class_uid;
      context.transfer_syntaxes = {meta->transfer_syntax_uid};
      contexts.push_back(context);
    }
  }
  auto association = creni::testing::RawStoreAssociation::open(port, argv[2], argv[3], contexts);
  if (!association) {
    std::fprintf(stderr, "%s\n", association.error().describe().c_str());
    return 1;
  }
  std::vector<double> latencies_ms;
  int failed = 0;
  const auto started = std::chrono::steady_clock::now();
  for (const auto& image : images) {
    const auto sent = std::chrono::steady_clock::now();
    const int status = (*association)->store(image.sop_class, image.sop_instance, image.dataset);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    if (status != 0) ++failed;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  association->reset();  // released before the figures are printed
  std::printf("images=%zu seconds=%.4f failed=%d\nlatency_ms", images.size(), seconds, failed);
  for (const double ms : latencies_ms) std::printf(" %.3f", ms);
  std::printf("\n");
  return failed == 0 ? 0 : 1;
}
