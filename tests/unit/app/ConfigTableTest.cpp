// ConfigTableTest.cpp - the one table of INI keys against etc/dnsproxy.ini, and the table's own consistency.
#include "app/ConfigTable.h"
#include "app/ConfigLoader.h"
#include "app/ConfigText.h"

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <map>
#include <set>

using namespace dnsproxy::app;

namespace
{

/// "section.key" -> value of every key set in etc/dnsproxy.ini (comments and commented-out keys skipped).
std::map<std::string, std::string> shippedKeys()
{
	std::ifstream in(DNSPROXY_TEST_DATA "/../../etc/dnsproxy.ini");
	CPPUNIT_ASSERT_MESSAGE("etc/dnsproxy.ini is readable", in.good());
	std::map<std::string, std::string> keys;
	std::string section;
	std::string line;
	while (std::getline(in, line))
	{
		const std::string t = text::trim(line);
		if (t.empty() || t[0] == ';' || t[0] == '#')
			continue;
		if (t[0] == '[')
		{
			section = t.substr(1, t.find(']') - 1);
			continue;
		}
		const auto eq = t.find('=');
		CPPUNIT_ASSERT_MESSAGE(t, eq != std::string::npos && !section.empty());
		const std::string name = section + "." + text::trim(t.substr(0, eq));
		CPPUNIT_ASSERT_MESSAGE(name + " is set once", keys.count(name) == 0);
		keys[name] = text::stripInlineComment(t.substr(eq + 1));
	}
	return keys;
}

/// The value as the table parses and prints it back (its canonical form).
std::string canonical(const ConfigKey& key, const std::string& value)
{
	Config config;
	key.parse(config, key.fullName(), value);
	return key.print(config);
}

} // namespace

class ConfigTableTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ConfigTableTest);
	CPPUNIT_TEST(testEveryShippedKeyIsInTheTableWithItsDefault);
	CPPUNIT_TEST(testEveryTableKeyIsInTheShippedFile);
	CPPUNIT_TEST(testDefaultsAreWrittenAsPrinted);
	CPPUNIT_TEST(testKeysAreUniqueAndSectionsContiguous);
	CPPUNIT_TEST(testDefaultsFillEveryField);
	CPPUNIT_TEST_SUITE_END();

public:
	void testEveryShippedKeyIsInTheTableWithItsDefault()
	{
		std::map<std::string, const ConfigKey*> table;
		for (const auto& key : configKeys())
			table[key.fullName()] = &key;
		for (const auto& [name, value] : shippedKeys())
		{
			const auto it = table.find(name);
			CPPUNIT_ASSERT_MESSAGE(name + " of etc/dnsproxy.ini is in the table", it != table.end());
			CPPUNIT_ASSERT_EQUAL_MESSAGE(name, it->second->defaultValue, canonical(*it->second, value));
		}
	}

	void testEveryTableKeyIsInTheShippedFile()
	{
		const auto shipped = shippedKeys();
		for (const auto& key : configKeys())
			CPPUNIT_ASSERT_MESSAGE(key.fullName() + " is in etc/dnsproxy.ini", shipped.count(key.fullName()) == 1);
		CPPUNIT_ASSERT_EQUAL(configKeys().size(), shipped.size());
	}

	void testDefaultsAreWrittenAsPrinted()
	{
		for (const auto& key : configKeys())
			CPPUNIT_ASSERT_EQUAL_MESSAGE(key.fullName(), key.defaultValue, canonical(key, key.defaultValue));
	}

	void testKeysAreUniqueAndSectionsContiguous()
	{
		std::set<std::string> names;
		std::set<std::string> closed;
		std::string section;
		for (const auto& key : configKeys())
		{
			CPPUNIT_ASSERT_MESSAGE(key.fullName(), names.insert(key.fullName()).second);
			if (key.section != section)
			{
				CPPUNIT_ASSERT_MESSAGE(key.section + " appears in one run", closed.insert(key.section).second);
				section = key.section;
			}
		}
	}

	/// Config.h holds no defaults: ConfigLoader::defaults() must set what the SPEC gives, e.g. a non-zero
	/// timeout, and toIni() of it must equal the table's defaults key by key.
	void testDefaultsFillEveryField()
	{
		const Config defaults = ConfigLoader::defaults();
		CPPUNIT_ASSERT_EQUAL(10000u, defaults.server.tcpIdleTimeoutMs);
		CPPUNIT_ASSERT_EQUAL(2000u, defaults.upstream.timeoutMs);
		CPPUNIT_ASSERT(defaults.tls.pinPolicy == PinPolicy::LEARN);
		for (const auto& key : configKeys())
			CPPUNIT_ASSERT_EQUAL_MESSAGE(key.fullName(), key.defaultValue, key.print(defaults));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConfigTableTest, "app");
