#!/usr/bin/env bash
# A local imitation of OSS-Fuzz's build and run of one harness, without Docker:
#   1. a build environment like the base image's: a venv that sees this project's environment (a
#      .pth file) and gets the package installed into it (the shared environment stays untouched);
#   2. a copy of the checkout as $SRC/nabla-atheris, and oss-fuzz/build.sh run on it with $OUT and a
#      stand-in `compile_python_fuzzer` that does what OSS-Fuzz's does (PyInstaller --onefile, the
#      package made non-executable, the wrapper script that preloads sanitizer_with_fuzzer.so);
#   3. the frozen target run from an unrelated folder, without PYTHONPATH, with its .options flags,
#      over seeds from its seed corpus zip, for -runs=N; it must exit 0.
#
# Usage: scripts/check_frozen_harness.sh [LIB]   (default jax: its frozen build is the smallest)
# Environment: NABLA_CHECK_RUNS (default 30), NABLA_CHECK_SEEDS (seeds taken from the zip, evenly
# spread; default 12, "all" for every one), NABLA_CHECK_WORK (work folder; default a new temporary
# folder, kept for inspection), NABLA_CHECK_RAISE=1 (new findings crash, as under OSS-Fuzz; by
# default they are stored only, so that a real finding among the seeds does not fail the check),
# SANITIZER_WITH_FUZZER_SO (a sanitizer+libFuzzer runtime to copy into $OUT; without one the
# wrapper's LD_PRELOAD is ignored by ld.so with a warning, and Atheris uses its bundled libFuzzer).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lib=${1:-jax}
runs=${NABLA_CHECK_RUNS:-30}
nseeds=${NABLA_CHECK_SEEDS:-12}
work=${NABLA_CHECK_WORK:-$(mktemp -d -t nabla-frozen.XXXXXX)}
envpy=${NABLA_CHECK_PYTHON:-$repo/.venv/bin/python}
[ -x "$envpy" ] || { echo "check_frozen_harness: no Python environment at $envpy (run make setup)" >&2; exit 2; }
[ -f "$repo/harnesses/fuzz_$lib.py" ] || { echo "check_frozen_harness: no harness harnesses/fuzz_$lib.py" >&2; exit 2; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
echo "check_frozen_harness: $lib in $work"

# 1. The build environment.
rm -rf "$work/venv" "$work/bin" "$work/src" "$work/out" "$work/run"
base=$("$envpy" -c 'import sys; print(sys._base_executable)')
"$base" -m venv --without-pip "$work/venv"
"$envpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
  >"$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/project-env.pth"
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec "%s" -m PyInstaller "$@"\n' "$work/venv/bin/python" >"$work/bin/pyinstaller"
# The stand-in for OSS-Fuzz's compile_python_fuzzer (infra/base-images/base-builder), minus its
# coverage and introspector branches.
cat >"$work/bin/compile_python_fuzzer" <<'EOF'
#!/bin/bash -eu
fuzzer_path=$1
shift 1
fuzzer_basename=$(basename -s .py "$fuzzer_path")
fuzzer_package=${fuzzer_basename}.pkg
PYFUZZ_WORKPATH=$SRC/pyfuzzworkdir/
FUZZ_WORKPATH=$PYFUZZ_WORKPATH/$fuzzer_basename
rm -rf "$PYFUZZ_WORKPATH"
mkdir "$PYFUZZ_WORKPATH" "$FUZZ_WORKPATH"
pyinstaller --distpath "$OUT" --workpath="$FUZZ_WORKPATH" --onefile --name "$fuzzer_package" "$@" "$fuzzer_path"
chmod -x "$OUT/$fuzzer_package"
echo "#!/bin/sh
# LLVMFuzzerTestOneInput for fuzzer detection.
this_dir=\$(dirname \"\$0\")
chmod +x \$this_dir/$fuzzer_package
LD_PRELOAD=\$this_dir/sanitizer_with_fuzzer.so \
ASAN_OPTIONS=\$ASAN_OPTIONS:symbolize=1:external_symbolizer_path=\$this_dir/llvm-symbolizer:detect_leaks=0 \
\$this_dir/$fuzzer_package \$@" > "$OUT/$fuzzer_basename"
chmod +x "$OUT/$fuzzer_basename"
EOF
chmod +x "$work/bin/pyinstaller" "$work/bin/compile_python_fuzzer"

# 2. The checkout as $SRC/nabla-atheris (tracked and new files, not what .gitignore ignores), and the build.
mkdir -p "$work/src/nabla-atheris" "$work/out"
(cd "$repo" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$work/src/nabla-atheris"
start=$(date +%s)
(
  cd "$work/src"
  unset PYTHONPATH
  PATH="$work/venv/bin:$work/bin:$PATH" SRC="$work/src" OUT="$work/out" NABLA_LIBS="$lib" \
    bash "$work/src/nabla-atheris/oss-fuzz/build.sh"
) >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; echo "check_frozen_harness: the build failed (log: $work/build.log)" >&2; exit 1; }
build_s=$(($(date +%s) - start))
package="$work/out/fuzz_$lib.pkg"
echo "build: ${build_s} s, $(du -h "$package" | cut -f1) ($(stat -c %s "$package") bytes) $package"
[ -n "${SANITIZER_WITH_FUZZER_SO:-}" ] && cp "$SANITIZER_WITH_FUZZER_SO" "$work/out/sanitizer_with_fuzzer.so"
for artifact in "fuzz_$lib" "fuzz_${lib}_seed_corpus.zip" "fuzz_$lib.options"; do
  [ -f "$work/out/$artifact" ] || { echo "check_frozen_harness: $OUT/$artifact is missing" >&2; exit 1; }
done

# 3. The run: seeds from the zip, flags from the .options file, from an unrelated folder.
mkdir -p "$work/run/corpus"
"$envpy" - "$work/out/fuzz_${lib}_seed_corpus.zip" "$work/run/corpus" "$nseeds" <<'EOF'
import sys, zipfile
archive, dest, wanted = zipfile.ZipFile(sys.argv[1]), sys.argv[2], sys.argv[3]
names = sorted(archive.namelist())
step = 1 if wanted == "all" else max(1, len(names) // int(wanted))
for name in names[::step][: None if wanted == "all" else int(wanted)]:
    archive.extract(name, dest)
EOF
mapfile -t flags < <("$envpy" - "$work/out/fuzz_$lib.options" <<'EOF'
import configparser, sys
options = configparser.ConfigParser()
options.read(sys.argv[1])
for key, value in options["libfuzzer"].items():
    print(f"-{key}={value}")
EOF
)
raise=${NABLA_CHECK_RAISE:-0}
echo "run: $(ls "$work/run/corpus" | wc -l) seeds, -runs=$runs ${flags[*]} (log: $work/run.log)"
start=$(date +%s)
set +e
(
  cd "$work/run"
  env -u PYTHONPATH NABLA_RAISE="$raise" NABLA_STATS="$work/run/stats.json" \
    "$work/out/fuzz_$lib" "${flags[@]}" -runs="$runs" -seed=1 corpus
) >"$work/run.log" 2>&1
code=$?
set -e
run_s=$(($(date +%s) - start))
grep -E "INFO: nabla-atheris|INITED|^#[0-9]+ +DONE|Done [0-9]+ runs|ERROR|Traceback|Error:" "$work/run.log" | grep -v "ld.so" | head -20 || true
echo "run: exit code $code after ${run_s} s"
if [ "$code" -ne 0 ] || ! grep -q "INITED" "$work/run.log" || ! grep -q "Done [0-9]* runs" "$work/run.log"; then
  tail -30 "$work/run.log"
  echo "check_frozen_harness: FAILED (log: $work/run.log)" >&2
  exit 1
fi
# A frozen build that lacks a module or a source file shows as findings of every input (a scenario
# raising where the others work): those messages fail the check too.
"$envpy" - "$work/run" <<'EOF' || { echo "check_frozen_harness: FAILED: findings caused by the frozen build" >&2; exit 1; }
import json, pathlib, re, sys
run = pathlib.Path(sys.argv[1])
stats = json.loads((run / "stats.json").read_text()) if (run / "stats.json").is_file() else {}
print(f"checked {stats.get('execs', 0)} inputs, {stats.get('apis_exercised', 0)} APIs; findings: {stats.get('findings', {})}")
frozen = re.compile(r"No module named|ModuleNotFoundError|Failed to get source|could not get source|CatalogDataMissing")
bad = [m["message"] for f in run.glob("findings/*/finding.json") if frozen.search((m := json.loads(f.read_text()))["message"])]
for message in bad[:5]:
    print(f"frozen-build finding: {message[:300]}")
sys.exit(1 if bad else 0)
EOF
echo "check_frozen_harness: OK"
