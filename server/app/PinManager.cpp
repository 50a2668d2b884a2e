// PinManager.cpp - configured pins, learn/enforce policies, approvals and downgrade history.
#include "app/PinManager.h"

#include "app/ConfigTable.h"
#include "storage/PinStore.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>

namespace dnsproxy::app
{

namespace
{

std::string join(const std::set<std::string>& digests)
{
	std::string out;
	for (const auto& d : digests)
		out += (out.empty() ? "" : ", ") + d;
	return out;
}

std::string join(const std::vector<std::string>& digests)
{
	return join(std::set<std::string>(digests.begin(), digests.end()));
}

/// The 32 digest bytes behind a base64 pin, so that equal digests compare equal however they were
/// spelled: base64 of 32 bytes leaves 2 unused bits in its last character, and a pin written with
/// them set ("...X4d=" for "...X4c=") decodes, and passes the config check, to the same digest.
/// Anything that is not base64 of 32 bytes is compared as written.
std::string digestKey(const std::string& base64)
{
	try
	{
		std::istringstream in(base64);
		Poco::Base64Decoder decoder(in);
		std::string bytes((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
		if (bytes.size() == 32)
			return "b:" + bytes;
	}
	catch (const Poco::Exception&)
	{
	}
	return "s:" + base64;
}

/// True when one of the chain's pinnable keys (its signed path; an issuer's key only when the leaf
/// is for the name) is one of `digests`. Certificates the server merely sent never count.
bool anyOf(const upstream::PeerChain& chain, const std::set<std::string>& digests)
{
	std::set<std::string> keys;
	for (const auto& d : digests)
		keys.insert(digestKey(d));
	std::vector<std::string> pinnable = chain.pinnableKeys();
	return std::any_of(pinnable.begin(), pinnable.end(),
					   [&](const std::string& d) { return keys.count(digestKey(d)) != 0; });
}

/// What the server showed, for a refusal's log line: the keys that could match, and those it sent
/// that did not count.
std::string shown(const upstream::PeerChain& chain)
{
	std::string text = "[" + join(chain.pinnableKeys()) + "]";
	if (!chain.sentOnly.empty())
		text += " (also sent, not on the verified chain, not counted: [" + join(chain.sentOnly) + "])";
	return text;
}

} // namespace

PinManager::PinManager(const TlsConfig& config, storage::PinStore* store, stats::UnixClock clock):
	_policy(config.pinPolicy),
	_store(store),
	_clock(stats::orSystemClock(std::move(clock))),
	_logger(Poco::Logger::get("dnsproxy.pins"))
{
	configurePins(config);
}

void PinManager::configurePins(const TlsConfig& config)
{
	std::vector<std::pair<std::string, std::string>> configured;
	std::map<std::string, std::set<std::string>> byName;
	for (const auto& pin : config.pins)
	{
		byName[lower(pin.name)].insert(pin.sha256Base64);
		configured.emplace_back(lower(pin.name), pin.sha256Base64);
	}
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_configured = std::move(byName);
	}
	if (_store)
		_store->syncConfigured(configured, now());
	reload();
}

void PinManager::reconfigure(const TlsConfig& config)
{
	_policy.store(config.pinPolicy);
	configurePins(config);
}

std::string PinManager::lower(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
	return text;
}

int64_t PinManager::now() const
{
	return _clock();
}

void PinManager::reload()
{
	std::lock_guard<std::mutex> lock(_mutex);
	_stored.clear();
	if (!_store)
		return;
	for (const auto& row : _store->list())
		_stored[lower(row.name)].insert(row.sha256);
}

bool PinManager::accept(const std::string& authName, const upstream::PeerChain& chain, std::string& reason)
{
	std::string name = lower(authName);
	std::lock_guard<std::mutex> lock(_mutex);
	auto configured = _configured.find(name);
	if (configured != _configured.end() && anyOf(chain, configured->second))
		return true; // a configured key is trusted under every policy
	if (configured != _configured.end())
	{
		reason = "no configured pin matches for " + name + ": expected one of [" + join(configured->second) +
				 "], the verified chain holds " + shown(chain);
		_refusals.fetch_add(1);
		return false;
	}
	if (_policy != PinPolicy::ENFORCE)
		return true;
	auto stored = _stored.find(name);
	if (stored == _stored.end() || stored->second.empty())
		return true; // trust on first use: the first verified connection is recorded by verified()
	if (anyOf(chain, stored->second))
		return true;
	reason = pinPolicySetting(PinPolicy::ENFORCE) + ": " + name +
			 " presented a key that is not approved: " + shown(chain) + ", known [" + join(stored->second) +
			 "]; approve it with POST /pins";
	_refusals.fetch_add(1);
	return false;
}

void PinManager::verified(const std::string& authName, const upstream::PeerChain& chain)
{
	// Only a chain that verified and matched the name is learned: an unauthenticated one (the
	// opportunistic profile) may be used, but must never become a key that enforce trusts.
	if (_policy == PinPolicy::OFF || chain.spkiSha256.empty() || !chain.authenticated())
		return;
	std::string name = lower(authName);
	const std::string& leaf = chain.spkiSha256.front();
	int64_t t = now();
	bool newKey = false;
	bool knownName = false;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		auto& digests = _stored[name];
		knownName = !digests.empty();
		newKey = digests.insert(leaf).second;
	}
	if (_store)
	{
		auto result = _store->recordSeen(name, leaf, t, chain.notAfter.front());
		knownName = knownName || result.knownName;
		newKey = newKey || result.newDigest;
	}
	if (newKey)
	{
		_learned.fetch_add(1);
		if (knownName)
		{
			_changesSeen.fetch_add(1);
			_logger.warning("pin change: %s presented a new key %s (learned; %s)", name, leaf,
							pinPolicySetting(_policy.load()));
		}
		else
			_logger.information("pin learned: %s %s", name, leaf);
		if (_sink)
			_sink({fleet::PinEvent::Kind::LEARNED, name, leaf, {}});
	}
	// Report pinned keys whose certificate expires soon, once a day per key.
	std::lock_guard<std::mutex> lock(_mutex);
	auto configured = _configured.find(name);
	auto stored = _stored.find(name);
	for (size_t i = 0; i < chain.spkiSha256.size(); ++i)
	{
		const std::string& digest = chain.spkiSha256[i];
		int64_t notAfter = i < chain.notAfter.size() ? chain.notAfter[i] : 0;
		bool pinned = (configured != _configured.end() && configured->second.count(digest)) ||
					  (stored != _stored.end() && stored->second.count(digest));
		if (!pinned || notAfter == 0 || notAfter - t > EXPIRY_WARNING_SECONDS)
			continue;
		auto& warned = _expiryWarned[digest];
		if (warned != 0 && t - warned < 86400)
			continue;
		warned = t;
		_expiringSoon.fetch_add(1);
		_logger.warning("pinned key %s of %s: its certificate expires in %ld days", digest, name,
						static_cast<long>((notAfter - t) / 86400));
	}
}

bool PinManager::hasSpokenTls(const std::string& authName)
{
	std::string name = lower(authName);
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_spokeTls.count(name))
			return true;
	}
	bool seen = _store && _store->tlsSeen(name);
	if (seen)
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_spokeTls.insert(name);
	}
	return seen;
}

void PinManager::spokeTls(const std::string& authName)
{
	std::string name = lower(authName);
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (!_spokeTls.insert(name).second)
			return;
	}
	if (_store)
		_store->markTlsSeen(name, now());
}

std::vector<admin::PinRecord> PinManager::list(const std::optional<std::string>& name) const
{
	std::vector<admin::PinRecord> records;
	if (_store)
	{
		for (const auto& row : _store->list(name ? std::optional<std::string>(lower(*name)) : std::nullopt))
		{
			admin::PinRecord record;
			record.name = row.name;
			record.sha256 = row.sha256;
			record.source = row.source;
			record.firstSeen = row.firstSeen;
			record.lastSeen = row.lastSeen;
			record.count = static_cast<uint64_t>(row.count);
			record.notAfter = row.notAfter.value_or(0);
			records.push_back(std::move(record));
		}
		return records;
	}
	std::lock_guard<std::mutex> lock(_mutex);
	for (const auto& [pinName, digests] : _configured)
	{
		if (name && lower(*name) != pinName)
			continue;
		for (const auto& digest : digests)
			records.push_back({pinName, digest, "config", 0, 0, 0, 0});
	}
	return records;
}

void PinManager::approve(const std::string& authName, const std::string& sha256, int64_t when)
{
	std::string name = lower(authName);
	if (_store)
		_store->approve(name, sha256, when);
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_stored[name].insert(sha256);
	}
	_logger.information("pin approved: %s %s", name, sha256);
	if (_sink)
		_sink({fleet::PinEvent::Kind::APPROVED, name, sha256, {}});
	if (_approvalListener)
		_approvalListener(name);
}

size_t PinManager::forget(const std::string& authName)
{
	std::string name = lower(authName);
	size_t removed = _store ? _store->forget(name) : 0;
	reload();
	_logger.information("pins forgotten: %s (%z removed)", name, removed);
	if (_sink)
		_sink({fleet::PinEvent::Kind::FORGOTTEN, name, {}, {}});
	return removed;
}

void PinManager::applyRemote(const fleet::PinEvent& event)
{
	const std::string name = lower(event.name);
	switch (event.kind)
	{
	case fleet::PinEvent::Kind::APPROVED: {
		if (_store)
			_store->approve(name, event.sha256, now());
		bool added = false;
		{
			std::lock_guard<std::mutex> lock(_mutex);
			added = _stored[name].insert(event.sha256).second;
		}
		if (added) // the merge after every (re)subscription repeats known approvals: log new ones only
			_logger.information("pin approved by the fleet: %s %s", name, event.sha256);
		if (added && _approvalListener)
			_approvalListener(name);
		break;
	}
	case fleet::PinEvent::Kind::LEARNED: {
		{
			std::lock_guard<std::mutex> lock(_mutex);
			if (!_stored[name].insert(event.sha256).second)
				return; // known already (any source): nothing to record
		}
		// Recorded as seen once, so the digest is learned here too and survives a restart.
		if (_store)
			_store->recordSeen(name, event.sha256, now());
		_logger.information("pin learned by the fleet: %s %s", name, event.sha256);
		break;
	}
	case fleet::PinEvent::Kind::FORGOTTEN:
		if (_store)
			_store->forget(name);
		reload();
		_logger.information("pins forgotten by the fleet: %s", name);
		break;
	}
}

} // namespace dnsproxy::app
