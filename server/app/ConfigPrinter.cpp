// ConfigPrinter.cpp - the effective configuration as INI text (--check-config).
#include "app/ConfigLoader.h"
#include "app/ConfigTable.h"

#include <sstream>

namespace dnsproxy::app
{

std::string ConfigLoader::toIni(const Config& config)
{
	std::ostringstream out;
	out << "; effective dnsproxy configuration\n";
	std::string section;
	for (const auto& key : configKeys())
	{
		if (key.section != section)
		{
			section = key.section;
			out << "\n[" << section << "]\n";
		}
		out << key.name << " = " << key.print(config) << "\n";
	}
	return out.str();
}

} // namespace dnsproxy::app
