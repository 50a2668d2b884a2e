// Name.cpp - bounds-checked, loop-safe name decompression and name helpers.
#include "dns/Name.h"

namespace dnsproxy::dns
{

namespace
{

inline uint8_t asciiLower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + ('a' - 'A')) : c;
}

/// Positions a compression pointer can reach (14 bits, RFC 1035 4.1.4): the memo's size.
constexpr size_t POINTER_REACH = 0x4000;

/// NameBudget's memo, one per thread: entry i is valid for the budget whose generation it carries.
/// Zero-initialised once; a budget never takes generation 0, so nothing is valid at first.
struct WalkedSuffixes
{
	uint32_t stamp[POINTER_REACH];
	NameBudget::Suffix suffix[POINTER_REACH];
	uint32_t generation;
};

thread_local WalkedSuffixes tlsMemo{};

} // namespace

/// Messages shorter than this do without the memo: the step budget alone holds them to
/// 4 x 512 steps (about a microsecond), less than the memo's bookkeeping would cost a query.
constexpr size_t MEMO_MIN_MESSAGE = 512;

NameBudget::NameBudget(size_t messageLength):
	_limit(messageLength * NAME_STEPS_PER_OCTET),
	_generation(0)
{
	if (messageLength < MEMO_MIN_MESSAGE)
		return;
	WalkedSuffixes& memo = tlsMemo;
	if (++memo.generation == 0)
	{
		// Wrapped after 2^32 budgets on this thread: old stamps could match again.
		for (uint32_t& stamp : memo.stamp)
			stamp = 0;
		memo.generation = 1;
	}
	_generation = memo.generation;
}

bool NameBudget::recall(size_t position, Suffix& suffix) const
{
	if (position >= POINTER_REACH || tlsMemo.stamp[position] != _generation)
		return false;
	suffix = tlsMemo.suffix[position];
	return true;
}

void NameBudget::remember(size_t position, Suffix suffix)
{
	if (position >= POINTER_REACH)
		return;
	tlsMemo.stamp[position] = _generation;
	tlsMemo.suffix[position] = suffix;
}

ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out)
{
	return readName(msg, len, offset, out, nullptr, nullptr);
}

ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out, bool* compressed,
					NameBudget* budget)
{
	const size_t outStart = out ? out->size() : 0;
	size_t pos = offset;
	size_t runStart = offset; // start of the label run being read; pointers must go strictly below it
	size_t end = 0;           // where the name as stored ends (set at the first pointer)
	bool jumped = false;
	size_t nameLength = 0; // uncompressed octets so far, without the root label
	size_t jumps = 0;
	size_t steps = 0; // labels and pointers visited, charged to `budget` once at the end
	// The memo needs the bytes themselves only when they are not copied out.
	const bool memo = budget != nullptr && out == nullptr && budget->remembers();
	// Positions this walk passed through, with the length and jumps before each: remembered as
	// suffixes once the name is complete. At most 128 jump targets and 127 labels plus the root.
	struct Visit
	{
		uint16_t position;
		uint8_t length;
		uint8_t jumps;
	};
	Visit trail[MAX_POINTER_JUMPS + MAX_NAME_LENGTH / 2 + 1];
	size_t visits = 0;

	auto fail = [&](ParseError error) {
		if (out)
			out->resize(outStart);
		if (budget)
			budget->charge(steps + 1);
		return error;
	};
	auto succeed = [&]() {
		// One name takes at most 256 steps, so charging after the walk overshoots by no more.
		if (budget && !budget->charge(steps + 1))
		{
			if (out)
				out->resize(outStart);
			return ParseError::NAME_BUDGET_EXCEEDED;
		}
		for (size_t i = 0; i < visits; ++i)
			budget->remember(trail[i].position, NameBudget::Suffix{static_cast<uint8_t>(nameLength - trail[i].length),
																   static_cast<uint8_t>(jumps - trail[i].jumps)});
		offset = jumped ? end : pos + 1;
		if (compressed)
			*compressed = jumped;
		return ParseError::NONE;
	};
	for (;; ++steps)
	{
		if (pos >= len)
			return fail(ParseError::TRUNCATED);
		if (memo)
		{
			NameBudget::Suffix known;
			if (jumped && budget->recall(pos, known))
			{
				// Walked from here before, successfully: the same bytes give the same rest of the
				// name, and the limits only depend on the totals.
				nameLength += known.length;
				jumps += known.jumps;
				if (nameLength + 1 > MAX_NAME_LENGTH)
					return fail(ParseError::NAME_TOO_LONG);
				if (jumps > MAX_POINTER_JUMPS)
					return fail(ParseError::TOO_MANY_POINTERS);
				return succeed();
			}
			if (visits < sizeof(trail) / sizeof(trail[0])) // always: the limits end a walk first
				trail[visits++] =
					Visit{static_cast<uint16_t>(pos), static_cast<uint8_t>(nameLength), static_cast<uint8_t>(jumps)};
		}
		const uint8_t c = msg[pos];
		const uint8_t kind = c & 0xC0;
		if (kind == 0xC0)
		{
			if (pos + 1 >= len)
				return fail(ParseError::TRUNCATED);
			const size_t target = (static_cast<size_t>(c & 0x3F) << 8) | msg[pos + 1];
			if (target < HEADER_SIZE || target >= len)
				return fail(ParseError::BAD_POINTER);
			if (target >= runStart)
			{
				// Back into the run we are reading (or at the pointer itself) is a loop; a forward
				// pointer after an earlier jump may also lead back into visited bytes.
				const bool loop = target <= pos || jumped;
				return fail(loop ? ParseError::POINTER_LOOP : ParseError::BAD_POINTER);
			}
			if (++jumps > MAX_POINTER_JUMPS)
				return fail(ParseError::TOO_MANY_POINTERS);
			if (!jumped)
			{
				end = pos + 2;
				jumped = true;
			}
			pos = target;
			runStart = target;
			continue;
		}
		if (kind != 0)
			return fail(ParseError::BAD_LABEL);
		if (c == 0)
		{
			if (out)
				out->push_back(0);
			return succeed();
		}
		nameLength += 1u + c;
		if (nameLength + 1 > MAX_NAME_LENGTH)
			return fail(ParseError::NAME_TOO_LONG);
		if (c >= len - pos) // pos + 1 + c > len
			return fail(ParseError::TRUNCATED);
		if (out)
			out->insert(out->end(), msg + pos, msg + pos + 1 + c);
		pos += 1u + c;
	}
}

bool namesEqualIgnoreCase(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; ++i)
	{
		if (asciiLower(a[i]) != asciiLower(b[i]))
			return false;
	}
	return true;
}

void toLowerWire(uint8_t* name, size_t len)
{
	size_t pos = 0;
	while (pos < len)
	{
		const uint8_t labelLength = name[pos];
		if (labelLength == 0 || labelLength > MAX_LABEL_LENGTH)
			return;
		++pos;
		for (size_t i = 0; i < labelLength && pos < len; ++i, ++pos)
			name[pos] = asciiLower(name[pos]);
	}
}

std::string nameToString(const uint8_t* wire, size_t len)
{
	std::string text;
	size_t pos = 0;
	while (pos < len)
	{
		const uint8_t labelLength = wire[pos];
		if (labelLength == 0 || labelLength > MAX_LABEL_LENGTH)
			break;
		++pos;
		for (size_t i = 0; i < labelLength && pos < len; ++i, ++pos)
		{
			const uint8_t c = wire[pos];
			if (c == '.' || c == '\\')
			{
				text += '\\';
				text += static_cast<char>(c);
			}
			else if (c < 0x21 || c > 0x7E)
			{
				text += '\\';
				text += static_cast<char>('0' + c / 100);
				text += static_cast<char>('0' + (c / 10) % 10);
				text += static_cast<char>('0' + c % 10);
			}
			else
			{
				text += static_cast<char>(c);
			}
		}
		text += '.';
	}
	return text.empty() ? std::string(".") : text;
}

std::optional<std::vector<uint8_t>> nameFromString(std::string_view text)
{
	if (text.empty())
		return std::nullopt;
	std::vector<uint8_t> wire;
	if (text == ".")
	{
		wire.push_back(0);
		return wire;
	}
	const auto isDigit = [](char d) { return d >= '0' && d <= '9'; };
	size_t labelStart = 0; // index of the current label's length octet in `wire`
	wire.push_back(0);
	bool pending = false; // current label has at least one byte
	size_t i = 0;
	while (i < text.size())
	{
		const char c = text[i];
		if (c == '.')
		{
			if (!pending)
				return std::nullopt; // empty label
			wire[labelStart] = static_cast<uint8_t>(wire.size() - labelStart - 1);
			labelStart = wire.size();
			wire.push_back(0);
			pending = false;
			++i;
			continue;
		}
		uint8_t byte = static_cast<uint8_t>(c);
		++i;
		if (c == '\\')
		{
			if (i >= text.size())
				return std::nullopt;
			if (isDigit(text[i]))
			{
				if (i + 2 >= text.size() || !isDigit(text[i + 1]) || !isDigit(text[i + 2]))
					return std::nullopt;
				const int value = (text[i] - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
				if (value > 255)
					return std::nullopt;
				byte = static_cast<uint8_t>(value);
				i += 3;
			}
			else
			{
				byte = static_cast<uint8_t>(text[i]);
				++i;
			}
		}
		wire.push_back(byte);
		pending = true;
		if (wire.size() - labelStart - 1 > MAX_LABEL_LENGTH)
			return std::nullopt;
	}
	if (pending)
	{
		wire[labelStart] = static_cast<uint8_t>(wire.size() - labelStart - 1);
		wire.push_back(0);
	}
	// Without a trailing label the placeholder at labelStart already is the root octet.
	if (wire.size() > MAX_NAME_LENGTH)
		return std::nullopt;
	return wire;
}

} // namespace dnsproxy::dns
