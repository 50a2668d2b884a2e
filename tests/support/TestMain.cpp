// TestMain.cpp - the one Driver for every CppUnit runner: runs the whole registry,
// or only the test, fixture or folder named by argv[1] (e.g. `dnsproxy-unit NameTest`).
#include <cppunit/extensions/TestFactoryRegistry.h>
#include <cppunit/ui/text/TestRunner.h>

#include <iostream>
#include <string>

#ifndef DNSPROXY_TEST_REGISTRY
#define DNSPROXY_TEST_REGISTRY "All Tests"
#endif

int main(int argc, char** argv)
{
	CppUnit::TextUi::TestRunner runner;
	runner.addTest(CppUnit::TestFactoryRegistry::getRegistry(DNSPROXY_TEST_REGISTRY).makeTest());
	const std::string name = argc > 1 ? argv[1] : "";
	try
	{
		return runner.run(name, false, true, true) ? 0 : 1;
	}
	catch (const std::invalid_argument&)
	{
		std::cerr << "no test named " << name << std::endl;
		return 2;
	}
}
