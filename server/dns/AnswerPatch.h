// AnswerPatch.h - makes a stored or upstream answer the client's own: its ID, RD bit and question's letter case.
#pragma once

#include "dns/Message.h"

#include <cstddef>
#include <cstdint>

namespace dnsproxy::dns
{

/// Writes the query's ID and RD bit into `answer` and, when both carry one uncompressed question name of
/// the same length at the same offset that differ at most in letter case, the query's name bytes
/// over the answer's, so the client's 0x20 letter case comes back as sent (SPEC 4 "Answers").
/// `answerInfo` and `queryInfo` describe the parsed messages. The answer's length never changes;
/// nothing but those bytes is touched. False (and only ID and RD written) when the name was not copied.
bool patchAnswerForClient(uint8_t* answer, size_t answerLength, const MessageInfo& answerInfo, const uint8_t* query,
						  const MessageInfo& queryInfo);

} // namespace dnsproxy::dns
