// HealthSource.h - what GET /health asks: is at least one upstream usable?
#pragma once

namespace dnsproxy::admin
{

/// Implemented by app/ over the upstream pool. Called from admin worker threads; must not block.
class HealthSource
{
public:
	virtual ~HealthSource() = default;
	virtual bool healthy() const = 0;
};

} // namespace dnsproxy::admin
