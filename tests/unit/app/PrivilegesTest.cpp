// PrivilegesTest.cpp - unit tests of Privileges: accounts, folder checks, thread count (drop() is e2e:
// it would take the test runner's own privileges).
#include "app/Privileges.h"

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

using dnsproxy::app::PrivilegeError;
using dnsproxy::app::Privileges;

class PrivilegesTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PrivilegesTest);
	CPPUNIT_TEST(testLooksUpAccounts);
	CPPUNIT_TEST(testConfiguredUserMustExistDefaultMayNot);
	CPPUNIT_TEST(testWriteAndSearchFollowModeBits);
	CPPUNIT_TEST(testHoldsOnlyTheDatabaseFiles);
	CPPUNIT_TEST(testCountsThreads);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir = Poco::TemporaryFile::tempName();
		Poco::File(_dir + "/sub").createDirectories();
	}

	void tearDown() override
	{
		Poco::File(_dir).remove(true);
	}

	void testLooksUpAccounts()
	{
		const auto root = Privileges::lookup("root");
		CPPUNIT_ASSERT(root.has_value());
		CPPUNIT_ASSERT_EQUAL(uid_t(0), root->uid);
		CPPUNIT_ASSERT(!Privileges::lookup("no-such-user-dnsproxy"));
		CPPUNIT_ASSERT(!Privileges::lookup(""));
	}

	void testConfiguredUserMustExistDefaultMayNot()
	{
		CPPUNIT_ASSERT_EQUAL(uid_t(0), Privileges::target("root")->uid);
		CPPUNIT_ASSERT_THROW(Privileges::target("no-such-user-dnsproxy"), PrivilegeError);
		// Empty: the account "dnsproxy" when this machine has one, else none (stay root).
		CPPUNIT_ASSERT_EQUAL(Privileges::lookup("dnsproxy").has_value(), Privileges::target("").has_value());
	}

	void testWriteAndSearchFollowModeBits()
	{
		const Privileges::Account other{"someone", 4242424, 4242424}; // owns nothing, in no group
		const Privileges::Account owner{"owner", ::geteuid(), ::getegid()};
		const std::string sub = _dir + "/sub";
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(sub.c_str(), 0700));
		CPPUNIT_ASSERT(!Privileges::canWriteDirectory(other, sub));
		CPPUNIT_ASSERT(Privileges::canWriteDirectory(owner, sub));
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(sub.c_str(), 01777)); // like /tmp
		CPPUNIT_ASSERT(Privileges::canWriteDirectory(other, sub));
		CPPUNIT_ASSERT(!Privileges::canWriteDirectory(other, _dir + "/missing"));

		// Reaching sub/x needs search permission on every folder above it.
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(_dir.c_str(), 0700));
		CPPUNIT_ASSERT(!Privileges::canReach(other, sub + "/x/"));
		CPPUNIT_ASSERT(Privileges::canReach(owner, sub + "/x/"));
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(_dir.c_str(), 0711));
		CPPUNIT_ASSERT(Privileges::canReach(other, sub + "/x/"));
	}

	void testHoldsOnlyTheDatabaseFiles()
	{
		const std::string sub = _dir + "/sub";
		CPPUNIT_ASSERT(Privileges::holdsOnly(sub, "dnsproxy")); // empty
		for (const char* name : {"dnsproxy.db", "dnsproxy.db-wal", "dnsproxy.db-shm", "dnsproxy.db.corrupt-1"})
			std::ofstream(sub + "/" + name) << "x";
		CPPUNIT_ASSERT(Privileges::holdsOnly(sub, "dnsproxy"));
		std::ofstream(sub + "/other-service.state") << "x"; // e.g. /var/lib itself
		CPPUNIT_ASSERT(!Privileges::holdsOnly(sub, "dnsproxy"));
		CPPUNIT_ASSERT(!Privileges::holdsOnly(_dir + "/missing", "dnsproxy"));
	}

	void testCountsThreads()
	{
		const unsigned before = Privileges::threadCount();
		CPPUNIT_ASSERT(before >= 1);
		std::thread extra([&] { CPPUNIT_ASSERT_EQUAL(before + 1, Privileges::threadCount()); });
		extra.join();
	}

private:
	std::string _dir;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PrivilegesTest, "app");
