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

namespace
{

/// One readName call: the walk over labels and pointers with its limits, and the memo of walked
/// suffixes. Lives on the caller's stack for one name.
class NameWalk
{
public:
	NameWalk(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out, bool* compressed,
			 NameBudget* budget):
		_msg(msg),
		_len(len),
		_offset(offset),
		_out(out),
		_compressed(compressed),
		_budget(budget),
		_outStart(out ? out->size() : 0),
		_pos(offset),
		_runStart(offset),
		// The memo needs the bytes themselves only when they are not copied out.
		_memo(budget != nullptr && out == nullptr && budget->remembers())
	{
	}

	ParseError run()
	{
		for (;; ++_steps)
		{
			if (_pos >= _len)
				return fail(ParseError::TRUNCATED);
			if (_memo)
			{
				NameBudget::Suffix known;
				if (_jumped && _budget->recall(_pos, known))
					return finishFrom(known);
				record();
			}
			const uint8_t c = _msg[_pos];
			const uint8_t kind = c & 0xC0;
			if (kind == 0xC0)
			{
				const ParseError error = follow(c);
				if (error != ParseError::NONE)
					return fail(error);
				continue;
			}
			if (kind != 0)
				return fail(ParseError::BAD_LABEL);
			if (c == 0)
			{
				if (_out)
					_out->push_back(0);
				return succeed();
			}
			const ParseError error = copyLabel(c);
			if (error != ParseError::NONE)
				return fail(error);
		}
	}

private:
	/// A position this walk passed through, with the length and jumps before it: remembered as a
	/// suffix once the name is complete.
	struct Visit
	{
		uint16_t position;
		uint8_t length;
		uint8_t jumps;
	};

	ParseError fail(ParseError error)
	{
		if (_out)
			_out->resize(_outStart);
		if (_budget)
			_budget->charge(_steps + 1);
		return error;
	}

	ParseError succeed()
	{
		// One name takes at most 256 steps, so charging after the walk overshoots by no more.
		if (_budget && !_budget->charge(_steps + 1))
		{
			if (_out)
				_out->resize(_outStart);
			return ParseError::NAME_BUDGET_EXCEEDED;
		}
		for (size_t i = 0; i < _visits; ++i)
			_budget->remember(_trail[i].position,
							  NameBudget::Suffix{static_cast<uint8_t>(_nameLength - _trail[i].length),
												 static_cast<uint8_t>(_jumps - _trail[i].jumps)});
		_offset = _jumped ? _end : _pos + 1;
		if (_compressed)
			*_compressed = _jumped;
		return ParseError::NONE;
	}

	/// Walked from here before, successfully: the same bytes give the same rest of the name, and
	/// the limits only depend on the totals.
	ParseError finishFrom(NameBudget::Suffix known)
	{
		_nameLength += known.length;
		_jumps += known.jumps;
		if (_nameLength + 1 > MAX_NAME_LENGTH)
			return fail(ParseError::NAME_TOO_LONG);
		if (_jumps > MAX_POINTER_JUMPS)
			return fail(ParseError::TOO_MANY_POINTERS);
		return succeed();
	}

	void record()
	{
		if (_visits < sizeof(_trail) / sizeof(_trail[0])) // always: the limits end a walk first
			_trail[_visits++] =
				Visit{static_cast<uint16_t>(_pos), static_cast<uint8_t>(_nameLength), static_cast<uint8_t>(_jumps)};
	}

	/// The compression pointer whose first octet is `c`, at _pos: checked, then followed.
	ParseError follow(uint8_t c)
	{
		if (_pos + 1 >= _len)
			return ParseError::TRUNCATED;
		const size_t target = (static_cast<size_t>(c & 0x3F) << 8) | _msg[_pos + 1];
		if (target < HEADER_SIZE || target >= _len)
			return ParseError::BAD_POINTER;
		if (target >= _runStart)
		{
			// Back into the run we are reading (or at the pointer itself) is a loop; a forward
			// pointer after an earlier jump may also lead back into visited bytes.
			const bool loop = target <= _pos || _jumped;
			return loop ? ParseError::POINTER_LOOP : ParseError::BAD_POINTER;
		}
		if (++_jumps > MAX_POINTER_JUMPS)
			return ParseError::TOO_MANY_POINTERS;
		if (!_jumped)
		{
			_end = _pos + 2;
			_jumped = true;
		}
		_pos = target;
		_runStart = target;
		return ParseError::NONE;
	}

	/// The label of length `c` at _pos: checked, copied out, and stepped over.
	ParseError copyLabel(uint8_t c)
	{
		_nameLength += 1u + c;
		if (_nameLength + 1 > MAX_NAME_LENGTH)
			return ParseError::NAME_TOO_LONG;
		if (c >= _len - _pos) // _pos + 1 + c > _len
			return ParseError::TRUNCATED;
		if (_out)
			_out->insert(_out->end(), _msg + _pos, _msg + _pos + 1 + c);
		_pos += 1u + c;
		return ParseError::NONE;
	}

	const uint8_t* _msg;
	size_t _len;
	size_t& _offset;
	std::vector<uint8_t>* _out;
	bool* _compressed;
	NameBudget* _budget;
	size_t _outStart;
	size_t _pos;
	size_t _runStart; // start of the label run being read; pointers must go strictly below it
	size_t _end = 0;  // where the name as stored ends (set at the first pointer)
	bool _jumped = false;
	size_t _nameLength = 0; // uncompressed octets so far, without the root label
	size_t _jumps = 0;
	size_t _steps = 0; // labels and pointers visited, charged to the budget once at the end
	const bool _memo;
	// At most 128 jump targets and 127 labels plus the root.
	Visit _trail[MAX_POINTER_JUMPS + MAX_NAME_LENGTH / 2 + 1];
	size_t _visits = 0;
};

} // namespace

ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out, bool* compressed,
					NameBudget* budget)
{
	return NameWalk(msg, len, offset, out, compressed, budget).run();
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

namespace
{

/// The octet of the escape after a backslash at text[i - 1]: "\DDD" (decimal, at most 255) or
/// "\X" (X itself). Moves `i` past it; nothing when the escape is cut short or out of range.
std::optional<uint8_t> readEscape(std::string_view text, size_t& i)
{
	const auto isDigit = [](char d) { return d >= '0' && d <= '9'; };
	if (i >= text.size())
		return std::nullopt;
	if (!isDigit(text[i]))
		return static_cast<uint8_t>(text[i++]);
	if (i + 2 >= text.size() || !isDigit(text[i + 1]) || !isDigit(text[i + 2]))
		return std::nullopt;
	const int value = (text[i] - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
	if (value > 255)
		return std::nullopt;
	i += 3;
	return static_cast<uint8_t>(value);
}

} // namespace

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
			const auto escaped = readEscape(text, i);
			if (!escaped)
				return std::nullopt;
			byte = *escaped;
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
