#!/usr/bin/env bash
# What a user of an installed endure relies on: `cmake --install` gives a
# prefix that another CMake project finds with find_package(endure) and
# builds against, every header included as <endure/...>, and no installed
# header pulls in LMDB, Beast/Asio or nlohmann-json (those stay private to
# endure's libraries). Builds and runs examples/embedding out of tree.
#
#   installed_package_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"

includes=$prefix/include/endure
[ -f "$includes/endure.hpp" ] || { echo "FAIL: no $includes/endure.hpp"; exit 1; }
# Every endure header includes its siblings as "endure/..." only.
if grep -rnE '#include "(actors|persistence|net|supervisors|cli)/' "$includes"; then
  echo "FAIL: an installed header includes a path that only exists in the source tree"
  exit 1
fi
if grep -rnE '#include [<"](lmdb\.h|boost/beast|boost/asio)' "$includes"; then
  echo "FAIL: an installed header pulls in a dependency endure keeps private"
  exit 1
fi
# What a user's translation unit gets from endure/endure.hpp: no LMDB,
# Beast or Asio, of nlohmann-json only its forward declarations (ctx.tool's
# signature), and of CAF only its forward declarations.
echo '#include <endure/endure.hpp>' >"$work/includes_endure.cpp"
${CXX:-c++} -std=c++20 -fsyntax-only -H -I"$prefix/include" "$work/includes_endure.cpp" \
  2>"$work/endure_hpp_includes.txt"
if grep -E 'lmdb\.h|boost/beast|boost/asio|nlohmann/' "$work/endure_hpp_includes.txt" \
   | grep -vE 'nlohmann/(json_fwd|detail/abi_macros)\.hpp'; then
  echo "FAIL: endure/endure.hpp drags in a dependency endure keeps private"
  exit 1
fi
if grep -E '/caf/' "$work/endure_hpp_includes.txt" | grep -vE '/caf/(fwd|timespan|detail/is_one_of|detail/is_primitive_config_value)\.hpp'; then
  echo "FAIL: endure/endure.hpp includes more of CAF than its forward declarations"
  exit 1
fi
# Every header an installed header includes is installed too.
while read -r included; do
  [ -f "$prefix/include/$included" ] || { echo "FAIL: $included is included but not installed"; exit 1; }
done < <(grep -rhoE '#include "endure/[^"]+"' "$includes" | sed -E 's/#include "(.*)"/\1/' | sort -u)

# The exported targets carry the build tree's names (endure::actors, ...).
targets=$(cat "$prefix"/lib*/cmake/endure/endureTargets.cmake)
for t in endure::endure endure::actors endure::persistence endure::net endure::supervisors endure::cluster; do
  grep -q "$t\b" <<<"$targets" || { echo "FAIL: the install exports no $t"; exit 1; }
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$source/examples/embedding" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }

out=$("$work/build/embedding_example" "$work/data")
echo "$out"
grep -q "completed" <<<"$out" || { echo "FAIL: the example built against the install did not complete its run"; exit 1; }
echo "PASS"
