#include "ir/Printer.h"

#include "ir/OpTable.h"

#include <fmt/format.h>

namespace odlc {

namespace {

bool isPlainName(const std::string &name) {
  if (name.empty())
    return false;
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

std::string ref(const Graph &g, TensorId id) {
  if (id == kNoTensor)
    return "none";
  const std::string &name = g.tensor(id).name;
  return isPlainName(name) ? "%" + name : "%\"" + name + "\"";
}

std::string type(const Tensor &t) { return dtypeName(t.dtype) + formatShape(t.shape); }

std::string attrs(const AttrMap &map) {
  if (map.empty())
    return "";
  std::string text = " {";
  bool first = true;
  for (const auto &[key, value] : map.all()) {
    text += fmt::format("{}{} = {}", first ? "" : ", ", key, formatAttrValue(value));
    first = false;
  }
  return text + "}";
}

std::string refs(const Graph &g, const std::vector<TensorId> &ids, bool typed) {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    text += (i ? ", " : "") + ref(g, ids[i]);
    if (typed)
      text += ": " + type(g.tensor(ids[i]));
  }
  return text;
}

} // namespace

namespace {

std::string printNode(const Graph &g, const Node &n) {
  std::string out = "  ";
  if (!n.outputs.empty())
    out += refs(g, n.outputs, true) + " = ";
  out += fmt::format("{}({}){}", opName(n.op), refs(g, n.inputs, false), attrs(n.attrs));
  for (TensorId o : n.outputs)
    if (!g.tensor(o).attrs.empty())
      out += fmt::format(" [{}:{}]", ref(g, o), attrs(g.tensor(o).attrs));
  return out + fmt::format("  // {}\n", n.name);
}

std::string printNodes(const Graph &g, int fn) {
  std::string out;
  for (const Node &n : g.nodes)
    if (!n.dead && n.fn == fn)
      out += printNode(g, n);
  return out;
}

} // namespace

std::string printGraph(const Graph &g) {
  std::string out = fmt::format("graph @{}({}) -> ({}){} {{\n", g.name, refs(g, g.inputs, true),
                                refs(g, g.outputs, false), attrs(g.attrs));
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor &t = g.tensors[i];
    if (!t.isConstant())
      continue;
    out += fmt::format("  {} = const {}{}\n", ref(g, TensorId(i)), type(t), attrs(t.attrs));
  }
  out += printNodes(g, 0) + "}\n";
  for (size_t f = 0; f < g.functions.size(); ++f) {
    const Function &fn = g.functions[f];
    out += fmt::format("func @{}({}) -> ({}) {{\n", fn.name, refs(g, fn.inputs, true),
                       refs(g, fn.outputs, false));
    for (TensorId in : fn.inputs)
      if (!g.tensor(in).attrs.empty())
        out += fmt::format("  // {}:{}\n", ref(g, in), attrs(g.tensor(in).attrs));
    out += printNodes(g, int(f + 1)) + "}\n";
  }
  return out;
}

} // namespace odlc
