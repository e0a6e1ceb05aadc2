// A program of the kind examples/custom_cli shows, with the workflows the
// CLI tests need beyond the built-in ones: one that waits for a signal, one
// that sleeps, one whose steps wait for files, one that crash-loops until a marker file exists (so it is
// quarantined and can be released), and typed ones whose inputs and results
// are structs, integers and arrays (JSON in, JSON out); and, for the
// human gateway's commands, a tool `publish` that a --policy can gate
// (each execution appends its title to the file $ENDURE_TEST_TOOL_LOG, so
// tests count them) with a workflow calling it and one asking a question.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/agent/tool_registry.hpp"
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

/// Three steps; step N ends once the file DIR/go-N exists (or after 60 s):
/// a run whose steps progress while its status stays running, paced by a
/// test that creates the files.
endure::task<int> paced(endure::context& ctx, std::string dir) {
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    auto name = "go " + std::to_string(i);
    auto wait_for_file = [path = dir + "/go-" + std::to_string(i)] {
      struct stat st {};
      for (int polls = 0; polls < 6000 && ::stat(path.c_str(), &st) != 0; ++polls)
        ::usleep(10'000);
      return 1;
    };
    done += co_await ctx.step(name, wait_for_file);
  }
  co_return done;
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

namespace {

using nlohmann::json;

/// Appends `line` to $ENDURE_TEST_TOOL_LOG (one write: O_APPEND keeps
/// lines whole across threads and processes).
void log_execution(const std::string& line) {
  const char* path = std::getenv("ENDURE_TEST_TOOL_LOG");
  if (!path)
    return;
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error(std::string{"cannot open "} + path);
  auto text = line + "\n";
  auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(std::string{"cannot append to "} + path);
}

std::shared_ptr<const endure::agent::tool_registry> tools() {
  auto r = std::make_shared<endure::agent::tool_registry>();
  json post = {{"type", "object"},
               {"properties", {{"title", {{"type", "string"}}}, {"audience", {{"type", "integer"}}}}},
               {"required", {"title"}}};
  auto added = r->add({"publish", "Publishes a post.", post,
                       [](const json& args) {
                         log_execution(args.dump());
                         return json{{"published", args["title"]}};
                       },
                       true});
  if (!added)
    throw std::runtime_error(added.error().message);
  return r;
}

/// One gated call: the tool's result (or the refusal) as JSON text.
endure::task<std::string> publish_post(endure::context& ctx, std::string title) {
  json args = {{"title", title}, {"audience", 500}};
  auto result = co_await ctx.tool("publish", args);
  co_return result.dump();
}

endure::task<std::string> ask(endure::context& ctx, std::string question) {
  auto asking = ctx.ask_human(question);
  auto answer = co_await std::move(asking);
  co_return "answered: " + answer;
}

} // namespace

int main(int argc, char** argv) {
  endure::workflow_registry workflows;
  workflows.add("approval", &approval);
  workflows.add("sleeper", &sleeper);
  workflows.add("crashy", &crashy);
  workflows.add("paced", &paced);
  workflows.add("checkout", &checkout);
  workflows.add("count_to", &count_to);
  workflows.add("punch", &punch);
  workflows.add("publish_post", &publish_post);
  workflows.add("ask", &ask);
  return endure::cli::main(argc, argv, std::move(workflows), tools());
}
