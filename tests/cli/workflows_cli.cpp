// A program of the kind examples/custom_cli shows, with the workflows the
// CLI tests need beyond the built-in ones: one that waits for a signal, one
// that sleeps, one that crash-loops until a marker file exists (so it is
// quarantined and can be released), and typed ones whose inputs and results
// are structs, integers and arrays (JSON in, JSON out).
#include <sys/stat.h>

#include <stdexcept>

#include "endure/actors/endure.hpp"
#include "endure/cli/cli.hpp"

using namespace std::chrono_literals;

namespace {

endure::task<std::string> approval(endure::context& ctx, std::string what) {
  auto answer = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  co_return what + " approved: " + answer.value_or("(timed out)");
}

endure::task<std::string> sleeper(endure::context& ctx, int ms) {
  co_await ctx.sleep(std::chrono::milliseconds(ms));
  co_return "slept " + std::to_string(ms) + " ms";
}

/// Throws (a bug: the run actor crashes and restarts) until `marker` exists.
endure::task<std::string> crashy(endure::context& ctx, std::string marker) {
  auto now = co_await ctx.step("look", [] { return 1; });
  struct stat st {};
  if (::stat(marker.c_str(), &st) != 0)
    throw std::out_of_range("the marker " + marker + " is missing");
  co_return "fixed after " + std::to_string(now) + " step";
}

struct order {
  std::string item;
  int quantity = 0;
  double price = 0;
  MSGPACK_DEFINE_MAP(item, quantity, price);
};

struct receipt {
  std::string item;
  double total = 0;
  std::vector<std::string> notes;
  MSGPACK_DEFINE_MAP(item, total, notes);
};

endure::task<receipt> checkout(endure::context& ctx, order o) {
  auto total = co_await ctx.step("price", [](const order& x) { return x.quantity * x.price; }, o);
  co_return receipt{o.item, total, {"paid", "shipped"}};
}

endure::task<std::vector<int>> count_to(endure::context&, int n) {
  std::vector<int> out;
  for (int i = 1; i <= n; ++i)
    out.push_back(i);
  co_return out;
}

/// An input type without a default value: --input is required.
struct ticket {
  explicit ticket(int n) : number(n) {}
  ticket() = delete;
  int number;
};

} // namespace

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {
template <>
struct as<ticket> {
  ticket operator()(const msgpack::object& o) const { return ticket{o.as<int>()}; }
};
template <>
struct pack<ticket> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& p, const ticket& t) const {
    return p.pack(t.number);
  }
};
} // namespace adaptor
}
} // namespace msgpack

namespace {

endure::task<int> punch(endure::context&, ticket t) {
  co_return t.number + 1;
}

} // namespace

int main(int argc, char** argv) {
  endure::workflow_registry workflows;
  workflows.add("approval", &approval);
  workflows.add("sleeper", &sleeper);
  workflows.add("crashy", &crashy);
  workflows.add("checkout", &checkout);
  workflows.add("count_to", &count_to);
  workflows.add("punch", &punch);
  return endure::cli::main(argc, argv, std::move(workflows));
}
