#!/usr/bin/env bash
# Runs the JMH benchmarks with a Java >= 21: ./run-benchmarks.sh [JMH options] [benchmark regex]
# (./run-benchmarks.sh -h lists JMH's options, -l the benchmarks). Finds Java like run-sample.sh (JAVA_HOME, PATH,
# then /usr/lib/jvm/*); builds benchmarks/target/benchmarks.jar with ./mvnw if it is missing (MVN_ARGS = extra
# Maven options). The flags below silence JDK warnings (Unsafe use by protobuf, native access by blst).
set -euo pipefail
cd "$(dirname "$0")"

java_version() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}

find_java() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for d in /usr/lib/jvm/*/bin/java; do candidates+=("$d"); done
  for j in "${candidates[@]}"; do
    if [ -x "$j" ]; then
      v=$(java_version "$j")
      if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$j"; return 0; fi
    fi
  done
  return 1
}

java=$(find_java) || { echo "run-benchmarks.sh: no Java >= 21 found (set JAVA_HOME)" >&2; exit 1; }
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  echo "Building the benchmarks jar..." >&2
  read -r -a mvn_args <<< "${MVN_ARGS:-}"
  ./mvnw -q -B -Dstyle.color=never "${mvn_args[@]}" -DskipTests -pl benchmarks -am package >&2
fi
flags=(--enable-native-access=ALL-UNNAMED)
[ "$(java_version "$java")" -ge 23 ] && flags+=(--sun-misc-unsafe-memory-access=allow)
exec "$java" "${flags[@]}" -jar "$jar" "$@"
