#!/usr/bin/env bash
# tests/e2e/test_hardening_upstream.sh - upstream fault matrix (issue 8, acceptance 5): garbage,
# wrong ID, mismatched question, reset mid-answer and a cut TLS record from tests/support/dot_server.py.
# For each fault every client query is answered (by the retry on a fresh connection, or SERVFAIL)
# within the budget (timeout_ms, one server), the fault is counted in /stats, and the log carries
# at most a couple of warnings for the burst, not one per fault.
source "$(dirname "$0")/lib.sh"
require_tool openssl curl
require_binary

use_test_pki
TIMEOUT_MS=1000
BUDGET_MS=$((TIMEOUT_MS + 600))

# run_fault KIND EVERY: 4 sequential queries through a server with --fault KIND --fault-every EVERY.
# Sets RESULT to "rcodes|counted|warnings". Not called in $(...): the servers it starts must be
# recorded in this shell's E2E_PIDS so that the EXIT trap stops them even when a check fails.
run_fault()
{
	local kind=$1 every=$2 i out ms rc rcodes=""
	start_test_dot_server --fault "$kind" --fault-every "$every"
	APORT=$(pick_port)
	start_proxy "$UPSTREAM" -D "upstream.timeout_ms=$TIMEOUT_MS" -D cache.enabled=false \
		-D "admin.listen=127.0.0.1:$APORT" >&2
	for i in 1 2 3 4; do
		out=$(dns_client one --port "$PROXY_PORT" --name "$kind-$every-$i.zone.example" --timeout 5)
		rc=$(json_field "$out" rcode)
		ms=$(json_field "$out" ms)
		[[ $rc == NOERROR || $rc == SERVFAIL ]] || fail "$kind: query $i got '$rc' ($out)"
		num_is "$ms" '<' "$BUDGET_MS" || fail "$kind: query $i took $ms ms (budget $BUDGET_MS)"
		rcodes+="$rc "
	done
	[[ $(dot_stat faults) -ge 1 ]] || fail "$kind: dot_server sent no faulty answer"
	# /stats must be readable: a test that cannot see the counters fails rather than passes.
	bad=$(curl -s -m 10 "http://127.0.0.1:$APORT/stats" | "$PY" -c 'import json,sys
u = json.load(sys.stdin)["upstreams"]
print(sum(s["bad_answers"] + s["retries"] + s["timeouts"] for s in u))') ||
		fail "$kind: /stats on 127.0.0.1:$APORT could not be read or lacks the upstream counters"
	warnings=$(grep -cE "dropping the connection|unknown ID|connection broken" "$PROXY_LOG" || true)
	stop_pid "$DNSPROXY_PID" dnsproxy >&2
	stop_pid "$DOT_PID" dot_server.py >&2
	RESULT="$rcodes|$bad|$warnings"
}

for kind in garbage wrong-id mismatch-question reset-mid-answer cut-record; do
	run_fault "$kind" 1
	IFS='|' read -r rcodes counted warnings <<<"$RESULT"
	log "$kind on every answer: rcodes [$rcodes] counted $counted warnings $warnings"
	pass "$kind on every answer: all 4 queries answered within ${BUDGET_MS} ms"
	((counted >= 1)) || fail "$kind: not counted in /stats"
	((warnings <= 2)) || fail "$kind: $warnings warning lines for one burst (log flood)"
	pass "$kind: counted ($counted), $warnings warning line(s) for the burst"
done

# Every other answer faulty: the retry on a fresh connection gets the good one.
for kind in garbage mismatch-question reset-mid-answer cut-record; do
	run_fault "$kind" 2
	IFS='|' read -r rcodes counted warnings <<<"$RESULT"
	log "$kind on every other answer: rcodes [$rcodes]"
	assert_eq 4 "$(grep -o NOERROR <<<"$rcodes" | wc -l)" "$kind on every other answer: the retry answered all 4 queries"
done
