#!/usr/bin/env bash
# The scheduler benchmark (org.lacuna.bench.schedule.ScheduleBenchMain): auto vs fastest-measured vs each fixed
# choice, and the host time choosing per forward (cold store, warm store, planned), on a MiniLM-shaped encoder with
# 2:4 FFN weights and token dropping and on MinkUNet over the KITTI sweep; recorded under bench/results/ as
# schedule-<backend>-<date>.json and .md.
#
#   bench/run-schedule.sh                       # the record: within --budget-minutes (default 8) on 2 idle cores
#   bench/run-schedule.sh --quick --out /tmp/s  # toy sizes: a smoke test of the whole flow
#
# Options: --rounds N (default 7), --budget-minutes M, --scan PATH (default ../shared/data/kitti-velodyne-000001.bin;
# none: no MinkUNet), --shapes BxS,... (the encoder's batch x sequence shapes, default 1x32,4x128,16x128; none: no encoder),
# --out DIR (default bench/results). Run it on a quiet machine: every figure is a wall-clock time.
set -euo pipefail
exec "$(dirname "$0")/run-main.sh" org.lacuna.bench.schedule.ScheduleBenchMain "$@"
