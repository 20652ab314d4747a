#!/usr/bin/env bash
# Runs a Mir-Java sample or tool: ./run-sample.sh <command> [options]   (./run-sample.sh --help lists them;
# ./run-sample.sh chat is the main demo)
# ./run-sample.sh bench --help: throughput/latency benchmark of a Trantor system (results, CSV/JSON, PNG plots).
# Finds a Java >= 21 (JAVA_HOME, PATH, then /usr/lib/jvm/*), builds the samples jar with ./mvnw if it is missing or
# older than the sources, and runs it. Environment: MVN_ARGS = extra Maven options for that build.
set -euo pipefail
cd "$(dirname "$0")"

java_version() { # prints the major version of the given java binary, or nothing
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

java=$(find_java) || { echo "run-sample.sh: no Java >= 21 found (set JAVA_HOME)" >&2; exit 1; }
jar=samples/target/mir-samples.jar
# Stale if any source, proto or POM outside build output directories is newer than the jar.
if [ ! -f "$jar" ] || [ -n "$(find . \( -name target -o -name .git \) -prune -o \( -name '*.java' -o -name '*.proto' -o -name pom.xml \) -newer "$jar" -print -quit 2>/dev/null || true)" ]; then
  echo "Building the samples jar (first run takes a few minutes)..." >&2
  # The committed Maven Wrapper (Maven 3.9.11); extra Maven options come from MVN_ARGS (e.g.
  # MVN_ARGS="-Dmaven.repo.local=/tmp/m2 -o"), JVM options for Maven from MAVEN_OPTS as usual.
  # -Dstyle.color=never: no ANSI escape codes on stderr.
  read -r -a mvn_args <<< "${MVN_ARGS:-}"
  ./mvnw -q -B -Dstyle.color=never "${mvn_args[@]}" -DskipTests -pl samples -am package >&2
fi
flags=()
# protobuf-java still uses sun.misc.Unsafe; JDK 23+ warns unless the access is allowed explicitly.
[ "$(java_version "$java")" -ge 23 ] && flags+=(--sun-misc-unsafe-memory-access=allow)
exec "$java" "${flags[@]}" -jar "$jar" "$@"
