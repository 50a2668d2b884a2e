// ServicesTls.cpp - the certificate of the encrypted client listeners (DoT, DoH): load, make, reload.
#include "app/Services.h"

#include "app/ConfigTable.h"
#include "frontend/tls/TlsServerContext.h"

#include <Poco/Path.h>

#include <unistd.h>

namespace dnsproxy::app
{

namespace
{
bool hasEncryptedListener(const Config& config)
{
	return !config.server.tlsListen.empty() || !config.server.httpsListen.empty();
}

/// The key named in a certificate error: the key file when the message is about it, else the cert.
std::string certificateKey(const Config& config, const std::string& message)
{
	if (!config.server.tlsKeyFile.empty() && message.find(config.server.tlsKeyFile) != std::string::npos)
		return keys::SERVER_TLS_KEY_FILE.dotted();
	return keys::SERVER_TLS_CERT_FILE.dotted();
}
} // namespace

frontend::tls::TlsServerSettings Services::serverTlsSettings(const Config& config) const
{
	frontend::tls::TlsServerSettings settings;
	settings.certFile = config.server.tlsCertFile;
	settings.keyFile = config.server.tlsKeyFile;
	// Self-signed mode: beside the database, named after it so that the folder still "holds only
	// the database's files" (Privileges::holdsOnly) at the next start.
	const Poco::Path db(config.storage.path);
	settings.selfSignedPath = Poco::Path(db.parent(), db.getBaseName() + "-tls.pem").toString();
	settings.minVersion = config.tls.minVersion;
	return settings;
}

void Services::openServerTls()
{
	if (!hasEncryptedListener(_config))
		return;
	const frontend::tls::TlsServerSettings settings = serverTlsSettings(_config);
	try
	{
		_serverTls = std::make_shared<frontend::tls::TlsServerContext>(settings);
	}
	catch (const frontend::tls::TlsSetupError& e)
	{
		throw StartError(certificateKey(_config, e.what()) + ": " + e.what());
	}
	// A root-started proxy becomes another account: the self-signed pair it made is that account's.
	if (_serverTls->selfSigned() && _account && _account->uid != 0)
		(void)::chown(settings.selfSignedPath.c_str(), _account->uid, _account->gid);
}

void Services::reloadServerTls(const Config& next)
{
	if (!hasEncryptedListener(next))
		return;
	try
	{
		if (_serverTls)
			_serverTls->reload(serverTlsSettings(next));
		else
			_serverTls = std::make_shared<frontend::tls::TlsServerContext>(serverTlsSettings(next));
	}
	catch (const frontend::tls::TlsSetupError& e)
	{
		throw StartError(certificateKey(next, e.what()) + ": " + e.what());
	}
}

std::vector<std::string> Services::certificateLines() const
{
	if (!_serverTls)
		return {};
	const std::string pin = "pin-sha256=\"" + _serverTls->spkiPin() + "\"";
	if (_serverTls->selfSigned())
		return {"tls: self-signed certificate " + serverTlsSettings(_config).selfSignedPath + ", " + pin +
				" (clients can pin it: kdig +tls-pin=" + _serverTls->spkiPin() + ")"};
	return {"tls: certificate " + _serverTls->describe() + ", " + pin};
}

} // namespace dnsproxy::app
