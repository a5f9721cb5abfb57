#include "ir/Verifier.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"

#include <set>

namespace odlc {

namespace {

std::string checkTensors(const Graph &g) {
  std::set<std::string> names;
  for (const Tensor &t : g.tensors) {
    if (t.name.empty())
      return "a tensor has no name";
    if (!names.insert(t.name).second)
      return fmt::format("tensor name '{}' is used twice", t.name);
    for (int64_t dim : t.shape)
      if (dim < 0)
        return fmt::format("tensor '{}' has a negative dimension", t.name);
    if (!t.isConstant()) {
      bool labels = t.kind == TensorKind::Input && t.dtype == DType::I32;
      if (t.dtype != DType::F32 && !labels)
        return fmt::format("run-time tensor '{}' is not f32", t.name);
      continue;
    }
    if (t.dtype == DType::I32)
      return fmt::format("constant '{}' is i32, which only labels use", t.name);
    size_t have = t.dtype == DType::F32 ? t.floats.size() : t.ints.size();
    if (int64_t(have) != t.elements())
      return fmt::format("constant '{}' holds {} values for shape {}", t.name, have,
                         formatShape(t.shape));
  }
  return "";
}

std::string checkNode(const Graph &g, const Node &n, const std::vector<bool> &defined) {
  const OpInfo &info = opInfo(n.op);
  std::string at = fmt::format("node '{}' ({})", n.name, info.name);
  int inputs = int(n.inputs.size());
  if (inputs < info.minInputs || inputs > info.maxInputs)
    return fmt::format("{} has {} inputs, expects {} to {}", at, inputs, info.minInputs,
                       info.maxInputs);
  if (info.numOutputs >= 0 && int(n.outputs.size()) != info.numOutputs)
    return fmt::format("{} has {} outputs, expects {}", at, n.outputs.size(), info.numOutputs);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    TensorId in = n.inputs[i];
    if (in == kNoTensor) {
      if (int(i) < info.minInputs)
        return fmt::format("{} lacks required input {}", at, i);
      continue;
    }
    if (in < 0 || size_t(in) >= g.tensors.size())
      return fmt::format("{} reads a tensor id out of range", at);
    if (!defined[size_t(in)])
      return fmt::format("{} reads '{}' before it is computed", at, g.tensor(in).name);
  }
  for (TensorId out : n.outputs) {
    if (out < 0 || size_t(out) >= g.tensors.size())
      return fmt::format("{} writes a tensor id out of range", at);
    if (g.tensor(out).kind != TensorKind::Value)
      return fmt::format("{} writes input or constant '{}'", at, g.tensor(out).name);
    if (defined[size_t(out)])
      return fmt::format("{} writes '{}', which is already defined", at, g.tensor(out).name);
  }
  std::vector<Shape> shapes;
  try {
    shapes = info.inferShapes(g, n);
  } catch (const Error &e) {
    return e.what();
  }
  if (shapes.size() != n.outputs.size())
    return fmt::format("{} shape rule gives {} outputs for {}", at, shapes.size(),
                       n.outputs.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Tensor &out = g.tensor(n.outputs[i]);
    if (out.shape != shapes[i])
      return fmt::format("{}: output '{}' has shape {}, the op gives {}", at, out.name,
                         formatShape(out.shape), formatShape(shapes[i]));
  }
  return "";
}

/// Checks the nodes of function `fn` in order: every read is of a constant, a function input or
/// an earlier result of the same function, and nothing reads a tensor after a node mutated it.
std::string checkFunction(const Graph &g, int fn) {
  std::string name = g.functionName(fn);
  std::vector<bool> defined(g.tensors.size(), false);
  for (size_t i = 0; i < g.tensors.size(); ++i)
    defined[i] = g.tensors[i].isConstant();
  for (TensorId in : g.functionInputs(fn)) {
    if (in < 0 || size_t(in) >= g.tensors.size())
      return fmt::format("an input of function {} is out of range", name);
    defined[size_t(in)] = true;
  }
  std::vector<bool> mutated(g.tensors.size(), false);
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != fn)
      continue;
    if (std::string problem = checkNode(g, n, defined); !problem.empty())
      return problem;
    for (TensorId in : n.inputs)
      if (in != kNoTensor && mutated[size_t(in)])
        return fmt::format("node '{}' reads '{}' after it was updated", n.name, g.tensor(in).name);
    for (int k : opInfo(n.op).mutates)
      if (k >= 0 && size_t(k) < n.inputs.size() && n.inputs[size_t(k)] != kNoTensor)
        mutated[size_t(n.inputs[size_t(k)])] = true;
    for (TensorId out : n.outputs)
      defined[size_t(out)] = true;
  }
  for (TensorId out : g.functionOutputs(fn))
    if (out < 0 || size_t(out) >= g.tensors.size() || !defined[size_t(out)])
      return fmt::format("an output of function {} is never computed", name);
  return "";
}

} // namespace

std::string verifyGraph(const Graph &g) {
  if (std::string problem = checkTensors(g); !problem.empty())
    return problem;
  for (TensorId in : g.inputs)
    if (in < 0 || size_t(in) >= g.tensors.size() || g.tensor(in).kind != TensorKind::Input)
      return "a graph input is not an input tensor";
  if (g.outputs.empty())
    return "the graph has no outputs";
  for (const Node &n : g.nodes)
    if (!n.dead && (n.fn < 0 || size_t(n.fn) > g.functions.size()))
      return fmt::format("node '{}' belongs to no function", n.name);
  for (int fn = 0; fn <= int(g.functions.size()); ++fn)
    if (std::string problem = checkFunction(g, fn); !problem.empty())
      return problem;
  return "";
}

} // namespace odlc
