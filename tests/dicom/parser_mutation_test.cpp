// RELIABILITY S8, the part that runs in CI: the byte parsers the node process itself runs on untrusted files
// (read_meta_identity, read_dataset_identity, has_pixel_data; everything else is parsed by worker processes) get thousands of
// seeded mutations of valid files: bit flips, boundary lengths, truncations, duplicated and deleted chunks. This
// suite compiles those sources with AddressSanitizer and UndefinedBehaviorSanitizer (see CMakeLists.txt), so
// an out-of-bounds read or an overflow fails the test instead of passing silently. Every answer must be a value
// or one of the documented errors, and a value must keep the documented promises.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "creni/common/uid.hpp"
#include "creni/dicom/dataset_identity.hpp"
#include "creni/dicom/image_storage_classes.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "harness.hpp"

// DCMTK keeps its data dictionary until exit; that is not a leak of the code under test.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace creni::dicom {
namespace {

constexpr int kMutantsPerSeed = 1500;

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A small valid image in `syntax`; `leading_sequence` puts a sequence before the SOP UIDs.
std::string seed_file(const std::filesystem::path& folder, const char* syntax, bool leading_sequence) {
  DcmFileFormat file;
  DcmDataset* data = file.getDataset();
  data->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  data->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1143.7.1");
  data->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.2.1143.7.2");
  data->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.2.1143.7.3");
  data->putAndInsertString(DCM_PatientName, "MUTANT^SEED");
  data->putAndInsertUint16(DCM_Rows, 4);
  data->putAndInsertUint16(DCM_Columns, 4);
  data->putAndInsertUint16(DCM_BitsAllocated, 16);
  data->putAndInsertUint16(DCM_BitsStored, 12);
  data->putAndInsertUint16(DCM_HighBit, 11);
  data->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  data->putAndInsertUint16(DCM_PixelRepresentation, 0);
  data->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  const std::array<Uint16, 16> pixels{};
  data->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
  if (leading_sequence) {
    auto* sequence = new DcmSequenceOfItems(DcmTag(0x0008, 0x0006));  // Language Code Sequence, before (0008,0016)
    auto* item = new DcmItem();
    item->putAndInsertString(DCM_CodeValue, "en");
    sequence->insert(item);
    data->insert(sequence);
  }
  const auto path = folder / "seed.dcm";
  const E_TransferSyntax xfer = DcmXfer(syntax).getXfer();
  if (file.saveFile(path.c_str(), xfer, EET_ExplicitLength).bad()) return {};
  return bytes_of(path);
}

class Mutator {
 public:
  explicit Mutator(unsigned seed) : random_(seed) {}

  std::string mutate(std::string bytes) {
    const int rounds = 1 + static_cast<int>(pick(4));
    for (int i = 0; i < rounds && !bytes.empty(); ++i) {
      switch (pick(7)) {
        case 0: bytes[position(bytes)] ^= static_cast<char>(1U << pick(8)); break;
        case 1: bytes[position(bytes)] = static_cast<char>(std::array<int, 4>{0x00, 0xFF, 0x7F, 0x80}[pick(4)]); break;
        case 2: put32(bytes, position(bytes), interesting32(bytes.size())); break;
        case 3: put16(bytes, position(bytes), std::array<std::uint16_t, 5>{0, 1, 0x7FFF, 0x8000, 0xFFFF}[pick(5)]); break;
        case 4: bytes.resize(pick(bytes.size())); break;
        case 5: {
          const std::size_t from = position(bytes);
          const std::size_t length = std::min<std::size_t>(pick(256) + 1, bytes.size() - from);
          bytes.insert(position(bytes), bytes.substr(from, length));
          break;
        }
        default: {
          const std::size_t from = position(bytes);
          bytes.erase(from, std::min<std::size_t>(pick(64) + 1, bytes.size() - from));
          break;
        }
      }
    }
    return bytes;
  }

 private:
  std::size_t pick(std::size_t below) { return below == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, below - 1)(random_); }

  // Mostly in the headers (meta group and the first elements), where the lengths and VRs are.
  std::size_t position(const std::string& bytes) {
    const std::size_t head = std::min<std::size_t>(bytes.size(), 512);
    return pick(4) != 0 ? pick(head) : pick(bytes.size());
  }

  std::uint32_t interesting32(std::size_t size) {
    const std::array<std::uint32_t, 8> values{0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
                                              static_cast<std::uint32_t>(size)};
    return values[pick(values.size())];
  }

  static void put16(std::string& bytes, std::size_t at, std::uint16_t value) {
    for (std::size_t i = 0; i < 2 && at + i < bytes.size(); ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
  }
  static void put32(std::string& bytes, std::size_t at, std::uint32_t value) {
    for (std::size_t i = 0; i < 4 && at + i < bytes.size(); ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
  }

  std::mt19937 random_;
};

struct Seed {
  const char* syntax;
  bool leading_sequence;
};

void PrintTo(const Seed& seed, std::ostream* out) {
  *out << seed.syntax << (seed.leading_sequence ? " with a sequence first" : "");
}

class ParserMutation : public ::testing::TestWithParam<Seed> {
 protected:
  harness::TempDir temp_{"creni-mutants"};
};

TEST_P(ParserMutation, every_mutant_gets_a_value_or_a_documented_error_and_nothing_out_of_bounds) {
  const std::string seed = seed_file(temp_.path(), GetParam().syntax, GetParam().leading_sequence);
  ASSERT_FALSE(seed.empty()) << "cannot write the seed file";
  const std::set<std::string> meta_errors{"not_part10", "malformed_meta", "io_error"};
  const std::set<std::string> dataset_errors{"not_part10", "malformed", "undetermined", "io_error"};
  const auto mutant_path = temp_ / "mutant.dcm";
  Mutator mutator(static_cast<unsigned>(std::hash<std::string>{}(GetParam().syntax)) + GetParam().leading_sequence);
  int values = 0;  // mutants whose meta group still reads
  for (int n = 0; n < kMutantsPerSeed; ++n) {
    const std::string mutant = mutator.mutate(seed);
    {
      std::ofstream out(mutant_path, std::ios::binary | std::ios::trunc);
      out.write(mutant.data(), static_cast<std::streamsize>(mutant.size()));
    }
    const auto meta = read_meta_identity(mutant_path);
    if (meta.ok()) {
      ++values;
      const int fd = ::open(mutant_path.c_str(), O_RDONLY | O_CLOEXEC);
      const auto pixels = has_pixel_data(fd, meta.value());
      ::close(fd);
      if (!pixels.ok()) {
        EXPECT_EQ(dataset_errors.count(pixels.error().code), 1U) << "mutant " << n << ": " << pixels.error().describe();
      }
      EXPECT_LE(meta->dataset_offset, mutant.size()) << "mutant " << n;
      for (const std::string* uid : {&meta->media_storage_sop_class_uid, &meta->media_storage_sop_instance_uid,
                                     &meta->transfer_syntax_uid}) {
        EXPECT_TRUE(uid->empty() || uid::is_valid(*uid)) << "mutant " << n << ": meta UID " << *uid;
      }
    } else {
      EXPECT_EQ(meta_errors.count(meta.error().code), 1U) << "mutant " << n << ": " << meta.error().describe();
    }
    // The data set's UIDs are not validated by contract (the caller compares them with the command's).
    const auto identity = read_dataset_identity(mutant_path);
    if (!identity.ok()) {
      EXPECT_EQ(dataset_errors.count(identity.error().code), 1U) << "mutant " << n << ": "
                                                                << identity.error().describe();
    }
    if (::testing::Test::HasFailure()) break;  // one mutant's report is enough to reproduce it (seeded)
  }
  // The mutations must leave many files readable, or this would only test the first check of each parser.
  EXPECT_GT(values, kMutantsPerSeed / 10);
}

std::string seed_name(const ::testing::TestParamInfo<Seed>& info) {
  static const std::array<const char*, 5> names{"explicit_le", "implicit_le", "explicit_be", "deflated",
                                                "sequence_first"};
  return names[info.index];
}

INSTANTIATE_TEST_SUITE_P(EverySyntax, ParserMutation,
                         ::testing::Values(Seed{UID_LittleEndianExplicitTransferSyntax, false},
                                           Seed{UID_LittleEndianImplicitTransferSyntax, false},
                                           Seed{UID_BigEndianExplicitTransferSyntax, false},
                                           Seed{UID_DeflatedExplicitVRLittleEndianTransferSyntax, false},
                                           Seed{UID_LittleEndianExplicitTransferSyntax, true}),
                         seed_name);

}  // namespace
}  // namespace creni::dicom
