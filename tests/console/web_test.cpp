// The web page as the console serves it (static_files.hpp): from the
// binary, without a token, with the headers that keep it self-contained;
// and the request views' "schema", from which it builds the edit form.
#include <fstream>
#include <regex>
#include <sstream>

#include "console/console_fixture.hpp"

namespace endure::test {

namespace {

std::string source_file(const std::string& name) {
  std::ifstream in(std::string(ENDURE_SOURCE_DIR) + "/net/console/web/" + name,
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace

SCENARIO("the web page's files are served from the binary, without a token", "[console][web]") {
  console_fixture c;
  WHEN("a file of the page is asked for by a method other than GET or HEAD") {
    for (auto* path : {"/", "/app.js"}) {
      auto r = c.call("POST", path);
      THEN("405 names the method, and the API's other paths stay 404") {
        CHECK(r.status == 405);
        CHECK(r.headers["allow"] == "GET, HEAD");
        CHECK(body_of(r)["error"] == "method_not_allowed");
      }
    }
    CHECK(c.call("GET", "/app.js.map").status == 404);
    CHECK(c.call("GET", "/web/app.js").status == 404);
    CHECK(c.call("GET", "/index.html/").status == 404);
  }
  WHEN("GET /, /index.html, /app.css and each JavaScript module") {
    for (auto [path, file, type] :
         {std::tuple{"/", "index.html", "text/html; charset=utf-8"},
          std::tuple{"/index.html?from=bookmark", "index.html", "text/html; charset=utf-8"},
          std::tuple{"/app.js", "app.js", "text/javascript; charset=utf-8"},
          std::tuple{"/dom.js", "dom.js", "text/javascript; charset=utf-8"},
          std::tuple{"/api.js", "api.js", "text/javascript; charset=utf-8"},
          std::tuple{"/views.js", "views.js", "text/javascript; charset=utf-8"},
          std::tuple{"/decide.js", "decide.js", "text/javascript; charset=utf-8"},
          std::tuple{"/app.css", "app.css", "text/css; charset=utf-8"}}) {
      auto r = c.call("GET", path);
      INFO(path);
      THEN("each is the source file's bytes, with its type and the page's security headers") {
        CHECK(r.status == 200);
        CHECK(r.body == source_file(file));
        CHECK(r.headers["content-type"] == type);
        CHECK(r.headers["cache-control"] == "no-store");
        CHECK(r.headers["x-content-type-options"] == "nosniff");
        CHECK(r.headers["x-frame-options"] == "DENY");
        CHECK_THAT(r.headers["content-security-policy"],
                   Catch::StartsWith("default-src 'self';"));
        CHECK_THAT(r.headers["content-security-policy"], Catch::Contains("frame-ancestors 'none'"));
      }
    }
  }
  THEN("the page holds no inline script for the policy to refuse") {
    auto html = c.call("GET", "/").body;
    CHECK_FALSE(std::regex_search(html, std::regex("<script(?![^>]*\\ssrc=)[^>]*>")));
    CHECK_FALSE(std::regex_search(html, std::regex("\\son[a-z]+\\s*=", std::regex::icase)));
    CHECK_FALSE(std::regex_search(html, std::regex("\\sstyle\\s*=", std::regex::icase)));
  }
}

SCENARIO("a request's view carries its tool's schema for the edit form", "[console][web]") {
  console_fixture c;
  auto id = c.gated_run("run-s");
  WHEN("the request and the inbox are read") {
    auto one = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.vic));
    auto inbox = body_of(c.call("GET", "/api/v1/inbox", c.ann));
    THEN("both hold the publish tool's schema of arguments") {
      CHECK(one["schema"]["properties"]["title"]["type"] == "string");
      CHECK(one["schema"]["properties"]["audience"]["type"] == "integer");
      CHECK(one["schema"]["required"] == nlohmann::json::array({"title"}));
      REQUIRE(inbox["requests"].size() == 1);
      CHECK(inbox["requests"][0]["schema"] == one["schema"]);
    }
    THEN("a call no model turn made carries no confidence") {
      CHECK_FALSE(one.contains("confidence"));
    }
  }
  WHEN("the console was given no tools") {
    c.api().set_tools(nullptr);
    auto one = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.vic));
    THEN("the schema is null (the page then edits the arguments as JSON)") {
      REQUIRE(one.contains("schema"));
      CHECK(one["schema"].is_null());
      CHECK(one["arguments"]["title"].is_string());
    }
  }
}

} // namespace endure::test
