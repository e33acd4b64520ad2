#!/usr/bin/env bash
# Peer benchmark: Annif (own virtualenv under var/peers/, git-ignored) vs tagwise on P1
# and the temporal split. Re-runnable: the install is skipped when the venv is there.
#   bash benchmarks/peers/annif.sh [--reinstall] [--no-write] [--splits p1,temporal]
# Writes the "Peers: Annif" section of docs/benchmarks.md and prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -x .venv/bin/python ]]; then
  echo "annif.sh: tagwise's virtualenv .venv is missing; install tagwise first" >&2
  exit 2
fi
# hard bound on the whole run (a normal run takes well under 15 minutes on 2 cores)
status=0
timeout --kill-after=30 1500 .venv/bin/python benchmarks/peers/annif_bench.py "$@" || status=$?
if [[ $status -eq 124 ]]; then
  echo "annif.sh: stopped after 25 minutes; see the [annif-bench] log lines above" >&2
fi
exit $status
