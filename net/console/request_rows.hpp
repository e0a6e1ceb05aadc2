// Reading the human gateway's requests (the journal's `requests` side
// table) for `endure inbox` and `endure request`: every row, page by page,
// or the inbox's first page through the request index; damaged rows
// reported rather than hiding the rest; and the few texts both commands
// show. The console's inbox and request endpoints read the same way (here,
// below the CLI, because the CLI links the console). Read-only: works next
// to a running serve.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::console {

struct request_listing {
  std::vector<gateway::human_request> requests;  ///< in id order
  std::vector<std::pair<std::string, error>> damaged;  ///< id, why
};

/// Every request row of `j` whose id starts with `prefix` ("RUN/": the
/// run's requests).
expected<request_listing> read_requests(const journal& j, std::string_view prefix = {});

/// What `endure inbox` lists: the pending requests `principal` may decide
/// (every pending one when empty), oldest first, at most `limit`.
struct inbox_query {
  std::string principal;
  std::size_t limit = 100;
};
struct inbox_page {
  std::vector<gateway::human_request> requests;  ///< oldest first
  /// Pending requests the query matches, shown or not. Exact without a
  /// principal; with one, the reading stops at the first match past the
  /// page (counting them all would read every row), and `exact` is false.
  std::size_t total = 0;
  bool exact = true;
  std::vector<std::pair<std::string, error>> damaged;  ///< id, why
};
/// Reads the request index (actors/gateway/request_index.hpp): the page's
/// rows and the index's count, not every row, so the first page costs the
/// same with 100 or 100,000 requests waiting. A directory whose index is
/// not complete (index_complete: no gateway of this build started on it
/// yet) is read row by row instead.
expected<inbox_page> read_inbox(const journal& j, const inbox_query& q);

/// Whether `principal` may decide `r`: the request names them, or nobody.
bool may_decide(const gateway::human_request& r, const std::string& principal);

/// The row's JSON form (the fields of human_request, as stored).
nlohmann::json request_json(const gateway::human_request& r);

/// Why the call waits: the rule's description and the conditions that held
/// ("Publishing is public (/audience gt 100 (is 500))"), or the question.
std::string why_text(const gateway::human_request& r);

/// Who may decide: "ann, bob", or "anyone".
std::string deciders_text(const gateway::human_request& r);

} // namespace endure::console
