// type_label<T>(): what a value of T looks like to someone who writes it as
// JSON ("a string", "an array of integers"), for the errors of callers that
// build a workflow's input from outside C++ (the CLI's --input). Types it
// does not know are named by their C++ name with how msgpack lays them out.
// Header-only apart from demangle (workflow_registry.cpp); no thread state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace endure::detail {

/// The readable C++ name of a type ("shop::order").
std::string demangle(const std::type_info& type);

template <class T>
struct type_label_of {
  static std::string get() {
    if constexpr (std::is_same_v<T, bool>)
      return "true or false";
    else if constexpr (std::is_integral_v<T>)
      return "an integer";
    else if constexpr (std::is_floating_point_v<T>)
      return "a number";
    else if constexpr (std::is_same_v<T, std::string>)
      return "a string";
    else
      return "a value of C++ type " + demangle(typeid(T))
             + " (a JSON array of its MSGPACK_DEFINE fields in order, or an object of them "
               "if it uses MSGPACK_DEFINE_MAP)";
  }
};

template <class T, class A>
struct type_label_of<std::vector<T, A>> {
  static std::string get() { return "an array of " + plural(type_label_of<T>::get()); }
  static std::string plural(const std::string& s) {
    // "an integer" -> "integers"; anything longer reads as "values: ...".
    for (auto art : {"an ", "a "})
      if (s.rfind(art, 0) == 0 && s.find(' ', std::char_traits<char>::length(art)) == s.npos)
        return s.substr(std::char_traits<char>::length(art)) + "s";
    return "values, each " + s;
  }
};

template <class T>
struct type_label_of<std::optional<T>> {
  static std::string get() { return type_label_of<T>::get() + ", or null"; }
};

template <class V, class C, class A>
struct type_label_of<std::map<std::string, V, C, A>> {
  static std::string get() { return "an object whose values are each " + type_label_of<V>::get(); }
};

template <class V, class H, class E, class A>
struct type_label_of<std::unordered_map<std::string, V, H, E, A>> {
  static std::string get() { return "an object whose values are each " + type_label_of<V>::get(); }
};

template <class T>
std::string type_label() {
  return type_label_of<std::decay_t<T>>::get();
}

} // namespace endure::detail
