#!/usr/bin/env bash
# tests/e2e/test_attack_upstream_answers.sh - issue 15 defect 7 (SPEC 4): an upstream answer must
# have QR=1, the query's opcode and the query's question; a question-less answer is accepted only
# for FORMERR/NOTIMP/REFUSED with no records. tests/support/dot_server.py answers with the data
# 198.51.100.66 in every faulty answer: no client may ever see it. A refused answer is handled
# like a mismatched question: the connection is dropped and the query retried once on a fresh
# one; when that answer is faulty too the client gets SERVFAIL within the budget.
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki
TIMEOUT_MS=1000
BUDGET_MS=$((TIMEOUT_MS + 600))

# run KIND EVERY NAME: dot_server with --fault KIND --fault-every EVERY (EVERY 0: no fault), one
# raw UDP query for NAME (the client takes whatever comes back). Sets OUT (dns_client JSON).
run()
{
	local kind=$1 every=$2 name=$3
	DPORT=$(pick_port)
	if ((every > 0)); then
		start_dot_server "$DPORT" "$CERT" "$KEY" --fault "$kind" --fault-every "$every"
	else
		start_dot_server "$DPORT" "$CERT" "$KEY"
	fi
	start_proxy "127.0.0.1:$DPORT#$NAME" -D "upstream.timeout_ms=$TIMEOUT_MS" -D cache.enabled=false
	OUT=$(dns_client one --port "$PROXY_PORT" --name "$name" --raw --timeout 5)
	log "$kind every $every: $OUT"
	local ms
	ms=$(json_field "$OUT" ms)
	num_is "$ms" '<' "$BUDGET_MS" || fail "$kind: the answer took $ms ms (budget $BUDGET_MS)"
	if ((every > 0)); then
		[[ $(dot_stat faults) -ge 1 ]] || fail "$kind: dot_server sent no faulty answer"
	fi
	stop_proxy_and_dot_server
}

# Control: no fault, the normal answer.
run none 0 control.zone.example
assert_eq NOERROR "$(json_field "$OUT" rcode)" "control: a normal answer is delivered"
assert_eq "['192.0.2.1']" "$(json_field "$OUT" answer)" "control: with its data"

# Attacks: every answer faulty. The client gets SERVFAIL (after one retry), never the data.
for kind in qr0 opcode noquestion-records; do
	run "$kind" 1 "$kind.zone.example"
	assert_eq SERVFAIL "$(json_field "$OUT" rcode)" "$kind on every answer: the client gets SERVFAIL"
	assert_eq "[]" "$(json_field "$OUT" answer)" "$kind on every answer: the faulty data never reaches the client"
	assert_eq True "$(json_field "$OUT" qr)" "$kind: the client's answer has QR=1"
	assert_eq QUERY "$(json_field "$OUT" opcode)" "$kind: the client's answer has its opcode"
	assert_eq "$kind.zone.example." "$(json_field "$OUT" question)" "$kind: the client's answer has its question"
done

# Every other answer faulty: the retry on a fresh connection gets the good one.
for kind in qr0 opcode noquestion-records; do
	run "$kind" 2 "retry-$kind.zone.example"
	assert_eq NOERROR "$(json_field "$OUT" rcode)" "$kind on every other answer: answered by the retry"
	assert_eq "['192.0.2.1']" "$(json_field "$OUT" answer)" "$kind on every other answer: with the right data"
done

# Control: a legitimate question-less REFUSED (no records) is passed on as before.
run noquestion-refused 1 refused.zone.example
assert_eq REFUSED "$(json_field "$OUT" rcode)" "control: a question-less REFUSED without records reaches the client"
assert_eq True "$(json_field "$OUT" id_ok)" "control: with the client's ID"
