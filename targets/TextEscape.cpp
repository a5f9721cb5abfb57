#include "targets/TextEscape.h"

#include <fmt/format.h>

namespace odlc {

namespace {

bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

} // namespace

std::string cCommentText(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (isControl(c))
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else if (c == '*' && i + 1 < text.size() && text[i + 1] == '/')
      out += "*\\";  // the '/' follows on the next round
    else
      out += c;
  }
  return out;
}

std::string xmlText(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out += isControl(c) ? '?' : c;
    }
  }
  return out;
}

std::string markdownCell(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '`')
      out += '\'';
    else
      out += isControl(c) ? ' ' : c;
  }
  return out;
}

} // namespace odlc
