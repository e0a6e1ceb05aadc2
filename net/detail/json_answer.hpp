// Reading a server's JSON answer defensively, for the chat and embeddings
// decoders: the body is parsed with its failure classified (empty or cut
// off: retryable; not JSON, not an object: fatal), and every field is read
// through accessors that check its type first and, on a mismatch, throw a
// schema_violation naming the field's path and the type expected. The
// decoders catch it at their boundary and return a fatal failure: an
// answer that breaks the schema will break it again, so retrying is no use.
// Fields endure does not read are not checked. JSON null counts as absent
// for optional fields (servers send "id": null, "usage": null).
//
// Pure functions, any thread. Only the codec .cpp files include this, so
// the forward declaration of nlohmann::json is all the header needs.
#pragma once

#include "endure/net/result.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace endure::net::detail {

/// A field of the answer has the wrong type or value. Never leaves net/.
class schema_violation : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What the answer should have been, for messages and advice.
struct answer_kind {
  std::string_view what;     ///< names the call: "chat completion at http://..."
  std::string_view expected; ///< "a chat completion", "an embeddings list"
};

/// Parses a 2xx body that must be a JSON object. Failures say what was
/// wrong and quote the body: an empty body or JSON cut off at its end
/// (the transfer ended early) is retryable; text that is not JSON (an HTML
/// page: `content_type` is named) or JSON that is not an object is fatal.
/// An object carrying only {"error": ...} is the server's error sent with a
/// 2xx status: classified like that status (its "code", when an HTTP
/// status) or retryable.
result<nlohmann::json> parse_answer(std::string_view body, std::string_view content_type,
                                    const answer_kind& kind);

/// The fatal failure for a violation found while reading `body`.
endure::failure schema_failure(const schema_violation& v, std::string_view body,
                               const answer_kind& kind);

/// JSON text of `value`. Invalid UTF-8 inside strings (a user's text cut
/// mid-character) becomes U+FFFD instead of throwing, so encoders never throw.
std::string dump_text(const nlohmann::json& value);

/// "null", "a string (\"abc\")", "a number (4.5)", "an array of 3", ...
std::string describe(const nlohmann::json& value);

/// Throws the violation "field `path` is <describe(got)>, expected <expected>".
[[noreturn]] void violate(std::string_view path, std::string_view expected,
                          const nlohmann::json& got);

/// "parent.key" (or "key" at the top).
std::string path_of(std::string_view parent, std::string_view key);
/// "parent[index]".
std::string path_of(std::string_view parent, std::size_t index);

/// Field `key` of `object` (an object), or nullptr when absent or null.
const nlohmann::json* optional_field(const nlohmann::json& object, std::string_view key);

/// Field `key` of `object`; absent is a violation (its type, null
/// included, is for the caller to check).
const nlohmann::json& required_field(const nlohmann::json& object, std::string_view key,
                                     std::string_view parent);

/// `value` itself, checked to be an object / an array.
const nlohmann::json& as_object(const nlohmann::json& value, std::string_view path);
const nlohmann::json& as_array(const nlohmann::json& value, std::string_view path);

/// A string field; absent or null gives `fallback`.
std::string optional_string(const nlohmann::json& object, std::string_view key,
                            std::string_view parent, std::string fallback = {});

/// A non-negative integer field (a token count, an index); absent or null
/// gives `fallback`.
std::uint64_t optional_count(const nlohmann::json& object, std::string_view key,
                             std::string_view parent, std::uint64_t fallback = 0);

} // namespace endure::net::detail
