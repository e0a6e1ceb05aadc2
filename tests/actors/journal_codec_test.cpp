// What ctx.llm and ctx.http journal: chat and HTTP answers survive the
// msgpack round trip, and step_completed records of schema 1 (before usage
// was journaled) still decode, with empty usage (FORMAT.md's evolution rule).
#include <catch2/catch.hpp>

#include "endure/actors/context.hpp"
#include "endure/actors/events.hpp"

using namespace endure;

SCENARIO("a chat answer round-trips through the journal encoding", "[journal]") {
  net::chat_response r;
  r.id = "chatcmpl-1";
  r.model = "sim";
  r.content = "hello";
  r.tool_calls = {{"call_1", "search", R"({"q":"lmdb"})"}};
  r.finish_reason = "tool_calls";
  r.confidence = 0.75;
  r.usage = {12, 34, 46};
  r.cost_usd = 0.0123;
  auto back = from_bytes<net::chat_response>(to_bytes(r));
  CHECK(back.id == r.id);
  CHECK(back.model == "sim");
  CHECK(back.content == "hello");
  REQUIRE(back.tool_calls.size() == 1);
  CHECK(back.tool_calls[0].arguments_json == R"({"q":"lmdb"})");
  CHECK(back.finish_reason == "tool_calls");
  CHECK(back.confidence == 0.75);
  CHECK(back.usage.total_tokens == 46);
  CHECK(back.cost_usd == 0.0123);

  net::http_response h{204, {{"ETag", "x"}}, "", true};
  auto hb = from_bytes<net::http_response>(to_bytes(h));
  CHECK(hb.status == 204);
  REQUIRE(hb.headers.size() == 1);
  CHECK(hb.headers[0].value == "x");
}

SCENARIO("step_completed carries usage and reads its schema 1 records", "[journal]") {
  step_completed_event e{3, "draft", 77, 2, to_bytes(std::string{"text"}), 1000, 5, 0,
                         {100, 20, 0.25, "gpt"}};
  auto rec = encode_event(e);
  CHECK(rec.schema_version == 2);
  auto back = decode_event(rec, "r", 1);
  REQUIRE(back);
  auto& d = std::get<step_completed_event>(*back);
  CHECK(d.usage.prompt_tokens == 100);
  CHECK(d.usage.completion_tokens == 20);
  CHECK(d.usage.cost_usd == 0.25);
  CHECK(d.usage.model == "gpt");

  msgpack::sbuffer buf;  // schema 1: the first eight fields only
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(8);
  pk.pack(3u).pack(std::string{"draft"}).pack(77u).pack(2u).pack(std::string{"x"});
  pk.pack(1000).pack(5).pack(0u);
  record old{rec.tag, 1, std::string(buf.data(), buf.size())};
  auto old_back = decode_event(old, "r", 2);
  REQUIRE(old_back);
  auto& o = std::get<step_completed_event>(*old_back);
  CHECK(o.name == "draft");
  CHECK(o.usage.empty());

  record truncated{rec.tag, 1, std::string(buf.data(), 4)};
  CHECK_FALSE(decode_event(truncated, "r", 3));
}
