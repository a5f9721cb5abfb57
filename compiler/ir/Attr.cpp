#include "ir/Attr.h"

#include "Diagnostics.h"

#include <cmath>

namespace odlc {

template <typename T> const T &AttrMap::getAs(const std::string &key) const {
  auto it = values_.find(key);
  ODLC_ASSERT(it != values_.end(), "missing attribute '{}'", key);
  const T *value = std::get_if<T>(&it->second);
  ODLC_ASSERT(value != nullptr, "attribute '{}' has another type", key);
  return *value;
}

int64_t AttrMap::getInt(const std::string &key) const { return getAs<int64_t>(key); }

int64_t AttrMap::getInt(const std::string &key, int64_t fallback) const {
  return has(key) ? getAs<int64_t>(key) : fallback;
}

double AttrMap::getFloat(const std::string &key) const { return getAs<double>(key); }

double AttrMap::getFloat(const std::string &key, double fallback) const {
  return has(key) ? getAs<double>(key) : fallback;
}

const std::string &AttrMap::getString(const std::string &key) const {
  return getAs<std::string>(key);
}

std::string AttrMap::getString(const std::string &key, const std::string &fallback) const {
  return has(key) ? getAs<std::string>(key) : fallback;
}

const std::vector<int64_t> &AttrMap::getInts(const std::string &key) const {
  return getAs<std::vector<int64_t>>(key);
}

std::vector<int64_t> AttrMap::getInts(const std::string &key,
                                      const std::vector<int64_t> &fallback) const {
  return has(key) ? getAs<std::vector<int64_t>>(key) : fallback;
}

const std::vector<double> &AttrMap::getFloats(const std::string &key) const {
  return getAs<std::vector<double>>(key);
}

static std::string formatFloat(double value) {
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  if (std::isnan(value))
    return "nan";
  std::string text = fmt::format("{:.9g}", value);
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

std::string formatAttrValue(const AttrValue &value) {
  if (auto *i = std::get_if<int64_t>(&value))
    return std::to_string(*i);
  if (auto *f = std::get_if<double>(&value))
    return formatFloat(*f);
  if (auto *s = std::get_if<std::string>(&value))
    return fmt::format("\"{}\"", *s);
  std::string text = "[";
  if (auto *ints = std::get_if<std::vector<int64_t>>(&value)) {
    for (size_t i = 0; i < ints->size(); ++i)
      text += (i ? ", " : "") + std::to_string((*ints)[i]);
  } else {
    const auto &floats = std::get<std::vector<double>>(value);
    for (size_t i = 0; i < floats.size(); ++i)
      text += (i ? ", " : "") + formatFloat(floats[i]);
  }
  return text + "]";
}

} // namespace odlc
