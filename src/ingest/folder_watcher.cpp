// The folder door's public face: the watcher thread's start and stop, and gateway folder names. What the thread
// does is in folder_watch_loop.hpp and the folder_watch_*.cpp files next to it.

#include "creni/ingest/folder_watcher.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "creni/common/atomic_file.hpp"
#include "creni/config/node_config.hpp"
#include "folder_watch_loop.hpp"

namespace creni::ingest {

using detail::logger;

std::string gateway_id_of_folder(const std::string& directory_name) {
  constexpr std::string_view kPrefix = "gateway_";
  if (directory_name.rfind(kPrefix, 0) != 0) return {};
  std::string id = directory_name.substr(kPrefix.size());
  return config::is_valid_gateway_id(id) ? id : std::string();
}

FolderWatcher::FolderWatcher(FolderWatcherOptions options, ArrivalSink& sink, std::function<bool()> intake_paused)
    : options_(std::move(options)), sink_(sink), intake_paused_(std::move(intake_paused)) {}

FolderWatcher::~FolderWatcher() { stop(); }

Status FolderWatcher::start() {
  if (thread_.joinable()) return {};
  if (Status made = fs::create_directories_durably(options_.input_root); !made) return made;
  for (const auto& id : options_.gateway_ids) {
    if (Status made = fs::create_directories_durably(options_.input_root / ("gateway_" + id)); !made) return made;
  }
  stop_event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_event_fd_ < 0) return make_error("io_error", std::string("eventfd: ") + std::strerror(errno));
  stopping_.store(false);
  loop_ = std::make_unique<WatchLoop>(options_, sink_, intake_paused_, handed_over_, not_taken_);
  loop_->initialize();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "folder-watcher");
    try {
      loop_->run(stopping_, stop_event_fd_);
    } catch (const std::exception& e) {
      logger()->critical("folder watcher stopped on an internal error: {}", e.what());
    } catch (...) {
      logger()->critical("folder watcher stopped on an unknown internal error");
    }
  });
  return {};
}

void FolderWatcher::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_event_fd_, &one, sizeof one);
  thread_.join();
  loop_.reset();
  ::close(stop_event_fd_);
  stop_event_fd_ = -1;
}

}  // namespace creni::ingest
