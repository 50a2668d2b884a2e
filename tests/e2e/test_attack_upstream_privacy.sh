#!/usr/bin/env bash
# tests/e2e/test_attack_upstream_privacy.sh - issue 15 defect 6 (SPEC 4 "Hostile input and privacy"):
# a client's EDNS Client Subnet and cookie never reach the upstream, upstream queries always carry
# RD=1, the client still gets its own RD bit, ID and question back, and an answer never carries an
# ECS option (another client's subnet, or one an upstream invented) to a client.
# Upstream: tests/support/dot_server.py, which counts queries with ECS, a cookie, or RD=0.
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig
require_binary

use_test_pki

# no_ecs_in JSON MESSAGE: dns_client's answer has no option 8 (EDNS Client Subnet) in its OPT.
no_ecs_in()
{
	"$PY" -c 'import json,sys; sys.exit(8 in json.loads(sys.argv[1])["options"])' "$1" ||
		fail "$2: the answer carries ECS ($1)"
	pass "$2"
}

start_test_dot_server
start_proxy "$UPSTREAM"

# Control: a plain query reaches the upstream and is answered.
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" plain.zone.example)" "control: a query without ECS is answered"
assert_eq 1 "$(dot_stat queries)" "control: the upstream saw the query"

# Attack 1: the client's subnet (kdig +subnet) must not be told to the resolver.
out=$(_kdig "$PROXY_PORT" +subnet=192.0.2.0/24 +cookie ecs.zone.example)
assert_contains "$out" "192.0.2.1" "a query with ECS and a cookie is answered"
wait_for dot_stat_is queries -ge 2 || fail "the ECS query never reached the upstream"
assert_eq 0 "$(dot_stat ecs_queries)" "the upstream saw no EDNS Client Subnet option"
assert_eq 0 "$(dot_stat cookie_queries)" "the upstream saw no client cookie"

# A second client with EDNS but without ECS asks the same name (a cache hit): the first client's
# subnet must not come back to it, nor to the first client (no ECS was forwarded).
out=$(dns_client one --port "$PROXY_PORT" --name ecs.zone.example --edns)
assert_eq NOERROR "$(json_field "$out" rcode)" "another client gets the cached answer"
no_ecs_in "$out" "another client's answer carries no ECS option"
out=$(dns_client one --port "$PROXY_PORT" --name ecs2.zone.example --subnet 192.0.2.0/24)
assert_eq NOERROR "$(json_field "$out" rcode)" "control: a client with ECS is answered (answer without ECS)"
no_ecs_in "$out" "the ECS client's answer carries no ECS option"

# Attack 2: RD=0 from a client must not go upstream (a non-recursive answer would be cached
# for everybody: the cache key has no RD). The client still gets its own bits back.
before=$(dot_stat queries)
out=$(dns_client one --port "$PROXY_PORT" --name Rd0.Zone.Example --nord --edns)
log "RD=0 query: $out"
assert_eq NOERROR "$(json_field "$out" rcode)" "an RD=0 query is answered"
assert_eq "['192.0.2.1']" "$(json_field "$out" answer)" "the RD=0 client gets the data"
assert_eq False "$(json_field "$out" rd)" "the RD=0 client gets RD=0 back"
assert_eq True "$(json_field "$out" id_ok)" "the RD=0 client gets its ID back"
assert_eq Rd0.Zone.Example. "$(json_field "$out" question)" "the RD=0 client gets its question (letter case) back"
wait_for dot_stat_is queries -gt "$before" || fail "the RD=0 query never reached the upstream"
assert_eq 0 "$(dot_stat rd0_queries)" "the upstream saw RD=1 on every query"

# A later RD=1 client asking the same name gets the cached answer with RD=1 (not the first
# client's RD=0), and the upstream is not asked again.
before=$(dot_stat queries)
out=$(dns_client one --port "$PROXY_PORT" --name rd0.zone.example --edns)
assert_eq "['192.0.2.1']" "$(json_field "$out" answer)" "a later RD=1 client gets the cached data"
assert_eq True "$(json_field "$out" rd)" "a later RD=1 client gets RD=1"
out=$(dns_client one --port "$PROXY_PORT" --name rd0.zone.example --nord)
assert_eq False "$(json_field "$out" rd)" "an RD=0 client gets RD=0 on a cache hit too"
assert_eq "$before" "$(dot_stat queries)" "both came from the cache"
stop_proxy_and_dot_server

# Attack 3: an upstream that puts an ECS option (198.51.100.0/24) in its answers: neither the
# client nor a later cache hit sees it. Control: the data comes through.
start_test_dot_server --answer-ecs
start_proxy "$UPSTREAM"
for i in 1 2; do # the upstream answer, then the cached one
	out=$(dns_client one --port "$PROXY_PORT" --name leak.zone.example --edns)
	assert_eq "['192.0.2.1']" "$(json_field "$out" answer)" "control: answer $i from an ECS-adding upstream has the data"
	no_ecs_in "$out" "answer $i carries no ECS option from the upstream"
done
stop_proxy_and_dot_server
