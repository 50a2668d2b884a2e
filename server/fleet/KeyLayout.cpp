// KeyLayout.cpp - Redis key names and pin channel messages.
#include "fleet/KeyLayout.h"

#include <sstream>
#include <vector>

namespace dnsproxy::fleet
{

KeyLayout::KeyLayout(std::string prefix):
	_prefix(std::move(prefix))
{
}

std::string KeyLayout::cacheKey(const std::string& binaryKey) const
{
	static const char digits[] = "0123456789abcdef";
	std::string key;
	key.reserve(_prefix.size() + 6 + 2 * binaryKey.size());
	key += _prefix;
	key += "cache:";
	for (unsigned char c : binaryKey)
	{
		key += digits[c >> 4];
		key += digits[c & 0x0f];
	}
	return key;
}

std::string KeyLayout::pinsKey(const std::string& name) const
{
	return _prefix + "pins:" + name;
}

std::string KeyLayout::pinsPattern() const
{
	std::string pattern;
	for (char c : _prefix)
	{
		if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
			pattern += '\\';
		pattern += c;
	}
	return pattern + "pins:*";
}

std::optional<std::string> KeyLayout::nameOfPinsKey(const std::string& key) const
{
	const std::string head = _prefix + "pins:";
	if (key.size() <= head.size() || key.compare(0, head.size(), head) != 0)
		return std::nullopt;
	return key.substr(head.size());
}

std::string KeyLayout::pinsChannel() const
{
	return _prefix + "pins";
}

const char* KeyLayout::kindName(PinEvent::Kind kind)
{
	switch (kind)
	{
	case PinEvent::Kind::LEARNED:
		return "learned";
	case PinEvent::Kind::APPROVED:
		return "approved";
	case PinEvent::Kind::FORGOTTEN:
		return "forgotten";
	}
	return "?";
}

std::string KeyLayout::encode(const PinEvent& event)
{
	std::string message = event.origin + " " + kindName(event.kind) + " " + event.name;
	if (event.kind != PinEvent::Kind::FORGOTTEN)
		message += " " + event.sha256;
	return message;
}

std::optional<PinEvent> KeyLayout::decode(const std::string& message)
{
	std::istringstream in(message);
	std::vector<std::string> words;
	for (std::string word; in >> word;)
		words.push_back(word);
	if (words.size() < 3)
		return std::nullopt;
	PinEvent event;
	event.origin = words[0];
	event.name = words[2];
	if (words[1] == "forgotten" && words.size() == 3)
	{
		event.kind = PinEvent::Kind::FORGOTTEN;
		return event;
	}
	if (words.size() != 4)
		return std::nullopt;
	if (words[1] == "learned")
		event.kind = PinEvent::Kind::LEARNED;
	else if (words[1] == "approved")
		event.kind = PinEvent::Kind::APPROVED;
	else
		return std::nullopt;
	event.sha256 = words[3];
	return event;
}

} // namespace dnsproxy::fleet
