// Name.h - domain names in wire form: reading with compression (RFC 1035 4.1.4), comparing, lower-casing, text form.
#pragma once

#include "dns/Constants.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsproxy::dns
{

/// Compression pointers one name may follow (RFC 1035 4.1.4 sets no limit). A name of at most 255
/// octets has at most 127 labels (127 x 2 octets + the root); even with one pointer in front of
/// every label and one more to the root label it needs no more than 128 jumps. A longer walk is
/// a chain of pointers to pointers, built only to make the reader work (TOO_MANY_POINTERS).
constexpr size_t MAX_POINTER_JUMPS = 128;

/// Steps (a label or a pointer visited) that all the names of one message may take together, per
/// octet of the message: the backstop that keeps parsing linear in the message size however the
/// names point at each other (without any bound, 4,000 records owned by the end of an
/// 8,000-pointer chain took 32 million jumps). With the suffix memo below a message needs about
/// one step per name plus one per octet it stores names in; real messages stay far below 4.
constexpr size_t NAME_STEPS_PER_OCTET = 4;

/// The decompression state of one message, shared by the readName calls for its names: the step
/// allowance (NAME_STEPS_PER_OCTET) and a memo of the suffixes already walked. Every position a
/// successful walk passed through is remembered with the rest of the name from there (its length
/// and pointer jumps), so a later name that jumps to a remembered position is complete at once:
/// each octet of the message is walked through a pointer at most once, and records owned by the
/// end of a long chain cost one step each. The memo lives in a thread_local table (16,384
/// positions, the reach of a 14-bit pointer) stamped with a per-budget generation, so a budget
/// costs nothing to set up and nested budgets on one thread only see their own entries. Messages
/// under 512 octets go without it: the allowance alone keeps them to about a microsecond.
/// Not thread-safe: one per parse, on the thread that parses.
class NameBudget
{
public:
	explicit NameBudget(size_t messageLength);
	NameBudget(const NameBudget&) = delete;
	NameBudget& operator=(const NameBudget&) = delete;

	/// Steps charged so far (tests count the work with it).
	size_t used() const
	{
		return _used;
	}
	size_t limit() const
	{
		return _limit;
	}
	/// Charges one name's steps; false once the message has used more than its allowance.
	bool charge(size_t steps)
	{
		_used += steps;
		return _used <= _limit;
	}

	/// The rest of a name from a position: uncompressed octets without the root, pointer jumps.
	struct Suffix
	{
		uint8_t length = 0;
		uint8_t jumps = 0;
	};
	/// Whether this budget keeps a memo (not for messages under 512 octets, which are cheap anyway).
	bool remembers() const
	{
		return _generation != 0;
	}
	/// What a successful walk of this message found from `position`; false if none did yet.
	bool recall(size_t position, Suffix& suffix) const;
	/// Stores what a successful walk found from `position` (positions beyond 14 bits are ignored).
	void remember(size_t position, Suffix suffix);

private:
	size_t _limit;
	size_t _used = 0;
	uint32_t _generation;
};

/// Reads a possibly compressed name starting at `offset` of the message [msg, msg+len).
/// On success advances `offset` past the name as stored (past the first pointer) and, if `out`
/// is non-null, appends the uncompressed wire form (length-prefixed labels + terminating 0).
/// On failure `offset` and `out` are left unchanged.
///
/// Loop safety: a pointer must point strictly before the start of the label run that contains
/// it, so every jump goes backwards and the walk terminates. Pointers into the header
/// (target < 12), past the end, forward (BAD_POINTER) or back into the run being read
/// (POINTER_LOOP) are rejected, as are label types 0x40/0x80 (BAD_LABEL, RFC 6891 5),
/// names longer than 255 octets (NAME_TOO_LONG), more than MAX_POINTER_JUMPS jumps
/// (TOO_MANY_POINTERS) and reads past the end (TRUNCATED). One name therefore costs at most
/// 256 steps; `budget`, if non-null, is charged with them and a name that exhausts it fails
/// with NAME_BUDGET_EXCEEDED (callers that read every name of a message pass one budget). With a
/// budget and without `out`, jumps to positions an earlier name of the message walked through
/// end at once (see NameBudget); the result is the same as walking.
/// `compressed`, if non-null, is set to whether a pointer was followed.
ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out = nullptr);
ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out, bool* compressed,
					NameBudget* budget = nullptr);

/// Uncompressed wire names, compared ASCII case-insensitively (RFC 4343); length octets are < 64
/// and therefore never affected by case folding.
bool namesEqualIgnoreCase(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen);

/// Lower-cases the label bytes (not the length octets) of an uncompressed wire name in place;
/// stops at the root label or at the end of the buffer.
void toLowerWire(uint8_t* name, size_t len);

/// Presentation form, "www.example.com." ("." for the root); '.' and '\' inside labels are
/// escaped as "\." and "\\", other bytes outside 0x21..0x7e as "\DDD" (RFC 1035 5.1).
/// A malformed wire name yields the part that could be read.
std::string nameToString(const uint8_t* wire, size_t len);

/// "www.example.com" or "www.example.com." (escapes as above) to wire form; "." is the root.
/// nullopt for empty labels, labels over 63 octets, names over 255 octets or bad escapes.
std::optional<std::vector<uint8_t>> nameFromString(std::string_view text);

} // namespace dnsproxy::dns
