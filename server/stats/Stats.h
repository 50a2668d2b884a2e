// Stats.h - process-wide counters (atomics) that the admin API will read through a snapshot.
#pragma once

#include "stats/LatencyHistogram.h"

#include <array>
#include <atomic>
#include <cstdint>

namespace dnsproxy::stats
{

/// Counters of one encrypted client transport (DoT or DoH listeners).
struct EncryptedStats
{
	std::atomic<uint64_t> connectionsNow{0};
	std::atomic<uint64_t> connectionsAccepted{0};
	std::atomic<uint64_t> handshakes{0};         ///< completed
	std::atomic<uint64_t> resumptions{0};        ///< completed with a resumed session (ticket or session ID)
	std::atomic<uint64_t> handshakeFailures{0};  ///< protocol errors, wrong version, closed mid-handshake
	std::atomic<uint64_t> handshakeTimeouts{0};  ///< not finished within tls_handshake_timeout_ms
	std::atomic<uint64_t> rateLimited{0};        ///< closed at accept: the source's handshake rate was spent
	std::atomic<uint64_t> http2Connections{0};   ///< DoH only: ALPN h2
	std::atomic<uint64_t> http1Connections{0};   ///< DoH only: HTTP/1.1
	std::atomic<uint64_t> httpErrors{0};         ///< DoH only: requests answered with a 4xx/5xx status
};

/// Frontend and pipeline counters. Thread-safe: every field is a relaxed atomic,
/// written from any worker or upstream thread, read by whoever takes a snapshot.
struct FrontendStats
{
	std::atomic<uint64_t> udpQueries{0};
	std::atomic<uint64_t> tcpQueries{0};
	std::atomic<uint64_t> dotQueries{0};
	std::atomic<uint64_t> dohQueries{0};
	EncryptedStats dot;
	EncryptedStats doh;
	std::atomic<uint64_t> tcpConnectionsNow{0};
	std::atomic<uint64_t> tcpConnectionsAccepted{0};
	std::atomic<uint64_t> tcpConnectionsRefused{0};
	std::atomic<uint64_t> tcpIdleClosed{0};
	/// Source outside allow: queries answered REFUSED and TCP connections reset at accept.
	std::atomic<uint64_t> refusedByAcl{0};
	std::atomic<uint64_t> malformed{0}; ///< dropped or answered FORMERR
	std::atomic<uint64_t> truncated{0}; ///< UDP answers sent with TC=1
	std::atomic<uint64_t> overLimit{0}; ///< refused: maxPending reached, or the source's share of it
	std::atomic<uint64_t> sendErrors{0};
	std::array<std::atomic<uint64_t>, 16> answersByRcode{};

	void countAnswer(uint8_t rcode)
	{
		answersByRcode[rcode & 0x0f].fetch_add(1, std::memory_order_relaxed);
	}
};

/// Counters of one upstream server, shared by its connections.
struct UpstreamStats
{
	std::atomic<uint64_t> connectionsOpened{0};
	std::atomic<uint64_t> connectFailures{0};
	std::atomic<uint64_t> tlsResumptions{0};
	std::atomic<uint64_t> queries{0};
	std::atomic<uint64_t> answers{0};
	std::atomic<uint64_t> failures{0};
	std::atomic<uint64_t> timeouts{0};
	std::atomic<uint64_t> retries{0};
	std::atomic<uint64_t> badAnswers{0}; ///< unknown ID or question mismatch
	std::atomic<uint64_t> connectionsNow{0};
	std::atomic<uint64_t> idleCloses{0};         ///< connections closed by us before the server's idle limit
	std::atomic<uint64_t> serverCloses{0};       ///< connections closed by the server
	std::atomic<uint64_t> pinRefusals{0};        ///< handshakes refused by a pin check
	std::atomic<uint64_t> unauthenticatedTls{0}; ///< opportunistic: TLS used without a verified chain or name
	std::atomic<uint64_t> clearTextFallbacks{0}; ///< opportunistic: clear-text DNS to port 53 used
	std::atomic<uint64_t> downgradesRefused{0};  ///< opportunistic: no clear text for a server seen speaking TLS
	/// What the newest connection speaks: an upstream::Transport (TlsConnector.h).
	std::atomic<int> transport{0};
	/// The server's idle limit as learned (EDNS keepalive or closes); 0 = unknown.
	std::atomic<uint32_t> learnedIdleMs{0};
	/// Query sent to answer received, per answered query.
	LatencyHistogram latency;
};

inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1)
{
	counter.fetch_add(n, std::memory_order_relaxed);
}

} // namespace dnsproxy::stats
