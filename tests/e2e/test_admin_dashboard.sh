#!/usr/bin/env bash
# tests/e2e/test_admin_dashboard.sh - the dashboard at GET / in headless Chromium: after its
# first polls of /stats the rendered DOM shows the same query counts, cache figures and
# upstream state as /stats itself; the page loads nothing from anywhere else. With
# DNSPROXY_SCREENSHOT=FILE it also saves a 1200x900 screenshot (docs/dashboard.png).
# Without Chromium it exits 77 (CTest: skipped); in CI (CI=true) that fails instead.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig curl openssl ss
require_binary
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || skip "chromium is not installed (apt-get install -y chromium); dashboard not checked"

start_test_unbound
APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
start_proxy "$UPSTREAM" -D "admin.listen=127.0.0.1:$APORT" -D "admin.token=secret"
P=$PROXY_PORT

# A known state: 6 UDP and 3 TCP queries, two of them repeats (cache hits when the cache is on).
for i in 1 2 3 4 5; do
	assert_eq 192.0.2.1 "$(kdig_short "$P" "dash$i.zone.example" A)" "UDP query $i"
done
assert_eq 192.0.2.1 "$(kdig_short "$P" dash1.zone.example A)" "UDP repeat"
assert_eq 192.0.2.1 "$(kdig_short "$P" +tcp dash1.zone.example A)" "TCP repeat"
assert_eq NXDOMAIN "$(kdig_rcode "$P" +tcp x.nx.zone.example A)" "TCP NXDOMAIN"
assert_eq 192.0.2.1 "$(kdig_short "$P" +tcp dash6.zone.example A)" "TCP query"

chrome()
{
	# --virtual-time-budget lets the page's timers (first poll at load, then every 2 s) run
	# before the DOM is dumped, without waiting that long in real time.
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--disable-background-networking --disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$TEST_TMP/chrome-profile" --virtual-time-budget=5000 "$@" 2>>"$TEST_TMP/chromium.log"
}
show_on_fail "$TEST_TMP/chromium.log"

stats=$(curl -s -m 10 "$ADMIN/stats")
chrome --dump-dom "$ADMIN/" >"$TEST_TMP/dom.html" || fail "chromium --dump-dom failed"
[[ -s $TEST_TMP/dom.html ]] || fail "chromium dumped an empty DOM"

out=$("$PY" - "$TEST_TMP/dom.html" "$stats" <<'PYEOF' 2>&1
import json, sys
from html.parser import HTMLParser
dom = open(sys.argv[1]).read()
stats = json.loads(sys.argv[2])

class Texts(HTMLParser):
    """Text content of every element with an id, and the upstream table rows."""
    def __init__(self):
        super().__init__()
        self.stack, self.by_id, self.rows, self.row = [], {}, [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("meta", "br", "input", "link"):
            return
        self.stack.append(a.get("id"))
        if tag == "tr" and "data-address" in a:
            self.row = [a["data-address"]]
        elif tag == "td" and self.row is not None:
            self.row.append("")
    def handle_endtag(self, tag):
        if tag in ("meta", "br", "input", "link"):
            return
        if self.stack:
            self.stack.pop()
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.by_id[i] = self.by_id.get(i, "") + data
        if self.row is not None and len(self.row) > 1:
            self.row[-1] += data

p = Texts()
p.feed(dom)
t = {k: v.strip() for k, v in p.by_id.items()}
errors = []
def same(key, expected):
    if t.get(key) != str(expected):
        errors.append("%s shows %r, /stats says %r" % (key, t.get(key), expected))
same("q-total", stats["queries"]["total"])
same("q-udp", stats["queries"]["udp"])
same("q-tcp", stats["queries"]["tcp"])
same("tcp-clients", stats["clients"]["tcp_connections"])
c = stats["cache"]
if c["enabled"]:
    same("cache-entries", c["entries"])
    lookups = c["hits"] + c["misses"]
    same("hit-ratio", "%.1f %%" % (100.0 * c["hits"] / lookups) if lookups else "-")
else:
    same("cache-entries", "off")
if t.get("qps") in (None, "-"):
    errors.append("queries/s never computed: fewer than two polls ran")
same("rcode-NOERROR", "NOERROR%d" % stats["answers"]["NOERROR"])
same("rcode-NXDOMAIN", "NXDOMAIN%d" % stats["answers"]["NXDOMAIN"])
if len(p.rows) != len(stats["upstreams"]):
    errors.append("upstream rows %r for %d upstreams" % (p.rows, len(stats["upstreams"])))
for row, u in zip(p.rows, stats["upstreams"]):
    want = [u["address"], u["address"], u["name"], u["state"], str(u["queries"])]
    if row[:5] != want:
        errors.append("upstream row %r, /stats says %r" % (row[:5], want))
    # The page rounds with JavaScript's toFixed(2) (half away from zero: 0.625 -> "0.63"), Python's
    # "%.2f" rounds half to even (0.625 -> "0.62"): compare the number, to within the rounding.
    try:
        shown = float(row[9])
    except ValueError:
        shown = None
    if shown is None or abs(shown - u["latency_ms"]["p50"]) > 0.005 + 1e-9:
        errors.append("p50 %r, /stats says %r" % (row[9], u["latency_ms"]["p50"]))
if t.get("error"):
    errors.append("page shows an error: " + t["error"])
print("\n".join(errors) if errors else "dashboard matches /stats: %d queries, upstream %s" %
      (stats["queries"]["total"], p.rows[0][3] if p.rows else "?"))
PYEOF
) || true
assert_contains "$out" "dashboard matches /stats" "dashboard rendered in Chromium shows the /stats figures"

# Self-contained: no URL other than our own admin endpoints in the page.
page=$(curl -s -m 10 "$ADMIN/")
assert_not_contains "$page" "://" "dashboard references no external URL"
assert_contains "$page" 'fetch("/stats"' "dashboard polls /stats"

if [[ -n ${DNSPROXY_SCREENSHOT:-} ]]; then
	# Some live traffic, so the queries/s tile and chart are not flat in the picture.
	"$PY" "$SUPPORT_DIR/dns_client.py" load --port "$P" --clients 4 --queries 20000 >/dev/null 2>&1 &
	E2E_PIDS+=("$!")
	total_at_least()
	{
		local n
		n=$(curl -s -m 5 "$ADMIN/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["queries"]["total"])')
		((n >= $1))
	}
	wait_for -t 10 total_at_least 1000 || fail "DNS load for the screenshot did not start"
	chrome --hide-scrollbars --window-size=1200,900 --screenshot="$DNSPROXY_SCREENSHOT" "$ADMIN/" >/dev/null ||
		fail "chromium --screenshot failed"
	[[ -s $DNSPROXY_SCREENSHOT ]] || fail "no screenshot written"
	pass "screenshot saved to $DNSPROXY_SCREENSHOT"
fi

stop_pid "$DNSPROXY_PID" dnsproxy
