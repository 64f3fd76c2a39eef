#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "creni/common/result.hpp"

// A small JSON reader and string quoting for the files exchanged with external modules (settings.json written by
// us, result.json written by the module). Private to the process module.
namespace creni::process::json {

/// One parsed JSON value. Objects keep their members in file order (duplicates kept; find() returns the first).
struct Value {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0.0;
  std::string text;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  /// The member named `key` of an object, or nullptr.
  [[nodiscard]] const Value* find(std::string_view key) const;
};

/// Parses a complete JSON text (RFC 8259): nesting at most 32 deep, nothing but white space after the value.
/// Error "invalid_json" with the byte offset.
[[nodiscard]] Result<Value> parse(std::string_view text);

/// `text` as a JSON string literal, quotes included (control characters escaped; other bytes as they are).
[[nodiscard]] std::string quote(std::string_view text);

}  // namespace creni::process::json
