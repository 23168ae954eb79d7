#!/usr/bin/env bash
# Idempotent bootstrap of the virtual environment holding the official Huawei Cloud Python SDK,
# pinned, for the conformance test (tests/sdk_conformance.rs) and the apply benchmark.
#
# Creates ${CARGO_TARGET_DIR:-<repo>/target}/sdk-venv once; later runs only check the marker
# and exit. Prints the venv's python path on stdout (the only stdout line) for callers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target/sdk-venv"
pins="huaweicloudsdkcore==3.1.219 huaweicloudsdkprojectman==3.1.219"
marker="$venv/.reqprune-pins"

if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$pins" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

# Serialise concurrent bootstraps (parallel test binaries): one creates, the others wait.
mkdir -p "$target"
exec 9>"$target/sdk-venv.lock"
flock 9
if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$pins" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

rm -rf "$venv"
python3 -m venv "$venv" >&2
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins >&2
echo "$pins" >"$marker"
echo "$venv/bin/python"
