// Constants.cpp - names of ParseError values for logs and statistics.
#include "dns/Constants.h"

namespace dnsproxy::dns
{

const char* toString(ParseError error)
{
	switch (error)
	{
	case ParseError::NONE:
		return "none";
	case ParseError::TRUNCATED:
		return "truncated";
	case ParseError::BAD_LABEL:
		return "bad_label";
	case ParseError::NAME_TOO_LONG:
		return "name_too_long";
	case ParseError::BAD_POINTER:
		return "bad_pointer";
	case ParseError::POINTER_LOOP:
		return "pointer_loop";
	case ParseError::NO_QUESTION:
		return "no_question";
	case ParseError::TOO_MANY_QUESTIONS:
		return "too_many_questions";
	case ParseError::BAD_OPT:
		return "bad_opt";
	case ParseError::TRAILING_DATA:
		return "trailing_data";
	case ParseError::TOO_MANY_POINTERS:
		return "too_many_pointers";
	case ParseError::NAME_BUDGET_EXCEEDED:
		return "name_budget_exceeded";
	case ParseError::QUERY_HAS_RECORDS:
		return "query_has_records";
	}
	return "unknown";
}

} // namespace dnsproxy::dns
