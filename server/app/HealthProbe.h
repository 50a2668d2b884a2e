// HealthProbe.h - `dnsproxy --health`: asks the instance a configuration describes whether it serves.
#pragma once

#include "app/Config.h"

#include <chrono>
#include <string>

namespace dnsproxy::app
{

/// The client side of `dnsproxy --health [--ready] [--config=FILE]` (SPEC 2), for container
/// HEALTHCHECKs and orchestrator probes. It reads nothing but the configuration and opens no
/// file: it only talks to the running instance, within `budget` in total.
///
/// - Admin API on: GET /health on that address (a wildcard address is asked on
///   loopback), with the token when one is configured. Liveness: any answer of the admin API's
///   /health, 200 or 503, means the process serves. Readiness (`ready`): only 200, i.e. at least
///   one upstream is usable.
/// - Admin API off: one DNS message to the first listen address (UDP when enabled, else
///   TCP; a wildcard address is asked on loopback). Liveness: a query with opcode STATUS, which the
///   proxy answers itself (NOTIMP, or REFUSED outside the allow list) without any upstream.
///   Readiness: ". IN NS" with RD; any answer but SERVFAIL means an upstream (or the cache) answers.
///
/// Threading: a plain function of the calling thread.
class HealthProbe
{
public:
	struct Result
	{
		bool healthy = false;
		std::string detail; ///< one line: what was asked and what came back
	};

	static Result check(const Config& config, bool ready,
						std::chrono::milliseconds budget = std::chrono::milliseconds(3000));

private:
	static Result askAdmin(const Config& config, bool ready, std::chrono::milliseconds budget);
	static Result askDns(const Config& config, bool ready, std::chrono::milliseconds budget);
};

} // namespace dnsproxy::app
