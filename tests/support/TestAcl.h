// TestAcl.h - the client ACL that pipeline tests use: 127.0.0.0/8 allowed, everything else refused.
#pragma once

#include "frontend/ClientAcl.h"

namespace dnsproxy::test
{

/// An ACL allowing 127.0.0.0/8 only, so a test can send from 127.0.0.1 (allowed) and from any
/// other address (refused).
inline frontend::ClientAcl allowLoopback()
{
	frontend::ClientAcl::Network loopback;
	loopback.prefix[0] = 127;
	loopback.bits = 8;
	return frontend::ClientAcl({loopback});
}

} // namespace dnsproxy::test
