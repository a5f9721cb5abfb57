/// \file The runtime's C sources, embedded in odlc at build time so the emitter can copy the
/// ones a model needs into OUT/ wherever odlc is installed.
#pragma once

#include <string>
#include <vector>

namespace odlc {

/// Contents of runtime file `name` (e.g. "odlc_conv.c"); nullptr when there is none.
const std::string *runtimeSource(const std::string &name);
std::vector<std::string> runtimeFileNames();

} // namespace odlc
