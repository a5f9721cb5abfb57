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
      if (t.dtype != DType::F32)
        return fmt::format("run-time tensor '{}' is not f32", t.name);
      continue;
    }
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

} // namespace

std::string verifyGraph(const Graph &g) {
  if (std::string problem = checkTensors(g); !problem.empty())
    return problem;
  std::vector<bool> defined(g.tensors.size(), false);
  for (size_t i = 0; i < g.tensors.size(); ++i)
    defined[i] = g.tensors[i].kind != TensorKind::Value;
  for (TensorId in : g.inputs)
    if (in < 0 || size_t(in) >= g.tensors.size() || g.tensor(in).kind != TensorKind::Input)
      return "a graph input is not an input tensor";
  for (const Node &n : g.nodes) {
    if (n.dead)
      continue;
    if (std::string problem = checkNode(g, n, defined); !problem.empty())
      return problem;
    for (TensorId out : n.outputs)
      defined[size_t(out)] = true;
  }
  if (g.outputs.empty())
    return "the graph has no outputs";
  for (TensorId out : g.outputs)
    if (out < 0 || size_t(out) >= g.tensors.size() || !defined[size_t(out)])
      return "a graph output is never computed";
  return "";
}

} // namespace odlc
