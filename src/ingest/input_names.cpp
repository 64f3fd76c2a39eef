#include "creni/ingest/input_names.hpp"

namespace creni::ingest {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool is_candidate_input_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (const std::string_view suffix : {".tmp", ".part", ".partial", ".creni-tmp", ".swp"}) {
    if (ends_with(name, suffix)) return false;
  }
  for (const std::string_view index : {"image.db", "image.db-wal", "image.db-shm", "image.db-journal"}) {
    if (name == index) return false;
  }
  return true;
}

}  // namespace creni::ingest
