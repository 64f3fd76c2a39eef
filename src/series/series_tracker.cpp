#include "creni/series/series_tracker.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "creni/common/clock.hpp"
#include "creni/journal/journal.hpp"
#include "creni/process/series_inference.hpp"
#include "creni/series/completion.hpp"

namespace creni::series {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr int kMaxAttempts = 2;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("series");
  return named ? named : spdlog::default_logger();
}

// A failure the next attempt cannot change: recorded as final at once.
bool is_final(const Error& error) {
  return error.code == "invalid_report" || error.code == "invalid_config" || error.code == "invalid_uid";
}

// The steps of a gateway's series, each checked now: a module that is not there or a model that does not fit
// refuses the start ("invalid_config" naming the key).
Result<std::unique_ptr<SeriesJob>> make_job(const config::SeriesConfig& series, const config::NodeConfig& config,
                                            const std::string& gateway_id, config::OutputLayout layout,
                                            const std::string& key, const std::string& executable) {
  std::vector<process::SeriesModule> steps;
  const auto work_root = config.state_dir / "series-work";
  for (const std::string& step : series.steps) {
    auto made = step == "infer" ? process::make_series_infer_step(series, config.processing, work_root, executable, key)
                                : process::SeriesModule::make(series, config.processing, work_root);
    if (!made) return make_error("invalid_config", key + ": " + made.error().message);
    steps.push_back(std::move(made).value());
  }
  SeriesJobSettings settings{series, layout, config.output_dir / ("gateway_" + gateway_id), config.processing.marker};
  return std::make_unique<SeriesJob>(std::move(settings), std::move(steps));
}

}  // namespace

SeriesTracker::SeriesTracker(const config::NodeConfig& config, journal::Journal& journal, std::string executable,
                             std::function<void()> on_reported)
    : config_(config), journal_(journal), executable_(std::move(executable)), on_reported_(std::move(on_reported)) {}

SeriesTracker::~SeriesTracker() { stop(); }

const config::SeriesConfig& SeriesTracker::series_of(const std::string& gateway_id) const {
  const config::GatewayConfig* gateway = config_.find_gateway(gateway_id);
  return gateway != nullptr ? gateway->series : config_.series;
}

Status SeriesTracker::start() {
  if (thread_.joinable()) return {};
  // Work folders of a series job that a crash interrupted: the job runs again in a fresh one.
  std::error_code error;
  const auto removed = std::filesystem::remove_all(config_.state_dir / "series-work", error);
  if (!error && removed > 0) logger()->info("recovery: removed the work folder(s) of an interrupted series job");
  for (std::size_t i = 0; i < config_.gateways.size(); ++i) {
    const config::GatewayConfig& gateway = config_.gateways[i];
    if (!gateway.series.enabled) continue;
    const std::string key = "gateway[" + std::to_string(i) + "].series";
    auto job = make_job(gateway.series, config_, gateway.id, gateway.output_layout, key, executable_);
    if (!job) return job.error();
    jobs_[gateway.id] = std::move(job).value();
  }
  if (auto recovered = journal_.recover_series(); !recovered) {
    return recovered.error();
  } else if (recovered.value() > 0) {
    logger()->warn("recovery: {} series run(s) back to complete", recovered.value());
  }
  stopping_ = false;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "series");
    try {
      run();
    } catch (const std::exception& e) {
      logger()->critical("series thread stopped on an internal error: {}", e.what());
    }
  });
  return {};
}

void SeriesTracker::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SeriesTracker::wake() {
  {
    const std::lock_guard lock(mutex_);
    woken_ = true;
  }
  changed_.notify_all();
}

void SeriesTracker::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    complete_due_runs();
    while (report_one()) {
      const std::lock_guard check(mutex_);
      if (stopping_) break;
    }
    lock.lock();
    changed_.wait_for(lock, kPollInterval, [this] { return stopping_ || woken_; });
  }
}

void SeriesTracker::complete_due_runs() {
  auto open = journal_.open_series();
  if (!open) {
    logger()->error("cannot read open series: {}", open.error().describe());
    return;
  }
  const std::int64_t now = unix_time_ms();
  for (const journal::SeriesRecord& run : open.value()) {
    const auto signal = completion_signal(run, series_of(run.gateway_id), now);
    if (!signal) continue;
    if (Status completed = journal_.complete_series(run.id, *signal); !completed) {
      logger()->error("gw={} series={} cannot record completion: {}", run.gateway_id, run.series_instance_uid,
                      completed.error().describe());
      continue;
    }
    logger()->info("gw={} series={} run {} complete ({}): {} instance(s), expected {}", run.gateway_id,
                   run.series_instance_uid, run.run, *signal, run.received,
                   run.expected > 0 ? std::to_string(run.expected) : "unknown");
  }
}

bool SeriesTracker::report_one() {
  auto claimed = journal_.claim_series(kMaxAttempts);
  if (!claimed) {
    logger()->error("cannot claim a series run: {}", claimed.error().describe());
    return false;
  }
  if (!claimed->has_value()) return false;
  const journal::SeriesRun& run = claimed->value();
  const std::string& gateway_id = run.series.gateway_id;
  auto found = jobs_.find(gateway_id);
  if (found == jobs_.end()) {
    // A gateway found on disk, or whose series were switched off since: [series] as configured at the top.
    auto job = make_job(config_.series, config_, gateway_id, config::OutputLayout::nested, "series", executable_);
    if (!job) {
      (void)journal_.record_series_failure(run.series.id, job.error().code, job.error().message, true);
      return true;
    }
    found = jobs_.emplace(gateway_id, std::move(job).value()).first;
  }
  Result<journal::SeriesReport> report = make_error("internal_error", "not run");
  try {
    report = found->second->run(run);
  } catch (const std::exception& e) {
    report = make_error("internal_error", e.what());
  }
  if (!report) {
    const bool final = is_final(report.error());
    logger()->warn("gw={} series={} run {} series job failed (attempt {}{}): {}", gateway_id,
                   run.series.series_instance_uid, run.series.run, run.series.attempts, final ? ", final" : "",
                   report.error().describe());
    if (Status recorded = journal_.record_series_failure(run.series.id, report.error().code, report.error().message, final);
        !recorded) {
      logger()->error("gw={} series={} cannot record the failure: {}", gateway_id, run.series.series_instance_uid,
                      recorded.error().describe());
    }
    return true;
  }
  const config::GatewayConfig* gateway = config_.find_gateway(gateway_id);
  const std::vector<std::string> destinations = gateway != nullptr ? gateway->destinations : std::vector<std::string>{};
  auto recorded = journal_.record_series_report(run.series.id, report.value(), destinations);
  if (!recorded) {
    logger()->error("gw={} series={} cannot record the report: {}", gateway_id, run.series.series_instance_uid,
                    recorded.error().describe());
    return true;
  }
  if (on_reported_ && !destinations.empty()) on_reported_();
  return true;
}

}  // namespace creni::series
