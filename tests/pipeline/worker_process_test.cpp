#include "creni/pipeline/worker_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

namespace creni::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(WorkerProcess, exchanges_lines_with_its_child) {
  auto worker = WorkerProcess::spawn({"/bin/cat"});
  ASSERT_TRUE(worker.ok()) << worker.error().describe();
  ASSERT_TRUE(worker.value()->send_line("hello\tworld\n").ok());
  const auto line = worker.value()->read_line(5s);
  ASSERT_TRUE(line.ok()) << line.error().describe();
  EXPECT_EQ(line.value(), "hello\tworld\n");
}

TEST(WorkerProcess, a_silent_child_times_out_and_is_still_running) {
  auto worker = WorkerProcess::spawn({"/bin/sleep", "30"});
  ASSERT_TRUE(worker.ok());
  const auto started = std::chrono::steady_clock::now();
  const auto line = worker.value()->read_line(200ms);
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().code, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(::kill(worker.value()->pid(), 0), 0);
}

TEST(WorkerProcess, a_crashing_child_is_reported_with_its_signal) {
  auto worker = WorkerProcess::spawn({"/bin/sleep", "30"});
  ASSERT_TRUE(worker.ok());
  ::kill(worker.value()->pid(), SIGSEGV);
  const auto line = worker.value()->read_line(5s);
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().code, "worker_exited");
  EXPECT_NE(line.error().message.find("signal 11"), std::string::npos) << line.error().message;
  EXPECT_NE(line.error().message.find("SEGV"), std::string::npos) << line.error().message;
}

TEST(WorkerProcess, an_exiting_child_is_reported_with_its_exit_code) {
  auto worker = WorkerProcess::spawn({"/bin/false"});
  ASSERT_TRUE(worker.ok());
  const auto line = worker.value()->read_line(5s);
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.error().message.find("exited with code 1"), std::string::npos) << line.error().message;
}

TEST(WorkerProcess, the_child_inherits_no_descriptor_beyond_stdio) {
  // A descriptor without O_CLOEXEC, as DCMTK opens its sockets, must still not reach the worker.
  const int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  auto worker = WorkerProcess::spawn({"/bin/ls", "/proc/self/fd"});
  ASSERT_TRUE(worker.ok());
  std::string listing;
  while (true) {
    auto line = worker.value()->read_line(5s);
    if (!line) break;
    listing += line.value();
  }
  ::close(leaked);
  // ls itself opens one descriptor (3) to read the directory.
  EXPECT_EQ(listing, "0\n1\n2\n3\n");
}

TEST(WorkerProcess, a_missing_program_is_a_spawn_error) {
  auto worker = WorkerProcess::spawn({"/nonexistent/creni-worker"});
  ASSERT_FALSE(worker.ok());
  EXPECT_EQ(worker.error().code, "spawn_failed");
}

TEST(WorkerProcess, destruction_kills_the_child) {
  pid_t pid = 0;
  {
    auto worker = WorkerProcess::spawn({"/bin/sleep", "30"});
    ASSERT_TRUE(worker.ok());
    pid = worker.value()->pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);
}

}  // namespace
}  // namespace creni::pipeline
