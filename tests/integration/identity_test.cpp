// One identity per job and no result replaced by another job (issue 12, points 1-3 and the worker part of 7),
// against the built binary: files whose meta header and data set disagree, files without meta header that name an
// instance already written, symbolic links where the node writes, inputs swapped while their job waits, and the
// node killed with SIGKILL while a worker runs.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kFirstPixel = 100;
constexpr int kSecondPixel = 3000;

ImageSpec image_of(const std::string& patient, int pixel, const std::string& study, const std::string& sop) {
  ImageSpec spec;
  spec.patient_name = patient;
  spec.pixel = [pixel](int, int, int, int) { return pixel; };
  spec.study_instance_uid = study;
  spec.series_instance_uid = study + ".1";
  spec.sop_instance_uid = sop;
  return spec;
}

// Written under a temporary name and moved in, as a careful sender does.
void drop(const std::unique_ptr<DcmFileFormat>& file, const std::filesystem::path& target, E_FileWriteMode mode) {
  std::filesystem::create_directories(target.parent_path());
  const auto temp = target.string() + ".part";
  ASSERT_TRUE(file->saveFile(temp.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                             0, 0, mode)
                  .good());
  std::filesystem::rename(temp, target);
}

void drop_image(const ImageSpec& spec, const std::filesystem::path& target) {
  drop(make_image(spec), target, EWM_fileformat);
}

// The stored value of the last pixel of the first frame (far from the burned-in marker), or -1.
int last_pixel_of(const std::filesystem::path& file) {
  DcmFileFormat format;
  if (format.loadFile(file.c_str()).bad()) return -1;
  const Uint16* pixels = nullptr;
  unsigned long count = 0;
  if (format.getDataset()->findAndGetUint16Array(DCM_PixelData, pixels, &count).bad() || count == 0) return -1;
  return pixels[count - 1];
}

std::string bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A slow external step (it copies the image after `seconds`), so that jobs wait and run long enough to be
// interfered with.
std::string slow_processing(int seconds) {
  return "[processing]\nsteps = [\"describe\", \"external\", \"burn_in\"]\n[inference]\nalgorithm_name = \"slow\"\n"
         "algorithm_version = \"1\"\n[inference.external]\ncommand = [\"/bin/sh\", \"-c\", \"sleep " +
         std::to_string(seconds) + "; cp \\\"$1\\\" \\\"$2\\\"\", \"slow\"]\n";
}

bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  // A zombie nobody reaps (no init in a container) has ended all the same.
  const auto state = line.find(") ");
  return state != std::string::npos && state + 2 < line.size() && line[state + 2] == 'Z';
}

TEST(Identity, a_file_whose_meta_header_names_another_instance_is_rejected_and_nothing_is_written) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const std::string study = fresh_uid();
  const std::string in_dataset = fresh_uid();
  const std::string in_meta = fresh_uid();
  auto file = make_image(image_of("DOE^JANE", kFirstPixel, study, in_dataset));
  ASSERT_TRUE(file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, "1.2.840.10008.5.1.4.1.1.2").good());
  ASSERT_TRUE(file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, in_meta.c_str()).good());
  ASSERT_TRUE(file->getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, "1.2.840.10008.1.2.1").good());
  drop(file, node.input() / "gateway_1" / study / in_meta, EWM_dontUpdateMeta);

  ASSERT_TRUE(node.wait_for_state("rejected", 1, 60s)) << node.status_json() << node.log();
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"reason\":\"identity_mismatch\""), std::string::npos) << status;
  EXPECT_NE(status.find("SOPInstanceUID: meta header " + in_meta + ", data set " + in_dataset), std::string::npos)
      << status;
  EXPECT_TRUE(node.outputs().empty());
  EXPECT_EQ(harness::files_below(node.state() / "quarantine" / "gateway_1").size(), 1u);
}

TEST(Identity, a_file_without_meta_header_naming_a_written_instance_is_an_output_conflict_and_the_result_stays) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const std::string study = fresh_uid();
  const std::string sop = fresh_uid();
  const auto first = node.input() / "gateway_1" / study / sop;
  drop_image(image_of("FIRST^PATIENT", kFirstPixel, study, sop), first);
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  ASSERT_EQ(node.outputs().size(), 1u);
  const auto result = node.outputs().front();
  const std::string result_bytes = bytes_of(result);

  // Another patient's image with the same UIDs and no meta header: the arrival names no instance, so only the
  // data set tells, and its result would take the first one's name.
  const auto second = node.input() / "gateway_1" / "elsewhere" / "image";
  drop(make_image(image_of("SECOND^PATIENT", kSecondPixel, study, sop)), second, EWM_dataset);
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 60s)) << node.status_json() << node.log();
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"reason\":\"output_conflict\""), std::string::npos) << status;

  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(bytes_of(result), result_bytes) << "the first result was replaced";
  EXPECT_EQ(tag_of(result, DCM_PatientName), "FIRST^PATIENT");
  EXPECT_TRUE(std::filesystem::exists(first));
  EXPECT_TRUE(std::filesystem::exists(second));
  EXPECT_EQ(harness::files_below(node.state() / "quarantine" / "gateway_1").size(), 1u);
  EXPECT_TRUE(temporary_files_below(node.output()).empty());
}

TEST(Identity, the_scp_mirror_never_writes_through_a_symlinked_study_folder) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir elsewhere("creni-elsewhere");
  const std::string study = fresh_uid();
  std::filesystem::create_directories(node.input() / "gateway_1");
  std::filesystem::create_directory_symlink(elsewhere.path(), node.input() / "gateway_1" / study);
  harness::TempDir scratch("creni-send");
  const auto image = scratch / "image.dcm";
  ASSERT_TRUE(write_image(image_of("DOE^JANE", kFirstPixel, study, fresh_uid()), image).ok());

  const auto sent = harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port()), image.string()},
                                         60s);
  ASSERT_EQ(sent.exit_code, 0) << sent.err << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_TRUE(harness::files_below(elsewhere.path()).empty()) << "the mirror followed the link";
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_NE(node.log().find("not mirrored into INPUT"), std::string::npos) << node.log();
}

TEST(Identity, the_scp_mirror_never_replaces_nor_adopts_another_file_under_the_instances_name) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const std::string study = fresh_uid();
  const std::string sop = fresh_uid();
  // A file already under the name the mirror would use, holding another instance (the folder door processes it
  // as that instance).
  const auto occupied = node.input() / "gateway_1" / study / sop;
  drop_image(image_of("SOMEONE^ELSE", kSecondPixel, study, fresh_uid()), occupied);
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  const std::string occupied_bytes = bytes_of(occupied);
  harness::TempDir scratch("creni-send");
  const auto image = scratch / "image.dcm";
  ASSERT_TRUE(write_image(image_of("DOE^JANE", kFirstPixel, study, sop), image).ok());

  const auto sent = harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port()), image.string()},
                                         60s);
  ASSERT_EQ(sent.exit_code, 0) << sent.err << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(bytes_of(occupied), occupied_bytes) << "the mirror replaced a file it did not write";
  EXPECT_NE(node.log().find("not mirrored into INPUT"), std::string::npos) << node.log();
  EXPECT_EQ(node.outputs().size(), 2u);
}

TEST(Identity, a_deliberate_reprocess_replaces_the_jobs_own_result) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const std::string study = fresh_uid();
  drop_image(image_of("DOE^JANE", kFirstPixel, study, fresh_uid()), node.input() / "gateway_1" / study / "image");
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  const auto reprocess = harness::run_command(
      {CRENI_NODE_BINARY, "reprocess", "--job", "1", "--config", node.config_file().string()}, 30s);
  ASSERT_EQ(reprocess.exit_code, 0) << reprocess.err;
  ASSERT_EQ(node.count_in_state("written"), 0) << node.status_json();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_TRUE(temporary_files_below(node.output()).empty());
}

TEST(Identity, an_input_swapped_while_its_job_waits_is_rejected_as_input_changed_and_no_output_is_a_mix) {
  NodeUnderTest::Settings settings;
  settings.tables = slow_processing(4);
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const auto gateway = node.input() / "gateway_1";
  // Two slow jobs keep both workers busy; the third waits.
  for (int i = 0; i < 2; ++i) {
    const std::string study = fresh_uid();
    drop_image(image_of("FILLER^" + std::to_string(i), kFirstPixel, study, fresh_uid()), gateway / study / "filler");
  }
  ASSERT_TRUE(node.wait_for_state("processing", 2, 30s)) << node.status_json() << node.log();
  const std::string study = fresh_uid();
  const std::string sop = fresh_uid();
  const auto target = gateway / study / sop;
  drop_image(image_of("FIRST^PATIENT", kFirstPixel, study, sop), target);
  ASSERT_TRUE(node.wait_for_state("received", 1, 30s)) << node.status_json() << node.log();
  // Same path, another patient's image (another instance, so that its own arrival is a job of its own).
  drop_image(image_of("SECOND^PATIENT", kSecondPixel, study, fresh_uid()), target);

  ASSERT_TRUE(node.wait_for_state("rejected", 1, 60s)) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 3, 60s)) << node.status_json() << node.log();
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"reason\":\"input_changed\""), std::string::npos) << status;
  for (const auto& output : node.outputs()) {
    const std::string patient = tag_of(output, DCM_PatientName);
    const int expected = patient == "SECOND^PATIENT" ? kSecondPixel : kFirstPixel;
    EXPECT_EQ(last_pixel_of(output), expected) << output << " mixes " << patient << " with other pixels";
    EXPECT_NE(patient, "FIRST^PATIENT") << "the first image was processed from bytes that were no longer its own";
  }
}

TEST(Identity, a_fifo_named_image_db_in_the_gateway_folder_never_blocks_a_worker) {
  NodeUnderTest::Settings settings;
  settings.tables = "[processing]\njob_timeout_s = 5\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  std::filesystem::create_directories(node.input() / "gateway_1");
  ASSERT_EQ(::mkfifo((node.input() / "gateway_1" / "image.db").c_str(), 0600), 0);
  const std::string study = fresh_uid();
  drop_image(image_of("DOE^JANE", kFirstPixel, study, fresh_uid()), node.input() / "gateway_1" / study / "image");
  ASSERT_TRUE(node.wait_for_state("written", 1, 4s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0);
}

TEST(Identity, a_node_killed_with_sigkill_leaves_no_worker_running) {
  NodeUnderTest::Settings settings;
  settings.tables = slow_processing(30);
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const std::string study = fresh_uid();
  drop_image(image_of("DOE^JANE", kFirstPixel, study, fresh_uid()), node.input() / "gateway_1" / study / "image");
  ASSERT_TRUE(node.wait_for_state("processing", 1, 30s)) << node.status_json() << node.log();
  const std::vector<pid_t> workers = node.children();
  ASSERT_FALSE(workers.empty());

  node.kill_hard();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<pid_t> alive = workers;
  while (!alive.empty() && std::chrono::steady_clock::now() < deadline) {
    alive.erase(std::remove_if(alive.begin(), alive.end(), process_gone), alive.end());
    if (!alive.empty()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(alive.empty()) << alive.size() << " worker(s) still running after the node was killed";
  for (const pid_t pid : alive) ::kill(pid, SIGKILL);  // never leave them behind, whatever the outcome
}

}  // namespace
}  // namespace creni::testing
