// Dashboard.h - the self-contained HTML page served at GET / (no external assets).
#pragma once

#include <string>

namespace dnsproxy::admin
{

/// One static page with inline CSS and JavaScript: it polls /stats every 2 s and /pins every
/// 10 s with fetch() and shows queries per second, the cache hit ratio, every upstream's state
/// and latency, and the pin store, like dnsdist's built-in web page. Elements carry stable ids
/// (q-total, qps, hit-ratio, ...) so tests/e2e/test_admin_dashboard.sh can read them back.
class Dashboard
{
public:
	static const std::string& html();
};

} // namespace dnsproxy::admin
