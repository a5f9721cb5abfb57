/// \file The host harnesses `odlc explore --data` compiles together with generated code
/// (compiler/driver/harness/, embedded at build time by cmake/EmbedFiles.cmake).
#pragma once

#include <string>
#include <vector>

namespace odlc {

/// The text of harness file `name` (e.g. "explore_harness.c"), or nullptr.
const std::string *harnessSource(const std::string &name);
std::vector<std::string> harnessFileNames();

} // namespace odlc
