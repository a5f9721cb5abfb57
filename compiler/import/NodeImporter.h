/// \file The per-node view the op importers work with: operands, attributes with ONNX defaults,
/// and emission of IR nodes (folded to constants when every operand is known).
#pragma once

#include "import/ConstValue.h"
#include "ir/Graph.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace odlc {

class NodeImporter {
public:
  NodeImporter(Graph &graph, std::map<std::string, TensorId> &names,
               const std::set<std::string> &usedNames, const onnx::NodeProto &node, int opset);

  const onnx::NodeProto &proto() const { return node_; }
  int opset() const { return opset_; }
  Graph &graph() { return graph_; }
  /// `node 'conv1' (Conv)`: the prefix of every diagnostic about this node.
  std::string where() const;

  // Operands -----------------------------------------------------------------------------------
  size_t numInputs() const { return size_t(node_.input_size()); }
  bool hasInput(size_t i) const;
  /// Required input; a diagnostic when absent.
  TensorId input(size_t i) const;
  /// Optional input; kNoTensor when absent.
  TensorId optionalInput(size_t i) const;
  /// A copy: emitting nodes may reallocate the tensor list.
  Shape shape(size_t i) const { return graph_.tensor(input(i)).shape; }
  bool isConst(size_t i) const;
  /// Input i must be known at compile time; `what` names it in the diagnostic otherwise.
  ConstValue constant(size_t i, const char *what) const;
  std::vector<int64_t> constInts(size_t i, const char *what) const;
  bool outputUsed(size_t i) const;

  // Attributes with defaults --------------------------------------------------------------------
  bool hasAttr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t fallback) const;
  float attrFloat(const std::string &name, float fallback) const;
  std::string attrString(const std::string &name, const std::string &fallback) const;
  std::vector<int64_t> attrInts(const std::string &name,
                                const std::vector<int64_t> &fallback) const;
  const onnx::TensorProto *attrTensor(const std::string &name) const;
  /// Diagnoses attributes that odlc does not implement.
  void rejectAttr(const std::string &name, const std::string &why) const;

  // Emission ------------------------------------------------------------------------------------
  /// Adds an IR node producing one tensor, named after ONNX output `output` (or an internal
  /// name when output < 0). Folds to a constant when every operand is constant and the op is
  /// foldable. Returns the result tensor.
  TensorId emit(OpKind op, std::vector<TensorId> inputs, AttrMap attrs, int output = 0);
  /// Same for multi-output ops (Split); result i becomes ONNX output i.
  std::vector<TensorId> emitMulti(OpKind op, std::vector<TensorId> inputs, AttrMap attrs);
  /// Reshapes a tensor (constant: in place of a copy; run time: a Reshape node).
  TensorId reshape(TensorId x, const Shape &shape, int output = -1);
  /// Makes ONNX output `output` refer to `value`.
  void bindConst(int output, const ConstValue &value);
  /// Makes ONNX output `output` an alias of an existing tensor.
  void bindOutput(int output, TensorId id);
  /// A fresh constant tensor named after this node.
  TensorId addConst(const std::string &suffix, const ConstValue &value);

  /// Normalizes a possibly negative axis against `rank`; a diagnostic when out of range.
  int64_t axis(int64_t value, int64_t rank) const;

private:
  std::string outputName(int output) const;

  Graph &graph_;
  std::map<std::string, TensorId> &names_;
  const std::set<std::string> &usedNames_;
  const onnx::NodeProto &node_;
  int opset_;
};

/// Imports one ONNX node into the IR.
using OpImporter = void (*)(NodeImporter &);

/// The importer for `opType` (default domain), or nullptr.
OpImporter findOpImporter(const std::string &opType);
std::vector<std::string> onnxOpNames();

} // namespace odlc
