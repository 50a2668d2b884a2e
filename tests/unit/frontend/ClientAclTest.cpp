// ClientAclTest.cpp - [server] allow: CIDR parsing and the one matching rule, IPv4-mapped networks included.
#include "frontend/ClientAcl.h"

#include <cppunit/extensions/HelperMacros.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

using dnsproxy::frontend::ClientAcl;

namespace
{

ClientAcl acl(std::initializer_list<const char*> networks)
{
	std::vector<ClientAcl::Network> parsed;
	for (const char* text : networks)
	{
		const auto net = ClientAcl::parse(text);
		CPPUNIT_ASSERT_MESSAGE(text, net.has_value());
		parsed.push_back(*net);
	}
	return ClientAcl(std::move(parsed));
}

/// A client as the socket reports it: AF_INET for "a.b.c.d", AF_INET6 otherwise (::ffff:a.b.c.d from a
/// dual-stack socket).
bool allows(const ClientAcl& list, const std::string& client)
{
	sockaddr_in v4{};
	sockaddr_in6 v6{};
	if (inet_pton(AF_INET, client.c_str(), &v4.sin_addr) == 1)
	{
		v4.sin_family = AF_INET;
		return list.allows(reinterpret_cast<const sockaddr*>(&v4));
	}
	CPPUNIT_ASSERT_MESSAGE(client, inet_pton(AF_INET6, client.c_str(), &v6.sin6_addr) == 1);
	v6.sin6_family = AF_INET6;
	return list.allows(reinterpret_cast<const sockaddr*>(&v6));
}

} // namespace

class ClientAclTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ClientAclTest);
	CPPUNIT_TEST(testParseTreatsBareAddressAsHost);
	CPPUNIT_TEST(testParseClearsHostBits);
	CPPUNIT_TEST(testParseRejectsMalformed);
	CPPUNIT_TEST(testMatchesPrefixBits);
	CPPUNIT_TEST(testAnyIpv6AdmitsIpv4Clients);
	CPPUNIT_TEST(testMappedNetworkAdmitsIpv4Clients);
	CPPUNIT_TEST(testAnyIpv4AdmitsIpv4Only);
	CPPUNIT_TEST(testIpv4NetworkAdmitsMappedClients);
	CPPUNIT_TEST(testNativeIpv6NetworkRefusesIpv4Clients);
	CPPUNIT_TEST(testSocketAddressOverload);
	CPPUNIT_TEST(testEmptyListRefusesEveryone);
	CPPUNIT_TEST_SUITE_END();

public:
	void testParseTreatsBareAddressAsHost()
	{
		const auto v4 = ClientAcl::parse("192.0.2.7");
		CPPUNIT_ASSERT(v4.has_value());
		CPPUNIT_ASSERT(!v4->ipv6);
		CPPUNIT_ASSERT_EQUAL(32u, v4->bits);
		const auto v6 = ClientAcl::parse("fc00::/7");
		CPPUNIT_ASSERT(v6.has_value());
		CPPUNIT_ASSERT(v6->ipv6);
		CPPUNIT_ASSERT_EQUAL(7u, v6->bits);
		CPPUNIT_ASSERT_EQUAL(128u, ClientAcl::parse("::1")->bits);
	}

	void testParseClearsHostBits()
	{
		const auto net = ClientAcl::parse("10.1.2.3/8");
		CPPUNIT_ASSERT(net.has_value());
		CPPUNIT_ASSERT_EQUAL(10, int(net->prefix[0]));
		CPPUNIT_ASSERT_EQUAL(0, int(net->prefix[1]));
		CPPUNIT_ASSERT_EQUAL(0, int(net->prefix[3]));
	}

	void testParseRejectsMalformed()
	{
		for (const char* text : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "host/8",
								 "10.0.0.0/-1", "fc00::/7/8"})
			CPPUNIT_ASSERT_MESSAGE(text, !ClientAcl::parse(text).has_value());
	}

	void testMatchesPrefixBits()
	{
		const ClientAcl list = acl({"172.16.0.0/12", "fc00::/7"});
		CPPUNIT_ASSERT(allows(list, "172.31.255.255"));
		CPPUNIT_ASSERT(!allows(list, "172.32.0.0"));
		CPPUNIT_ASSERT(!allows(list, "172.15.255.255"));
		CPPUNIT_ASSERT(allows(list, "fdff::1"));
		CPPUNIT_ASSERT(!allows(list, "fe00::1"));
	}

	// The defect of issue 16: `::/0` refused IPv4 clients.
	void testAnyIpv6AdmitsIpv4Clients()
	{
		const ClientAcl list = acl({"::/0"});
		CPPUNIT_ASSERT(allows(list, "127.0.0.1"));
		CPPUNIT_ASSERT(allows(list, "203.0.113.9"));
		CPPUNIT_ASSERT(allows(list, "::ffff:127.0.0.1"));
		CPPUNIT_ASSERT(allows(list, "2001:db8::1"));
	}

	void testMappedNetworkAdmitsIpv4Clients()
	{
		const ClientAcl list = acl({"::ffff:127.0.0.0/104"});
		CPPUNIT_ASSERT(allows(list, "127.0.0.1"));
		CPPUNIT_ASSERT(allows(list, "127.255.0.2"));
		CPPUNIT_ASSERT(allows(list, "::ffff:127.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "128.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "::1"));
		CPPUNIT_ASSERT(!allows(list, "::127.0.0.1")); // IPv4-compatible, not mapped
	}

	void testAnyIpv4AdmitsIpv4Only()
	{
		const ClientAcl list = acl({"0.0.0.0/0"});
		CPPUNIT_ASSERT(allows(list, "127.0.0.1"));
		CPPUNIT_ASSERT(allows(list, "203.0.113.9"));
		CPPUNIT_ASSERT(allows(list, "::ffff:203.0.113.9"));
		CPPUNIT_ASSERT(!allows(list, "::1"));
		CPPUNIT_ASSERT(!allows(list, "2001:db8::1"));
	}

	void testIpv4NetworkAdmitsMappedClients()
	{
		const ClientAcl list = acl({"127.0.0.0/8"});
		CPPUNIT_ASSERT(allows(list, "::ffff:127.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "::ffff:10.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "::1"));
	}

	void testNativeIpv6NetworkRefusesIpv4Clients()
	{
		const ClientAcl list = acl({"::1/128", "fc00::/7", "2001:db8::/32"});
		CPPUNIT_ASSERT(!allows(list, "127.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "::ffff:127.0.0.1"));
		CPPUNIT_ASSERT(allows(list, "::1"));
	}

	void testSocketAddressOverload()
	{
		const ClientAcl list = acl({"::/0"});
		CPPUNIT_ASSERT(list.allows(Poco::Net::SocketAddress("127.0.0.1", 53)));
		const ClientAcl v4only = acl({"10.0.0.0/8"});
		CPPUNIT_ASSERT(!v4only.allows(Poco::Net::SocketAddress("127.0.0.1", 53)));
		CPPUNIT_ASSERT(v4only.allows(Poco::Net::SocketAddress("10.9.8.7", 53)));
	}

	void testEmptyListRefusesEveryone()
	{
		const ClientAcl list;
		CPPUNIT_ASSERT(!allows(list, "127.0.0.1"));
		CPPUNIT_ASSERT(!allows(list, "::1"));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientAclTest, "frontend");
