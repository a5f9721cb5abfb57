#include "import/NodeImporter.h"

#include "Diagnostics.h"
#include "import/ConstFold.h"
#include "ir/OpTable.h"

namespace odlc {

NodeImporter::NodeImporter(Graph &graph, std::map<std::string, TensorId> &names,
                           const std::set<std::string> &usedNames, const onnx::NodeProto &node,
                           int opset)
    : graph_(graph), names_(names), usedNames_(usedNames), node_(node), opset_(opset) {}

std::string NodeImporter::where() const {
  std::string name = node_.name().empty() ? node_.output_size() ? node_.output(0) : "?"
                                          : node_.name();
  return fmt::format("node '{}' ({})", name, node_.op_type());
}

bool NodeImporter::hasInput(size_t i) const {
  return i < numInputs() && !node_.input(int(i)).empty();
}

TensorId NodeImporter::input(size_t i) const {
  if (!hasInput(i))
    fail("{}: required input {} is missing", where(), i);
  auto it = names_.find(node_.input(int(i)));
  if (it == names_.end())
    fail("{}: input '{}' is not produced by any earlier node", where(), node_.input(int(i)));
  return it->second;
}

TensorId NodeImporter::optionalInput(size_t i) const {
  return hasInput(i) ? input(i) : kNoTensor;
}

bool NodeImporter::isConst(size_t i) const { return graph_.tensor(input(i)).isConstant(); }

ConstValue NodeImporter::constant(size_t i, const char *what) const {
  if (!isConst(i))
    unsupported("{}: {} ('{}') is computed at run time; odlc needs it to be a constant", where(),
                what, node_.input(int(i)));
  return loadConst(graph_.tensor(input(i)));
}

std::vector<int64_t> NodeImporter::constInts(size_t i, const char *what) const {
  ConstValue value = constant(i, what);
  std::vector<int64_t> ints;
  for (double v : value.values)
    ints.push_back(toInt64(v));
  return ints;
}

bool NodeImporter::outputUsed(size_t i) const {
  return int(i) < node_.output_size() && !node_.output(int(i)).empty() &&
         usedNames_.count(node_.output(int(i))) != 0;
}

static const onnx::AttributeProto *findAttr(const onnx::NodeProto &node, const std::string &name) {
  for (const auto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

bool NodeImporter::hasAttr(const std::string &name) const {
  return findAttr(node_, name) != nullptr;
}

int64_t NodeImporter::attrInt(const std::string &name, int64_t fallback) const {
  const auto *attr = findAttr(node_, name);
  return attr ? attr->i() : fallback;
}

float NodeImporter::attrFloat(const std::string &name, float fallback) const {
  const auto *attr = findAttr(node_, name);
  return attr ? attr->f() : fallback;
}

std::string NodeImporter::attrString(const std::string &name, const std::string &fallback) const {
  const auto *attr = findAttr(node_, name);
  return attr ? attr->s() : fallback;
}

std::vector<int64_t> NodeImporter::attrInts(const std::string &name,
                                            const std::vector<int64_t> &fallback) const {
  const auto *attr = findAttr(node_, name);
  if (!attr)
    return fallback;
  return std::vector<int64_t>(attr->ints().begin(), attr->ints().end());
}

const onnx::TensorProto *NodeImporter::attrTensor(const std::string &name) const {
  const auto *attr = findAttr(node_, name);
  return attr && attr->has_t() ? &attr->t() : nullptr;
}

void NodeImporter::rejectAttr(const std::string &name, const std::string &why) const {
  unsupported("{}: {} ({})", where(), why, name);
}

int64_t NodeImporter::axis(int64_t value, int64_t rank) const {
  if (value < -rank || value >= rank)
    fail("{}: axis {} is out of range for rank {}", where(), value, rank);
  return value < 0 ? value + rank : value;
}

std::string NodeImporter::outputName(int output) const {
  if (output >= 0 && output < node_.output_size() && !node_.output(output).empty())
    return node_.output(output);
  std::string base = node_.name().empty() ? node_.output(0) : node_.name();
  return graph_.uniqueTensorName(base + "_tmp");
}

TensorId NodeImporter::emit(OpKind op, std::vector<TensorId> inputs, AttrMap attrs, int output) {
  Node node;
  node.name = node_.name().empty() ? outputName(output) : node_.name();
  node.op = op;
  node.inputs = std::move(inputs);
  while (!node.inputs.empty() && node.inputs.back() == kNoTensor)
    node.inputs.pop_back(); // absent trailing optional operands
  node.attrs = std::move(attrs);
  std::vector<Shape> shapes = opInfo(op).inferShapes(graph_, node);
  ODLC_ASSERT(shapes.size() == 1, "emit() used for multi-output op {}", opName(op));
  bool allConst = true;
  std::vector<const ConstValue *> values;
  std::vector<ConstValue> storage;
  storage.reserve(node.inputs.size());
  for (TensorId in : node.inputs) {
    if (in == kNoTensor) {
      values.push_back(nullptr);
      continue;
    }
    if (!graph_.tensor(in).isConstant()) {
      allConst = false;
      break;
    }
    storage.push_back(loadConst(graph_.tensor(in)));
    values.push_back(&storage.back());
  }
  std::string name = outputName(output);
  if (allConst && isFoldable(op)) {
    ConstValue folded = foldNode(node, values, shapes)[0];
    Tensor t;
    t.name = graph_.uniqueTensorName(name);
    storeConst(t, folded);
    TensorId id = graph_.addTensor(std::move(t));
    if (output >= 0)
      bindOutput(output, id);
    return id;
  }
  for (TensorId in : node.inputs)
    if (in != kNoTensor && graph_.tensor(in).dtype != DType::F32)
      unsupported("{}: operand '{}' is an integer tensor used at run time; odlc computes in "
                  "float32",
                  where(), graph_.tensor(in).name);
  TensorId out = graph_.addValue(name, shapes[0]);
  node.outputs = {out};
  graph_.addNode(std::move(node));
  if (output >= 0)
    bindOutput(output, out);
  return out;
}

std::vector<TensorId> NodeImporter::emitMulti(OpKind op, std::vector<TensorId> inputs,
                                              AttrMap attrs) {
  Node node;
  node.name = node_.name().empty() ? outputName(0) : node_.name();
  node.op = op;
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  std::vector<Shape> shapes = opInfo(op).inferShapes(graph_, node);
  std::vector<TensorId> outs;
  if (graph_.tensor(node.inputs[0]).isConstant() && isFoldable(op)) {
    ConstValue x = loadConst(graph_.tensor(node.inputs[0]));
    std::vector<ConstValue> folded = foldNode(node, {&x}, shapes);
    for (size_t i = 0; i < folded.size(); ++i) {
      outs.push_back(addConst("split", folded[i]));
      bindOutput(int(i), outs.back());
    }
    return outs;
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    outs.push_back(graph_.addValue(outputName(int(i)), shapes[i]));
    bindOutput(int(i), outs.back());
  }
  node.outputs = outs;
  graph_.addNode(std::move(node));
  return outs;
}

TensorId NodeImporter::reshape(TensorId x, const Shape &shape, int output) {
  if (graph_.tensor(x).shape == shape && output < 0)
    return x;
  AttrMap attrs;
  attrs.set("shape", std::vector<int64_t>(shape));
  return emit(OpKind::Reshape, {x}, attrs, output);
}

void NodeImporter::bindConst(int output, const ConstValue &value) {
  Tensor t;
  t.name = graph_.uniqueTensorName(outputName(output));
  storeConst(t, value);
  bindOutput(output, graph_.addTensor(std::move(t)));
}

void NodeImporter::bindOutput(int output, TensorId id) {
  if (output < node_.output_size() && !node_.output(output).empty())
    names_[node_.output(output)] = id;
}

TensorId NodeImporter::addConst(const std::string &suffix, const ConstValue &value) {
  Tensor t;
  std::string base = node_.name().empty() ? node_.output(0) : node_.name();
  t.name = graph_.uniqueTensorName(base + "_" + suffix);
  storeConst(t, value);
  return graph_.addTensor(std::move(t));
}

} // namespace odlc
