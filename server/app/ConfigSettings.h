// ConfigSettings.h - the configuration mapped onto each component's own settings struct.
#pragma once

#include "app/Config.h"
#include "cache/CacheSettings.h"
#include "frontend/ClientAcl.h"
#include "upstream/UpstreamSettings.h"

#include <vector>

namespace dnsproxy::app
{

/// The client allow list as the frontend's client ACL.
frontend::ClientAcl makeAcl(const std::vector<Cidr>& allow);

/// [upstream] and the connection-level keys of [tls] as the upstream pool's settings.
upstream::PoolSettings makePoolSettings(const Config& config);

/// [cache] as the packet cache's settings (also the fleet's shared cache).
cache::CacheSettings makeCacheSettings(const CacheConfig& config);

} // namespace dnsproxy::app
