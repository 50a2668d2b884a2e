#!/usr/bin/env bash
# tests/e2e/test_persistence_corrupt.sh - issue 5 acceptance 7: a garbage file at storage.path is
# moved aside with exactly one warning, a fresh database is started, and the proxy serves. Also:
# a storage.path whose directory cannot be created exits 2 naming storage.path.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss sqlite3
require_binary

start_test_unbound
stored_cache_proxy_args
mkdir -p "$TEST_TMP/state"
head -c 65536 /dev/urandom >"$DB"
cp "$DB" "$TEST_TMP/garbage.copy"
start_dnsproxy "$TEST_TMP/proxy.log" "${PROXY_ARGS[@]}"

warnings=$(grep -c '^\[dnsproxy.storage\].*unusable' "$TEST_TMP/proxy.log" || true)
assert_eq 1 "$warnings" "exactly one storage warning about the unusable file"
storage_lines=$(grep -c '^\[dnsproxy.storage\]' "$TEST_TMP/proxy.log" || true)
log "storage log lines: $(grep '^\[dnsproxy.storage\]' "$TEST_TMP/proxy.log" | tr '\n' '|')"
aside=( "$DB".corrupt-* )
assert_eq 1 "${#aside[@]}" "one file moved aside"
[[ -f ${aside[0]} ]] || fail "no $DB.corrupt-* file"
cmp -s "${aside[0]}" "$TEST_TMP/garbage.copy" || fail "the moved-aside file is not the original garbage"
pass "the original garbage is kept unchanged at ${aside[0]##*/}"
assert_contains "$(grep '^\[dnsproxy.storage\].*unusable' "$TEST_TMP/proxy.log")" "${aside[0]}" "the warning names where the file went"

assert_eq 192.0.2.1 "$(kdig_short "$P" a.zone.example A)" "the proxy serves after moving the file aside"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "the new database passes integrity_check"
assert_eq 1 "$(sqlite3 "$DB" 'SELECT COUNT(*) FROM cache_entries')" "the new database holds the answer cached meanwhile"
assert_eq 1 "$(sqlite3 "$DB" 'SELECT MAX(version) FROM schema_version')" "the new database has the current schema"

# Unusable directory: a regular file where the directory should be.
touch "$TEST_TMP/not-a-dir"
rc=0
out=$("$DNSPROXY_BIN" "${PROXY_ARGS[@]}" -D "storage.path=$TEST_TMP/not-a-dir/dnsproxy.db" 2>&1) || rc=$?
assert_eq 2 "$rc" "an unusable storage directory exits 2"
assert_contains "$out" "storage.path" "the message names storage.path"
