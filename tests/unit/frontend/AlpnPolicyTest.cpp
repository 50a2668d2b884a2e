// AlpnPolicyTest.cpp - the server's ALPN choice per listener kind, on raw wire-format lists (RFC 7301 3.1).
#include "frontend/tls/AlpnPolicy.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using dnsproxy::frontend::tls::Alpn;
using dnsproxy::frontend::tls::AlpnChoice;
using dnsproxy::frontend::tls::chooseAlpn;

namespace
{

std::string wire(const std::vector<std::string>& names)
{
	std::string list;
	for (const std::string& name : names)
		list += static_cast<char>(name.size()) + name;
	return list;
}

AlpnChoice choose(Alpn kind, const std::string& list)
{
	return chooseAlpn(kind, reinterpret_cast<const unsigned char*>(list.data()), static_cast<unsigned>(list.size()));
}

} // namespace

class AlpnPolicyTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AlpnPolicyTest);
	CPPUNIT_TEST(testDohUsesServerPreferenceNotClientOrder);
	CPPUNIT_TEST(testDotSelectsNothingForForeignList);
	CPPUNIT_TEST(testDohRefusesForeignList);
	CPPUNIT_TEST(testMalformedListMatchesNothing);
	CPPUNIT_TEST(testPrefixOfAProtocolDoesNotMatch);
	CPPUNIT_TEST_SUITE_END();

public:
	void testDohUsesServerPreferenceNotClientOrder()
	{
		const std::string offered = wire({"http/1.1", "h2"}); // the choice is a view into it
		const AlpnChoice choice = choose(Alpn::DOH, offered);
		CPPUNIT_ASSERT(AlpnChoice::Verdict::SELECT == choice.verdict);
		CPPUNIT_ASSERT_EQUAL(std::string("h2"), std::string(choice.protocol));
	}

	void testDotSelectsNothingForForeignList()
	{
		CPPUNIT_ASSERT(AlpnChoice::Verdict::NONE == choose(Alpn::DOT, wire({"h2", "http/1.1"})).verdict);
		CPPUNIT_ASSERT(AlpnChoice::Verdict::SELECT == choose(Alpn::DOT, wire({"h2", "dot"})).verdict); // control
	}

	void testDohRefusesForeignList()
	{
		CPPUNIT_ASSERT(AlpnChoice::Verdict::REFUSE == choose(Alpn::DOH, wire({"dot", "imap"})).verdict);
	}

	void testMalformedListMatchesNothing()
	{
		// Length byte runs past the end; a zero-length entry stops the walk.
		CPPUNIT_ASSERT(AlpnChoice::Verdict::REFUSE == choose(Alpn::DOH, std::string("\x09h2", 3)).verdict);
		CPPUNIT_ASSERT(AlpnChoice::Verdict::REFUSE == choose(Alpn::DOH, std::string("\x00\x02h2", 4)).verdict);
		CPPUNIT_ASSERT(AlpnChoice::Verdict::NONE == choose(Alpn::DOT, std::string()).verdict);
	}

	void testPrefixOfAProtocolDoesNotMatch()
	{
		CPPUNIT_ASSERT(AlpnChoice::Verdict::NONE == choose(Alpn::DOT, wire({"do", "dots"})).verdict);
		CPPUNIT_ASSERT(AlpnChoice::Verdict::REFUSE == choose(Alpn::DOH, wire({"h2c", "http/1.0"})).verdict);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AlpnPolicyTest, "frontend");
