#include "import/OnnxImporter.h"

#include "Diagnostics.h"
#include "import/NodeImporter.h"
#include "ir/Verifier.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace odlc {

namespace {

std::string firstLine(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

int defaultOpset(const onnx::ModelProto &model, const std::string &name) {
  for (const auto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx")
      return int(import.version());
  fail("'{}' does not import the default ONNX operator set", name);
}

std::string joined(const std::vector<std::string> &items) {
  std::string text;
  for (const std::string &item : items)
    text += (text.empty() ? "" : ", ") + item;
  return text;
}

/// Applies --input-shape before shape inference, so every later shape is static.
void applyInputShapes(onnx::GraphProto &graph, const ImportOptions &options) {
  std::set<std::string> initializers;
  for (const auto &init : graph.initializer())
    initializers.insert(init.name());
  std::vector<onnx::ValueInfoProto *> runtimeInputs;
  for (auto &input : *graph.mutable_input())
    if (!initializers.count(input.name()))
      runtimeInputs.push_back(&input);
  for (const auto &[name, shape] : options.inputShapes) {
    onnx::ValueInfoProto *target = nullptr;
    for (onnx::ValueInfoProto *input : runtimeInputs)
      if (input->name() == name || (name.empty() && runtimeInputs.size() == 1))
        target = input;
    if (!target) {
      std::vector<std::string> names;
      for (onnx::ValueInfoProto *input : runtimeInputs)
        names.push_back(input->name());
      fail("--input-shape names '{}', which is not an input of the model (inputs: {}); use "
           "--input-shape NAME=D0,D1,...",
           name, joined(names));
    }
    auto *dims = target->mutable_type()->mutable_tensor_type()->mutable_shape();
    dims->clear_dim();
    for (int64_t d : shape)
      dims->add_dim()->set_dim_value(d);
  }
}

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool isUtf8(const std::string &text) {
  static const uint32_t kLeadMask[] = {0x7F, 0x1F, 0x0F, 0x07};
  static const uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t extra = lead < 0x80 ? 0
                   : (lead & 0xE0) == 0xC0 ? 1
                   : (lead & 0xF0) == 0xE0 ? 2
                   : (lead & 0xF8) == 0xF0 ? 3
                                           : 4;
    if (extra == 4 || text.size() - i <= extra)
      return false;
    uint32_t code = lead & kLeadMask[extra];
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < kSmallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

/// ONNX strings are UTF-8; odlc writes names into JSON, which needs them to be.
void checkNamesAreUtf8(const onnx::GraphProto &graph, const std::string &name) {
  auto check = [&](const std::string &text, const std::string &where) {
    if (!isUtf8(text))
      fail("'{}': {} is not valid UTF-8 (ONNX names must be); rename it in the exporter", name,
           where);
  };
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    std::string where = fmt::format("a name in node #{} ({})", i, node.op_type());
    check(node.name(), where);
    for (const std::string &in : node.input())
      check(in, where);
    for (const std::string &out : node.output())
      check(out, where);
  }
  for (int i = 0; i < graph.initializer_size(); ++i)
    check(graph.initializer(i).name(), fmt::format("initializer #{}'s name", i));
  for (int i = 0; i < graph.input_size(); ++i)
    check(graph.input(i).name(), fmt::format("graph input #{}'s name", i));
  for (int i = 0; i < graph.output_size(); ++i)
    check(graph.output(i).name(), fmt::format("graph output #{}'s name", i));
  for (int i = 0; i < graph.value_info_size(); ++i)
    check(graph.value_info(i).name(), fmt::format("value_info #{}'s name", i));
}

void checkAndInfer(onnx::ModelProto &model, const std::string &name) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    fail("'{}' is not a valid ONNX model: {}", name, firstLine(e.what()));
  }
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception &e) {
    fail("'{}': ONNX shape inference failed: {}", name, firstLine(e.what()));
  }
}

Shape staticShape(const onnx::ValueInfoProto &info, const std::string &what) {
  if (!info.type().has_tensor_type())
    unsupported("{} '{}' is not a tensor", what, info.name());
  const auto &tensorType = info.type().tensor_type();
  if (!tensorType.has_shape())
    fail("{} '{}' has no shape; give one with --input-shape {}=D0,D1,...", what, info.name(),
         info.name());
  Shape shape;
  for (int d = 0; d < tensorType.shape().dim_size(); ++d) {
    const auto &dim = tensorType.shape().dim(d);
    if (dim.has_dim_value() && dim.dim_value() == 0)
      unsupported("{} '{}' has size 0 in dimension {}; empty tensors are not supported", what,
                  info.name(), d);
    if (!dim.has_dim_value() || dim.dim_value() <= 0) {
      std::string symbol = dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "";
      fail("{} '{}' has a dynamic dimension {}{}; odlc needs static shapes: pass "
           "--input-shape {}=D0,D1,... (e.g. a batch of 1)",
           what, info.name(), d, symbol, info.name());
    }
    shape.push_back(dim.dim_value());
  }
  return shape;
}

class ModelImporter {
public:
  ModelImporter(onnx::ModelProto &model, std::string name) : model_(model), name_(std::move(name)) {}

  Graph run() {
    opset_ = defaultOpset(model_, name_);
    const onnx::GraphProto &proto = model_.graph();
    graph_.name = "model";
    collectUses(proto);
    addInitializers(proto);
    addInputs(proto);
    for (const auto &node : proto.node())
      importNode(node);
    for (const Tensor &t : graph_.tensors)
      checkAddressable(t);
    bindOutputs(proto);
    crossCheckShapes(proto);
    graph_.compact();
    if (std::string problem = verifyGraph(graph_); !problem.empty())
      internalError("imported graph is malformed: " + problem, __FILE__, __LINE__);
    return std::move(graph_);
  }

private:
  /// Every buffer lives in one 32-bit address space (the MCU's), and sizes stay far from int64
  /// overflow in the passes' sums.
  void checkAddressable(const Tensor &t) {
    constexpr int64_t kMaxTensorBytes = int64_t(1) << 31;
    __int128 bytes = dtypeBytes(t.dtype);
    for (int64_t d : t.shape)
      if ((bytes *= std::max<int64_t>(d, 0)) > kMaxTensorBytes)
        fail("'{}': tensor '{}' of shape {} needs more than 2 GiB, more than a microcontroller "
             "addresses; check the model's shapes or --input-shape",
             name_, t.name, formatShape(t.shape));
  }

  void collectUses(const onnx::GraphProto &proto) {
    for (const auto &node : proto.node())
      for (const auto &in : node.input())
        used_.insert(in);
    for (const auto &out : proto.output())
      used_.insert(out.name());
  }

  void addInitializers(const onnx::GraphProto &proto) {
    for (const auto &init : proto.initializer()) {
      Tensor t;
      t.name = init.name();
      storeConst(t, decodeTensor(init, "initializer"));
      names_[init.name()] = graph_.addTensor(std::move(t));
    }
    if (proto.sparse_initializer_size() > 0)
      unsupported("'{}' has sparse initializers, which odlc does not read", name_);
  }

  void addInputs(const onnx::GraphProto &proto) {
    for (const auto &info : proto.input()) {
      if (names_.count(info.name()))
        continue; // an initializer listed as input (older exporters): a constant
      if (!info.type().has_tensor_type() ||
          info.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
        unsupported("input '{}' is not a float32 tensor; odlc compiles float32 models",
                    info.name());
      Tensor t;
      t.name = info.name();
      t.kind = TensorKind::Input;
      t.shape = staticShape(info, "input");
      TensorId id = graph_.addTensor(std::move(t));
      names_[info.name()] = id;
      graph_.inputs.push_back(id);
    }
    if (graph_.inputs.empty())
      unsupported("'{}' has no run-time input", name_);
  }

  void importNode(const onnx::NodeProto &node) {
    NodeImporter n(graph_, names_, used_, node, opset_);
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      unsupported("{}: op domain '{}' is not supported; odlc imports the default ONNX domain",
                  n.where(), node.domain());
    OpImporter importer = findOpImporter(node.op_type());
    if (!importer)
      unsupported("{}: op {} is not supported; supported ops: {}", n.where(), node.op_type(),
                  joined(supportedOnnxOps()));
    importer(n);
  }

  void bindOutputs(const onnx::GraphProto &proto) {
    for (const auto &out : proto.output()) {
      auto it = names_.find(out.name());
      if (it == names_.end())
        fail("output '{}' is never computed", out.name());
      const Tensor &t = graph_.tensor(it->second);
      if (t.dtype != DType::F32)
        unsupported("output '{}' is not a float32 tensor", out.name());
      graph_.outputs.push_back(it->second);
    }
  }

  /// ONNX's own shape inference must agree with the op table's shape rules.
  void crossCheckShapes(const onnx::GraphProto &proto) {
    auto check = [&](const onnx::ValueInfoProto &info) {
      auto it = names_.find(info.name());
      if (it == names_.end() || !info.type().tensor_type().has_shape())
        return;
      Shape onnxShape;
      for (const auto &dim : info.type().tensor_type().shape().dim()) {
        if (!dim.has_dim_value())
          return;
        onnxShape.push_back(dim.dim_value());
      }
      const Tensor &t = graph_.tensor(it->second);
      ODLC_ASSERT(t.shape == onnxShape, "tensor '{}' has shape {} but ONNX infers {}",
                  info.name(), formatShape(t.shape), formatShape(onnxShape));
    };
    for (const auto &info : proto.value_info())
      check(info);
    for (const auto &info : proto.output())
      check(info);
  }

  onnx::ModelProto &model_;
  std::string name_;
  Graph graph_;
  int opset_ = 0;
  std::map<std::string, TensorId> names_;
  std::set<std::string> used_;
};

} // namespace

Graph importOnnxModel(onnx::ModelProto &model, const std::string &displayName,
                      const ImportOptions &options) {
  if (!model.has_graph())
    fail("'{}' is not an ONNX model: it has no graph", displayName);
  int opset = defaultOpset(model, displayName);
  if (opset < kMinOpset || opset > kMaxOpset)
    unsupported("'{}' uses ONNX opset {}; odlc imports opsets {} to {}: convert it with "
                "onnx.version_converter.convert_version(model, 13)",
                displayName, opset, kMinOpset, kMaxOpset);
  checkNamesAreUtf8(model.graph(), displayName);
  applyInputShapes(*model.mutable_graph(), options);
  checkAndInfer(model, displayName);
  return ModelImporter(model, displayName).run();
}

Graph importOnnxFile(const std::string &path, const ImportOptions &options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail("'{}' is a directory, not an ONNX model", path);
  std::ifstream file(path, std::ios::binary);
  if (!file)
    fail("cannot open model '{}': {}", path, std::strerror(errno));
  std::stringstream bytes;
  bytes << file.rdbuf();
  std::string data = bytes.str();
  if (data.empty())
    fail("'{}' is empty, not an ONNX model", path);
  onnx::ModelProto model;
  if (!model.ParseFromString(data))
    fail("'{}' is not an ONNX model (the protobuf does not parse; truncated or another format?)",
         path);
  return importOnnxModel(model, path, options);
}

std::vector<std::string> supportedOnnxOps() { return onnxOpNames(); }

} // namespace odlc
