#pragma once

// Reading one TOML table of the configuration file, with the key named in every error. Private to config_file.cpp
// and the files it is split into.

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace creni::app::config_reading {


// Thrown inside this file only; parse_config turns it into an Error naming the key.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& key, const std::string& why) { throw ConfigError(key + ": " + why); }

// Reads the keys of one TOML table, refusing any key that no reader asked for. The check runs when the reader
// goes out of scope, so the list of accepted keys is exactly the list of read() calls and cannot drift from it.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix) : table_(table), prefix_(std::move(prefix)) {}

  ~TableReader() noexcept(false) {
    if (std::uncaught_exceptions() > 0) return;
    for (const auto& [key, value] : table_) {
      if (known_.count(std::string(key.str())) == 0) fail(name(std::string(key.str())), "unknown key");
    }
  }

  void read(const std::string& key, std::string& out) { read_value<std::string>(key, out, "a string"); }
  void read(const std::string& key, bool& out) { read_value<bool>(key, out, "a boolean"); }

  void read(const std::string& key, std::filesystem::path& out) {
    std::string text = out.string();
    read(key, text);
    out = text;
  }

  template <typename Integer>
  void read_integer(const std::string& key, Integer& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return;
    const auto value = node->value_exact<std::int64_t>();
    if (!value) fail(name(key), "must be an integer");
    if (*value < static_cast<std::int64_t>(std::numeric_limits<Integer>::min()) ||
        static_cast<std::uint64_t>(*value) > static_cast<std::uint64_t>(std::numeric_limits<Integer>::max())) {
      fail(name(key), "out of range: " + std::to_string(*value));
    }
    out = static_cast<Integer>(*value);
  }

  void read(const std::string& key, std::vector<std::string>& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) fail(name(key), "must be an array of strings");
    out.clear();
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto item = (*array)[i].value_exact<std::string>();
      if (!item) fail(name(key) + "[" + std::to_string(i) + "]", "must be a string");
      out.push_back(*item);
    }
  }

  /// A number: TOML integers are accepted where a float is expected ("threshold = 1").
  void read(const std::string& key, double& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return;
    out = number_of(*node, name(key));
  }

  void read(const std::string& key, std::vector<double>& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) fail(name(key), "must be an array of numbers");
    out.clear();
    for (std::size_t i = 0; i < array->size(); ++i) out.push_back(number_of((*array)[i], name(key) + "[" + std::to_string(i) + "]"));
  }

  /// A table whose keys are free names and whose values are strings (inline or standard table).
  void read(const std::string& key, std::vector<std::pair<std::string, std::string>>& out) {
    const toml::table* entries = table(key);
    if (entries == nullptr) return;
    out.clear();
    for (const auto& [entry, value] : *entries) {
      const auto text = value.value_exact<std::string>();
      if (!text) fail(name(key) + "." + std::string(entry.str()), "must be a string");
      out.emplace_back(std::string(entry.str()), *text);
    }
  }

  void read(const std::string& key, std::vector<std::filesystem::path>& out) {
    std::vector<std::string> texts;
    for (const auto& p : out) texts.push_back(p.string());
    read(key, texts);
    out.assign(texts.begin(), texts.end());
  }

  /// A sub-table, or nullptr when absent. Marks the key as known.
  const toml::table* table(const std::string& key) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) fail(name(key), "must be a table");
    return node->as_table();
  }

  /// An array of tables ([[key]]), or nullptr when absent.
  const toml::array* array_of_tables(const std::string& key) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return nullptr;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) fail(name(key), "must be an array of tables ([[" + key + "]])");
    return array;
  }

  /// Whether the table has `key` (does not mark it as known).
  [[nodiscard]] bool has(const std::string& key) const { return table_.contains(key); }

  [[nodiscard]] std::string name(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  template <typename T>
  void read_value(const std::string& key, T& out, const char* expected) {
    const toml::node* node = lookup(key);
    if (node == nullptr) return;
    const auto value = node->value_exact<T>();
    if (!value) fail(name(key), std::string("must be ") + expected);
    out = *value;
  }

  static double number_of(const toml::node& node, const std::string& key) {
    if (const auto integer = node.value_exact<std::int64_t>()) return static_cast<double>(*integer);
    if (const auto real = node.value_exact<double>()) return *real;
    fail(key, "must be a number");
  }

  const toml::node* lookup(const std::string& key) {
    known_.insert(key);
    return table_.get(key);
  }

  const toml::table& table_;
  std::string prefix_;
  std::set<std::string> known_;
};

}  // namespace creni::app::config_reading
