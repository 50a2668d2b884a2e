// ConfigSettings.h - the configuration mapped onto each component's own settings struct.
#pragma once

#include "app/Config.h"
#include "frontend/ClientAcl.h"
#include "upstream/UpstreamSettings.h"

#include <vector>

namespace dnsproxy::app
{

/// The client allow list as the frontend's client ACL.
frontend::ClientAcl makeAcl(const std::vector<Cidr>& allow);

/// [upstream] and the connection-level keys of [tls] as the upstream pool's settings.
upstream::PoolSettings makePoolSettings(const Config& config);

} // namespace dnsproxy::app
