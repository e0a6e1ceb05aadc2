// Reading a YAML document strictly, for the policy loader (internal; the
// only header of endure that includes yaml-cpp, and no public header
// includes it). Every read names its field path ("interrupt_on.publish.
// quorum", "...reminders[1]") and a failure throws policy_error with the
// node's line and column; parse_policy turns that into an endure::error at
// its boundary. Scalars resolve as YAML 1.2's core schema says (true/false,
// not yes/no; 1.0 is a number, "1.0" text). Any thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <yaml-cpp/yaml.h>

namespace endure::gateway::detail {

/// A refused policy: where (1-based; 0 when there is no position, as in an
/// empty file), which field, and what is wrong with it.
struct policy_error {
  int line = 0;
  int column = 0;
  std::string field;
  std::string message;
};

/// How deeply a `value` may nest, and how many nodes it may have (aliases
/// can make a short file describe a huge value).
inline constexpr int max_value_depth = 32;
inline constexpr std::size_t max_value_nodes = 10'000;

struct map_entry;

/// A node and its field path. Errors about it are reported where the field
/// is named: at its key for a map's value (`quorum: 4` at `quorum`), at the
/// item itself in a list.
class yaml_field {
public:
  yaml_field(YAML::Node node, std::string path)
      : node_(std::move(node)), path_(std::move(path)), mark_(node_.Mark()) {}
  yaml_field(YAML::Node node, std::string path, YAML::Mark mark)
      : node_(std::move(node)), path_(std::move(path)), mark_(mark) {}

  const std::string& path() const noexcept { return path_; }
  const YAML::Node& node() const noexcept { return node_; }

  /// Throws policy_error at this node.
  [[noreturn]] void fail(std::string message) const;
  /// Throws policy_error at this node for the field path().sub.
  [[noreturn]] void fail_at(std::string_view sub, std::string message) const;

  /// The child `key.sub` or `key[i]` for error paths.
  std::string child_path(std::string_view key) const;

  /// A map's entries in document order. Refuses a node that is not a map,
  /// a key that is not text, a key given twice, and (unless `allowed` is
  /// empty) a key not in `allowed`.
  std::vector<map_entry> entries(std::initializer_list<std::string_view> allowed,
                                 std::string_view what) const;

  /// A sequence's items. Refuses anything else; `what` says what it lists.
  std::vector<yaml_field> items(std::string_view what) const;

  /// A scalar that resolves to text (quoted, or plain and not a number,
  /// bool or null), valid UTF-8.
  std::string text(std::string_view what) const;
  /// true or false (plain).
  bool boolean() const;
  /// A plain integer.
  long long integer(std::string_view what) const;
  /// Any YAML node as JSON: maps (text keys) become objects, sequences
  /// arrays, scalars as the core schema resolves them.
  nlohmann::json json_value() const;

  bool is_bool() const;
  bool is_map() const noexcept { return node_.IsMap(); }

private:
  YAML::Node node_;
  std::string path_;
  YAML::Mark mark_;
};

/// One entry of a map: its key (for errors about the name) and its value.
struct map_entry {
  std::string name;
  yaml_field key;
  yaml_field value;
};

/// The entry named `name`, or nullptr.
const map_entry* find_entry(const std::vector<map_entry>& entries, std::string_view name);

/// `e` as "SOURCE:LINE:COLUMN: FIELD: MESSAGE" (without the parts it lacks).
std::string located(std::string_view source, const policy_error& e);

/// "a map", "a list", "the number 42", "the text 'x'", "nothing": for
/// "expected X, got Y" messages.
std::string describe_node(const YAML::Node& node);

} // namespace endure::gateway::detail
