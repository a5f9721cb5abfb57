/// \file Names come from the user's model and may hold any bytes: these make them safe in each
/// kind of text odlc writes (C comments, SVG, Markdown tables).
#pragma once

#include <string>

namespace odlc {

/// Safe inside a C comment: "*/" cannot end it early, control bytes become `\xHH`.
std::string cCommentText(const std::string &text);

/// Safe as XML character data or attribute value: & < > " ' escaped, control bytes as '?'
/// (XML 1.0 allows none of them).
std::string xmlText(const std::string &text);

/// Safe in a Markdown table cell, inside backticks: '|' escaped, '`' and control bytes replaced.
std::string markdownCell(const std::string &text);

} // namespace odlc
