#!/usr/bin/env bash
# frostbunker across hosts, on one machine: network namespaces joined by veth links.
#
#   offline      no network at all: `keygen` writes one bundle per host, sealed under a passphrase
#   relay        10.231.0.1   owns the "switch" (bridge br0); the embedded relay listens here only
#   coordinator  10.231.0.2   coordinator; admin API on 127.0.0.1 inside this namespace
#   node-1..3    10.231.0.11-13  one share node each, with its own data directory
#   client       10.231.0.100 a nostr-tools BunkerSigner (client.mjs)
#
# Every host has one veth link ("eth0") whose other end sits in the relay namespace's bridge, so
# cutting a host's link is `ip link set <its end> down` there. The run signs with all three share
# nodes, cuts node-3 (must still sign, 2-of-3), cuts node-2 (must get an error reply), and tears
# everything down, also on failure. Needs root and iproute2, and `pnpm build` first.
#
# Output: progress on stderr; on stdout one `NETNS {json}` line per fact the test checks, and
# `NETNS-RESULT pass` or `NETNS-RESULT fail <why>` last. Exit 0 only when every step passed.
# KEEP=1 keeps the work directory (logs) after the run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SUBNET=10.231.0
RELAY_IP=$SUBNET.1
COORD_IP=$SUBNET.2
CLIENT_IP=$SUBNET.100
RELAY_PORT=7777
PASSPHRASE='netns test passphrase, not a secret'

log() { printf '[netns %s] %s\n' "$(date +%T)" "$*" >&2; }
fact() { printf 'NETNS %s\n' "$1"; }
die() {
  printf 'NETNS-RESULT fail %s\n' "$*"
  log "FAILED: $*"
  exit 1
}

[[ $(id -u) -eq 0 ]] || { printf 'NETNS-RESULT fail needs root (network namespaces)\n'; exit 2; }
command -v ip >/dev/null || { printf 'NETNS-RESULT fail needs ip from iproute2 (apt-get install iproute2)\n'; exit 2; }
for built in deploy/dist/relay/main.js deploy/dist/keygen/main.js coordinator/dist/main.js coordinator/dist/cli.js share-node/dist/main.js; do
  [[ -f $REPO/$built ]] || { printf 'NETNS-RESULT fail %s missing: run pnpm build first\n' "$built"; exit 2; }
done

# Unique names: the creating shell's pid and a random tag. Namespaces left by a run that was killed
# (its pid gone) are removed first, with every process still inside them.
RUN_ID="$$-$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
PREFIX="fbn-$RUN_ID"
for stale in $(ip netns list | awk '{print $1}' | grep -E '^fbn-[0-9]+-[0-9a-f]+-' || true); do
  owner=${stale#fbn-}
  owner=${owner%%-*}
  if ! kill -0 "$owner" 2>/dev/null; then
    log "removing stale namespace $stale (its run, pid $owner, is gone)"
    ip netns pids "$stale" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$stale" 2>/dev/null || true
  fi
done

HOSTS=(relay coordinator node-1 node-2 node-3 client offline)
ns() { printf '%s-%s' "$PREFIX" "$1"; }
WORK="$(mktemp -d /tmp/frostbunker-netns-XXXXXX)"
PIDS=()

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  [[ -n ${CLIENT[1]:-} ]] && { echo quit >&"${CLIENT[1]}"; } 2>/dev/null
  for pid in "${PIDS[@]}" ${CLIENT_PID:-}; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for pid in "${PIDS[@]}" ${CLIENT_PID:-}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  for host in "${HOSTS[@]}"; do
    if ip netns list | grep -q "^$(ns "$host")\b"; then
      ip netns pids "$(ns "$host")" | xargs -r kill -9 2>/dev/null
      ip netns del "$(ns "$host")"
    fi
  done
  if [[ $status -ne 0 ]]; then
    for f in "$WORK"/logs/*.err; do
      [[ -s $f ]] && { log "--- last lines of $(basename "$f")"; tail -n 15 "$f" >&2; }
    done
  fi
  if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  log "torn down (namespaces $PREFIX-*)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the network ------------------------------------------------------------------------------
fact "{\"fact\":\"run\",\"prefix\":\"$PREFIX\",\"work\":\"$WORK\"}"
log "creating namespaces $PREFIX-{$(IFS=,; echo "${HOSTS[*]}")}"
for host in "${HOSTS[@]}"; do
  ip netns add "$(ns "$host")"
  ip -n "$(ns "$host")" link set lo up
done
R="$(ns relay)"
ip -n "$R" link add br0 type bridge
ip -n "$R" addr add "$RELAY_IP/24" dev br0
ip -n "$R" link set br0 up
# link <host> <address> <name of its end in the relay namespace>
link() {
  ip link add name eth0 netns "$(ns "$1")" type veth peer name "$3" netns "$R"
  ip -n "$R" link set "$3" master br0
  ip -n "$R" link set "$3" up
  ip -n "$(ns "$1")" addr add "$2/24" dev eth0
  ip -n "$(ns "$1")" link set eth0 up
}
link coordinator "$COORD_IP" to-coord
for i in 1 2 3; do link "node-$i" "$SUBNET.1$i" "to-node$i"; done
link client "$CLIENT_IP" to-client
fact "$(printf '{"fact":"addresses","relay":"%s","coordinator":"%s","nodes":["%s.11","%s.12","%s.13"],"client":"%s"}' "$RELAY_IP" "$COORD_IP" "$SUBNET" "$SUBNET" "$SUBNET" "$CLIENT_IP")"

# run <host> <log-name> <command…>: start a process inside a host's namespace, in the background.
mkdir -p "$WORK/logs"
run() {
  local host=$1 name=$2
  shift 2
  ip netns exec "$(ns "$host")" "$@" >"$WORK/logs/$name.out" 2>"$WORK/logs/$name.err" &
  PIDS+=($!)
}
# wait_for <log-name> <extended regex> <seconds> [<from line>]: until the process's stdout has a
# matching line (at or after line <from line>).
wait_for() {
  local deadline=$((SECONDS + $3))
  until tail -n "+${4:-1}" "$WORK/logs/$1.out" 2>/dev/null | grep -Eq "$2"; do
    ((SECONDS < deadline)) || die "$1: no line matching $2 within $3 s"
    sleep 0.1
  done
}

# --- the identity, made offline and carried to each host --------------------------------------
mkdir -p "$WORK/offline" && chmod 700 "$WORK/offline"
printf '%s\n' "$PASSPHRASE" >"$WORK/offline/passphrase" && chmod 600 "$WORK/offline/passphrase"
ip -n "$(ns offline)" link set lo down # no network at all, not even loopback
ip netns exec "$(ns offline)" node "$REPO/deploy/dist/keygen/main.js" --threshold 2 --nodes 3 \
  --relay "ws://$RELAY_IP:$RELAY_PORT" --out "$WORK/offline/identity" --passphrase-file "$WORK/offline/passphrase" \
  >"$WORK/logs/keygen.out" 2>"$WORK/logs/keygen.err" || die "keygen failed: $(cat "$WORK/logs/keygen.err")"
GROUP_PUBKEY=$(sed -nE 's/^identity: npub1[0-9a-z]+ \(hex ([0-9a-f]{64})\).*/\1/p' "$WORK/logs/keygen.out")
[[ -n $GROUP_PUBKEY ]] || die "keygen printed no identity"
fact "{\"fact\":\"identity\",\"groupPubkey\":\"$GROUP_PUBKEY\"}"
for bundle in coordinator node-1 node-2 node-3; do
  install -d -m 700 "$WORK/hosts/$bundle"
  cp -a "$WORK/offline/identity/$bundle" "$WORK/hosts/$bundle/data"
  install -m 600 "$WORK/offline/passphrase" "$WORK/hosts/$bundle/passphrase"
done
rm -rf "$WORK/offline" # the offline machine keeps nothing once the bundles are on their hosts

# --- the processes ----------------------------------------------------------------------------
run relay relay node "$REPO/deploy/dist/relay/main.js" --host "$RELAY_IP" --port "$RELAY_PORT" --allow-public
wait_for relay '^relay listening ' 20
fact "{\"fact\":\"relay\",\"url\":\"$(sed -n 's/^relay listening //p' "$WORK/logs/relay.out")\"}"

C="$WORK/hosts/coordinator"
run coordinator coordinator node "$REPO/coordinator/dist/main.js" --data "$C/data" --passphrase-file "$C/passphrase"
for i in 1 2 3; do
  N="$WORK/hosts/node-$i"
  run "node-$i" "node-$i" node "$REPO/share-node/dist/main.js" --data "$N/data" --passphrase-file "$N/passphrase"
done
wait_for coordinator '"event":"started"' 30
ADMIN_URL=$(grep -Eo '"event":"admin","url":"[^"]+"' "$WORK/logs/coordinator.out" | sed -E 's/.*"url":"([^"]+)"/\1/')
fact "{\"fact\":\"admin\",\"url\":\"$ADMIN_URL\"}"
for i in 1 2 3; do wait_for "node-$i" '"event":"started"' 30; done
wait_for coordinator '"event":"quorum".*"online":\["node-1","node-2","node-3"\]' 30
log "all three share nodes answer the coordinator across the links"

# The admin API listens on loopback inside the coordinator's namespace: the CLI there reaches it,
# the client host cannot.
if ip netns exec "$(ns coordinator)" node "$REPO/coordinator/dist/cli.js" health --data "$C/data" >"$WORK/logs/health.out" 2>&1; then health=ok; else health=fail; fi
if ip netns exec "$(ns client)" timeout 3 bash -c "exec 3<>/dev/tcp/$COORD_IP/${ADMIN_URL##*:}" 2>/dev/null; then remote_admin=reachable; else remote_admin=refused; fi
fact "{\"fact\":\"admin-scope\",\"healthInCoordinatorNs\":\"$health\",\"fromClientNs\":\"$remote_admin\"}"

BUNKER_URL=$(ip netns exec "$(ns coordinator)" node "$REPO/coordinator/dist/cli.js" token create --perms get_public_key,sign_event:1 --ttl 10m \
  --label netns --data "$C/data" --passphrase-file "$C/passphrase" 2>"$WORK/logs/token.err") || die "token create failed: $(cat "$WORK/logs/token.err")"
[[ $BUNKER_URL == bunker://* ]] || die "token create printed no bunker:// URL"

# --- the client -------------------------------------------------------------------------------
coproc CLIENT { exec ip netns exec "$(ns client)" node "$REPO/deploy/netns/client.mjs" "$BUNKER_URL" 2>"$WORK/logs/client.err"; }

client_reply() {
  local line
  read -r -t 40 -u "${CLIENT[0]}" line || die "the client said nothing within 40 s ($1)"
  fact "$line"
  [[ $line == *'"ok":true'* ]]
}
# sign <label>: one sign_event through the client; then which share nodes the coordinator used.
sign() {
  local before ok=0
  before=$(grep -c 'signing session done' "$WORK/logs/coordinator.err" || true)
  echo "sign $1" >&"${CLIENT[1]}"
  client_reply "$1" || ok=1
  signers=$(grep 'signing session done' "$WORK/logs/coordinator.err" | tail -n "+$((before + 1))" | grep -Eo '"signers":\[[^]]*\]' | tail -n 1 || true)
  fact "{\"fact\":\"signers\",\"step\":\"$1\",${signers:-\"signers\":[]}}"
  return $ok
}
client_reply connect || die "the client could not connect"

sign all-links || die "signing with every link up failed"
ip -n "$R" link set to-node3 down
fact '{"fact":"cut","node":"node-3"}'
sign one-cut || die "signing with node-3 cut off failed (2-of-3 should sign)"
ip -n "$R" link set to-node2 down
fact '{"fact":"cut","node":"node-2"}'
if sign two-cut; then die "signed with only node-1 reachable"; fi

# Links back: the relay connections recover by themselves (TCP retransmits), no restart needed.
from=$(($(wc -l <"$WORK/logs/coordinator.out") + 1))
ip -n "$R" link set to-node2 up
ip -n "$R" link set to-node3 up
fact '{"fact":"restored","nodes":["node-2","node-3"]}'
wait_for coordinator '"event":"quorum".*"online":\["node-1","node-2","node-3"\]' 40 "$from"
sign restored || die "signing after the links came back failed"

printf 'NETNS-RESULT pass\n'
