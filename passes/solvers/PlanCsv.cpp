#include <charconv>
#include <map>
#include <stdexcept>
#include <string>

#include "solvers/BufferPlanner.h"

namespace odlc {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> splitFields(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string::npos)
      return fields;
    start = comma + 1;
  }
}

[[noreturn]] void fail(size_t lineNo, const std::string& message) {
  throw std::runtime_error("plan CSV line " + std::to_string(lineNo) + ": " + message);
}

int64_t parseInt(const std::string& text, size_t lineNo, const std::string& column) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    fail(lineNo, "column '" + column + "': '" + text + "' is not a 64-bit integer");
  return value;
}

/// The values planBuffers() rejects, named with their line.
void checkBuffer(const PlanBuffer& b, size_t lineNo) {
  if (b.upper < b.lower)
    fail(lineNo, "upper (" + std::to_string(b.upper) + ") is before lower (" +
                     std::to_string(b.lower) + ")");
  if (b.size < 0)
    fail(lineNo, "negative size " + std::to_string(b.size));
  if (b.alignment < 1)
    fail(lineNo, "alignment " + std::to_string(b.alignment) + " is not positive");
}

/// Column name -> field index, from the header line.
std::map<std::string, size_t> readHeader(const std::string& line) {
  std::map<std::string, size_t> columns;
  std::vector<std::string> names = splitFields(line);
  for (size_t i = 0; i < names.size(); ++i)
    if (!columns.emplace(names[i], i).second)
      fail(1, "duplicate column '" + names[i] + "'");
  for (const char* required : {"id", "lower", "upper", "size"})
    if (!columns.count(required))
      fail(1, std::string("header lacks column '") + required +
                  "' (expected id,lower,upper,size[,alignment][,offset])");
  return columns;
}

}  // namespace

std::vector<PlanBuffer> readPlanCsv(std::istream& in) {
  std::string line;
  if (!std::getline(in, line))
    fail(1, "empty input, expected header id,lower,upper,size");
  std::map<std::string, size_t> columns = readHeader(line);
  auto field = [&](const std::vector<std::string>& fields, const char* column, size_t lineNo) {
    return parseInt(fields[columns.at(column)], lineNo, column);
  };
  std::vector<PlanBuffer> buffers;
  std::map<int64_t, size_t> firstLine;  ///< id -> line it appears on
  for (size_t lineNo = 2; std::getline(in, line); ++lineNo) {
    if (trim(line).empty())
      continue;
    std::vector<std::string> fields = splitFields(line);
    if (fields.size() != columns.size())
      fail(lineNo, "expected " + std::to_string(columns.size()) + " fields, got " +
                       std::to_string(fields.size()));
    PlanBuffer b;
    b.id = field(fields, "id", lineNo);
    b.lower = field(fields, "lower", lineNo);
    b.upper = field(fields, "upper", lineNo);
    b.size = field(fields, "size", lineNo);
    if (columns.count("alignment"))
      b.alignment = field(fields, "alignment", lineNo);
    if (columns.count("offset"))
      b.offset = field(fields, "offset", lineNo);
    checkBuffer(b, lineNo);
    if (auto [it, fresh] = firstLine.emplace(b.id, lineNo); !fresh)
      fail(lineNo, "duplicate id " + std::to_string(b.id) + " (first on line " +
                       std::to_string(it->second) + ")");
    buffers.push_back(b);
  }
  return buffers;
}

void writePlanCsv(std::ostream& out, const std::vector<PlanBuffer>& buffers) {
  bool aligned = false;
  for (const PlanBuffer& b : buffers)
    aligned = aligned || b.alignment != 1;
  out << "id,lower,upper,size" << (aligned ? ",alignment" : "") << ",offset\n";
  for (const PlanBuffer& b : buffers) {
    out << b.id << ',' << b.lower << ',' << b.upper << ',' << b.size;
    if (aligned)
      out << ',' << b.alignment;
    out << ',' << b.offset << '\n';
  }
}

}  // namespace odlc
