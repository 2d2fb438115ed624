#!/usr/bin/env bash
# `pip install traindex` with no extras, in a fresh venv: --help, --version, ingest, datasets
# and URL / domain / Flickr / caption search must work on a tiny generated Parquet file, and
# a command that needs an extra must say which one in one line (exit 2, no traceback).
# Why a real venv: the unit test (tests/unit/cli/test_base_install.py) blocks the extras'
# modules in the dev venv, but only a real install proves the base dependency list suffices.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$repo"
py="$work/venv/bin/python"
tx() { "$work/venv/bin/traindex" --home "$work/home" "$@"; }
fail() { echo "base-install-check: $*" >&2; exit 1; }

"$py" - "$work/tiny.parquet" <<'PY'
import sys
import pyarrow as pa
import pyarrow.parquet as pq

pq.write_table(pa.table({
    "SAMPLE_ID": [1, 2],
    "URL": ["http://farm1.staticflickr.com/1/123_abc.jpg", "https://example.com/a/b.jpg"],
    "TEXT": ["a kitten on a sofa", "a red bicycle"],
    "WIDTH": [10, 20], "HEIGHT": [10, 20], "LICENSE": ["?", "?"],
    "NSFW": ["UNLIKELY", "UNLIKELY"], "similarity": [0.3, 0.4],
}), sys.argv[1])
PY

tx --help >/dev/null
tx --version | grep -q '^traindex ' || fail "--version"
tx ingest "$work/tiny.parquet" -d tiny --format laion >/dev/null
tx datasets --json | grep -q '"name": "tiny"' || fail "datasets"
for query in "--url http://farm1.staticflickr.com/1/123_abc.jpg" "--domain example.com" \
  "--flickr-photo 123" "--text kitten"; do
  # shellcheck disable=SC2086  # the query is two words on purpose
  tx search $query --json | grep -q '"total": 1' || fail "search $query found nothing"
done

for extra_command in "images:search --image $work/tiny.parquet" "signals:check http://127.0.0.1:9/" \
  "registry:registry list" "web:serve" "evidence:keys show"; do
  extra=${extra_command%%:*}
  # shellcheck disable=SC2086
  if tx ${extra_command#*:} >"$work/out" 2>&1; then fail "${extra_command#*:} ran without its extra"; fi
  grep -q "pip install 'traindex\[$extra\]'" "$work/out" || fail "no advice: $(cat "$work/out")"
  if grep -q Traceback "$work/out"; then fail "traceback: $(cat "$work/out")"; fi
done
echo "base-install-check: the base install runs ingest, datasets and key/text search"
