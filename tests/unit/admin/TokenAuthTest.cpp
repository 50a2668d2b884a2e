// TokenAuthTest.cpp - unit tests of TokenAuth: bearer parsing, 401/403 verdicts, constant-time compare.
#include "admin/TokenAuth.h"

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::admin::TokenAuth;

namespace CppUnit
{
template <> struct assertion_traits<TokenAuth::Verdict>
{
	static bool equal(TokenAuth::Verdict a, TokenAuth::Verdict b)
	{
		return a == b;
	}
	static std::string toString(TokenAuth::Verdict v)
	{
		switch (v)
		{
		case TokenAuth::Verdict::ALLOWED:
			return "ALLOWED";
		case TokenAuth::Verdict::MISSING:
			return "MISSING";
		case TokenAuth::Verdict::WRONG:
			return "WRONG";
		case TokenAuth::Verdict::NOT_CONFIGURED:
			return "NOT_CONFIGURED";
		}
		return "?";
	}
};
} // namespace CppUnit

class TokenAuthTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TokenAuthTest);
	CPPUNIT_TEST(testAllowsMatchingBearerToken);
	CPPUNIT_TEST(testSchemeIsCaseInsensitive);
	CPPUNIT_TEST(testRejectsWrongToken);
	CPPUNIT_TEST(testRejectsPrefixOfToken);
	CPPUNIT_TEST(testMissingHeaderIsMissing);
	CPPUNIT_TEST(testBasicSchemeIsMissing);
	CPPUNIT_TEST(testEmptyBearerIsMissing);
	CPPUNIT_TEST(testForbidsEverythingWithoutConfiguredToken);
	CPPUNIT_TEST(testConstantTimeEqualsComparesLengthAndBytes);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAllowsMatchingBearerToken()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::ALLOWED, TokenAuth("s3cret").check("Bearer s3cret"));
	}

	void testSchemeIsCaseInsensitive()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::ALLOWED, TokenAuth("s3cret").check("bearer s3cret"));
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::ALLOWED, TokenAuth("s3cret").check("BEARER  s3cret "));
	}

	void testRejectsWrongToken()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::WRONG, TokenAuth("s3cret").check("Bearer s3creT"));
	}

	void testRejectsPrefixOfToken()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::WRONG, TokenAuth("s3cret").check("Bearer s3cre"));
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::WRONG, TokenAuth("s3cret").check("Bearer s3cret2"));
	}

	void testMissingHeaderIsMissing()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::MISSING, TokenAuth("s3cret").check(""));
	}

	void testBasicSchemeIsMissing()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::MISSING, TokenAuth("s3cret").check("Basic czNjcmV0"));
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::MISSING, TokenAuth("s3cret").check("Bearers3cret"));
	}

	void testEmptyBearerIsMissing()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::MISSING, TokenAuth("s3cret").check("Bearer   "));
	}

	void testForbidsEverythingWithoutConfiguredToken()
	{
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::NOT_CONFIGURED, TokenAuth("").check("Bearer "));
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::NOT_CONFIGURED, TokenAuth("").check("Bearer anything"));
		CPPUNIT_ASSERT_EQUAL(TokenAuth::Verdict::NOT_CONFIGURED, TokenAuth("").check(""));
	}

	void testConstantTimeEqualsComparesLengthAndBytes()
	{
		CPPUNIT_ASSERT(TokenAuth::constantTimeEquals("abc", "abc"));
		CPPUNIT_ASSERT(!TokenAuth::constantTimeEquals("abc", "abd"));
		CPPUNIT_ASSERT(!TokenAuth::constantTimeEquals("abc", "abcd"));
		CPPUNIT_ASSERT(TokenAuth::constantTimeEquals("", ""));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TokenAuthTest, "admin");
CPPUNIT_REGISTRY_ADD("admin", "unit");
