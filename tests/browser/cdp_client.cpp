// The DevTools protocol client (cdp_client.hpp). Chromium is a child
// process; its DevTools port comes from DIR/DevToolsActivePort, the page's
// WebSocket from GET /json/list. Beast's WebSocket runs its asynchronous
// operations on a private io_context driven with run_for, so each one is
// bounded by a deadline (its synchronous calls cannot be).
#include "browser/cdp_client.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/websocket.hpp>

#include "console/http_probe.hpp"
#include "support/child_process.hpp"

namespace endure::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string chromium_path() {
  for (auto* name : {"chromium", "chromium-browser"}) {
    std::string path = std::string(name);
    auto [code, out] = run_command({"/bin/sh", "-c", "command -v " + path}, 10s);
    if (code == 0 && !out.empty())
      return out.substr(0, out.find('\n'));
  }
  return {};
}

struct cdp_client::impl {
  std::unique_ptr<child_process> chromium;
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  int next_id = 0;

  /// Runs the asynchronous operation `start` begins, for at most `limit`.
  template <class Start>
  void bounded(std::chrono::milliseconds limit, const std::string& what, Start start) {
    bool done = false;
    beast::error_code error;
    start([&](beast::error_code ec, auto&&...) {
      error = ec;
      done = true;
    });
    ioc.restart();
    ioc.run_for(limit);
    if (!done) {
      beast::get_lowest_layer(ws).cancel();
      ioc.restart();
      ioc.run_for(1s);
      throw std::runtime_error("cdp: " + what + " took longer than " +
                               std::to_string(limit.count()) + " ms");
    }
    if (error)
      throw std::runtime_error("cdp: " + what + ": " + error.message());
  }
};

namespace {

/// The DevTools port chromium wrote to DIR/DevToolsActivePort (first line).
int devtools_port(const std::string& profile_dir, child_process& chromium) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(profile_dir + "/DevToolsActivePort");
    std::string port, path;
    if (std::getline(in, port) && std::getline(in, path) && !port.empty())
      return std::stoi(port);
    // No event tells when chromium has written the file: look again shortly.
    std::this_thread::sleep_for(50ms);
  }
  chromium.kill_hard();
  throw std::runtime_error("cdp: chromium wrote no DevToolsActivePort in " + profile_dir +
                           " within 30 s");
}

/// The path of the first page target's WebSocket ("/devtools/page/ID").
std::string page_socket_path(int port) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    http_probe probe(static_cast<std::uint16_t>(port));
    probe.send("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto reply = probe.read(10s);
    auto targets = json::parse(reply.body, nullptr, false);
    if (reply.status == 200 && targets.is_array())
      for (auto& t : targets)
        if (t.value("type", "") == "page" && t.contains("webSocketDebuggerUrl")) {
          auto url = t["webSocketDebuggerUrl"].get<std::string>();  // ws://HOST:PORT/PATH
          return url.substr(url.find('/', std::string("ws://").size()));
        }
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("cdp: chromium listed no page target within 30 s");
}

} // namespace

std::unique_ptr<cdp_client> cdp_client::launch(const std::string& profile_dir, int width,
                                               int height) {
  auto path = chromium_path();
  if (path.empty())
    throw std::runtime_error("chromium is not installed; install chromium: bash .ci/install-deps");
  auto p = std::make_unique<impl>();
  p->chromium = std::make_unique<child_process>(std::vector<std::string>{
    path, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
    "--user-data-dir=" + profile_dir, "--no-first-run", "--no-default-browser-check",
    "--hide-scrollbars", "--mute-audio", "--log-level=3",
    "--window-size=" + std::to_string(width) + "," + std::to_string(height), "about:blank"});
  auto port = devtools_port(profile_dir, *p->chromium);
  auto socket_path = page_socket_path(port);
  asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(port));
  auto* raw = p.get();
  p->bounded(10s, "connecting to chromium", [&](auto done) {
    beast::get_lowest_layer(raw->ws).async_connect(at, std::move(done));
  });
  p->ws.read_message_max(64 << 20);  // screenshots arrive as one base64 message
  p->bounded(10s, "the DevTools handshake", [&](auto done) {
    raw->ws.async_handshake("127.0.0.1:" + std::to_string(port), socket_path, std::move(done));
  });
  return std::unique_ptr<cdp_client>(new cdp_client(std::move(p)));
}

cdp_client::cdp_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

cdp_client::~cdp_client() {
  try {
    call("Browser.close", json::object(), 5s);
  } catch (const std::exception&) {
    // closing the socket below and the kill in wait() end it anyway
  }
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
  impl_->chromium->wait(10s);
}

json cdp_client::call(const std::string& method, json params, std::chrono::milliseconds timeout) {
  auto id = ++impl_->next_id;
  auto text = json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  impl_->ws.text(true);
  impl_->bounded(timeout, "sending " + method, [&](auto done) {
    impl_->ws.async_write(asio::buffer(text), std::move(done));
  });
  for (;;) {  // events and other answers come in between: skip them
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left <= 0ms)
      throw std::runtime_error("cdp: no answer to " + method + " in time");
    beast::flat_buffer buffer;
    impl_->bounded(left, "waiting for the answer to " + method, [&](auto done) {
      impl_->ws.async_read(buffer, std::move(done));
    });
    auto message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
    if (!message.is_object() || message.value("id", -1) != id)
      continue;
    if (message.contains("error"))
      throw std::runtime_error("cdp: " + method + " failed: " + message["error"].dump());
    return message.value("result", json::object());
  }
}

json cdp_client::evaluate(const std::string& expression) {
  auto r = call("Runtime.evaluate",
                {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) {
    auto& d = r["exceptionDetails"];
    auto what = d.contains("exception") ? d["exception"].value("description", d.dump())
                                        : d.value("text", d.dump());
    throw std::runtime_error("the page threw evaluating `" + expression + "`: " + what);
  }
  return r["result"].value("value", json(nullptr));
}

bool cdp_client::wait_until(const std::string& expression, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    try {
      auto v = evaluate("!!(" + expression + ")");
      if (v.is_boolean() && v.get<bool>())
        return true;
    } catch (const std::runtime_error&) {
      // between two documents, or the expression's subject is not there yet
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    // The page changes on its own (its fetches, its timers): poll its DOM.
    std::this_thread::sleep_for(100ms);
  }
}

void cdp_client::navigate(const std::string& url) {
  auto r = call("Page.navigate", {{"url", url}});
  if (r.contains("errorText"))
    throw std::runtime_error("cdp: cannot open " + url + ": " + r["errorText"].dump());
  if (!wait_until("location.href === " + json(url).dump() + " && document.readyState === "
                  "'complete'"))
    throw std::runtime_error("cdp: " + url + " did not finish loading within 20 s");
}

void cdp_client::type(const std::string& text) {
  call("Input.insertText", {{"text", text}});
}

std::string cdp_client::screenshot_png(bool full_page) {
  json params = {{"format", "png"}};
  if (full_page) {
    auto size = evaluate("[document.documentElement.scrollWidth, "
                         "document.documentElement.scrollHeight]");
    params["captureBeyondViewport"] = true;
    params["clip"] = {{"x", 0}, {"y", 0}, {"width", size[0]}, {"height", size[1]}, {"scale", 1}};
  }
  auto data = call("Page.captureScreenshot", params).value("data", "");
  std::string png(beast::detail::base64::decoded_size(data.size()), '\0');
  auto [written, read] = beast::detail::base64::decode(png.data(), data.data(), data.size());
  (void) read;
  png.resize(written);
  return png;
}

} // namespace endure::test
