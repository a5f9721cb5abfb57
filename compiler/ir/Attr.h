/// \file Attributes: the typed key/value pairs on nodes, tensors and graphs. Pass decisions are
/// attributes too, so the printer shows them and golden tests can check them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace odlc {

using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

/// Ordered map, so printing and iteration are deterministic.
class AttrMap {
public:
  bool has(const std::string &key) const { return values_.count(key) != 0; }
  void set(const std::string &key, AttrValue value) { values_[key] = std::move(value); }
  void erase(const std::string &key) { values_.erase(key); }
  const std::map<std::string, AttrValue> &all() const { return values_; }
  bool empty() const { return values_.empty(); }

  int64_t getInt(const std::string &key) const;
  int64_t getInt(const std::string &key, int64_t fallback) const;
  double getFloat(const std::string &key) const;
  double getFloat(const std::string &key, double fallback) const;
  const std::string &getString(const std::string &key) const;
  std::string getString(const std::string &key, const std::string &fallback) const;
  const std::vector<int64_t> &getInts(const std::string &key) const;
  std::vector<int64_t> getInts(const std::string &key, const std::vector<int64_t> &fallback) const;
  const std::vector<double> &getFloats(const std::string &key) const;

private:
  template <typename T> const T &getAs(const std::string &key) const;
  std::map<std::string, AttrValue> values_;
};

/// `[1, 2]`, `0.5`, `"relu"`: the printer's and the error messages' format.
std::string formatAttrValue(const AttrValue &value);

} // namespace odlc
