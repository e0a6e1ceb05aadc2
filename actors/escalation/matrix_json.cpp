// JSON text of the matrix's values (matrix_json.hpp).
#include "endure/actors/escalation/matrix_json.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace endure::escalation {

namespace {

using json = nlohmann::json;

/// Thrown inside the parsers, turned into an error value at their edge.
struct bad_field {
  std::string message;
};

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end())
    throw bad_field{std::string{name} + ": missing"};
  return *it;
}

double number(const json& j, const char* name) {
  auto& v = field(j, name);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw bad_field{std::string{name} + ": must be a finite number"};
  return v.get<double>();
}

std::optional<double> optional_number(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null())
    return std::nullopt;
  return number(j, name);
}

std::string text(const json& j, const char* name, bool required = true) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required)
      throw bad_field{std::string{name} + ": missing"};
    return {};
  }
  if (!it->is_string())
    throw bad_field{std::string{name} + ": must be a string"};
  return it->get<std::string>();
}

bool flag(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end())
    return false;
  if (!it->is_boolean())
    throw bad_field{std::string{name} + ": must be true or false"};
  return it->get<bool>();
}

std::uint64_t count(const json& j, const char* name) {
  auto& v = field(j, name);
  if (!v.is_number_unsigned())
    throw bad_field{std::string{name} + ": must be a whole number >= 0"};
  return v.get<std::uint64_t>();
}

decision decision_of(const json& j) {
  auto d = text(j, "decision");
  if (d == "proceed")
    return decision::proceed;
  if (d == "escalate")
    return decision::escalate;
  throw bad_field{"decision: must be \"proceed\" or \"escalate\", not \"" + d + "\""};
}

json features_json(const features& f) {
  return {{"uncertainty", f.uncertainty}, {"novelty", f.novelty}, {"benefit", f.benefit}};
}

features features_of(const json& j) {
  auto& f = field(j, "features");
  if (!f.is_object())
    throw bad_field{"features: must be an object"};
  // A feature that is not a number (bad options: the matrix escalated to be
  // safe) was written as null; it reads back as NaN, which the matrix
  // escalates on and never learns from, rather than failing the run.
  auto feature = [&](const char* name) {
    return field(f, name).is_null() ? NAN : number(f, name);
  };
  return {feature("uncertainty"), feature("novelty"), feature("benefit")};
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::array<double, 4> weights_of(const json& j) {
  auto& w = field(j, "weights");
  if (!w.is_array() || w.size() != 4)
    throw bad_field{"weights: must be 4 numbers (intercept, U, N, B)"};
  std::array<double, 4> out{};
  for (std::size_t i = 0; i < 4; ++i) {
    if (!w[i].is_number() || !std::isfinite(w[i].get<double>()))
      throw bad_field{"weights: must be 4 finite numbers"};
    out[i] = w[i].get<double>();
  }
  return out;
}

/// Runs `parse` on `text`, turning every failure into invalid_argument
/// naming `what`.
template <class T, class F>
expected<T> parse_with(std::string_view text, const char* what, F parse) {
  try {
    auto j = json::parse(text);
    if (!j.is_object())
      return make_error(errc::invalid_argument, std::string{what} + ": must be a JSON object");
    return parse(j);
  } catch (const json::exception& e) {
    return make_error(errc::invalid_argument, std::string{what} + ": not JSON: " + e.what());
  } catch (const bad_field& e) {
    return make_error(errc::invalid_argument, std::string{what} + ": " + e.message);
  }
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

std::string hex_of(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bytes_of_hex(const std::string& hex, const char* name) {
  auto value = [&](char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    throw bad_field{std::string{name} + ": must be lowercase hex digits"};
  };
  if (hex.size() % 2)
    throw bad_field{std::string{name} + ": must be an even number of hex digits"};
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1]));
  return out;
}

} // namespace

const char* to_string(decision d) noexcept {
  return d == decision::escalate ? "escalate" : "proceed";
}

std::string to_json_text(const proposal& p) {
  return dump({{"task_type", p.task_type}, {"input", p.input}, {"embedding", p.embedding},
               {"action", p.action}, {"confidence", optional_json(p.confidence)},
               {"reasoning", p.reasoning}, {"samples", p.samples},
               {"irreversible", p.irreversible},
               {"samples_unavailable", p.samples_unavailable}});
}

expected<proposal> proposal_from_json(std::string_view t) {
  return parse_with<proposal>(t, "proposal", [](const json& j) {
    proposal p;
    p.task_type = text(j, "task_type");
    p.input = text(j, "input");
    p.action = text(j, "action", false);
    p.confidence = optional_number(j, "confidence");
    p.reasoning = text(j, "reasoning", false);
    p.irreversible = flag(j, "irreversible");
    p.samples_unavailable = flag(j, "samples_unavailable");
    if (auto it = j.find("embedding"); it != j.end()) {
      if (!it->is_array())
        throw bad_field{"embedding: must be an array of numbers"};
      for (auto& v : *it) {
        if (!v.is_number())
          throw bad_field{"embedding: must be an array of numbers"};
        p.embedding.push_back(v.get<float>());
      }
    }
    if (auto it = j.find("samples"); it != j.end()) {
      if (!it->is_array())
        throw bad_field{"samples: must be an array of strings"};
      for (auto& v : *it) {
        if (!v.is_string())
          throw bad_field{"samples: must be an array of strings"};
        p.samples.push_back(v.get<std::string>());
      }
    }
    return p;
  });
}

std::string to_json_text(const assessment& a) {
  auto& u = a.uncertainty;
  json parts = {{"stated_confidence", optional_json(u.stated_confidence)},
                {"calibrated_error", optional_json(u.calibrated_error)},
                {"disagreement", optional_json(u.disagreement)},
                {"hedging", u.hedging},
                {"value", u.value}};
  json j = {{"decision", to_string(a.decision)}, {"score", a.score},
            {"threshold", a.threshold}, {"features", features_json(a.features)},
            {"uncertainty_parts", parts}, {"weights", a.weights}, {"fitted", a.fitted},
            {"explored", a.explored}, {"propensity", a.propensity},
            {"wants_samples", a.wants_samples}, {"model_version", a.model_version},
            {"input_id", a.input_id}, {"reason", a.reason},
            {"decision_key", a.decision_key}};
  // The key is a step's idempotency key, of a run id that may be any bytes:
  // as text it would lose them (two runs' keys alike, one outcome refused
  // as the other's), so such a key also goes as hex.
  if (!valid_utf8(a.decision_key))
    j["decision_key_hex"] = hex_of(a.decision_key);
  return dump(j);
}

expected<assessment> assessment_from_json(std::string_view t) {
  return parse_with<assessment>(t, "assessment", [](const json& j) {
    assessment a;
    a.decision = decision_of(j);
    // A score that is not a number escalated: written as null by nlohmann.
    a.score = optional_number(j, "score").value_or(NAN);
    a.threshold = optional_number(j, "threshold").value_or(NAN);
    a.features = features_of(j);
    if (auto it = j.find("uncertainty_parts"); it != j.end() && it->is_object()) {
      a.uncertainty.stated_confidence = optional_number(*it, "stated_confidence");
      a.uncertainty.calibrated_error = optional_number(*it, "calibrated_error");
      a.uncertainty.disagreement = optional_number(*it, "disagreement");
      a.uncertainty.hedging = number(*it, "hedging");
      a.uncertainty.value = number(*it, "value");
    }
    a.weights = weights_of(j);
    a.fitted = flag(j, "fitted");
    a.explored = flag(j, "explored");
    a.propensity = number(j, "propensity");
    a.wants_samples = flag(j, "wants_samples");
    a.model_version = count(j, "model_version");
    a.input_id = count(j, "input_id");
    a.reason = text(j, "reason", false);
    a.decision_key = text(j, "decision_key", false);
    if (j.contains("decision_key_hex"))
      a.decision_key = bytes_of_hex(text(j, "decision_key_hex"), "decision_key_hex");
    return a;
  });
}

std::string to_json_text(const outcome& o) {
  return dump({{"task_type", o.task_type}, {"features", features_json(o.features)},
               {"score", o.score}, {"decision", to_string(o.decision)},
               {"propensity", o.propensity}, {"confidence", optional_json(o.confidence)},
               {"changed", o.changed}});
}

expected<outcome> outcome_from_json(std::string_view t) {
  return parse_with<outcome>(t, "outcome", [](const json& j) {
    outcome o;
    o.task_type = text(j, "task_type");
    o.features = features_of(j);
    o.score = optional_number(j, "score").value_or(NAN);
    o.decision = decision_of(j);
    o.propensity = number(j, "propensity");
    o.confidence = optional_number(j, "confidence");
    o.changed = number(j, "changed");
    if (o.changed < 0 || o.changed > 1)
      throw bad_field{"changed: must be in [0, 1]"};
    if (o.propensity <= 0 || o.propensity > 1)
      throw bad_field{"propensity: must be in (0, 1]"};
    return o;
  });
}

std::string to_json_text(const refit_record& r) {
  json cal = json::object();
  for (auto& [type, p] : r.calibration)
    cal[type] = {{"a", p.a}, {"b", p.b}, {"cases", p.cases}};
  return dump({{"version", r.version}, {"labels", r.labels}, {"weights", r.weights},
               {"calibration", cal}});
}

expected<refit_record> refit_from_json(std::string_view t) {
  return parse_with<refit_record>(t, "refit", [](const json& j) {
    refit_record r;
    r.version = count(j, "version");
    r.labels = count(j, "labels");
    r.weights = weights_of(j);
    auto& cal = field(j, "calibration");
    if (!cal.is_object())
      throw bad_field{"calibration: must be an object"};
    for (auto& [type, p] : cal.items()) {
      if (!p.is_object())
        throw bad_field{"calibration: " + type + ": must be an object"};
      r.calibration[type] = platt_scaling{number(p, "a"), number(p, "b"),
                                          static_cast<std::size_t>(count(p, "cases"))};
    }
    return r;
  });
}

} // namespace endure::escalation
