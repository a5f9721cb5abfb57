/// \file The graph IR: tensors (shape, dtype, constant data, attributes) and nodes (op, operand
/// tensors, attributes) in one topologically ordered list. Plain data; passes edit it directly.
#pragma once

#include "ir/Attr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace odlc {

enum class OpKind : uint16_t {
#define ODLC_OP(kind, name) kind,
#include "ir/Ops.def"
};

enum class DType : uint8_t { F32, I64, I32 };
const char *dtypeName(DType dtype);
int64_t dtypeBytes(DType dtype);

using Shape = std::vector<int64_t>;
int64_t numElements(const Shape &shape);
/// `[1,3,32,32]`
std::string formatShape(const Shape &shape);

using TensorId = int32_t;
using NodeId = int32_t;
constexpr TensorId kNoTensor = -1;

enum class TensorKind : uint8_t {
  Input,    ///< graph input, provided by the caller at run time
  Constant, ///< weights and folded values; data is known at compile time
  Value,    ///< computed by a node
};

struct Tensor {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
  TensorKind kind = TensorKind::Value;
  std::vector<float> floats;  ///< constant data when dtype is F32
  std::vector<int64_t> ints;  ///< constant data when dtype is I64
  AttrMap attrs;

  bool isConstant() const { return kind == TensorKind::Constant; }
  int64_t elements() const { return numElements(shape); }
  int64_t bytes() const { return elements() * dtypeBytes(dtype); }
};

/// A callable part of the program besides inference (the graph's own inputs, outputs and fn-0
/// nodes): the frozen prefix that turns a sample into a latent, the training step, ...
/// Each becomes one C function; nodes name theirs with Node::fn.
struct Function {
  std::string name;
  std::vector<TensorId> inputs;  ///< Input tensors are caller pointers; Value tensors live in
                                 ///< the arena and are filled before the call
  std::vector<TensorId> outputs;
};

struct Node {
  std::string name;
  OpKind op = OpKind::Identity;
  int fn = 0; ///< 0: inference; k > 0: Graph::functions[k - 1]
  std::vector<TensorId> inputs; ///< kNoTensor marks an absent optional input
  std::vector<TensorId> outputs;
  AttrMap attrs;
  bool dead = false; ///< removed; dropped by Graph::compact()

  TensorId input(size_t i) const { return i < inputs.size() ? inputs[i] : kNoTensor; }
};

class Graph {
public:
  std::string name = "model";
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  std::vector<Function> functions;
  AttrMap attrs;

  Tensor &tensor(TensorId id);
  const Tensor &tensor(TensorId id) const;
  /// kNoTensor when no tensor has this name.
  TensorId findTensor(const std::string &name) const;
  /// `base` itself when free, otherwise `base_1`, `base_2`, ...
  std::string uniqueTensorName(const std::string &base) const;

  TensorId addTensor(Tensor tensor);
  TensorId addConstant(const std::string &name, Shape shape, std::vector<float> data);
  TensorId addValue(const std::string &name, Shape shape);
  /// Appends at the end, or inserts before node `before`.
  NodeId addNode(Node node, NodeId before = -1);

  /// Index of the node producing `id`, or -1 for inputs and constants.
  NodeId producer(TensorId id) const;
  /// Live nodes reading `id`, in order.
  std::vector<NodeId> users(TensorId id) const;
  bool isGraphOutput(TensorId id) const;
  /// Name of function `fn` ("infer" for 0).
  std::string functionName(int fn) const;
  /// Index of the function called `name` (0 for "infer"), or -1.
  int findFunction(const std::string &name) const;
  /// Inputs and outputs of function `fn` (the graph's own for 0).
  const std::vector<TensorId> &functionInputs(int fn) const;
  const std::vector<TensorId> &functionOutputs(int fn) const;
  /// Rewires every read of `from` (node inputs and graph outputs) to `to`.
  void replaceAllUses(TensorId from, TensorId to);
  /// Drops dead nodes and tensors nothing refers to; tensor and node ids change.
  void compact();
  /// Elements of the tensors `ids` together (e.g. the inputs: MODEL_INPUT_SIZE).
  int64_t totalElements(const std::vector<TensorId> &ids) const;
};

} // namespace odlc
