#include "OnnxBuilder.h"

#include <onnx/shape_inference/implementation.h>

namespace odlc::test {

OnnxBuilder::OnnxBuilder(int opset) {
  model_.set_ir_version(8);
  model_.set_producer_name("odlc-tests");
  auto *import = model_.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

OnnxBuilder &OnnxBuilder::input(const std::string &name, const std::vector<int64_t> &shape) {
  auto *info = model_.mutable_graph()->add_input();
  info->set_name(name);
  auto *type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) {
    auto *dim = type->mutable_shape()->add_dim();
    if (d < 0)
      dim->set_dim_param("batch");
    else
      dim->set_dim_value(d);
  }
  return *this;
}

OnnxBuilder &OnnxBuilder::output(const std::string &name, const std::vector<int64_t> &shape) {
  auto *info = model_.mutable_graph()->add_output();
  info->set_name(name); // otherwise typed by finish()
  if (shape.empty())
    return *this;
  auto *type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape)
    type->mutable_shape()->add_dim()->set_dim_value(d);
  return *this;
}

OnnxBuilder &OnnxBuilder::initializer(const std::string &name, const std::vector<int64_t> &shape,
                                      const std::vector<float> &values) {
  auto *t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape)
    t->add_dims(d);
  for (float v : values)
    t->add_float_data(v);
  return *this;
}

OnnxBuilder &OnnxBuilder::initializerInts(const std::string &name,
                                          const std::vector<int64_t> &shape,
                                          const std::vector<int64_t> &values) {
  auto *t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : shape)
    t->add_dims(d);
  for (int64_t v : values)
    t->add_int64_data(v);
  return *this;
}

onnx::NodeProto &OnnxBuilder::node(const std::string &op, const std::vector<std::string> &inputs,
                                   const std::vector<std::string> &outputs,
                                   const std::string &name) {
  auto *n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? outputs.at(0) + "_node" : name);
  for (const auto &i : inputs)
    n->add_input(i);
  for (const auto &o : outputs)
    n->add_output(o);
  return *n;
}

void setAttr(onnx::NodeProto &node, const std::string &name, int64_t value) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void setAttr(onnx::NodeProto &node, const std::string &name, float value) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void setAttr(onnx::NodeProto &node, const std::string &name, const std::string &value) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void setAttr(onnx::NodeProto &node, const std::string &name, const std::vector<int64_t> &values) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

std::vector<float> ramp(size_t count, float scale) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i)
    v[i] = scale * float(i % 97) - 0.4f;
  return v;
}

} // namespace odlc::test

namespace odlc::test {

onnx::ModelProto OnnxBuilder::finish() const {
  onnx::ModelProto model = model_;
  onnx::shape_inference::InferShapes(model);
  return model;
}

} // namespace odlc::test
