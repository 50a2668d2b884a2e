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

/// Reads a possibly compressed name starting at `offset` of the message [msg, msg+len).
/// On success advances `offset` past the name as stored (past the first pointer) and, if `out`
/// is non-null, appends the uncompressed wire form (length-prefixed labels + terminating 0).
/// On failure `offset` and `out` are left unchanged.
///
/// Loop safety: a pointer must point strictly before the start of the label run that contains
/// it, so every jump goes backwards and the walk terminates in linear time. Pointers into the
/// header (target < 12), past the end, forward (BAD_POINTER) or back into the run being read
/// (POINTER_LOOP) are rejected, as are label types 0x40/0x80 (BAD_LABEL, RFC 6891 5),
/// names longer than 255 octets (NAME_TOO_LONG) and reads past the end (TRUNCATED).
/// `compressed`, if non-null, is set to whether a pointer was followed.
ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out = nullptr);
ParseError readName(const uint8_t* msg, size_t len, size_t& offset, std::vector<uint8_t>* out, bool* compressed);

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
