// human_request <-> its row: the JSON form, stored as msgpack (named fields,
// so later schemas can add some and old rows still read).
#include "endure/actors/gateway/human_request.hpp"

namespace endure::gateway {

namespace {

using json = nlohmann::json;

json audit_json(const audit_entry& a) {
  return {{"at_ms", a.at_ms}, {"principal", a.principal}, {"channel", a.channel},
          {"action", a.action}, {"outcome", a.outcome}};
}

json outcome_json(const request_outcome& o) {
  return {{"decision", to_string(o.what)}, {"principals", o.principals}, {"at_ms", o.at_ms},
          {"channel", o.channel}, {"edited_arguments", o.edited_arguments},
          {"edited_hash", o.edited_hash}, {"text", o.text}};
}

request_outcome outcome_from(const json& j) {
  request_outcome o;
  auto what = parse_decision(j.at("decision").get<std::string>());
  if (!what)
    throw std::invalid_argument("unknown decision " + j.at("decision").dump());
  o.what = *what;
  o.principals = j.at("principals").get<std::vector<std::string>>();
  o.at_ms = j.at("at_ms").get<std::int64_t>();
  o.channel = j.at("channel").get<std::string>();
  o.edited_arguments = j.value("edited_arguments", json{});
  o.edited_hash = j.value("edited_hash", std::string{});
  o.text = j.value("text", std::string{});
  return o;
}

template <class Enum>
Enum enum_from(const json& j, std::initializer_list<Enum> all) {
  auto name = j.get<std::string>();
  for (auto e : all)
    if (to_string(e) == name)
      return e;
  throw std::invalid_argument("unknown value \"" + name + "\"");
}

} // namespace

std::string_view to_string(request_kind k) noexcept {
  return k == request_kind::approval ? "approval" : "question";
}

std::string_view to_string(request_status s) noexcept {
  switch (s) {
    case request_status::pending:
      return "pending";
    case request_status::decided:
      return "decided";
    case request_status::expired:
      return "expired";
  }
  return "unknown";
}

void close_unanswered(human_request& r, std::int64_t now_ms, std::string_view action,
                      std::string reason) {
  r.status = request_status::expired;
  r.outcome = request_outcome{decision::reject, {}, now_ms, "system", {}, {}, reason};
  r.due_ms = 0;
  r.delivered = true;
  r.audit.push_back({now_ms, "", "system", std::string{action}, std::move(reason)});
}

std::string decision_signal(std::string_view id) { return "decision:" + std::string{id}; }
std::string delivery_id(std::string_view id) { return "decision:" + std::string{id}; }

record to_record(const human_request& r) {
  json audit = json::array();
  for (auto& a : r.audit)
    audit.push_back(audit_json(a));
  json j = {{"id", r.id}, {"run_id", r.run_id}, {"kind", to_string(r.kind)}, {"tool", r.tool},
            {"arguments", r.arguments}, {"arguments_hash", r.arguments_hash}, {"rule", r.rule},
            {"created_ms", r.created_ms}, {"due_ms", r.due_ms}, {"escalated", r.escalated},
            {"reminders_sent", r.reminders_sent}, {"status", to_string(r.status)},
            {"approved_by", r.approved_by},
            {"outcome", r.outcome ? outcome_json(*r.outcome) : json{}},
            {"delivered", r.delivered}, {"audit", std::move(audit)}};
  auto bytes = json::to_msgpack(j);
  return record{human_request_tag, 1, std::string{bytes.begin(), bytes.end()}};
}

expected<human_request> from_record(const record& rec, std::string_view id) {
  auto damaged = [&](const std::string& why) {
    return make_error(errc::corrupt_record, "request " + std::string{id} + ": " + why);
  };
  if (rec.tag != human_request_tag)
    return damaged("not a request record (tag " + std::to_string(rec.tag) + ")");
  try {
    auto j = json::from_msgpack(rec.payload);
    human_request r;
    r.id = j.at("id").get<std::string>();
    r.run_id = j.at("run_id").get<std::string>();
    r.kind = enum_from(j.at("kind"), {request_kind::approval, request_kind::question});
    r.tool = j.at("tool").get<std::string>();
    r.arguments = j.at("arguments");
    r.arguments_hash = j.at("arguments_hash").get<std::string>();
    r.rule = j.at("rule");
    r.created_ms = j.at("created_ms").get<std::int64_t>();
    // Added with deadlines: rows written before them read as "none yet".
    r.due_ms = j.value("due_ms", std::int64_t{0});
    r.escalated = j.value("escalated", false);
    r.reminders_sent = j.value("reminders_sent", std::uint32_t{0});
    r.status = enum_from(j.at("status"), {request_status::pending, request_status::decided,
                                          request_status::expired});
    r.approved_by = j.at("approved_by").get<std::vector<std::string>>();
    if (auto& o = j.at("outcome"); !o.is_null())
      r.outcome = outcome_from(o);
    r.delivered = j.at("delivered").get<bool>();
    for (auto& a : j.at("audit"))
      r.audit.push_back({a.at("at_ms").get<std::int64_t>(), a.at("principal").get<std::string>(),
                         a.at("channel").get<std::string>(), a.at("action").get<std::string>(),
                         a.at("outcome").get<std::string>()});
    return r;
  } catch (const std::exception& e) {
    return damaged(std::string{"unreadable: "} + e.what());
  }
}

std::string outcome_payload(const request_outcome& o) {
  return outcome_json(o).dump(-1, ' ', false, json::error_handler_t::replace);
}

expected<request_outcome> parse_outcome(std::string_view payload) {
  try {
    return outcome_from(json::parse(payload));
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument,
                      std::string{"a decision that cannot be read: "} + e.what());
  }
}

} // namespace endure::gateway
