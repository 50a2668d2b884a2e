// HealthProbe.cpp - `dnsproxy --health`: one admin /health request or one DNS query, bounded in time.
#include "app/HealthProbe.h"

#include "app/ConfigLoader.h"
#include "app/ConfigTable.h"
#include "dns/Constants.h"
#include "dns/Header.h"
#include "dns/MessageWriter.h"

#include <Poco/Exception.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <istream>
#include <random>

namespace dnsproxy::app
{

namespace
{

/// A listener on a wildcard address is reached on loopback of the same family.
std::string reachable(const std::string& host)
{
	if (host == "0.0.0.0")
		return "127.0.0.1";
	if (host == "::")
		return "::1";
	return host;
}

Poco::Timespan span(std::chrono::milliseconds ms)
{
	return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

constexpr uint8_t OPCODE_STATUS = 2; ///< RFC 1035 4.1.1; the proxy answers it NOTIMP itself

std::vector<uint8_t> probeQuery(bool ready, uint16_t id)
{
	dns::Header header;
	header.id = id;
	if (ready)
		header.flags = dns::Header::RD;
	else
		header.setOpcode(OPCODE_STATUS);
	dns::MessageWriter writer;
	writer.setHeader(header);
	const uint8_t root[] = {0};
	writer.addQuestion(root, sizeof(root), dns::Type::NS, dns::Class::IN);
	return writer.finish();
}

std::string rcodeText(uint8_t rcode)
{
	static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
	return rcode < 6 ? names[rcode] : "rcode " + std::to_string(rcode);
}

} // namespace

HealthProbe::Result HealthProbe::check(const Config& config, bool ready, std::chrono::milliseconds budget)
{
	try
	{
		return config.admin.listen.empty() ? askDns(config, ready, budget) : askAdmin(config, ready, budget);
	}
	catch (const Poco::Exception& e)
	{
		return {false, e.displayText()};
	}
	catch (const std::exception& e)
	{
		return {false, e.what()};
	}
}

HealthProbe::Result HealthProbe::askAdmin(const Config& config, bool ready, std::chrono::milliseconds budget)
{
	auto where = ConfigLoader::parseHostPort(config.admin.listen, 8053);
	if (!where)
		return {false, keys::ADMIN_LISTEN.dotted() + ": cannot read '" + config.admin.listen + "'"};
	const std::string host = reachable(where->host);
	const std::string url =
		"http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(where->port);
	Poco::Net::HTTPClientSession session(Poco::Net::SocketAddress(host, where->port));
	session.setTimeout(span(budget));
	session.setKeepAlive(false);
	Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/health", Poco::Net::HTTPMessage::HTTP_1_1);
	if (!config.admin.token.empty())
		request.set("Authorization", "Bearer " + config.admin.token);
	session.sendRequest(request);
	Poco::Net::HTTPResponse response;
	std::istream& body = session.receiveResponse(response);
	body.ignore(4096);
	const int status = response.getStatus();
	const bool healthy = status == 200 || (!ready && status == 503);
	return {healthy, "GET " + url + "/health: " + std::to_string(status) +
						 (status == 503 ? " (serving, no usable upstream)" : "")};
}

HealthProbe::Result HealthProbe::askDns(const Config& config, bool ready, std::chrono::milliseconds budget)
{
	if (config.server.listen.empty())
		return {false, keys::SERVER_LISTEN.dotted() + ": no listener to ask"};
	const ListenAddress& first = config.server.listen.front();
	const Poco::Net::SocketAddress address(reachable(first.host), first.port);
	std::random_device random;
	const uint16_t id = static_cast<uint16_t>(random());
	const std::vector<uint8_t> query = probeQuery(ready, id);
	std::vector<uint8_t> answer(4096);
	size_t length = 0;
	std::string transport;
	if (config.server.udp)
	{
		transport = "udp://";
		Poco::Net::DatagramSocket socket(address.family());
		socket.connect(address);
		socket.setReceiveTimeout(span(budget));
		socket.sendBytes(query.data(), static_cast<int>(query.size()));
		const int n = socket.receiveBytes(answer.data(), static_cast<int>(answer.size()));
		length = n > 0 ? static_cast<size_t>(n) : 0;
	}
	else
	{
		transport = "tcp://";
		Poco::Net::StreamSocket socket;
		socket.connect(address, span(budget));
		socket.setReceiveTimeout(span(budget));
		std::vector<uint8_t> framed{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
		framed.insert(framed.end(), query.begin(), query.end());
		socket.sendBytes(framed.data(), static_cast<int>(framed.size()));
		size_t got = 0;
		while (got < 2 + dns::HEADER_SIZE)
		{
			const int n = socket.receiveBytes(answer.data() + got, static_cast<int>(answer.size() - got));
			if (n <= 0)
				break;
			got += static_cast<size_t>(n);
		}
		if (got >= 2)
		{
			answer.erase(answer.begin(), answer.begin() + 2);
			length = got - 2;
		}
	}
	const std::string asked = transport + address.toString() + (ready ? " . NS" : " opcode STATUS");
	if (length < dns::HEADER_SIZE || dns::readId(answer.data()) != id || !(answer[2] & (dns::Header::QR >> 8)))
		return {false, asked + ": no DNS answer"};
	const uint8_t rcode = dns::readRcode(answer.data());
	const bool healthy = !ready || rcode != dns::Rcode::SERVFAIL;
	return {healthy, asked + ": " + rcodeText(rcode)};
}

} // namespace dnsproxy::app
