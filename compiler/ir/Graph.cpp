#include "ir/Graph.h"

#include "Diagnostics.h"

#include <algorithm>

namespace odlc {

const char *dtypeName(DType dtype) {
  return dtype == DType::F32 ? "f32" : dtype == DType::I32 ? "i32" : "i64";
}

int64_t dtypeBytes(DType dtype) { return dtype == DType::I64 ? 8 : 4; }

int64_t numElements(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::string formatShape(const Shape &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

Tensor &Graph::tensor(TensorId id) {
  ODLC_ASSERT(id >= 0 && size_t(id) < tensors.size(), "tensor id {} out of range", id);
  return tensors[size_t(id)];
}

const Tensor &Graph::tensor(TensorId id) const {
  ODLC_ASSERT(id >= 0 && size_t(id) < tensors.size(), "tensor id {} out of range", id);
  return tensors[size_t(id)];
}

TensorId Graph::findTensor(const std::string &name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name)
      return TensorId(i);
  return kNoTensor;
}

std::string Graph::uniqueTensorName(const std::string &base) const {
  if (findTensor(base) == kNoTensor)
    return base;
  for (int suffix = 1;; ++suffix) {
    std::string candidate = base + "_" + std::to_string(suffix);
    if (findTensor(candidate) == kNoTensor)
      return candidate;
  }
}

TensorId Graph::addTensor(Tensor tensor) {
  ODLC_ASSERT(findTensor(tensor.name) == kNoTensor, "duplicate tensor name '{}'", tensor.name);
  tensors.push_back(std::move(tensor));
  return TensorId(tensors.size() - 1);
}

TensorId Graph::addConstant(const std::string &name, Shape shape, std::vector<float> data) {
  Tensor t;
  t.name = uniqueTensorName(name);
  t.shape = std::move(shape);
  t.kind = TensorKind::Constant;
  t.floats = std::move(data);
  ODLC_ASSERT(int64_t(t.floats.size()) == t.elements(), "constant '{}' has {} values for {}",
              t.name, t.floats.size(), formatShape(t.shape));
  return addTensor(std::move(t));
}

TensorId Graph::addValue(const std::string &name, Shape shape) {
  Tensor t;
  t.name = uniqueTensorName(name);
  t.shape = std::move(shape);
  return addTensor(std::move(t));
}

NodeId Graph::addNode(Node node, NodeId before) {
  if (before < 0) {
    nodes.push_back(std::move(node));
    return NodeId(nodes.size() - 1);
  }
  nodes.insert(nodes.begin() + before, std::move(node));
  return before;
}

NodeId Graph::producer(TensorId id) const {
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].dead)
      continue;
    for (TensorId out : nodes[n].outputs)
      if (out == id)
        return NodeId(n);
  }
  return -1;
}

std::vector<NodeId> Graph::users(TensorId id) const {
  std::vector<NodeId> result;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].dead)
      continue;
    if (std::find(nodes[n].inputs.begin(), nodes[n].inputs.end(), id) != nodes[n].inputs.end())
      result.push_back(NodeId(n));
  }
  return result;
}

bool Graph::isGraphOutput(TensorId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

std::string Graph::functionName(int fn) const {
  return fn == 0 ? "infer" : functions.at(size_t(fn - 1)).name;
}

int Graph::findFunction(const std::string &fnName) const {
  if (fnName == "infer")
    return 0;
  for (size_t i = 0; i < functions.size(); ++i)
    if (functions[i].name == fnName)
      return int(i + 1);
  return -1;
}

const std::vector<TensorId> &Graph::functionInputs(int fn) const {
  return fn == 0 ? inputs : functions.at(size_t(fn - 1)).inputs;
}

const std::vector<TensorId> &Graph::functionOutputs(int fn) const {
  return fn == 0 ? outputs : functions.at(size_t(fn - 1)).outputs;
}

void Graph::replaceAllUses(TensorId from, TensorId to) {
  for (Node &node : nodes)
    for (TensorId &in : node.inputs)
      if (in == from)
        in = to;
  for (TensorId &out : outputs)
    if (out == from)
      out = to;
  for (Function &f : functions)
    for (TensorId &out : f.outputs)
      if (out == from)
        out = to;
}

void Graph::compact() {
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(), [](const Node &n) { return n.dead; }),
              nodes.end());
  std::vector<bool> used(tensors.size(), false);
  auto mark = [&](TensorId id) {
    if (id != kNoTensor)
      used[size_t(id)] = true;
  };
  for (TensorId id : inputs)
    mark(id);
  for (TensorId id : outputs)
    mark(id);
  for (const Function &f : functions) {
    for (TensorId id : f.inputs)
      mark(id);
    for (TensorId id : f.outputs)
      mark(id);
  }
  for (const Node &node : nodes) {
    for (TensorId id : node.inputs)
      mark(id);
    for (TensorId id : node.outputs)
      mark(id);
  }
  std::vector<TensorId> remap(tensors.size(), kNoTensor);
  std::vector<Tensor> kept;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!used[i])
      continue;
    remap[i] = TensorId(kept.size());
    kept.push_back(std::move(tensors[i]));
  }
  tensors = std::move(kept);
  auto apply = [&](std::vector<TensorId> &ids) {
    for (TensorId &id : ids)
      if (id != kNoTensor)
        id = remap[size_t(id)];
  };
  apply(inputs);
  apply(outputs);
  for (Function &f : functions) {
    apply(f.inputs);
    apply(f.outputs);
  }
  for (Node &node : nodes) {
    apply(node.inputs);
    apply(node.outputs);
  }
}

int64_t Graph::totalElements(const std::vector<TensorId> &ids) const {
  int64_t total = 0;
  for (TensorId id : ids)
    total += tensor(id).elements();
  return total;
}

} // namespace odlc
