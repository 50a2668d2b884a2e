// TlsSetupError.h - the failure to build a server TLS context from its files.
#pragma once

#include "common/Error.h"

namespace dnsproxy::frontend::tls
{

/// What a certificate or key file could not give us; what() names the configuration key, the file
/// and the reason in one line, e.g. "server.tls_cert_file: cannot read '/x.pem': No such file or
/// directory".
using TlsSetupError = common::Error<struct TlsSetupErrorTag>;

} // namespace dnsproxy::frontend::tls
