// PinManager.h - the pin policy of SPEC section 5 over the SQLite pin store.
#pragma once

#include "admin/PinAdmin.h"
#include "app/Config.h"
#include "fleet/KeyLayout.h"
#include "stats/UnixClock.h"
#include "upstream/PinSource.h"

#include <Poco/Logger.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace dnsproxy::storage
{
class PinStore;
}

namespace dnsproxy::app
{

/// Implements upstream::PinSource (the handshake's questions) and admin::PinAdmin (list, approve,
/// forget) over storage::PinStore, with an in-memory copy of the digests per name so that the
/// check inside a TLS handshake never touches SQLite.
///
/// Policy: configured pins always apply to their name: a chain with none of them is
/// refused. `learn` records the leaf key of every authenticated connection and reports a new key
/// for a known name (log line and counter). `enforce` does the same, but once a name has stored
/// keys, a chain containing none of them is refused until an operator approves the new digest.
/// `off` skips the store (configured pins still apply). A pin may match any key of the verified
/// chain (PeerChain::pinnableKeys: the signed path from the leaf up), so pinning a provider's CA
/// key survives leaf rotation (RFC 7469 section 2.6); a certificate the server merely sent never
/// matches, and only an authenticated chain is learned.
///
/// Threading: every public method may be called from any thread; `_mutex` guards the maps, the
/// store serialises its own SQLite access.
class PinManager: public upstream::PinSource, public admin::PinAdmin
{
public:
	PinManager(const TlsConfig& config, storage::PinStore* store, stats::UnixClock clock = {});

	// upstream::PinSource
	bool accept(const std::string& name, const upstream::PeerChain& chain, std::string& reason) override;
	void verified(const std::string& name, const upstream::PeerChain& chain) override;
	bool hasSpokenTls(const std::string& name) override;
	void spokeTls(const std::string& name) override;

	// admin::PinAdmin
	std::vector<admin::PinRecord> list(const std::optional<std::string>& name) const override;
	void approve(const std::string& name, const std::string& sha256, int64_t now) override;
	size_t forget(const std::string& name) override;

	uint64_t changesSeen() const
	{
		return _changesSeen.load();
	}
	uint64_t refusals() const
	{
		return _refusals.load();
	}
	uint64_t learned() const
	{
		return _learned.load();
	}
	uint64_t expiringSoon() const
	{
		return _expiringSoon.load();
	}

	/// Fleet (SPEC 4b): told about every digest learned, approved or forgotten here, to share it.
	/// Set during wiring, before any connection or admin request; called outside `_mutex`.
	void setEventSink(std::function<void(const fleet::PinEvent&)> sink)
	{
		_sink = std::move(sink);
	}
	/// Told the (lower-cased) name of every approval, here or by the fleet, so that the upstream
	/// side reconnects to it at once (UpstreamPool::resetServers). Set during wiring, cleared
	/// before the pool goes; called outside `_mutex`, on the approving thread.
	void setApprovalListener(std::function<void(const std::string& name)> listener)
	{
		_approvalListener = std::move(listener);
	}
	/// Applies a change made by another proxy (pin channel, or the merge at start) to the store
	/// and the in-memory copy, without sharing it again. A learned digest already known here is
	/// left as it is; an approval makes it approved; a forget removes learned and approved ones.
	void applyRemote(const fleet::PinEvent& event);

	/// SIGHUP reload: the configured pins and pin policy of `config` replace the configured ones (the
	/// store's configured rows follow). Connections already open keep the key they were accepted
	/// with; the next handshake is checked against the new pins.
	void reconfigure(const TlsConfig& config);

	/// Days before a pinned certificate's notAfter from which it is reported (once a day).
	static constexpr int64_t EXPIRY_WARNING_SECONDS = 14 * 86400;

private:
	void reload();
	void configurePins(const TlsConfig& config);
	int64_t now() const;
	static std::string lower(std::string text);

	std::atomic<PinPolicy> _policy;
	storage::PinStore* _store;
	stats::UnixClock _clock;
	Poco::Logger& _logger;
	mutable std::mutex _mutex;
	std::map<std::string, std::set<std::string>> _configured; ///< name -> digests from the configuration
	std::map<std::string, std::set<std::string>> _stored;     ///< name -> every digest in the store
	std::set<std::string> _spokeTls;
	std::map<std::string, int64_t> _expiryWarned; ///< digest -> when its expiry was last reported
	std::atomic<uint64_t> _changesSeen{0};
	std::atomic<uint64_t> _refusals{0};
	std::atomic<uint64_t> _learned{0};
	std::atomic<uint64_t> _expiringSoon{0};
	std::function<void(const fleet::PinEvent&)> _sink;
	std::function<void(const std::string&)> _approvalListener;
};

} // namespace dnsproxy::app
