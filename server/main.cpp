// main.cpp - process entry of dnsproxy: a ServerApplication, nothing else.
#include "app/DnsProxyApp.h"

#include <iostream>

int main(int argc, char** argv)
{
	dnsproxy::app::DnsProxyApp app;
	const std::string error = app.commandLineError(argc, argv);
	if (!error.empty())
	{
		std::cerr << "dnsproxy: " << error << " (see --help)" << std::endl;
		return dnsproxy::app::DnsProxyApp::EXIT_CONFIG_ERROR;
	}
	return app.run(argc, argv);
}
