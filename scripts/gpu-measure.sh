#!/bin/bash
# The whole GPU measurement of issue 12 (the matmul family) in one device call. See bench/NOTES.md, "Issue 12".
#   bash scripts/gpu-measure.sh prepare   here: packs .gpu/ (Node, Dawn, the Vulkan loader: ../shared/gpu/pack.sh)
#                                         and bundles bench/run.ts into .gpu/bench.mjs
#   bash scripts/gpu-measure.sh run       there, as the device call (carry [".gpu"]): every case group in its own
#                                         process with its own timeout, results in $OUT/<group>.txt and .json
#   bash scripts/gpu-measure.sh dry       here, the same sequence on SwiftShader with tiny sizes
# The groups, in order: the correctness check (every variant against the float64 reference), the four transposes at
# 1024³, 2048³, 4096³ with every variant, the training shapes (MLP, split-K, GEMV) with every variant, rt.tune(),
# and the MLP, transformer and ConvNet steps; TF.js runs in the same process as each.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

if [ "$mode" = prepare ]; then
  set -e
  if [ ! -f .gpu/setup.sh ]; then
    # pack.sh records .gpu/ in .git/info/exclude, which a worktree lacks (.git is a file there); .gitignore has it.
    tmp=$(mktemp -d)
    sed '/info\/exclude/d' ../shared/gpu/pack.sh > "$tmp/pack.sh"
    cp ../shared/gpu/setup.sh "$tmp/setup.sh"
    bash "$tmp/pack.sh"
  fi
  node scripts/bench.mjs --bundle-only --out .gpu/bench.mjs
  exit 0
fi

out=${OUT:-/tmp/gpu-measure}
mkdir -p "$out"
if [ "$mode" = run ]; then
  # shellcheck disable=SC1091
  source .gpu/setup.sh
  squares=(1024 2048 4096)
  scale=(--full --reps 10)
  # Seconds per group, 535 in all, plus ~20 for setup.sh: the device call is limited to 600.
  limits=(check:60 sq1024:35 sq2048:45 sq4096:90 training:60 tune:75 step:50 transformer:60 convnet:60)
  bundle=.gpu/bench.mjs
  [ -f $bundle ] || { echo "gpu-measure: $bundle is missing: run 'bash scripts/gpu-measure.sh prepare' here first" >&2; exit 1; }
elif [ "$mode" = dry ]; then
  export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
  # The same bundle, written where 'webgpu' resolves to this checkout's node_modules (.gpu/ keeps Dawn compressed).
  bundle=node_modules/.cache/webgrad-bench/gpu-measure.mjs
  node scripts/bench.mjs --bundle-only --out $bundle || exit 1
  squares=(64 96 128)
  scale=(--small --reps 1)
  limits=(check:900 sq1024:300 sq2048:300 sq4096:300 training:900 tune:900 step:600 transformer:900 convnet:900)
else
  echo "usage: bash scripts/gpu-measure.sh prepare | run | dry" >&2
  exit 2
fi

limit() { for entry in "${limits[@]}"; do [ "${entry%%:*}" = "$1" ] && echo "${entry#*:}"; done; }

# One group in one process: a Dawn abort there loses only that group's figures.
group() {
  local name=$1
  shift
  echo "== $name ($(date -u +%T), limit $(limit "$name") s)"
  timeout "$(limit "$name")" node "$bundle" "$@" "${scale[@]}" --json "$out/$name.json" > "$out/$name.txt" 2>&1
  local status=$?
  grep -v XDG_RUNTIME_DIR "$out/$name.txt"
  echo "== $name exit $status"
}

group check --groups check --no-tfjs
group sq1024 --groups matmul --variants --sizes "${squares[0]}" --match '³'
group sq2048 --groups matmul --variants --sizes "${squares[1]}" --match '³'
group sq4096 --groups matmul --variants --sizes "${squares[2]}" --match '³'
group training --groups matmul --variants --match 'MLP|split|GEMV'
group tune --groups tune --no-tfjs
group step --groups step
group transformer --groups transformer
group convnet --groups convnet
echo "gpu-measure: results in $out"
