// Error.h - one exception type per kind of failure, each a distinct std::runtime_error.
#pragma once

#include <stdexcept>

namespace dnsproxy::common
{

/// A failure whose what() is the one line shown to the user. Each kind names its own tag, so a
/// catch can tell them apart: `using ConfigError = common::Error<struct ConfigErrorTag>;`.
template <typename Tag> class Error: public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

} // namespace dnsproxy::common
