#include "creni/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "creni/metrics/arrival_metrics.hpp"
#include "creni/metrics/forward_metrics.hpp"
#include "creni/metrics/pipeline_metrics.hpp"
#include "creni/metrics/scp_metrics.hpp"
#include "exposition_lines.hpp"

namespace creni::metrics {
namespace {

TEST(MetricsRegistry, handles_count_with_their_labels_in_the_text_format) {
  Registry registry;
  ArrivalMetrics arrivals(registry);
  arrivals.arrived("1", "scp", "accepted", 100);
  arrivals.arrived("1", "scp", "accepted", 50);
  arrivals.arrived("2", "folder", "duplicate", 999);
  const std::string text = registry.exposition();
  EXPECT_TRUE(has_line(text, "# TYPE creni_arrivals_total counter")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_arrivals_total{door="scp",gateway="1",outcome="accepted"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_duplicate_arrivals_total{door="folder",gateway="2"} 1)")) << text;
  EXPECT_EQ(text.find(R"(outcome="duplicate")"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, R"(creni_scp_received_bytes_total{gateway="1"} 150)")) << text;
  EXPECT_EQ(text.find(R"(creni_scp_received_bytes_total{gateway="2"})"), std::string::npos) << "folder bytes are not SCP bytes";
}

TEST(MetricsRegistry, association_results_are_a_small_fixed_set_of_labels) {
  Registry registry;
  ScpMetrics scp(registry);
  scp.association_ended("released");
  scp.association_ended("aborted by peer");
  scp.association_ended("rejected: calling AE title not recognized");
  scp.association_ended("busy");
  scp.association_ended("A-ASSOCIATE-RQ unreadable: \"peer text\"");
  const std::string text = registry.exposition();
  for (const char* result : {"released", "aborted", "rejected", "busy", "failed"}) {
    EXPECT_TRUE(has_line(text, std::string("creni_scp_associations_total{result=\"") + result + "\"} 1")) << text;
  }
}

TEST(MetricsRegistry, histograms_share_one_processing_family_across_handles) {
  Registry registry;
  PipelineMetrics pipeline(registry);
  ForwardMetrics forward(registry);
  pipeline.step_took("worker", 0.2);
  pipeline.written("1", 0.3);
  pipeline.worker_started();
  pipeline.worker_started();
  pipeline.worker_replaced();
  forward.forwarded("pacs", "1", "done", 0.05, 1.5);
  forward.forwarded("pacs", "1", "forward_failed", 0.01, std::nullopt);
  const std::string text = registry.exposition();
  EXPECT_TRUE(has_line(text, R"(creni_processing_seconds_count{step="worker"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_processing_seconds_count{step="forward"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_processing_seconds_bucket{step="worker",le="0.25"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_arrival_to_written_seconds_sum{gateway="1"} 0.3)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_arrival_to_forwarded_seconds_count{gateway="1"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_forwards_total{destination="pacs",outcome="forward_failed"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "creni_workers_running 1")) << text;
  EXPECT_TRUE(has_line(text, "creni_worker_restarts_total 1")) << text;
  EXPECT_EQ(pipeline.workers_running(), 1);
}

TEST(MetricsRegistry, collectors_and_extra_families_are_read_at_every_exposition) {
  Registry registry;
  int reads = 0;
  registry.add_collector([&reads] {
    ++reads;
    return std::vector<Family>{{"creni_test_reads", "reads", Kind::counter, {{{}, static_cast<double>(reads)}}}};
  });
  (void)registry.exposition();
  const std::string text = registry.exposition({{"creni_extra", "extra", Kind::gauge, {{{{"a", "b"}}, 7}}}});
  EXPECT_TRUE(has_line(text, "creni_test_reads 2")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_extra{a="b"} 7)")) << text;
  EXPECT_LT(text.find("creni_extra"), text.find("creni_test_reads")) << "families are sorted by name";
}

TEST(MetricsRegistry, a_failing_collector_costs_only_its_own_families) {
  Registry registry;
  ArrivalMetrics arrivals(registry);
  arrivals.arrived("1", "folder", "accepted", 0);
  registry.add_collector([]() -> std::vector<Family> { throw std::runtime_error("journal gone"); });
  const std::string text = registry.exposition();
  EXPECT_TRUE(has_line(text, R"(creni_arrivals_total{door="folder",gateway="1",outcome="accepted"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "creni_metrics_collector_errors 1")) << text;
}

}  // namespace
}  // namespace creni::metrics
