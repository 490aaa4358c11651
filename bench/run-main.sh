#!/usr/bin/env bash
# Runs a bench main class on the bench jar and its dependencies: bench/run-main.sh CLASS [ARGS...]. Shared by
# run-cpu.sh and run-schedule.sh. Builds the project (tests skipped) when the bench jar is missing or older than any
# source. JAVA_HOME must be a JDK 25 (default: /usr/lib/jvm/temurin-25-jdk-amd64 when it exists).
set -euo pipefail
main="$1"
shift
cd "$(dirname "$0")/.."

if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

jar=$(ls bench/target/lacuna-bench-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -n1 || true)
if [[ -z "$jar" || ! -d bench/target/lib ]] \
   || [[ -n "$(find kernels runtime java-api bench -path '*/src/main/*' -newer "$jar" -type f -print -quit)" ]] \
   || [[ -n "$(find . -maxdepth 2 -name pom.xml -newer "$jar" -print -quit)" ]]; then
  echo "run-main: building (tests skipped)"
  ./mvnw -B -ntp -q -DskipTests package -pl bench -am
  jar=$(ls bench/target/lacuna-bench-*.jar | grep -v -- '-tests.jar' | head -n1)
fi

# The fast paths' flags (jdk.incubator.vector, native access) and a heap for the MiniLM model and MinkUNet's maps.
exec "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Xmx8g \
  -cp "$jar:bench/target/lib/*" "$main" "$@"
