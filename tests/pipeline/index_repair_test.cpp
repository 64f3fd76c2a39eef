#include "creni/pipeline/index_repair.hpp"

#include <gtest/gtest.h>

#include "dicom_factory.hpp"
#include "harness.hpp"

namespace creni::pipeline {
namespace {

using testing::ImageSpec;
using testing::write_image;

// A node's folders and journal after a crash between "written" and the image.db commit.
class IndexRepair : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.input_dir = dir_ / "INPUT";
    options_.output_dir = dir_ / "OUTPUT";
    auto opened = journal::Journal::open(dir_ / "journal.db");
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  // One job through to `written` whose result (and, for SCP, mirrored input) exist as real files.
  std::int64_t written(journal::Source source, const std::string& sop, bool keep_result_file = true) {
    ImageSpec spec;
    spec.sop_instance_uid = sop;
    spec.study_instance_uid = "2.25.100";
    const auto input = options_.input_dir / "gateway_1" / spec.study_instance_uid / sop;
    const auto output = options_.output_dir / "gateway_1" / spec.study_instance_uid / (sop + ".dcm");
    std::filesystem::create_directories(input.parent_path());
    std::filesystem::create_directories(output.parent_path());
    EXPECT_TRUE(write_image(spec, input).ok());
    if (keep_result_file) {
      EXPECT_TRUE(write_image(spec, output).ok());
    }
    journal::NewArrival arrival;
    arrival.gateway_id = "1";
    arrival.source = source;
    arrival.input_path = input;
    arrival.sop_instance_uid = sop;
    arrival.content_hash = "hash-" + sop;
    auto recorded = journal_->record_arrival(arrival);
    EXPECT_TRUE(recorded.ok());
    EXPECT_TRUE(journal_->claim_next(2).ok());
    EXPECT_TRUE(journal_->mark_written(recorded->job_id, output, sop, {}).ok());
    return recorded->job_id;
  }

  bool indexed_in(const std::filesystem::path& folder, const std::string& sop) {
    auto index = catalog::Catalog::open_read_only(folder / "image.db");
    if (!index) return false;
    auto contained = index.value()->contains_image(sop);
    return contained.ok() && contained.value();
  }

  harness::TempDir dir_{"creni-index-repair"};
  PipelineOptions options_;
  std::unique_ptr<journal::Journal> journal_;
};

TEST_F(IndexRepair, rows_owed_after_a_crash_are_read_back_from_the_results_and_confirmed) {
  const std::int64_t confirmed = written(journal::Source::folder, "2.25.1");
  ASSERT_TRUE(journal_->mark_catalogued({confirmed}).ok());
  const std::int64_t from_folder = written(journal::Source::folder, "2.25.2");
  const std::int64_t from_scp = written(journal::Source::scp, "2.25.3");
  const std::int64_t result_gone = written(journal::Source::folder, "2.25.4", /*keep_result_file=*/false);

  CatalogWriter writer([&](const std::vector<std::int64_t>& ids) { ASSERT_TRUE(journal_->mark_catalogued(ids).ok()); });
  EXPECT_EQ(queue_missing_index_rows(*journal_, writer, options_), 2U);
  writer.flush();

  const auto output = options_.output_dir / "gateway_1";
  const auto input = options_.input_dir / "gateway_1";
  EXPECT_FALSE(indexed_in(output, "2.25.1"));  // confirmed before: not read again
  EXPECT_TRUE(indexed_in(output, "2.25.2"));
  EXPECT_TRUE(indexed_in(output, "2.25.3"));
  EXPECT_FALSE(indexed_in(input, "2.25.2"));  // a gateway's own drop is indexed by the gateway
  EXPECT_TRUE(indexed_in(input, "2.25.3"));   // an SCP arrival mirrored into INPUT is indexed by the node
  auto row = catalog::Catalog::open_read_only(output / "image.db").value()->find_image("2.25.2");
  ASSERT_TRUE(row.ok() && row->has_value());
  bool has_path = false;
  for (const auto& [column, value] : row->value().image) {
    if (column == "PrivateCreator") has_path = value == (output / "2.25.100" / "2.25.2.dcm").string();
  }
  EXPECT_TRUE(has_path);

  // The result that is gone has nothing to index: the journal stops asking for it too.
  auto owed = journal_->jobs_awaiting_catalogue(-1);
  ASSERT_TRUE(owed.ok());
  EXPECT_TRUE(owed->empty());
  EXPECT_EQ(queue_missing_index_rows(*journal_, writer, options_), 0U);
  (void)result_gone;
  (void)from_folder;
  (void)from_scp;
}

}  // namespace
}  // namespace creni::pipeline
