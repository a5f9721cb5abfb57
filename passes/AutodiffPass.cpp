// autodiff: builds the two functions on-device learning runs, from the cut the replay-cut pass
// chose:
//   prefix(input) -> latent     the frozen layers up to the cut, for one sample
//   train(latents, labels)      the tail on a batch, softmax cross-entropy, and the backward
//                               pass from the op table's gradient rules, with every trainable
//                               weight updated by SGD as soon as its gradient is complete
// Gradients are computed only where a trainable weight lies upstream: never at the cut.
#include "Cuts.h"
#include "Pass.h"

#include "Diagnostics.h"
#include "ir/GradBuilder.h"
#include "ir/OpTable.h"

#include <map>
#include <memory>

namespace odlc {

namespace {

class Autodiff : public GradBuilder {
public:
  Autodiff(Graph &g, const TrainOptions &options) : g_(g), options_(options) {}

  void build() {
    cut_ = g_.findTensor(g_.attrs.getString("train.cut"));
    ODLC_ASSERT(cut_ != kNoTensor, "train.cut names no tensor");
    ODLC_ASSERT(g_.outputs.size() == 1, "training needs a model with one output");
    buildPrefix();
    buildTrain();
    g_.attrs.set("train.batch", options_.batch);
    g_.attrs.set("train.lr", options_.lr);
    g_.attrs.set("train.momentum", options_.momentum);
    // model_learn mixes 3 new samples to 1 replayed one unless told otherwise (seed 003: 12 + 4)
    int64_t replayed = options_.replayPerBatch > 0 ? options_.replayPerBatch : options_.batch / 4;
    g_.attrs.set("train.replay_per_batch", replayed);
    g_.attrs.set("train.replay_samples", options_.replaySamples);
    g_.attrs.set("train.replay_bits", options_.replayBits);
    g_.attrs.set("train.replay_in", options_.replayIn);
    g_.attrs.set("train.epochs", options_.epochs);
    g_.attrs.set("train.learn_cache", options_.learnCache);
    g_.attrs.set("train.class_weighted", int64_t(options_.classWeighted ? 1 : 0));
  }

  // GradBuilder ---------------------------------------------------------------------------------
  const Graph &graph() const override { return g_; }

  TensorId gradOf(TensorId t) override {
    auto it = grads_.find(t);
    return it == grads_.end() ? kNoTensor : it->second;
  }

  bool needsGrad(TensorId t) const override {
    auto it = needsGrad_.find(t);
    return it != needsGrad_.end() && it->second;
  }

  bool isTrainable(TensorId w) const override {
    return w != kNoTensor && g_.tensor(w).attrs.getInt("trainable", 0) != 0;
  }

  TensorId emit(OpKind op, std::vector<TensorId> inputs, AttrMap attrs,
                const std::string &base) override {
    Node n = makeNode(op, std::move(inputs), std::move(attrs), base);
    std::vector<Shape> shapes = opInfo(op).inferShapes(g_, n);
    ODLC_ASSERT(shapes.size() == 1, "{} has {} results", opName(op), shapes.size());
    TensorId out = g_.addValue(stripSuffix(base) + "@grad", shapes[0]);
    g_.tensor(out).attrs.set("role", std::string("gradient"));
    n.outputs = {out};
    g_.addNode(std::move(n));
    return out;
  }

  std::vector<TensorId> emitResults(OpKind op, std::vector<TensorId> inputs, AttrMap attrs,
                                    const std::vector<std::string> &bases) override {
    Node n = makeNode(op, std::move(inputs), std::move(attrs), bases.at(0));
    std::vector<Shape> shapes = opInfo(op).inferShapes(g_, n);
    ODLC_ASSERT(shapes.size() == bases.size(), "{} has {} results, {} names", opName(op),
                shapes.size(), bases.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
      TensorId out =
          g_.addValue(stripSuffix(bases[i]) + (i == 0 ? "@grad" : "@scratch"), shapes[i]);
      g_.tensor(out).attrs.set("role", std::string(i == 0 ? "gradient" : "scratch"));
      n.outputs.push_back(out);
    }
    std::vector<TensorId> outputs = n.outputs;
    g_.addNode(std::move(n));
    return outputs;
  }

  void emitUpdate(OpKind op, std::vector<TensorId> inputs, AttrMap attrs,
                  const std::string &base) override {
    g_.addNode(makeNode(op, std::move(inputs), std::move(attrs), base + "/update"));
  }

  void addGrad(TensorId t, TensorId grad) override {
    auto it = grads_.find(t);
    if (it == grads_.end()) {
      grads_[t] = grad;
      return;
    }
    it->second = emit(OpKind::Add, {it->second, grad}, {}, g_.tensor(t).name);
  }

  TensorId keptInput(const Node &layer) const override {
    auto it = kept_.find(layer.outputs[0]);
    return it == kept_.end() ? layer.inputs[0] : it->second;
  }

  TensorId keptChannels(TensorId t, const std::vector<int64_t> &key) const override {
    auto it = keptChannels_.find({t, key});
    return it == keptChannels_.end() ? kNoTensor : it->second;
  }

  TensorId velocity(TensorId w) override {
    if (options_.momentum == 0.0)
      return kNoTensor;
    auto it = velocities_.find(w);
    if (it != velocities_.end())
      return it->second;
    const Tensor &weight = g_.tensor(w);
    TensorId v = g_.addConstant(weight.name + ".velocity", weight.shape,
                                std::vector<float>(size_t(weight.elements()), 0.0f));
    g_.tensor(v).attrs.set("state", std::string("velocity"));
    return velocities_[w] = v;
  }

  AttrMap sgdAttrs() const override {
    AttrMap attrs;
    attrs.set("lr", options_.lr);
    attrs.set("momentum", options_.momentum);
    return attrs;
  }

  TensorId constant(const std::string &name, Shape shape, std::vector<float> values) override {
    return g_.addConstant(name, std::move(shape), std::move(values));
  }

  void notDifferentiable(const Node &n, const std::string &why) override {
    unsupported("cannot train through node '{}' ({}): {}; choose a later --train-from cut",
                n.name, opName(n.op), why);
  }

private:
  static std::string stripSuffix(const std::string &name) {
    size_t at = name.find('@');
    return at == std::string::npos ? name : name.substr(0, at);
  }

  Node makeNode(OpKind op, std::vector<TensorId> inputs, AttrMap attrs, const std::string &base) {
    Node n;
    n.name = stripSuffix(base) + "/" + opName(op);
    n.op = op;
    n.fn = trainFn_;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    return n;
  }

  // Prefix -------------------------------------------------------------------------------------
  void buildPrefix() {
    g_.functions.push_back({"prefix", g_.inputs, {}});
    int fn = int(g_.functions.size());
    if (g_.tensor(cut_).kind == TensorKind::Input) {
      g_.functions.back().outputs = {cut_}; // training from the input: the latent is the sample
      return;
    }
    std::vector<bool> needed(g_.tensors.size(), false);
    needed[size_t(cut_)] = true;
    std::vector<NodeId> ancestors;
    for (size_t i = g_.nodes.size(); i-- > 0;) {
      const Node &n = g_.nodes[i];
      if (n.dead || n.fn != 0 || !producesNeeded(n, needed))
        continue;
      ancestors.insert(ancestors.begin(), NodeId(i));
      for (TensorId in : n.inputs)
        if (in != kNoTensor)
          needed[size_t(in)] = true;
    }
    std::map<TensorId, TensorId> copies;
    for (TensorId in : g_.inputs)
      copies[in] = in; // the prefix reads the caller's sample
    for (NodeId id : ancestors)
      copyNode(g_.nodes[size_t(id)], fn, "@prefix", copies, false);
    g_.functions[size_t(fn - 1)].outputs = {copies.at(cut_)};
  }

  static bool producesNeeded(const Node &n, const std::vector<bool> &needed) {
    for (TensorId out : n.outputs)
      if (needed[size_t(out)])
        return true;
    return false;
  }

  /// Appends a copy of `n` to function `fn`; results get `suffix` and, when `batched`, a batch
  /// dimension of options_.batch.
  void copyNode(const Node &n, int fn, const std::string &suffix,
                std::map<TensorId, TensorId> &copies, bool batched) {
    Node copy = n;
    copy.fn = fn;
    copy.attrs.erase("inplace");
    for (TensorId &in : copy.inputs) {
      if (in == kNoTensor || g_.tensor(in).isConstant())
        continue;
      auto it = copies.find(in);
      if (it == copies.end())
        unsupported("cannot train from '{}': node '{}' also reads '{}', which is computed "
                    "before the cut",
                    g_.tensor(cut_).name, n.name, g_.tensor(in).name);
      in = it->second;
    }
    if (batched)
      batchAttrs(copy);
    std::vector<Shape> shapes = opInfo(copy.op).inferShapes(g_, copy);
    copy.outputs.clear();
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const Tensor &original = g_.tensor(n.outputs[i]);
      if (batched && shapes[i] != batchShape(original))
        unsupported("cannot train from '{}': node '{}' ({}) does not keep the batch dimension",
                    g_.tensor(cut_).name, n.name, opName(n.op));
      TensorId t = g_.addValue(original.name + suffix, shapes[i]);
      copies[n.outputs[i]] = t;
      copy.outputs.push_back(t);
    }
    g_.addNode(std::move(copy));
  }

  Shape batchShape(const Tensor &t) const {
    if (t.shape.empty() || t.shape[0] != 1)
      unsupported("cannot train from '{}': tensor '{}' {} has no batch dimension of 1",
                  g_.tensor(cut_).name, t.name, formatShape(t.shape));
    Shape s = t.shape;
    s[0] = options_.batch;
    return s;
  }

  /// Attributes that spell out the batch dimension.
  void batchAttrs(Node &n) const {
    auto axisIsBatch = [&](const char *key) { return n.attrs.getInt(key, -1) == 0; };
    bool bad = false;
    switch (n.op) {
    case OpKind::View: {
      std::vector<int64_t> shape = n.attrs.getInts("shape");
      bad = shape.empty() || shape[0] != 1;
      if (!bad)
        shape[0] = options_.batch;
      n.attrs.set("shape", shape);
      break;
    }
    case OpKind::Slice: {
      std::vector<int64_t> sizes = n.attrs.getInts("sizes");
      bad = n.attrs.getInts("starts")[0] != 0 || n.attrs.getInts("steps")[0] != 1;
      sizes[0] = options_.batch;
      n.attrs.set("sizes", sizes);
      break;
    }
    case OpKind::Transpose: bad = n.attrs.getInts("perm")[0] != 0; break;
    case OpKind::Concat: case OpKind::Split: case OpKind::Gather: case OpKind::Softmax:
      bad = axisIsBatch("axis");
      break;
    case OpKind::ReduceMean: bad = !n.attrs.getInts("axes").empty() && n.attrs.getInts("axes")[0] == 0; break;
    case OpKind::Pad: {
      const auto &pads = n.attrs.getInts("pads");
      bad = pads[0] != 0 || pads[pads.size() / 2] != 0;
      break;
    }
    default: break;
    }
    if (bad)
      unsupported("cannot train from '{}': node '{}' ({}) mixes samples of a batch",
                  g_.tensor(cut_).name, n.name, opName(n.op));
  }

  // Train --------------------------------------------------------------------------------------
  void buildTrain() {
    trainFn_ = int(g_.functions.size()) + 1;
    TensorId latent = g_.addValue(g_.tensor(cut_).name + "@train", batchShape(g_.tensor(cut_)));
    g_.tensor(latent).attrs.set("filled_by", std::string("prefix"));
    Tensor labels;
    labels.name = g_.uniqueTensorName("labels");
    labels.kind = TensorKind::Input;
    labels.dtype = DType::I32;
    labels.shape = {options_.batch};
    TensorId labelsId = g_.addTensor(labels);
    g_.functions.push_back({"train", {latent, labelsId}, {}});

    std::map<TensorId, TensorId> copies{{cut_, latent}};
    std::vector<NodeId> tail = tailNodes(g_, cut_);
    TensorId logits = logitsOf(tail);
    for (NodeId id : tail) {
      const Node &n = g_.nodes[size_t(id)];
      if (n.op == OpKind::Softmax && n.outputs[0] == g_.outputs[0])
        continue; // fused into the loss
      copyNode(n, trainFn_, "@train", copies, true);
      keepSparseInput(NodeId(g_.nodes.size() - 1));
    }
    size_t forwardEnd = g_.nodes.size();
    markNeedsGrad(forwardEnd);
    TensorId z = copies.at(logits);
    const Shape zs = g_.tensor(z).shape;
    TensorId z2 = viewAs(z, {zs[0], numElements(zs) / zs[0]});
    Node loss = makeNode(OpKind::SoftmaxCrossEntropy, {z2, labelsId}, {}, "loss");
    TensorId dz = g_.addValue("logits@grad", g_.tensor(z2).shape);
    TensorId value = g_.addValue("loss", {});
    g_.tensor(dz).attrs.set("role", std::string("gradient"));
    loss.outputs = {dz, value};
    g_.addNode(std::move(loss));
    g_.functions.back().outputs = {value};
    g_.attrs.set("train.loss", std::string("loss"));
    grads_[z] = viewAs(dz, zs);
    backward(forwardEnd);
  }

  /// A sparse update's weight gradient reads only x[:, I]: gather those channels in the forward
  /// part, right after the layer, so the full x can die early (seed 003 eq. 8).
  void keepSparseInput(NodeId layerId) {
    const Node &layer = g_.nodes[size_t(layerId)];
    if (!layer.attrs.has("sparse.in_channels") || !isTrainable(layer.input(1)))
      return;
    const std::vector<int64_t> &in = layer.attrs.getInts("sparse.in_channels");
    TensorId x = layer.inputs[0], y = layer.outputs[0];
    if (int64_t(in.size()) == g_.tensor(x).shape[1])
      return; // every channel is kept: x itself
    std::string weight = g_.tensor(layer.inputs[1]).name;
    AttrMap attrs;
    attrs.set("channels", in);
    if (layer.attrs.has("sparse.dynamic_in")) // a velocity layer's one set (depthwise)
      attrs.set("sparse.dynamic", layer.attrs.getInt("sparse.dynamic"));
    Node gather = makeNode(OpKind::ChannelGather, {x}, attrs, g_.tensor(x).name);
    Shape kept = g_.tensor(x).shape;
    kept[1] = int64_t(in.size());
    TensorId out = g_.addValue(stripSuffix(g_.tensor(x).name) + "@kept", kept);
    g_.tensor(out).attrs.set("kept_for", weight);
    gather.outputs = {out};
    g_.addNode(std::move(gather));
    kept_[y] = out;
    keptChannels_[{x, channelSetKey(attrs, in)}] = out;
  }

  /// The model's output, or the input of a final Softmax (the loss applies its own).
  TensorId logitsOf(const std::vector<NodeId> &tail) const {
    for (NodeId id : tail) {
      const Node &n = g_.nodes[size_t(id)];
      if (n.op == OpKind::Softmax && n.outputs[0] == g_.outputs[0])
        return n.inputs[0];
    }
    return g_.outputs[0];
  }

  TensorId viewAs(TensorId t, const Shape &shape) {
    if (g_.tensor(t).shape == shape)
      return t;
    AttrMap attrs;
    attrs.set("shape", std::vector<int64_t>(shape));
    Node n = makeNode(OpKind::View, {t}, attrs, g_.tensor(t).name);
    TensorId out = g_.addValue(stripSuffix(g_.tensor(t).name) + "@view", shape);
    n.outputs = {out};
    g_.addNode(std::move(n));
    return out;
  }

  void markNeedsGrad(size_t forwardEnd) {
    for (size_t i = 0; i < forwardEnd; ++i) {
      const Node &n = g_.nodes[i];
      if (n.dead || n.fn != trainFn_)
        continue;
      bool any = false;
      for (TensorId in : n.inputs)
        any = any || (in != kNoTensor && (isTrainable(in) || needsGrad(in)));
      for (TensorId out : n.outputs)
        needsGrad_[out] = any;
    }
  }

  void backward(size_t forwardEnd) {
    for (size_t i = forwardEnd; i-- > 0;) {
      if (g_.nodes[i].dead || g_.nodes[i].fn != trainFn_)
        continue;
      Node n = g_.nodes[i]; // a copy: rules append nodes, which may move the list
      bool hasGrad = false;
      for (TensorId out : n.outputs)
        hasGrad = hasGrad || gradOf(out) != kNoTensor;
      if (!hasGrad)
        continue;
      GradRule rule = opInfo(n.op).gradient;
      if (!rule)
        notDifferentiable(n, "the op has no gradient rule");
      rule(*this, n);
    }
    dropUnreadScatters();
  }

  /// A sparse layer's scattered input gradient that a compact UnaryGrad bypassed (see
  /// grads::unary) has no reader left: drop it rather than fill a full-size buffer.
  void dropUnreadScatters() {
    for (size_t i = g_.nodes.size(); i-- > 0;) {
      Node &n = g_.nodes[i];
      if (n.dead || n.fn != trainFn_ || n.op != OpKind::ChannelScatter)
        continue;
      if (g_.users(n.outputs[0]).empty())
        n.dead = true;
    }
  }

  Graph &g_;
  const TrainOptions &options_;
  TensorId cut_ = kNoTensor;
  int trainFn_ = 0;
  std::map<TensorId, TensorId> grads_, velocities_;
  std::map<TensorId, TensorId> kept_; ///< layer output -> the input channels kept for it
  std::map<std::pair<TensorId, std::vector<int64_t>>, TensorId> keptChannels_;
  std::map<TensorId, bool> needsGrad_;
};

class AutodiffPass : public Pass {
public:
  const char *name() const override { return "autodiff"; }

  PassResult run(Graph &g, PassContext &context) override {
    if (!g.attrs.has("train.cut"))
      return PassResult::Unchanged;
    Autodiff(g, context.train).build();
    return PassResult::Changed;
  }
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

} // namespace odlc
