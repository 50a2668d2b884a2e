// Dashboard.cpp - the HTML dashboard as one string: inline CSS, inline script, no network but /stats and /pins.
#include "admin/Dashboard.h"

namespace dnsproxy::admin
{

namespace
{

const char* const PAGE = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dnsproxy</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 12px 24px; display: flex; align-items: baseline; gap: 16px; }
header h1 { font-size: 20px; margin: 0; }
header span { color: #aab; font-size: 13px; }
main { padding: 16px 24px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { background: #fff; border-radius: 6px; padding: 12px 16px; min-width: 150px; box-shadow: 0 1px 2px #0002; }
.tile .label { font-size: 12px; color: #667; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 26px; font-weight: 600; margin-top: 4px; font-variant-numeric: tabular-nums; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; margin-top: 16px; box-shadow: 0 1px 2px #0002; }
h2 { font-size: 15px; margin: 0 0 8px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e5ea; }
th { color: #667; font-weight: 500; }
td.num, th.num { text-align: right; }
.up { color: #137333; font-weight: 600; }
.down { color: #c5221f; font-weight: 600; }
#error { color: #c5221f; }
canvas { width: 100%; height: 70px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.cols section { margin-top: 16px; }
code { font-size: 12px; }
</style>
</head>
<body>
<header><h1>dnsproxy</h1><span id="version"></span><span>uptime <b id="uptime">-</b></span><span id="updated">waiting for /stats</span><span id="error"></span></header>
<main>
<div class="tiles">
  <div class="tile"><div class="label">Queries/s</div><div class="value" id="qps">-</div></div>
  <div class="tile"><div class="label">Queries</div><div class="value" id="q-total">-</div></div>
  <div class="tile"><div class="label">UDP</div><div class="value" id="q-udp">-</div></div>
  <div class="tile"><div class="label">TCP</div><div class="value" id="q-tcp">-</div></div>
  <div class="tile"><div class="label">Cache hit ratio</div><div class="value" id="hit-ratio">-</div></div>
  <div class="tile"><div class="label">Cache entries</div><div class="value" id="cache-entries">-</div></div>
  <div class="tile"><div class="label">TCP clients</div><div class="value" id="tcp-clients">-</div></div>
</div>
<section><h2>Queries per second</h2><canvas id="chart" width="1100" height="70"></canvas></section>
<section><h2>Upstreams</h2>
<table><thead><tr><th>address</th><th>name</th><th>state</th><th class="num">queries</th><th class="num">failures</th><th class="num">timeouts</th><th class="num">connections</th><th class="num">resumptions</th><th class="num">p50 ms</th><th class="num">p95 ms</th><th class="num">p99 ms</th></tr></thead>
<tbody id="upstreams"></tbody></table></section>
<div class="cols">
<section><h2>Answers by rcode</h2><table><tbody id="rcodes"></tbody></table></section>
<section><h2>Cache and pins</h2><table><tbody id="cache"></tbody></table></section>
</div>
<section><h2>Pin store</h2>
<table><thead><tr><th>name</th><th>sha256</th><th>source</th><th>first seen</th><th>last seen</th><th class="num">count</th></tr></thead>
<tbody id="pins"></tbody></table><div id="pins-note"></div></section>
</main>
<script>
"use strict";
var previous = null, rates = [], pinTick = 0;
function $(id) { return document.getElementById(id); }
function text(id, value) { $(id).textContent = value; }
function cell(row, value, cls) { var td = document.createElement("td"); td.textContent = value; if (cls) td.className = cls; row.appendChild(td); return td; }
function duration(s) { s = Math.floor(s); var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s"; }
function drawChart() {
  var c = $("chart"), g = c.getContext("2d"), max = Math.max.apply(null, rates.concat([1]));
  g.clearRect(0, 0, c.width, c.height); g.strokeStyle = "#1a73e8"; g.lineWidth = 2; g.beginPath();
  rates.forEach(function (v, i) { var x = c.width - (rates.length - 1 - i) * (c.width / 59), y = c.height - 4 - v / max * (c.height - 8);
    if (i) g.lineTo(x, y); else g.moveTo(x, y); });
  g.stroke(); g.fillStyle = "#667"; g.fillText("max " + max.toFixed(1) + "/s", 4, 12);
}
function showStats(s) {
  var now = Date.now(), total = s.queries.total;
  text("version", "v" + s.version);
  text("uptime", duration(s.uptime_seconds));
  text("q-total", total); text("q-udp", s.queries.udp); text("q-tcp", s.queries.tcp);
  if (previous) {
    var rate = Math.max(0, (total - previous.total) / ((s.uptime_seconds - previous.uptime) || 1));
    text("qps", rate.toFixed(1)); rates.push(rate); if (rates.length > 60) rates.shift(); drawChart();
  }
  previous = { total: total, uptime: s.uptime_seconds };
  var lookups = s.cache.hits + s.cache.misses;
  text("hit-ratio", lookups ? (100 * s.cache.hits / lookups).toFixed(1) + " %" : "-");
  text("cache-entries", s.cache.enabled ? s.cache.entries : "off");
  text("tcp-clients", s.clients.tcp_connections);
  var rc = $("rcodes"); rc.textContent = "";
  Object.keys(s.answers).forEach(function (k) { var tr = document.createElement("tr"); tr.id = "rcode-" + k;
    cell(tr, k); cell(tr, s.answers[k], "num"); rc.appendChild(tr); });
  var ups = $("upstreams"); ups.textContent = "";
  s.upstreams.forEach(function (u) {
    var tr = document.createElement("tr"); tr.setAttribute("data-address", u.address);
    cell(tr, u.address); cell(tr, u.name); cell(tr, u.state, u.state === "up" ? "up" : "down");
    cell(tr, u.queries, "num"); cell(tr, u.failures, "num"); cell(tr, u.timeouts, "num");
    cell(tr, u.connections_opened, "num"); cell(tr, u.tls_resumptions, "num");
    cell(tr, u.latency_ms.p50.toFixed(2), "num"); cell(tr, u.latency_ms.p95.toFixed(2), "num"); cell(tr, u.latency_ms.p99.toFixed(2), "num");
    ups.appendChild(tr);
  });
  var cache = $("cache"); cache.textContent = "";
  [["hits", s.cache.hits], ["misses", s.cache.misses], ["stale served", s.cache.stale_served], ["prefetches", s.cache.prefetches],
   ["evictions", s.cache.evictions], ["persisted", s.cache.persisted], ["pin changes seen", s.pins.changes_seen], ["pin refusals", s.pins.refusals]]
    .forEach(function (p) { var tr = document.createElement("tr"); cell(tr, p[0]); cell(tr, p[1], "num"); cache.appendChild(tr); });
  text("updated", "updated " + new Date(now).toLocaleTimeString());
}
function showPins(p) {
  var body = $("pins"); body.textContent = "";
  p.pins.forEach(function (n) { n.digests.forEach(function (d) {
    var tr = document.createElement("tr"); cell(tr, n.name); var c = cell(tr, ""); var code = document.createElement("code"); code.textContent = d.sha256; c.appendChild(code);
    cell(tr, d.source); cell(tr, d.first_seen || "-"); cell(tr, d.last_seen || "-"); cell(tr, d.count, "num"); body.appendChild(tr); }); });
  text("pins-note", p.pins.length ? "" : "no pins recorded yet");
}
function poll() {
  fetch("/stats", { cache: "no-store" }).then(function (r) { return r.json(); })
    .then(function (s) { text("error", ""); showStats(s); })
    .catch(function (e) { text("error", "cannot read /stats: " + e); });
  if (pinTick++ % 5 === 0)
    fetch("/pins", { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error("not available (HTTP " + r.status + ")"); return r.json(); })
      .then(showPins).catch(function (e) { text("pins-note", "pin store " + e.message); });
}
poll();
setInterval(poll, 2000);
</script>
</body>
</html>
)HTML";

} // namespace

const std::string& Dashboard::html()
{
	static const std::string page(PAGE);
	return page;
}

} // namespace dnsproxy::admin
