// request_confidence.hpp: the run's timeline (run_timeline.hpp) holds each
// step's result; a model step's is a net::chat_response in msgpack.
#include "endure/net/console/request_confidence.hpp"

#include <charconv>
#include <exception>

#include "endure/actors/net_msgpack.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/net/console/journal_view.hpp"
#include "endure/net/console/run_timeline.hpp"

namespace endure::console {

std::optional<double> request_confidence(const journal& store, const std::string& request_id) {
  auto slash = request_id.rfind('/');
  if (slash == std::string::npos)
    return std::nullopt;
  std::uint64_t step = 0;
  auto digits = std::string_view(request_id).substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  auto events = read_events(store, request_id.substr(0, slash));
  if (!events)
    return std::nullopt;  // the request still shows; only this hint is missing
  auto timeline = build_timeline(*events);
  auto it = timeline.steps.lower_bound(step);
  while (it != timeline.steps.begin()) {
    --it;
    auto& s = it->second;
    if (s.usage.empty() || !s.result)
      continue;  // not a model step
    try {
      return from_bytes<net::chat_response>(*s.result).confidence;
    } catch (const std::exception&) {
      return std::nullopt;  // a damaged result: say nothing rather than guess
    }
  }
  return std::nullopt;
}

} // namespace endure::console
