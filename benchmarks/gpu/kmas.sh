#!/usr/bin/env bash
# KMAS against strict uniform, ULTRA 3-graph pretraining on one GPU (benchmarks/gpu/kmas_gpu.py says what and how).
#   bash benchmarks/gpu/kmas.sh [--wheels DIR] [kmas_gpu.py options...]
# --wheels DIR: install DIR/*.whl offline (pip --no-index --no-deps, into $SITE, default /tmp/site) and put them on
# PYTHONPATH; the GPU machine has no network. The repository goes on PYTHONPATH too: it is not pip-installed there.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-python3}

if [[ ${1:-} == --wheels ]]; then
    wheels=${2:?"--wheels needs a folder of .whl files"}
    shift 2
    if ! compgen -G "$wheels/*.whl" >/dev/null; then
        echo "kmas.sh: --wheels $wheels: no .whl files there" >&2
        exit 2
    fi
    site=${SITE:-/tmp/site}
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
        "$wheels"/*.whl
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1  # the device returns the output's tail: print as it happens

# a missing package fails here in seconds, not in the first run after minutes of start-up
if ! "$python" -c "import lit_kgns.cli, lit_kgns.samplers, lit_kgns.backbones"; then
    echo "kmas.sh: lit_kgns does not import: carry the missing packages as wheels (--wheels DIR; see kmas_gpu.py)" >&2
    exit 1
fi
"$python" -c "import torch; print('torch', torch.__version__, '| cuda:', torch.cuda.is_available() and torch.cuda.get_device_name())"
exec "$python" "$repo/benchmarks/gpu/kmas_gpu.py" "$@"
