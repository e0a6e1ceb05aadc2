// A headless Chromium for the browser tests, driven over the DevTools
// protocol (CDP) with Beast's WebSocket client: the test launches Debian's
// `chromium` with a profile of its own, attaches to its page and evaluates
// JavaScript in it, types, navigates and takes screenshots. Test code
// only; test thread only. Every call waits at most its timeout and throws
// std::runtime_error when it passes (a test never hangs on the browser).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace endure::test {

/// The chromium binary on PATH; empty when it is not installed.
std::string chromium_path();

class cdp_client {
public:
  /// Starts `chromium --headless=new` (window width x height) on a fresh
  /// profile in `profile_dir` and attaches to its page. Throws when
  /// chromium is missing ("install chromium: bash .ci/install-deps") or
  /// does not come up within 30 s.
  static std::unique_ptr<cdp_client> launch(const std::string& profile_dir, int width = 1200,
                                            int height = 800);
  /// Closes the browser (Browser.close, then SIGKILL if it lingers).
  ~cdp_client();
  cdp_client(const cdp_client&) = delete;
  cdp_client& operator=(const cdp_client&) = delete;

  /// Sends one CDP command and returns its "result"; throws with the
  /// protocol's error message, or when no answer comes within `timeout`.
  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object(),
                      std::chrono::milliseconds timeout = std::chrono::seconds{15});

  /// The value of `expression` evaluated in the page (promises awaited);
  /// throws with the page's exception text if it throws.
  nlohmann::json evaluate(const std::string& expression);

  /// Evaluates `expression` until it is truthy or `limit` passes; returns
  /// whether it became truthy. An expression that throws counts as false
  /// (the page may be between two views).
  bool wait_until(const std::string& expression,
                  std::chrono::milliseconds limit = std::chrono::seconds{20});

  /// Opens `url` and waits (at most 20 s) for its document to load.
  void navigate(const std::string& url);

  /// Types `text` into the focused element, as a keyboard would.
  void type(const std::string& text);

  /// A PNG of the page's viewport, or of the whole page (as tall as its
  /// content) when `full_page`.
  std::string screenshot_png(bool full_page = false);

private:
  struct impl;
  explicit cdp_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace endure::test
