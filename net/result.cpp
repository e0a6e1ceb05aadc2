// See result.hpp: turning an exception that escaped a decoder or a callback
// into a classified failure. Any thread.
#include "endure/net/result.hpp"

namespace endure::net {

endure::failure failure_from_exception(std::exception_ptr error, std::string_view what) {
  std::string where(what);
  try {
    std::rethrow_exception(error);
  } catch (const step_error& e) {
    auto f = e.info();
    f.message = where + ": " + f.message;
    return f;
  } catch (const std::exception& e) {
    return make_failure(failure_class::retryable,
                        where + ": internal error while handling the answer: " + e.what() +
                          "; retrying may help, please report it if it persists");
  } catch (...) {
    return make_failure(failure_class::retryable,
                        where + ": internal error while handling the answer (an exception "
                                "that is not a std::exception); please report it");
  }
}

} // namespace endure::net
