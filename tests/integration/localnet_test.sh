#!/usr/bin/env bash
# The operator's commands of network-config/localnet, as a user runs them, on their own data
# directory and ports (so that a localnet the user runs is not touched): up, status, kill,
# start one, down, start all (resume), and up again keeping the old data aside.
# usage: localnet_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SOURCE_DIR="$1"
export CARBON_BUILD_DIR="$2"
export CARBON_LOCALNET_DIR
CARBON_LOCALNET_DIR="$(mktemp -d /tmp/carbon-localnet-test.XXXXXX)/net"
# Below the kernel's ephemeral ports (32768 on) and above the cluster tests' (20000-31999).
export CARBON_LOCALNET_P2P_BASE=$((32000 + ($$ % 30) * 20))
export CARBON_LOCALNET_RPC_BASE=$((CARBON_LOCALNET_P2P_BASE + 10))
export CARBON_WALLET_PASSPHRASE=localnet
L="$SOURCE_DIR/network-config/localnet"
W() { "$CARBON_BUILD_DIR/wallet/carbon-wallet" --keystore "$CARBON_LOCALNET_DIR/wallet" --node "http://127.0.0.1:$CARBON_LOCALNET_RPC_BASE" "$@"; }
cleanup() { "$L" down >/dev/null 2>&1 || true; rm -rf "$(dirname "$CARBON_LOCALNET_DIR")"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; "$L" status >&2 || true; exit 1; }

height_of() {  # the height node I reports, or 0
  python3 - "$((CARBON_LOCALNET_RPC_BASE + $1))" <<'PY'
import json, sys, urllib.request
try:
    print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/status", timeout=5)).get("height", 0))
except Exception:
    print(0)
PY
}
root_at() {  # node I's state root after height H
  python3 - "$((CARBON_LOCALNET_RPC_BASE + $1))" "$2" <<'PY'
import json, sys, urllib.request
try:
    print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/block/{sys.argv[2]}", timeout=5))["state_root"])
except Exception:
    print("")
PY
}
wait_height() {  # wait until node I has executed height H
  for _ in $(seq 1 150); do (( $(height_of "$1") >= $2 )) && return 0; sleep 0.2; done
  fail "node$1 did not reach height $2"
}

"$L" up 4 >/dev/null
[[ "$("$L" status | grep -c 'chain carbon-localnet height')" == 4 ]] || fail "status does not list 4 nodes"
W keygen --name firm-a >/dev/null
W --wait register --from authority --participant firm-a --name "Firm A" --role covered_enterprise >/dev/null
W --wait proposal approve 1 --from officer2 >/dev/null || fail "the second officer's approval did not commit"

# An index is plain decimal: 01 would name a directory node01 that does not exist.
for bad in "kill 01" "kill 08" "start 1x" "logs -1" "kill 4"; do
  set +e; out="$("$L" $bad 2>&1)"; rc=$?; set -e
  [[ $rc != 0 && ( "$out" == *"give a validator index"* || "$out" == *"no validator 4"* ) && "$out" != *"value too great"* ]] || fail "'$bad' gave exit $rc: $out"
done
set +e; out="$("$L" logs 1 abc 2>&1)"; rc=$?; set -e
[[ $rc != 0 && "$out" == *"number of lines"* ]] || fail "'logs 1 abc' gave exit $rc: $out"
out="$("$L" kill 2)"; [[ "$out" == "node2 killed (kill -9)" ]] || fail "kill said: $out"
out="$("$L" kill 2)"; [[ "$out" == "node2 is not running" ]] || fail "second kill said: $out"
[[ "$("$L" status)" == *$'\n'"node2  DOWN"* ]] || fail "status does not show node2 down"
# The other three go on committing without it.
W --wait issue --from authority --to firm-a --vintage 2025 --quantity 500 >/dev/null
W --wait proposal approve 2 --from officer3 >/dev/null || fail "issue did not commit with node2 down"
h="$(height_of 0)"
"$L" start 2 >/dev/null
wait_height 2 "$h"
[[ -n "$(root_at 0 "$h")" && "$(root_at 2 "$h")" == "$(root_at 0 "$h")" ]] || fail "node2 disagrees at height $h after catching up"

"$L" down >/dev/null
[[ "$("$L" status | grep -c DOWN)" == 4 ]] || fail "down left a node running"
# A data directory stays with its genesis: started with an edited one, the node refuses.
cp "$CARBON_LOCALNET_DIR/genesis.json" "$CARBON_LOCALNET_DIR/genesis.json.kept"
sed -i 's/"genesis_time_ms": \([0-9]*\)/"genesis_time_ms": 1\1/' "$CARBON_LOCALNET_DIR/genesis.json"
set +e; out="$("$L" start 0 2>&1)"; rc=$?; set -e
[[ $rc != 0 ]] || fail "node0 started with another genesis: $out"
grep -q "made for another genesis" "$CARBON_LOCALNET_DIR/node0/node.log" || fail "node0's log does not say why: $(tail -3 "$CARBON_LOCALNET_DIR/node0/node.log")"
mv "$CARBON_LOCALNET_DIR/genesis.json.kept" "$CARBON_LOCALNET_DIR/genesis.json"
"$L" start >/dev/null  # resumes every validator from its data
wait_height 3 "$h"
[[ "$(W --json balance firm-a)" == *'"quantity_t":500'* ]] || fail "after resuming, firm-a does not hold its 500 t: $(W --json balance firm-a)"

# rotate-key: the new key co-signs its rotation; afterwards it, not the old key, signs for firm-a.
W keygen --name firm-a2 >/dev/null
W --wait rotate-key --from firm-a --new-key firm-a2 >/dev/null || fail "rotate-key did not commit"
[[ "$(W address firm-a2 2>/dev/null)" == "$(W address firm-a)" ]] || fail "after rotate-key, firm-a2's address is not firm-a's account"
W keygen --name firm-b >/dev/null
W --wait register --from authority --participant firm-b --name "Firm B" --role covered_enterprise >/dev/null
W --wait proposal approve 3 --from officer2 >/dev/null || fail "firm-b's registration did not commit"
set +e
out="$(W --wait transfer --from firm-a --to firm-b --product HBEA-2025 --quantity 5 2>&1)"; rc=$?
set -e
[[ $rc != 0 && "$out" == *"rotated"* ]] || fail "the old key still signs for firm-a: exit $rc: $out"
W --wait transfer --from firm-a2 --to firm-b --product HBEA-2025 --quantity 5 >/dev/null || fail "the new key does not sign for firm-a"
[[ "$(W --json balance firm-b)" == *'"quantity_t":5'* ]] || fail "firm-b does not hold 5 t: $(W --json balance firm-b)"

"$L" down >/dev/null
out="$("$L" up 1)"
[[ "$out" == *"previous network's data moved to $CARBON_LOCALNET_DIR.previous"* ]] || fail "up said: $out"
[[ "$out" == *"your wallet keys from the previous network (firm-a, firm-a2, firm-b) are saved in $CARBON_LOCALNET_DIR.saved-keys/"* ]] || fail "up said: $out"
[[ -f "$CARBON_LOCALNET_DIR.previous/wallet/firm-a.json" ]] || fail "firm-a's key was not kept"
link="$(cat "$CARBON_LOCALNET_DIR.previous/wallet/firm-a2.account")"
[[ -n "$link" && "$(cat "$CARBON_LOCALNET_DIR.saved-keys"/*/firm-a2.account)" == "$link" ]] || fail "firm-a2's link to its account was not saved"
[[ ! -e "$CARBON_LOCALNET_DIR/wallet/firm-a.json" ]] || fail "the fresh network kept an old key in its wallet"
"$L" bogus >/dev/null 2>&1 && fail "an unknown command succeeded"
# A second fresh network: the previous one's keys stay saved (the first `up` saved firm-a's).
"$L" down >/dev/null
"$L" up 1 >/dev/null
[[ "$(ls "$CARBON_LOCALNET_DIR.saved-keys"/*/firm-a.json | wc -l)" == 1 ]] || fail "firm-a's saved key is gone"
# The wallet refuses numbers that are not plain decimal before it signs anything.
set +e
out="$(W --json transfer --from authority --to officer2 --product HBEA-2025 --quantity 0x10 2>&1)"; rc=$?
set -e
[[ $rc == 2 && "$out" == *"not a whole number in decimal digits"* ]] || fail "--quantity 0x10 gave exit $rc: $out"
echo "localnet commands: ok"
