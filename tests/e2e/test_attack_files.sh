#!/usr/bin/env bash
# tests/e2e/test_attack_files.sh - issue 15 item 8 against the real binary, run as root (CI is
# root; another user has nothing to drop and the test exits 77):
#  - attack: a local user reads the database, in which every name every client resolved lies.
#    The folder the proxy creates is 0700 and the database with its -wal and -shm files 0600;
#  - after start every thread of a root-started proxy has given up root's powers: with the
#    default `user` it is the account "dnsproxy" when that exists, else uid 0; with
#    `user = nobody` uid 65534; either way CapEff, CapPrm and CapBnd hold CAP_NET_BIND_SERVICE only;
#  - control: after the drop the proxy still answers, its admin API works (DELETE /cache writes
#    the database as the new user), it flushes to the database at shutdown and the entries are
#    there after a restart, and the folder made by a root-run proxy is handed to the new user.
source "$(dirname "$0")/lib.sh"
require_root "dropping privileges is tested as root only"
require_tool unbound unbound-control kdig curl openssl ss
require_binary

start_test_unbound
# The test dir is root's (mktemp, 0700); `nobody` must be able to pass through it to its folder.
chmod 0711 "$TEST_TMP"
DATA=$TEST_TMP/dnsproxy # does not exist yet: the proxy creates it
DB=$DATA/dnsproxy.db
APORT=$(pick_port)
TOKEN=files-token
NET_BIND_ONLY=0000000000000400 # 1 << CAP_NET_BIND_SERVICE (10)

# run_proxy [ARGS...]: start the proxy on the same ports and database.
run_proxy()
{
	start_proxy "$UPSTREAM" -D "storage.path=$DB" -D "admin.listen=127.0.0.1:$APORT" \
		-D "admin.token=$TOKEN" "$@"
}

# status_field PID FIELD: e.g. "Uid" -> "0 0 0 0" (tabs as spaces).
status_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# assert_all_threads PID UID: every thread's real/effective/saved/fs uid is UID, and its
# effective, permitted and bounding capability sets hold CAP_NET_BIND_SERVICE only.
assert_all_threads()
{
	local pid=$1 uid=$2 task count=0
	for task in /proc/"$pid"/task/*; do
		[[ -r $task/status ]] || continue # a thread that just ended
		local tid=${task##*/} caps
		assert_eq "$uid $uid $uid $uid" "$(status_field "$pid/task/$tid" Uid)" "thread $tid runs as uid $uid" >/dev/null
		caps="$(status_field "$pid/task/$tid" CapEff) $(status_field "$pid/task/$tid" CapPrm) $(status_field "$pid/task/$tid" CapBnd)"
		assert_eq "$NET_BIND_ONLY $NET_BIND_ONLY $NET_BIND_ONLY" "$caps" \
			"thread $tid keeps only CAP_NET_BIND_SERVICE (CapEff CapPrm CapBnd)" >/dev/null
		count=$((count + 1))
	done
	assert_ge 3 "$count" "all $count threads of pid $pid: uid $uid, CapEff/CapPrm/CapBnd = $NET_BIND_ONLY"
}

assert_private_files()
{
	local what=$1
	assert_eq 700 "$(stat -c %a "$DATA")" "$what: the database folder is 0700"
	local f
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[[ -e $f ]] || fail "$what: $f does not exist while the proxy runs (WAL mode)"
		assert_eq 600 "$(stat -c %a "$f")" "$what: ${f##*/} is 0600"
	done
}

admin_status() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" || echo 000; }

# --- 1. default user: folder and files private, root's powers gone ----------------------------

run_proxy
PID=$DNSPROXY_PID
assert_private_files "default user"
assert_eq 600 "$(stat -c %a "$DB")" "attack: other users cannot read the database"
if DEFAULT_UID=$(id -u dnsproxy 2>/dev/null); then
	assert_contains "$(cat "$PROXY_LOG")" "privileges: running as user dnsproxy" "the drop is logged"
else
	DEFAULT_UID=0
	assert_contains "$(cat "$PROXY_LOG")" "privileges: running as root with only CAP_NET_BIND_SERVICE" \
		"no dnsproxy account: stays uid 0, logged in one line"
fi
assert_all_threads "$PID" "$DEFAULT_UID"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" kept-1.zone.example A)" "control: answers after the drop (UDP)"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp kept-2.zone.example A)" "control: answers after the drop (TCP)"
assert_eq 200 "$(admin_status "http://127.0.0.1:$APORT/stats")" "control: the admin API answers after the drop"
stop_pid "$PID" "dnsproxy (default user)"
assert_contains "$(cat "$PROXY_LOG")" "cache flushed to $DB (" "control: the cache was flushed at shutdown"

# --- 2. user = nobody: the folder a root-run proxy made is handed over --------------------------

run_proxy -D server.user=nobody
PID=$DNSPROXY_PID
assert_contains "$(cat "$PROXY_LOG")" "privileges: running as user nobody (uid 65534" "the switch is logged"
assert_all_threads "$PID" 65534
assert_private_files "user nobody"
assert_eq "nobody nobody nobody" "$(stat -c %U "$DATA" "$DB" "$DB-wal" | xargs)" "the folder and files now belong to nobody"
assert_contains "$(cat "$PROXY_LOG")" "loaded 2 cached answers" "control: the entries of the first run were loaded"
assert_eq 200 "$(admin_status "http://127.0.0.1:$APORT/cache?name=kept-1.zone.example")" "control: GET /cache as nobody"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" kept-3.zone.example A)" "control: answers as nobody"
# DELETE /cache empties the SQLite file at once: a write by the dropped process.
assert_eq 200 "$(admin_status -X DELETE -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:$APORT/cache?name=kept-2.zone.example")" "control: DELETE /cache (writes the database) as nobody"
stop_pid "$PID" "dnsproxy (user nobody)"
assert_not_contains "$(cat "$PROXY_LOG")" "rror" "no error logged by the dropped process"
# SQLite deletes -wal and -shm when the last connection closes: only with write access to the folder.
[[ ! -e $DB-wal && ! -e $DB-shm ]] || fail "the side files are left behind: nobody could not write $DATA"
pass "control: the dropped process removed its -wal and -shm at exit (it can write the folder)"

# --- 3. restart as nobody: what the dropped process wrote is there ------------------------------

run_proxy -D server.user=nobody
PID=$DNSPROXY_PID
assert_contains "$(cat "$PROXY_LOG")" "loaded 2 cached answers" "control: kept-1 and kept-3 persisted, kept-2 deleted"
body=$(curl -s -m 5 "http://127.0.0.1:$APORT/cache")
assert_contains "$body" "kept-3.zone.example" "control: the entry cached by the dropped process persisted"
assert_not_contains "$body" "kept-2.zone.example" "control: the entry deleted by the dropped process stays deleted"
assert_private_files "restart as nobody"
stop_pid "$PID" "dnsproxy (restart as nobody)"
