// GET /api/v1/events over real loopback HTTP and a real runtime: what the
// console's page relies on. The stream needs a token; it opens with the
// retry field; a run started over the API shows running, its steps and
// completed in order; a gated call shows the request waiting, and the
// decision over HTTP shows it decided and the run completed; a failing run
// says why; a client that never reads is dropped while another stream and
// a decision go on; detaching the API or stopping the server ends every
// stream at once; an idle stream gets keep-alive comments; revoking a
// token ends its streams within a bound; a restarted human gateway still
// feeds the stream.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "console/console_fixture.hpp"
#include "console/sse_reader.hpp"
#include "endure/supervisors/atoms.hpp"
#include "support/eventually.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Opens a stream with `token` (every step event unless `target` says
/// otherwise) and checks its head.
std::unique_ptr<sse_reader> open_stream(console_fixture& c, const std::string& token,
                                        const std::string& target = "/api/v1/events?steps=all") {
  auto r = std::make_unique<sse_reader>(c.port(), token, target);
  auto head = r->head();
  INFO(head.body);
  REQUIRE(head.status == 200);
  return r;
}

/// "run STATUS", "step N NAME OUTCOME #ATTEMPT" or "request KIND".
std::string label(const sse_event& e) {
  if (e.event == "run")
    return "run " + e.data.value("status", "?");
  if (e.event == "step")
    return "step " + std::to_string(e.data.value("step", -1)) + " " + e.data.value("name", "?")
           + " " + e.data.value("outcome", "?") + " #"
           + std::to_string(e.data.value("attempt", -1));
  return e.event + " " + e.data.value("kind", "?");
}

/// The events of run `run` up to the first for which `last` holds.
template <class Pred>
std::vector<sse_event> events_of(sse_reader& r, const std::string& run, Pred last) {
  std::vector<sse_event> out;
  for (;;) {
    auto e = r.next_where([&](const sse_event& e) { return e.data.value("run", "") == run; });
    INFO("run " << run << ": " << out.size() << " events before the stream went quiet");
    REQUIRE(e);
    out.push_back(*e);
    if (last(*e))
      return out;
  }
}

bool run_is(const sse_event& e, const char* status) {
  return e.event == "run" && e.data.value("status", "") == status;
}

} // namespace

SCENARIO("the event stream needs a viewer's token", "[console][events]") {
  console_fixture c;
  for (auto token : {std::string{}, std::string{"not-a-token"}}) {
    auto r = c.call("GET", "/api/v1/events", token);
    CHECK(r.status == 401);
    CHECK(body_of(r)["error"] == "unauthorized");
  }
  THEN("a viewer gets a stream that opens with the retry field") {
    sse_reader r(c.port(), c.vic);
    auto head = r.head();
    REQUIRE(head.status == 200);
    CHECK(head.headers["content-type"] == "text/event-stream");
    CHECK(head.headers["cache-control"] == "no-store");
    CHECK_FALSE(head.headers.count("content-length"));
    REQUIRE(c.call("POST", "/api/v1/runs", c.ada,
                   R"({"workflow": "two_steps", "id": "after-retry", "input": 1})").status == 200);
    REQUIRE(r.next());
    CHECK(r.retry() == "2000");
  }
}

SCENARIO("a run started over the API shows running, its steps and completed, in order",
         "[console][events]") {
  console_fixture c;
  auto r = open_stream(c, c.vic);
  auto started = c.call("POST", "/api/v1/runs", c.ada,
                        R"({"workflow": "two_steps", "id": "run-1", "input": 3})");
  REQUIRE(started.status == 200);
  auto events = events_of(*r, "run-1", [](auto& e) { return run_is(e, "completed"); });
  std::vector<std::string> labels;
  for (auto& e : events)
    labels.push_back(label(e));
  CHECK(labels == std::vector<std::string>{"run running", "step 0 add one completed #1",
                                           "step 1 double completed #1", "run completed"});
  CHECK(events.front().data == json{{"run", "run-1"}, {"workflow", "two_steps"},
                                    {"status", "running"}, {"detail", ""}});
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(events[i].id > events[i - 1].id);
}

SCENARIO("a gated call shows the request waiting, and the decision over HTTP shows it decided and "
         "the run completed", "[console][events]") {
  console_fixture c;
  auto r = open_stream(c, c.vic);
  auto id = c.gated_run("gated");
  auto waiting = r->next_where([](auto& e) { return e.event == "request"; });
  REQUIRE(waiting);
  CHECK(waiting->data["kind"] == "waiting");
  CHECK(waiting->data["request"] == id);
  CHECK(waiting->data["run"] == "gated");
  CHECK(waiting->data["detail"]["tool"] == "publish");
  CHECK(waiting->data["detail"]["eligible"] == json{"ann", "bob"});

  auto decided = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                        R"({"decision": "approve"})");
  REQUIRE(decided.status == 200);
  // The gateway and the run publish independently: either may come first.
  std::optional<sse_event> request, completed;
  while (!request || !completed) {
    auto e = r->next_where([](auto& e) { return e.data.value("run", "") == "gated"; });
    INFO("decided seen: " << bool(request) << ", completed seen: " << bool(completed));
    REQUIRE(e);
    if (e->event == "request")
      request = e;
    if (run_is(*e, "completed"))
      completed = e;
  }
  CHECK(request->data["kind"] == "decided");
  CHECK(request->data["request"] == id);
  CHECK(request->data["detail"]["decision"] == "approve");
  CHECK(request->data["detail"]["by"] == json{"ann"});
}

SCENARIO("a stream gets every run's status and only the step events it asks for",
         "[console][events]") {
  console_fixture c;
  // First with no stream asking for every step: each run decides by itself
  // whether anybody follows it ("other" runs first, so its answer is
  // already known when "watched" starts).
  auto plain = open_stream(c, c.vic, "/api/v1/events");
  auto one = open_stream(c, c.vic, "/api/v1/events?run=watched");
  REQUIRE(c.rt().rt().start("two_steps", "other", 1));
  REQUIRE(c.rt().ended("other", 10s).status == run_status::completed);
  REQUIRE(c.rt().rt().start("two_steps", "watched", 2));
  REQUIRE(c.rt().ended("watched", 10s).status == run_status::completed);
  auto is_completed = [](auto& e) { return run_is(e, "completed"); };
  auto labels = [&](sse_reader& r, const std::string& run) {
    std::vector<std::string> out;
    for (auto& e : events_of(r, run, is_completed))
      out.push_back(label(e));
    return out;
  };
  const std::vector<std::string> statuses{"run running", "run completed"};
  const std::vector<std::string> with_steps{"run running", "step 0 add one completed #1",
                                            "step 1 double completed #1", "run completed"};
  CHECK(labels(*plain, "other") == statuses);
  CHECK(labels(*plain, "watched") == statuses);
  CHECK(labels(*one, "other") == statuses);
  CHECK(labels(*one, "watched") == with_steps);

  // Then one stream asks for every run's steps: it gets them, the others
  // still only what they asked for.
  auto all = open_stream(c, c.vic, "/api/v1/events?steps=all");
  REQUIRE(c.rt().rt().start("two_steps", "third", 3));
  CHECK(labels(*all, "third") == with_steps);
  CHECK(labels(*one, "third") == statuses);
  CHECK(labels(*plain, "third") == statuses);
}

SCENARIO("an event stream asked for with a query it does not take is refused with what it takes",
         "[console][events]") {
  console_fixture c;
  for (auto query : {"steps=some", "run=", "steps=all&run=x", "since=3"}) {
    INFO(query);
    auto r = c.call("GET", std::string("/api/v1/events?") + query, c.vic);
    CHECK(r.status == 400);
    CHECK_THAT(body_of(r)["message"].get<std::string>(), Catch::Contains("?run=ID"));
  }
}

SCENARIO("a failing run shows failed with the reason", "[console][events]") {
  console_fixture c;
  auto r = open_stream(c, c.vic);
  REQUIRE(c.rt().rt().start("fails", "doomed", 0));
  auto events = events_of(*r, "doomed", [](auto& e) { return run_is(e, "failed"); });
  REQUIRE(events.size() >= 2);
  auto& step = events[events.size() - 2];
  CHECK(label(step) == "step 0 doomed failed #1");
  CHECK_THAT(events.back().data.value("detail", ""), Catch::Contains("the disk is full"));
}

SCENARIO("a client that never reads is dropped, and another stream and a decision go on",
         "[console][events]") {
  console::event_stream_options small;
  small.max_backlog = 8 * 1024;
  console_fixture c({}, std::chrono::seconds(10), small);
  auto fast = open_stream(c, c.vic);
  silent_client slow(c.port(), c.vic);
  // Runs until the server gives up on the silent client; the fast reader
  // keeps reading meanwhile. Bounded: 300 rounds of 10 runs.
  int rounds = 0;
  for (; rounds < 300 && !slow.hung_up(0ms); ++rounds) {
    for (int i = 0; i < 10; ++i)
      REQUIRE(c.rt().rt().start("two_steps", "load-" + std::to_string(rounds * 10 + i), i));
    fast->drain();
  }
  INFO("after " << rounds << " rounds of 10 runs");
  REQUIRE(slow.hung_up(10s));

  auto id = c.gated_run("decided-meanwhile");
  auto decided = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                        R"({"decision": "approve"})");
  CHECK(decided.status == 200);
  CHECK(c.rt().ended("decided-meanwhile", 10s).status == run_status::completed);
  auto done = fast->next_where([](auto& e) {
    return e.data.value("run", "") == "decided-meanwhile" && run_is(e, "completed");
  });
  CHECK(done);
}

SCENARIO("detaching the API or stopping the server ends every stream at once",
         "[console][events]") {
  console_fixture c;
  auto a = open_stream(c, c.vic);
  auto b = open_stream(c, c.ann);
  WHEN("the API is detached (the runtime is about to close)") {
    c.api().detach();
    CHECK(a->closed(5s));
    CHECK(b->closed(5s));
    CHECK(c.call("GET", "/api/v1/events", c.vic).status == 503);
    AND_WHEN("it is attached again, a new stream works") {
      c.api().attach(c.rt().rt());
      auto again = open_stream(c, c.vic);
      REQUIRE(c.rt().rt().start("two_steps", "after-attach", 1));
      CHECK(again->next_where([](auto& e) { return run_is(e, "completed"); }));
    }
  }
  WHEN("the server stops (SIGTERM of `endure serve` stops it first)") {
    c.stop_server();
    CHECK(a->closed(5s));
    CHECK(b->closed(5s));
  }
}

SCENARIO("a client that closes its stream is let go at once, not at the next keep-alive",
         "[console][events]") {
  console::event_stream_options quiet;
  quiet.keep_alive = std::chrono::hours(1);  // nothing would be written to notice it by
  console_fixture c({}, std::chrono::seconds(10), quiet);
  auto kept = open_stream(c, c.vic);
  auto gone = open_stream(c, c.ann, "/api/v1/events");
  REQUIRE(c.server().open_connections() == 2);
  gone.reset();  // closes the socket
  CHECK(eventually([&] { return c.server().open_connections() == 1; }));
  CHECK_FALSE(kept->closed(0ms));
}

SCENARIO("a stream goes on after a stray line break from its client, and ends when the client "
         "half-closes", "[console][events]") {
  console::event_stream_options quiet;
  quiet.keep_alive = std::chrono::hours(1);
  console_fixture c({}, std::chrono::seconds(10), quiet);
  auto r = open_stream(c, c.vic);
  r->send("\r\n");
  REQUIRE(c.rt().rt().start("two_steps", "after-crlf", 1));
  CHECK(r->next_where([](auto& e) { return e.data.value("run", "") == "after-crlf"; }));
  r->half_close();  // it can send no more requests: this stream is all it had
  CHECK(r->closed(5s));
}

SCENARIO("an idle stream gets keep-alive comments", "[console][events]") {
  console::event_stream_options quick;
  quick.keep_alive = 50ms;
  console_fixture c({}, std::chrono::seconds(10), quick);
  auto r = open_stream(c, c.vic);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (r->comments() < 2 && std::chrono::steady_clock::now() < deadline)
    r->next(100ms);  // parses what arrives; comments are counted, not returned
  CHECK(r->comments() >= 2);
  CHECK_FALSE(r->closed(0ms));
}

SCENARIO("revoking a token ends its open event streams within the bound, and no other",
         "[console][events]") {
  GIVEN("idle streams (the check comes at a keep-alive)") {
    console::event_stream_options quick;
    quick.keep_alive = 100ms;  // bound: keep_alive + 1 s (event_hub::authorization_check)
    console_fixture c({}, std::chrono::seconds(10), quick);
    auto revoked = open_stream(c, c.vic);
    auto kept = open_stream(c, c.ann);
    auto other = c.other_store();  // as `endure token revoke vic` in another process
    REQUIRE(other.revoke("vic"));
    auto began = std::chrono::steady_clock::now();
    CHECK(revoked->closed(5s));
    CHECK(std::chrono::steady_clock::now() - began < 3s);
    CHECK_FALSE(kept->closed(300ms));
  }
  GIVEN("busy streams that never fall silent long enough for a keep-alive") {
    console::event_stream_options slow;
    slow.keep_alive = std::chrono::hours(1);  // the check comes with the events
    console_fixture c({}, std::chrono::seconds(10), slow);
    auto revoked = open_stream(c, c.vic);
    auto kept = open_stream(c, c.ann);
    auto other = c.other_store();
    REQUIRE(other.revoke("vic"));
    bool closed = false;
    for (int i = 0; i < 40 && !closed; ++i) {  // events keep coming until it ends (or 40 runs)
      REQUIRE(c.rt().rt().start("two_steps", "busy-" + std::to_string(i), i));
      closed = revoked->closed(100ms);
    }
    CHECK(closed);
    REQUIRE(c.rt().rt().start("two_steps", "after-revoke", 1));
    CHECK(kept->next_where([](auto& e) { return e.data.value("run", "") == "after-revoke"; }));
  }
}

SCENARIO("a human gateway restarted by its supervisor still feeds the stream",
         "[console][events]") {
  console_fixture c;
  auto r = open_stream(c, c.vic);
  auto& sys = c.rt().sys();
  auto& rt = c.rt().rt();
  auto gateway = [&] {
    caf::scoped_actor self{sys};
    caf::actor out;
    self->request(rt.supervisor(), 5s, find_child_atom::value, std::string{"human_gateway"})
      .receive([&](caf::actor& a) { out = std::move(a); }, [](const caf::error&) {});
    return out;
  };
  auto old = gateway();
  REQUIRE(old);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  REQUIRE(eventually([&] {
    auto now = gateway();
    return now && now != old;
  }));
  auto id = c.gated_run("after-restart");
  auto waiting = r->next_where([](auto& e) { return e.event == "request"; });
  REQUIRE(waiting);
  CHECK(waiting->data["request"] == id);
}
