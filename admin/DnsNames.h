// DnsNames.h - presentation names of rcodes, types and classes for the admin views.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dnsproxy::admin
{

/// Mnemonics as dig and unbound print them (RFC 1035, RFC 6895 registries). Pure functions.
class DnsNames
{
public:
	/// "NOERROR", "SERVFAIL", ...; "RCODE11" for unassigned values.
	static std::string rcodeName(unsigned rcode);
	/// "A", "AAAA", ...; "TYPE65280" (RFC 3597) for others.
	static std::string typeName(uint16_t type);
	/// "IN", "CH", ...; "CLASS7" for others.
	static std::string className(uint16_t klass);
	/// Accepts a mnemonic in any case, "TYPEnnn" or a decimal number; nullopt when neither.
	static std::optional<uint16_t> parseType(const std::string& text);
};

} // namespace dnsproxy::admin
