// The console's web page end to end, as a person uses it: the real CLI
// (`endure serve --http`, here the content agent's build of it, whose
// `publish` waits for an editor) as a child process, tokens from the real
// `token create`, a real agent run, and Debian's headless chromium driven
// over the DevTools protocol. Every wait polls the page's DOM with a
// deadline. With ENDURE_SCREENSHOTS_DIR set, the inbox and a run's
// timeline are saved there (docs/console-*.png come from this).
#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "browser/cdp_client.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;

namespace endure::test {

namespace {

const std::string cli_bin = CONTENT_AGENT_CLI_PATH;
/// The test workflows' CLI (tests/cli/workflows_cli.cpp): `crashy` is
/// quarantined until its marker file exists.
const std::string workflows_bin = WORKFLOWS_CLI_PATH;
const std::string policy_file = std::string(ENDURE_SOURCE_DIR) +
                                "/examples/content_agent/policy.yaml";

/// A one-shot command of the CLI (`bin`) on `data`; its stdout (the test
/// fails on a non-zero exit).
std::string cli(const std::string& data, std::vector<std::string> args,
                const std::string& bin = cli_bin) {
  args.insert(args.begin(), {bin, "--data", data});
  auto [code, out] = run_command(args, 60s);
  INFO(out);
  REQUIRE(code == 0);
  return out;
}

/// `serve --policy ... --http ADDRESS` on `data`, started and listening
/// (with the test workflows' CLI, `bin`, and no policy when one is given).
struct serve_process {
  std::unique_ptr<child_process> child;
  std::string url;  ///< "http://127.0.0.1:PORT/"

  serve_process(const std::string& data, const std::string& address,
                const std::string& bin = cli_bin) {
    std::vector<std::string> argv{bin, "--data", data, "serve", "--http", address};
    if (bin == cli_bin)
      argv.insert(argv.end(), {"--policy", policy_file});
    child = std::make_unique<child_process>(argv);
    for (;;) {
      auto line = child->read_line(30s);
      REQUIRE(line);
      constexpr std::string_view listening = "console listening on ";
      if (line->rfind(listening, 0) == 0)
        url = line->substr(listening.size());
      if (line->rfind("serving", 0) == 0)
        break;
    }
    REQUIRE(!url.empty());
  }
  /// "127.0.0.1:PORT", to start the next serve on the same address.
  std::string address() const { return url.substr(7, url.size() - 8); }
  std::uint16_t port() const {
    return static_cast<std::uint16_t>(std::stoi(address().substr(address().rfind(':') + 1)));
  }
};

/// Starts content_agent run `id`; the agent searches, reads, drafts and
/// then calls publish, which the policy holds for an editor.
void start_article(const std::string& data, const std::string& id, const std::string& keyword) {
  cli(data, {"start", "content_agent", "--id", id, "--input",
             nlohmann::json{{"keyword", keyword}, {"intent", "informational"}}.dump()});
}

std::string token_for(const std::string& data, const std::string& name,
                      const std::string& bin = cli_bin) {
  auto out = cli(data, {"token", "create", name, "--role", "admin"}, bin);
  return out.substr(0, out.find('\n'));
}

void log_in(cdp_client& page, const std::string& url, const std::string& token) {
  page.navigate(url);
  REQUIRE(page.wait_until("!document.getElementById('login').hidden"));
  page.evaluate("document.getElementById('token').focus()");
  page.type(token);
  page.evaluate("document.querySelector('#login-form button').click()");
  REQUIRE(page.wait_until("!document.getElementById('nav').hidden"));
}

/// Opens the page, wraps its fetch, then logs in with `token`: the wrapper
/// counts the requests for the event stream (window.event_fetches),
/// records their URLs (window.event_urls) and, while window.refuse_events
/// (set to `refuse` here), fails them as a network error would.
void log_in_watching_events(cdp_client& page, const std::string& url, const std::string& token,
                            bool refuse) {
  page.navigate(url);
  REQUIRE(page.wait_until("!document.getElementById('login').hidden"));
  page.evaluate(std::string("window.event_fetches = 0; window.event_urls = [];") +
                "window.refuse_events = " + (refuse ? "true" : "false") + ";"
                "const real_fetch = window.fetch; window.fetch = (url, options) => {"
                " if (String(url).includes('/api/v1/events')) { window.event_fetches++;"
                "  window.event_urls.push(String(url));"
                "  if (window.refuse_events) return Promise.reject(new TypeError('refused'));}"
                " return real_fetch(url, options); }; true");
  page.evaluate("document.getElementById('token').value = '" + token + "';"
                "document.querySelector('#login-form button').click()");
}

std::string row_of(const std::string& run) {
  return "document.querySelector('tr[data-request^=\"" + run + "/\"]')";
}

void save_screenshot(cdp_client& page, const std::string& name, bool full_page = false) {
  const char* dir = std::getenv("ENDURE_SCREENSHOTS_DIR");
  if (!dir || !*dir)
    return;
  std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
    << page.screenshot_png(full_page);
}

/// JavaScript that POSTs /api/v1/runs from the page (with its token),
/// starting a run of `workflow`; `id` and `input` are JavaScript
/// expressions. Its value is the HTTP status.
std::string start_from_page(const std::string& workflow, const std::string& id,
                            const std::string& input) {
  return "fetch('/api/v1/runs', {method: 'POST', headers: {Authorization: 'Bearer ' + "
         "sessionStorage.getItem('endure.token'), 'Content-Type': 'application/json'}, "
         "body: JSON.stringify({workflow: '" + workflow + "', id: " + id + ", input: " + input +
         "})}).then((r) => r.status)";
}

/// The text of the page's error banner, for a failing check's message.
/// Opens decision `decision` (reject or respond) on the request shown,
/// types `text` into its field and submits it, as a person would.
void decide_with_text(cdp_client& page, const std::string& decision, const std::string& text) {
  auto field = decision == "reject" ? std::string("reject-reason") : decision + "-text";
  page.evaluate("document.getElementById('" + decision + "').click()");
  page.evaluate("document.getElementById('" + field + "').focus()");
  page.type(text);
  page.evaluate("document.querySelector('#" + field + "').form.requestSubmit()");
}

std::string banner(cdp_client& page) {
  auto v = page.evaluate("document.getElementById('error').textContent");
  return v.is_string() ? v.get<std::string>() : "";
}

} // namespace

SCENARIO("an editor logs in with a token, approves an agent's publish and sees the run "
         "complete", "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  ::setenv("CONTENT_SITE_DIR", dir.file("site").c_str(), 1);
  auto token = token_for(data, "ed");
  serve_process serve(data, "127.0.0.1:0");
  start_article(data, "lmdb-guide", "lmdb journal");
  auto page = cdp_client::launch(dir.file("profile"));

  GIVEN("a wrong token") {
    page->navigate(serve.url);
    REQUIRE(page->wait_until("!document.getElementById('login').hidden"));
    page->evaluate("document.getElementById('token').focus()");
    page->type("endure_not-a-token");
    page->evaluate("document.querySelector('#login-form button').click()");
    THEN("the page says why and shows nothing else") {
      REQUIRE(page->wait_until("document.getElementById('error').textContent.includes("
                               "'refused')"));
      CHECK(page->evaluate("document.getElementById('nav').hidden") == true);
    }
  }

  GIVEN("the editor's token") {
    log_in(*page, serve.url, token);
    THEN("the agent's publish waits in the inbox") {
      INFO(banner(*page));
      REQUIRE(page->wait_until(row_of("lmdb-guide"), 60s));
      save_screenshot(*page, "inbox.png");

      WHEN("the editor opens it") {
        page->evaluate(row_of("lmdb-guide") + ".querySelector('a').click()");
        REQUIRE(page->wait_until("document.getElementById('approve')"));
        THEN("it shows the model's stated confidence from the turn that called publish") {
          CHECK(page->evaluate("[...document.querySelectorAll('.facts dt')].some((d) => "
                               "d.textContent === \"model's confidence\")") == true);
        }
        THEN("edit offers the arguments as a form from the tool's schema") {
          page->evaluate("document.getElementById('edit').click()");
          REQUIRE(page->wait_until("document.getElementById('arg-title')"));
          CHECK(page->evaluate("document.getElementById('arg-title').value.length > 0") == true);
          CHECK(page->evaluate("document.getElementById('arg-draft').tagName") == "TEXTAREA");
          AND_WHEN("the editor changes the title and sends the edit") {
            page->evaluate("document.getElementById('arg-title').value = 'A practical guide'");
            page->evaluate("document.querySelector('form.edit button[type=submit]').click()");
            THEN("the request is decided with the edited arguments") {
              INFO(banner(*page));
              REQUIRE(page->wait_until("document.querySelector('.outcome')"));
              CHECK(page->evaluate("document.querySelector('.outcome').textContent.includes("
                                   "'edit by ed')") == true);
              page->evaluate("location.hash = '#/runs/lmdb-guide'");
              CHECK(page->wait_until("[...document.querySelectorAll('.step .result')].some("
                                     "(r) => r.textContent.includes('a-practical-guide'))",
                                     60s));
            }
          }
        }
        AND_WHEN("the editor rejects it with a reason") {
          decide_with_text(*page, "reject", "not ready to publish");
          THEN("the reason is the request's outcome") {
            INFO(banner(*page));
            REQUIRE(page->wait_until("document.querySelector('.outcome')"));
            CHECK(page->evaluate("document.querySelector('.outcome').textContent.includes("
                                 "'reject by ed')") == true);
            CHECK(page->evaluate("document.querySelector('.outcome').textContent.includes("
                                 "'not ready to publish')") == true);
          }
        }
        AND_WHEN("the editor approves") {
          page->evaluate("document.getElementById('approve').click()");
          INFO(banner(*page));
          REQUIRE(page->wait_until("document.querySelector('.outcome')"));
          CHECK(page->evaluate("document.querySelector('.outcome').textContent.includes("
                               "'approve by ed via http')") == true);
          THEN("the run completes and its timeline shows the publish") {
            page->evaluate("location.hash = '#/runs/lmdb-guide'");
            INFO(banner(*page));
            REQUIRE(page->wait_until("document.querySelector('.facts .status') && "
                                     "document.querySelector('.facts .status').textContent"
                                     " === 'completed'", 60s));
            CHECK(page->evaluate("[...document.querySelectorAll('.step .name')]"
                                 ".some((s) => s.textContent.includes('publish'))") == true);
            save_screenshot(*page, "timeline.png", true);
            AND_THEN("the runs list filters by status and no run is quarantined") {
              page->evaluate("location.hash = '#/runs?status=completed'");
              REQUIRE(page->wait_until("document.querySelector('tr[data-run=\"lmdb-guide\"]')"));
              page->evaluate("location.hash = '#/runs?status=failed'");
              REQUIRE(page->wait_until("document.querySelector('.empty') && document"
                                       ".getElementById('status-filter').value === 'failed'"));
              page->evaluate("location.hash = '#/quarantined'");
              REQUIRE(page->wait_until("document.querySelector('.empty') && document"
                                       ".querySelector('.empty').textContent === "
                                       "'No run is quarantined.'"));
            }
          }
        }
      }
    }
  }
}

SCENARIO("after a kill -9 of serve the open page reconnects by itself and shows every "
         "pending request", "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  ::setenv("CONTENT_SITE_DIR", dir.file("site").c_str(), 1);
  auto token = token_for(data, "ed");
  auto serve = std::make_unique<serve_process>(data, "127.0.0.1:0");
  auto address = serve->address();
  start_article(data, "post-a", "actor model");
  start_article(data, "post-b", "write-ahead log");
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve->url, token);
  REQUIRE(page->wait_until(row_of("post-a") + " && " + row_of("post-b"), 60s));

  WHEN("serve is killed with SIGKILL") {
    serve->child->kill_hard();
    THEN("the page notices") {
      REQUIRE(page->wait_until("document.getElementById('live').textContent === "
                               "'reconnecting'", 30s));

      AND_WHEN("serve starts again on the same address and a third run raises a request") {
        serve = std::make_unique<serve_process>(data, address);
        start_article(data, "post-c", "group commit");
        THEN("without a reload the page is connected and lists all three") {
          INFO(banner(*page));
          REQUIRE(page->wait_until(row_of("post-a") + " && " + row_of("post-b") + " && " +
                                   row_of("post-c"), 60s));
          CHECK(page->wait_until("document.getElementById('live').textContent === 'live'",
                                 20s));
          CHECK(page->evaluate("document.querySelectorAll('tr[data-request]').length") == 3);
        }
      }
    }
  }
}

} // namespace endure::test

namespace endure::test {

SCENARIO("an agent's question is answered with text, and a decision it does not allow is "
         "refused with the API's message",
         "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  ::setenv("CONTENT_SITE_DIR", dir.file("site").c_str(), 1);
  auto token = token_for(data, "ed");
  serve_process serve(data, "127.0.0.1:0");
  // An unclear search intent: the agent asks (ask_human) before it writes.
  cli(data, {"start", "content_agent", "--id", "unclear", "--input",
             R"({"keyword": "actor model", "intent": "ambiguous"})"});
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve.url, token);
  REQUIRE(page->wait_until(row_of("unclear"), 60s));
  page->evaluate(row_of("unclear") + ".querySelector('a').click()");
  REQUIRE(page->wait_until("document.getElementById('respond')"));

  WHEN("the editor responds with text") {
    decide_with_text(*page, "respond", "the programming model");
    THEN("the answer is the request's outcome") {
      INFO(banner(*page));
      REQUIRE(page->wait_until("document.querySelector('.outcome')"));
      CHECK(page->evaluate("document.querySelector('.outcome').textContent.includes("
                           "'the programming model')") == true);
    }
  }
  WHEN("the editor tries a decision the request does not allow (reject, on a question)") {
    decide_with_text(*page, "reject", "not our topic");
    THEN("the API's message is shown and the request stays pending") {
      REQUIRE(page->wait_until("!document.getElementById('error').hidden"));
      CHECK_THAT(banner(*page), Catch::Contains("reject is not a decision this request allows"));
      CHECK(page->evaluate("document.querySelector('.outcome')").is_null());
      CHECK(page->evaluate("document.querySelector('.facts .status').textContent") == "pending");
    }
  }
}

SCENARIO("a quarantined run shows its reason and is released from the page", "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto marker = dir.file("marker");
  auto token = token_for(data, "ada", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  cli(data, {"start", "crashy", "--id", "q1", "--input", "\"" + marker + "\""}, workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve.url, token);
  page->evaluate("location.hash = '#/quarantined'");
  auto row = std::string("document.querySelector('tr[data-run=\"q1\"]')");
  REQUIRE(page->wait_until(row, 60s));
  CHECK(page->evaluate(row + ".querySelector('.detail').textContent.length > 0") == true);

  WHEN("the cause is fixed and the admin releases it with a reason") {
    std::ofstream{marker} << "fixed";
    page->evaluate(row + ".querySelector('input').focus()");
    page->type("marker restored");
    page->evaluate(row + ".querySelector('button').click()");
    THEN("the run resumes and completes, and its timeline records the release") {
      INFO(banner(*page));
      REQUIRE(page->wait_until("document.getElementById('notice').textContent.includes("
                               "'Released q1')"));
      page->evaluate("location.hash = '#/runs/q1'");
      REQUIRE(page->wait_until("document.querySelector('.facts .status') && "
                               "document.querySelector('.facts .status').textContent"
                               " === 'completed'", 60s));
      CHECK(page->evaluate("document.body.textContent.includes('marker restored')") == true);
    }
  }
}

} // namespace endure::test

namespace endure::test {

SCENARIO("while runs keep stepping, the open page shows a new request without a reload",
         "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto token = token_for(data, "ada", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve.url, token);
  REQUIRE(page->wait_until("document.getElementById('live').textContent === 'live' && "
                           "document.querySelector('#view .empty')"));

  GIVEN("a run started every 40 ms, so events arrive in every 50 ms batch") {
    // The page starts them itself (a loop of its own, stopped at the end
    // or after 1,000 runs, some 40 s): the test thread is free to watch the
    // DOM meanwhile. window.started counts the runs the API started.
    page->evaluate("window.started = 0; window.churning = true; (async () => {"
                   " for (let i = 0; window.churning && i < 1000; ++i) {"
                   "  if (await " + start_from_page("sleeper", "'churn-' + i", "20") +
                   " === 200) window.started++;"
                   "  await new Promise((done) => setTimeout(done, 40)); }"
                   "})(); true");
    REQUIRE(page->wait_until("window.started >= 10"));

    WHEN("a run asks a question meanwhile") {
      CHECK(page->evaluate(start_from_page("ask", "'asked'", "'which audience?'")) == 200);
      auto started_then = page->evaluate("window.started").get<int>();
      THEN("the inbox lists it within seconds, while the runs go on and the stream stays up") {
        INFO(banner(*page));
        CHECK(page->wait_until(row_of("asked"), 10s));
        // The runs go on: another start lands (awaited: under load the row
        // can show before the next start's answer).
        CHECK(page->wait_until("window.started > " + std::to_string(started_then), 10s));
        CHECK(page->evaluate("document.getElementById('live').textContent") == "live");
      }
    }
    page->evaluate("window.churning = false");
  }
}

SCENARIO("a logout while the event stream waits to reconnect, then a new login, leaves one "
         "stream",
         "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto token = token_for(data, "ada", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  // The stream loop's requests fail while window.refuse_events (a network
  // error, as when serve is gone), so it waits to retry.
  log_in_watching_events(*page, serve.url, token, true);
  REQUIRE(page->wait_until("window.event_fetches === 1"));

  WHEN("the user logs out and in again before the retry (500 ms)") {
    page->evaluate("document.getElementById('logout').click();"
                   "window.refuse_events = false; window.event_fetches = 0;"
                   "document.getElementById('token').value = '" + token + "';"
                   "document.querySelector('#login-form button').click()");
    THEN("the new login's stream is live and the old loop never opens another") {
      REQUIRE(page->wait_until("document.getElementById('live').textContent === 'live'"));
      // Absence is shown by waiting past the old loop's retry (500 ms).
      CHECK_FALSE(page->wait_until("window.event_fetches > 1", 3s));
      CHECK(page->evaluate("window.event_fetches") == 1);
    }
  }
}

SCENARIO("a run's timeline shows each step as it completes, from a stream of that run's step "
         "events", "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto token = token_for(data, "ada", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  cli(data, {"start", "paced", "--id", "p1", "--input", "\"" + dir.path() + "\""}, workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  log_in_watching_events(*page, serve.url, token, false);
  const std::string live = "document.getElementById('live').textContent === 'live'";
  auto last_stream_is = [&](const std::string& url) {
    return live + " && window.event_urls.at(-1) === '" + url + "'";
  };
  REQUIRE(page->wait_until(last_stream_is("/api/v1/events")));

  WHEN("the run's timeline is opened") {
    page->evaluate("location.hash = '#/runs/p1'");
    REQUIRE(page->wait_until(last_stream_is("/api/v1/events?run=p1")));
    const std::string running = "document.querySelector('.facts .status').textContent === "
                                "'running'";
    // The step completed, not merely in flight (a step in flight shows too).
    auto shows_step = [&](int n) {
      return running + " && [...document.querySelectorAll('.step')].some((s) => "
                       "s.querySelector('.name').textContent === 'go " + std::to_string(n) +
             "' && s.textContent.includes('completed'))";
    };
    THEN("each step shows once it completes, while the run still runs, without a reload") {
      for (int n = 0; n < 2; ++n) {
        std::ofstream{dir.file("go-" + std::to_string(n))} << "go";
        INFO("step " << n << "; " << banner(*page));
        CHECK(page->wait_until(shows_step(n), 10s));
      }
      save_screenshot(*page, "timeline-live.png", true);
      AND_WHEN("the user goes back to the inbox") {
        page->evaluate("location.hash = '#/inbox'");
        THEN("the page follows a stream without step events again") {
          CHECK(page->wait_until(last_stream_is("/api/v1/events")));
          CHECK(page->evaluate("window.event_urls.length") == 3);
        }
      }
    }
  }
  std::ofstream{dir.file("go-0")} << "go";  // the run ends, whatever was checked
  std::ofstream{dir.file("go-1")} << "go";
  std::ofstream{dir.file("go-2")} << "go";
}

SCENARIO("an edit keeps arguments named like Object's own members", "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto token = token_for(data, "ada", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve.url, token);

  GIVEN("a request whose schema has a property 'constructor' the arguments lack, and "
        "whose arguments have 'toString' and '__proto__' the schema lacks") {
    // The page's own decision panel (decide.js) on such a request; the
    // decision it posts is caught by a wrapped fetch instead of sent.
    page->evaluate(
      "import('/decide.js').then((m) => {"
      " window.sent = null; const real_fetch = window.fetch;"
      " window.fetch = (url, options) => {"
      "  if (!String(url).endsWith('/decision')) return real_fetch(url, options);"
      "  window.sent = JSON.parse(options.body);"
      "  return Promise.resolve(new Response('{\"result\": \"decided\"}',"
      "   {status: 200, headers: {'Content-Type': 'application/json'}})); };"
      " const q = {id: 'r/1', schema: JSON.parse('{\"type\": \"object\", \"properties\": "
      "{\"title\": {\"type\": \"string\"}, \"constructor\": {\"type\": \"string\"}}}'),"
      "  arguments: JSON.parse('{\"title\": \"T\", \"toString\": \"kept\", "
      "\"__proto__\": \"also kept\"}')};"
      " const panel = m.decision_panel(q); panel.id = 'test-panel';"
      " document.body.append(panel); return true; })");
    page->evaluate("document.querySelector('#test-panel #edit').click()");
    REQUIRE(page->wait_until("document.getElementById('arg-title')"));

    THEN("the form offers each as itself, and sends them unchanged") {
      CHECK(page->evaluate("document.getElementById('arg-constructor').value") == "");
      CHECK(page->evaluate("document.getElementById('arg-toString').value") == "\"kept\"");
      CHECK(page->evaluate("document.getElementById('arg-__proto__').value") == "\"also kept\"");
      page->evaluate("document.querySelector('#test-panel form.edit button[type=submit]')"
                     ".click()");
      REQUIRE(page->wait_until("window.sent"));
      CHECK(page->evaluate("JSON.stringify(window.sent)") ==
            R"({"decision":"edit","arguments":{"title":"T","toString":"kept",)"
            R"("__proto__":"also kept"}})");
    }
  }
}

} // namespace endure::test

namespace endure::test {

SCENARIO("the Tasks view lists a long task and shows its ledger, evidence and progress log",
         "[browser]") {
  temp_dir dir;
  auto data = dir.file("data");
  // A real long task: the example writes its 30 pages, one per session.
  auto [rc, out] = run_command({LONG_TASK_EXAMPLE, data}, 120s);
  INFO(out);
  REQUIRE(rc == 0);
  auto token = token_for(data, "vic", workflows_bin);
  serve_process serve(data, "127.0.0.1:0", workflows_bin);
  auto page = cdp_client::launch(dir.file("profile"));
  log_in(*page, serve.url, token);
  page->evaluate("location.hash = '#/tasks'");
  auto row = std::string("document.querySelector('tr[data-task=\"manual\"]')");
  REQUIRE(page->wait_until(row, 60s));
  CHECK(page->evaluate(row + ".textContent.includes('30 of 30')") == true);
  save_screenshot(*page, "console-tasks.png");
  page->evaluate(row + ".querySelector('a').click()");
  REQUIRE(page->wait_until("document.querySelectorAll('tr[data-item]').length === 30", 60s));
  save_screenshot(*page, "console-task.png", true);
  THEN("every item shows its evidence, and the progress log one entry per session") {
    CHECK(page->evaluate("document.querySelector('tr[data-item=\"page-07\"] .evidence')"
                         ".textContent.startsWith('passed (grep')") == true);
    CHECK(page->evaluate("document.querySelectorAll('ol.progress li').length") == 31);
    CHECK(page->evaluate("document.querySelector('.tally').textContent") ==
          "30 passing, 0 failing");
  }
}

} // namespace endure::test

