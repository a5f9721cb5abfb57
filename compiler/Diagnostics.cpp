#include "Diagnostics.h"

namespace odlc {

void internalError(const std::string &message, const char *file, int line) {
  std::string where = file;
  auto slash = where.find_last_of('/');
  if (slash != std::string::npos)
    where = where.substr(slash + 1);
  throw Error(ErrorKind::Internal,
              fmt::format("internal error: {} ({}:{}); please report this with the model", message,
                          where, line));
}

} // namespace odlc
