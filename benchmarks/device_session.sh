#!/usr/bin/env bash
# One call on a lent GPU machine (this workplace's `device` tool, never CI): the CUDA half of the test
# suite, `make bench` on CPU and CUDA, grading throughput at 1, 2, 4 and 8 workers, then as much of the
# whole suite as the time left allows. How the figures in benchmarks/README.md ("On a GPU machine")
# were taken.
#
# That machine has its own Python (3.12) and torch, no network and no apt: the packages it lacks travel
# as wheels in .whl/ (git-ignored; see the device README for `pip download` with --python-version 3.12),
# and bubblewrap as .whl/bin/bwrap. Every step has its own time limit, so the call ends inside its own.
#
#   run(command="bash benchmarks/device_session.sh", carry=[".whl"], timeout_s=590)
set -u
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=python3
STARTED=$SECONDS
BUDGET=${BUDGET:-570} # seconds for the whole script

step() { echo; echo "=== $1 (t=$((SECONDS - STARTED)) s)"; }
left() { echo $((BUDGET - (SECONDS - STARTED))); }

step "machine"
nvidia-smi -L
echo "cores: $(nproc)"
grep -m1 "model name" /proc/cpuinfo
$PY -V
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0))"

step "install the carried packages"
if ! $PY -c "import nbgrader, distributed, IPython" 2>/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .whl/*.whl 2>&1 | tail -3
fi
$PY -m pip install -q --no-index --no-deps --no-build-isolation --editable . 2>&1 | tail -3
# bubblewrap and setpriv where the image lacks them (a throwaway machine: into /usr, which the sandbox
# binds), with the libraries they need only where the image lacks those too
for tool in bwrap setpriv; do
    command -v $tool >/dev/null || cp ".whl/bin/$tool" /usr/bin/
done
for lib in .whl/lib/*; do
    [ -e "/usr/lib/x86_64-linux-gnu/$(basename "$lib")" ] || cp "$lib" /usr/lib/x86_64-linux-gnu/
done
ldconfig 2>/dev/null
bwrap --version
$PY -c "from autograder.sandbox import missing_protections as m; print('sandbox:', m() or 'complete')"

step "the CUDA half of the suite: every test with a device parameter, on cpu and cuda"
DEVICE_TESTS="tests/test_linear_regression.py tests/test_mlp.py tests/test_optim.py tests/test_schedules.py tests/test_gradcheck.py tests/test_datasets.py tests/test_verify.py tests/test_reference_is_raw.py"
timeout 150 $PY -m pytest -q -p no:cacheprovider -n 8 $DEVICE_TESTS --junitxml="$OUT/cuda-tests.xml" 2>&1 | tail -15
echo "cuda-parametrised tests collected: $($PY -m pytest -q --collect-only $DEVICE_TESTS 2>/dev/null | grep -c '\[cuda')"

step "make bench: the reference code, on cpu and cuda"
for script in bench_hw1_hw4 bench_mlp bench_optim; do
    timeout 120 $PY benchmarks/$script.py --device all 2>&1 | tee "$OUT/$script.txt" | tail -40
done

step "grading at course scale: 1, 2, 4 and 8 workers"
GRADING=$(( $(left) - 60 ))
[ "$GRADING" -gt 260 ] && GRADING=260
timeout "$GRADING" $PY benchmarks/bench_grading.py \
    --submissions 120 --repeat 2 --workers 1,2,4,8 2>&1 | tee "$OUT/bench_grading.txt"

step "the whole suite, as far as the time left allows (-n 14)"
REST=$(( $(left) - 15 ))
if [ "$REST" -gt 30 ]; then
    timeout "$REST" $PY -m pytest -q -p no:cacheprovider -n 14 --durations=15 \
        --junitxml="$OUT/suite.xml" 2>&1 | tee "$OUT/suite.txt" | tail -60
fi
step "done"
