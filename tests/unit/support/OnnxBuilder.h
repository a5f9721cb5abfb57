/// \file Builds small ONNX models in C++ for importer and pass tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace odlc::test {

class OnnxBuilder {
public:
  explicit OnnxBuilder(int opset = 13);

  /// A float32 graph input; a negative dimension becomes a symbolic (dynamic) one.
  OnnxBuilder &input(const std::string &name, const std::vector<int64_t> &shape);
  /// A graph output; its type comes from ONNX shape inference unless `shape` is given (needed
  /// when inference cannot follow a computed shape).
  OnnxBuilder &output(const std::string &name, const std::vector<int64_t> &shape = {});
  OnnxBuilder &initializer(const std::string &name, const std::vector<int64_t> &shape,
                           const std::vector<float> &values);
  OnnxBuilder &initializerInts(const std::string &name, const std::vector<int64_t> &shape,
                               const std::vector<int64_t> &values);
  /// Adds a node; returns it so attributes can be set with the helpers below.
  onnx::NodeProto &node(const std::string &op, const std::vector<std::string> &inputs,
                        const std::vector<std::string> &outputs, const std::string &name = "");

  /// The model with graph outputs typed by ONNX shape inference, as exporters write them.
  onnx::ModelProto finish() const;
  std::string bytes() const { return finish().SerializeAsString(); }

private:
  onnx::ModelProto model_;
};

void setAttr(onnx::NodeProto &node, const std::string &name, int64_t value);
void setAttr(onnx::NodeProto &node, const std::string &name, float value);
void setAttr(onnx::NodeProto &node, const std::string &name, const std::string &value);
void setAttr(onnx::NodeProto &node, const std::string &name, const std::vector<int64_t> &values);

/// Values 0.01 * (i % 97) - 0.4: deterministic, varied, small.
std::vector<float> ramp(size_t count, float scale = 0.01f);

} // namespace odlc::test
