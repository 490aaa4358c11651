#!/usr/bin/env bash
# The side-by-side CPU benchmark: Lacuna's serving cpu backend against PyTorch (OpenBLAS) and ONNX Runtime in one
# run, recorded under bench/results/ as cpu-run-<date>.json and .md (org.lacuna.bench.cpu.CpuBenchMain).
#
#   bench/run-cpu.sh                      # the issue's cases (tens of minutes on 2 cores with the slow kernels)
#   bench/run-cpu.sh --quick              # toy sizes: a smoke test of the whole flow in about a minute
#   bench/run-cpu.sh --filter '^dense-'   # some cases only; --help lists every option
#
# Builds the project (tests skipped) when the bench jar is missing or older than any source. Install the PyTorch
# anchor first with bench/anchors/install-cpu-anchors.sh; without it the PyTorch peers are recorded as skipped.
# JAVA_HOME must be a JDK 25 (default: /usr/lib/jvm/temurin-25-jdk-amd64 when it exists).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

jar=$(ls bench/target/lacuna-bench-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -n1 || true)
if [[ -z "$jar" || ! -d bench/target/lib ]] \
   || [[ -n "$(find kernels runtime java-api bench -path '*/src/main/*' -newer "$jar" -type f -print -quit)" ]] \
   || [[ -n "$(find . -maxdepth 2 -name pom.xml -newer "$jar" -print -quit)" ]]; then
  echo "run-cpu: building (tests skipped)"
  ./mvnw -B -ntp -q -DskipTests package -pl bench -am
  jar=$(ls bench/target/lacuna-bench-*.jar | grep -v -- '-tests.jar' | head -n1)
fi

# The fast paths' flags (jdk.incubator.vector, native access) and a heap for the MiniLM model and MinkUNet's maps.
exec "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Xmx8g \
  -cp "$jar:bench/target/lib/*" org.lacuna.bench.cpu.CpuBenchMain "$@"
