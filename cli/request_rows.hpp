// The request rows as the CLI names them: the code moved to
// net/console/request_rows.hpp so the console (which the CLI links) reads
// requests the same way; these names keep `endure inbox`, `endure request`
// and the tools built on them unchanged.
#pragma once

#include "endure/net/console/request_rows.hpp"

namespace endure::cli {

using console::deciders_text;
using console::inbox_page;
using console::inbox_query;
using console::may_decide;
using console::read_inbox;
using console::read_requests;
using console::request_json;
using console::request_listing;
using console::why_text;

} // namespace endure::cli
