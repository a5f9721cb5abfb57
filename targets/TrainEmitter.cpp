#include "targets/TrainEmitter.h"

#include "Diagnostics.h"
#include "targets/RuntimeSources.h"
#include "targets/StaticMemory.h"
#include "targets/TextEscape.h"

#include <fmt/format.h>

#include <cctype>

namespace odlc {

namespace {

bool trains(const Graph &g) { return g.findFunction("train") > 0; }

struct TrainFacts {
  int64_t batch, replayPerBatch, latentSize, classes, capacity, bits, epochs, classWeighted;
  int64_t inputSize, trainableParams, learnCache;
  bool replayInFlash;
  TensorId latent;
};

TrainFacts factsOf(const Graph &g) {
  TrainFacts f{};
  const Function &train = g.functions[size_t(g.findFunction("train") - 1)];
  f.latent = train.inputs[0];
  f.batch = g.attrs.getInt("train.batch");
  f.replayPerBatch = g.attrs.getInt("train.replay_per_batch");
  f.latentSize = g.tensor(f.latent).elements() / f.batch;
  const Shape &out = g.tensor(g.outputs[0]).shape;
  f.classes = out.empty() ? 1 : out.back();
  f.capacity = g.attrs.getInt("train.replay_samples");
  f.bits = g.attrs.getInt("train.replay_bits");
  f.epochs = g.attrs.getInt("train.epochs");
  f.classWeighted = g.attrs.getInt("train.class_weighted");
  f.learnCache = g.attrs.getInt("train.learn_cache", 0);
  f.replayInFlash = g.attrs.getString("train.replay_in", "ram") == "flash";
  for (TensorId in : g.inputs)
    f.inputSize += g.tensor(in).elements();
  for (const Tensor &t : g.tensors)
    if (isTrainable(t))
      f.trainableParams += t.elements();
  return f;
}

std::string ramArrays(const Graph &g, const Symbols &s) {
  std::string text = "/* Trainable weights (copied from flash by init) and optimizer state. */\n";
  for (const auto &[id, symbol] : s.ram())
    text += fmt::format("static float {}[{}]; /* \"{}\" */\n", symbol, g.tensor(id).elements(),
                        cCommentText(g.tensor(id).name));
  return text + "\n";
}

std::string initStatements(const Symbols &s, const std::string &n) {
  std::string text;
  for (const auto &[id, symbol] : s.ram()) {
    auto flash = s.weights().find(id);
    if (flash != s.weights().end())
      text += fmt::format("  memcpy({0}, {1}, sizeof {0});\n", symbol, flash->second);
    else
      text += fmt::format("  memset({0}, 0, sizeof {0});\n", symbol);
  }
  return text + fmt::format("  odlc_replay_reset(&{0}_replay, 0x6f646c63u);\n"
                            "  {0}_loss_value = 0.0f;\n",
                            n);
}

/// Where stored latents live: a RAM array, or the flash area odlc_memory.ld reserves (written
/// only through NAME_FLASH_WRITE, which a real part maps to its flash driver).
std::string replayStorage(const TrainFacts &f, const std::string &n, int64_t values) {
  const char *type = f.bits == 8 ? "uint8_t" : "float";
  if (!f.replayInFlash)
    return fmt::format("static {} {}_replay_data[{}];\n", type, n, values);
  std::string N = upperCase(n);
  std::string text = fmt::format(
      "/* In flash: the last bytes of the flash region, reserved by odlc_memory.ld (link it). */\n"
      "extern {0} {1}_replay_flash[];\n"
      "#ifndef {2}_FLASH_WRITE\n"
      "/* Under QEMU, and on parts whose flash the core can write like RAM, a plain copy; on a\n"
      " * real MCU define {2}_FLASH_WRITE(dst, src, bytes) as your flash driver's program call. */\n"
      "static void {1}_flash_write(void *dst, const void *src, size_t bytes) {{\n"
      "  memcpy(dst, src, bytes);\n}}\n#define {2}_FLASH_WRITE {1}_flash_write\n#endif\n",
      type, n, N);
  if (f.bits == 8)
    text += fmt::format("static uint8_t {}_replay_stage[{}];\n", n, f.latentSize);
  return text;
}

std::string replayState(const TrainFacts &f, const std::string &n) {
  int64_t slots = std::max<int64_t>(1, f.capacity), values = slots * f.latentSize;
  std::string text = fmt::format("/* Replay buffer: {} latents of {} floats, stored as {} in {}. */\n",
                                 f.capacity, f.latentSize, f.bits == 8 ? "uint8" : "float",
                                 f.replayInFlash ? "flash" : "RAM");
  text += replayStorage(f, n, values);
  std::string data = n + (f.replayInFlash ? "_replay_flash" : "_replay_data");
  if (f.bits == 8)
    text += fmt::format("static float {0}_replay_scale[{1}];\nstatic float {0}_replay_offset[{1}];\n",
                        n, slots);
  text += fmt::format(
      "static int32_t {0}_replay_labels[{1}];\nstatic int32_t {0}_replay_stored[{2}];\n"
      "static int32_t {0}_replay_seen[{2}];\n",
      n, slots, f.classes);
  text += fmt::format(
      "static odlc_replay {0}_replay = {{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {0}_replay_labels, "
      "{0}_replay_stored, {0}_replay_seen, 0, 1u, {8}, {9}}};\n\n",
      n, f.capacity, f.latentSize, f.classes, f.bits == 8 ? "NULL" : data,
      f.bits == 8 ? data : "NULL", f.bits == 8 ? n + "_replay_scale" : "NULL",
      f.bits == 8 ? n + "_replay_offset" : "NULL",
      f.replayInFlash ? upperCase(n) + "_FLASH_WRITE" : "NULL",
      f.replayInFlash && f.bits == 8 ? n + "_replay_stage" : "NULL");
  text += fmt::format("/* The batch model_learn and model_train_step build. */\n"
                      "static int32_t {0}_batch_labels[{1}];\nstatic float {0}_class_weight[{2}];\n"
                      "static int32_t {0}_class_count[{2}];\nstatic float {0}_loss_value;\n",
                      n, f.batch, f.classes);
  text += fmt::format("/* Latents of up to {} new samples, so model_learn runs the prefix once. */\n"
                      "static float {}_latent_cache[{}];\n\n",
                      f.learnCache, n, std::max<int64_t>(1, f.learnCache * f.latentSize));
  return text;
}

/// --channel-policy velocity: each layer's selection (starting from the compile-time choice,
/// restored by init) and signature state, and the odlc_velocity the learner drives.
std::string velocityState(const Graph &g, const TrainFacts &f) {
  std::vector<const Node *> layers = velocityLayers(g);
  if (layers.empty())
    return "";
  int64_t probes = g.attrs.getInt("train.velocity_probes");
  std::string text = fmt::format(
      "/* Velocity-based channel selection (NEq): each layer's trained output channels, re-chosen\n"
      " * every epoch of model_learn from {} probe samples. */\n", probes);
  std::string table;
  for (size_t k = 0; k < layers.size(); ++k) {
    const Node &n = *layers[k];
    const std::vector<int64_t> &out = n.attrs.getInts("sparse.out_channels");
    const Shape &y = g.tensor(n.outputs[0]).shape;
    int64_t channels = y[1], plane = g.tensor(n.outputs[0]).elements() / (y[0] * y[1]);
    std::string values;
    for (int64_t c : out)
      values += (values.empty() ? "" : ", ") + std::to_string(c);
    text += fmt::format(
        "static const int32_t velocity{0}_initial[{1}] = {{{2}}};\n"
        "static int32_t velocity{0}_out[{1}] = {{{2}}};\n"
        "static float velocity{0}_signature[{3}], velocity{0}_previous[{3}];\n"
        "static float velocity{0}_phi[{4}], velocity{0}_velocity[{4}];\n",
        k, out.size(), values, probes * channels, channels);
    table += fmt::format("  {{{1}, {2}, {3}, velocity{0}_out, velocity{0}_signature, "
                         "velocity{0}_previous, velocity{0}_phi, velocity{0}_velocity, 0}},\n",
                         k, channels, out.size(), plane);
  }
  return text + fmt::format("static odlc_velocity_layer velocity_layers[{}] = {{\n{}}};\n"
                            "static int32_t velocity_probe_rows[{}];\n"
                            "static odlc_velocity velocity_state = {{{}, {}, velocity_layers, "
                            "velocity_probe_rows, 0, 0, 0.5f}};\n\n",
                            layers.size(), table, f.batch, layers.size(), probes);
}

/// init restores the compile-time selection.
std::string velocityInit(const Graph &g) {
  std::string text;
  for (size_t k = 0; k < velocityLayers(g).size(); ++k)
    text += fmt::format("  memcpy(velocity{0}_out, velocity{0}_initial, sizeof velocity{0}_out);\n"
                        "  velocity_layers[{0}].cursor = 0;\n",
                        k);
  return text;
}

std::string learner(const Graph &g, const Symbols &s, const TrainFacts &f, const std::string &n) {
  return fmt::format(
      "static const odlc_learner {0}_learner = {{{1}, {2}, {3}, {4}, {5}, {6}, {0}_prefix, "
      "{0}_train_batch, {7}, {0}_batch_labels, {0}_class_weight, {0}_class_count, "
      "&{0}_replay, {0}_latent_cache, {8}, {9}}};\n\n",
      n, f.batch, f.replayPerBatch, f.inputSize, f.latentSize, f.classes, f.classWeighted,
      s.ref(f.latent), f.learnCache, velocityLayers(g).empty() ? "NULL" : "&velocity_state");
}

/// Copies between the trainable RAM weights and one flat array, in memory_plan.json order.
std::string checkpoint(const Graph &g, const Symbols &s, const std::string &n) {
  std::string save, load;
  int64_t offset = 0;
  for (const auto &[id, symbol] : s.ram()) {
    if (!isTrainable(g.tensor(id)))
      continue;
    save += fmt::format("  memcpy(out + {}, {}, sizeof {});\n", offset, symbol, symbol);
    load += fmt::format("  memcpy({}, in + {}, sizeof {});\n", symbol, offset, symbol);
    offset += g.tensor(id).elements();
  }
  return fmt::format("int {0}_checkpoint(float *out) {{\n  if (out == NULL)\n    return -1;\n{1}"
                     "  return 0;\n}}\n\n"
                     "int {0}_restore(const float *in) {{\n  if (in == NULL)\n    return -1;\n"
                     "  if (!odlc_all_finite_f32(in, {3}))\n    return -4;\n{2}  return 0;\n}}\n\n",
                     n, save, load, offset);
}

std::string api(const TrainFacts &f, const std::string &n) {
  return fmt::format(
      "int {0}_train_step(const float *inputs, const int32_t *labels, int n) {{\n"
      "  return odlc_train_step(&{0}_learner, inputs, labels, n, &{0}_loss_value);\n}}\n\n"
      "int {0}_learn(const float *inputs, const int32_t *labels, int n, int epochs) {{\n"
      "  return odlc_learn(&{0}_learner, inputs, labels, n, epochs == 0 ? {1} : epochs,\n"
      "                    &{0}_loss_value);\n}}\n\n"
      "int {0}_remember(const float *inputs, const int32_t *labels, int n) {{\n"
      "  return odlc_remember(&{0}_learner, inputs, labels, n);\n}}\n\n"
      "int {0}_replay_count(void) {{ return (int){0}_replay.count; }}\n\n"
      "float {0}_last_loss(void) {{ return {0}_loss_value; }}\n",
      n, f.epochs);
}

} // namespace

TrainCode emitTrainCode(const Graph &g, const Symbols &s, const EmitOptions &o,
                        std::set<std::string> &runtimeFiles) {
  TrainCode code;
  if (!trains(g))
    return code;
  const std::string &n = o.name;
  TrainFacts f = factsOf(g);
  FunctionCode prefix = emitFunctionBody(g, s, g.findFunction("prefix"), runtimeFiles);
  FunctionCode train = emitFunctionBody(g, s, g.findFunction("train"), runtimeFiles);
  for (const std::string &file : runtimeFileNames())
    if (file.rfind("odlc_train", 0) == 0 || file.rfind("odlc_learn", 0) == 0)
      runtimeFiles.insert(file);
  code.includes = "#include \"odlc_learn.h\"\n#include \"odlc_train.h\"\n";
  code.state = ramArrays(g, s) + replayState(f, n) + velocityState(g, f);
  code.declarations = prefix.declarations + train.declarations;
  code.init = initStatements(s, n) + velocityInit(g);
  code.functions =
      fmt::format("\n/* The frozen layers up to the cut: one sample to its latent. */\n"
                  "static void {0}_prefix(const float *input, float *output) {{\n{1}}}\n\n"
                  "/* One SGD step of the tail on the latent batch in the arena; rows n.. are\n"
                  " * ignored. Returns the loss. */\n"
                  "static float {0}_train_batch(const int32_t *labels, int32_t n,\n"
                  "                             const float *class_weight) {{\n"
                  "  float loss = 0.0f;\n  float *output = &loss;\n{2}  return loss;\n}}\n\n",
                  n, prefix.body, train.body);
  code.functions += learner(g, s, f, n) + checkpoint(g, s, n) + api(f, n);
  return code;
}

std::string trainHeader(const Graph &g, const EmitOptions &o) {
  if (!trains(g))
    return "";
  TrainFacts f = factsOf(g);
  std::string N = upperCase(o.name), n = o.name;
  std::string text = fmt::format(
      "/* On-device learning (latent replay from \"{1}\").\n"
      " * Return codes: 0, or -1 NULL pointer, -2 n (or epochs) out of range, -3 label out\n"
      " * of range, -4 NaN or infinite input; on an error nothing changes. */\n"
      "#define {0}_BATCH {2}\n#define {0}_LATENT_SIZE {3}\n#define {0}_REPLAY_CAPACITY {4}\n"
      "#define {0}_TRAINABLE_PARAMS {5}\n\n",
      N, cCommentText(g.attrs.getString("train.cut")), f.batch, f.latentSize, f.capacity, f.trainableParams);
  text += fmt::format(
      "/* One plain SGD step on n samples (1 <= n <= {0}_BATCH): mean softmax cross-entropy,\n"
      " * gradients for the trainable tail only, w -= lr * grad. No replay. */\n"
      "int {1}_train_step(const float *inputs, const int32_t *labels, int n);\n\n"
      "/* One continual-learning experience on n new samples: `epochs` passes (0: the compiled\n"
      " * default, {2}) of shuffled minibatches mixing new samples and replayed latents, then\n"
      " * the replay buffer takes the new samples (class-balanced reservoir). */\n"
      "int {1}_learn(const float *inputs, const int32_t *labels, int n, int epochs);\n\n"
      "/* Copies the {0}_TRAINABLE_PARAMS trained weights out of / into the model (the order of\n"
      " * train.trainable in memory_plan.json), e.g. to keep what was learned across resets. */\n"
      "int {1}_checkpoint(float *out);\nint {1}_restore(const float *in);\n\n"
      "/* Offers n samples to the replay buffer without training. */\n"
      "int {1}_remember(const float *inputs, const int32_t *labels, int n);\n\n"
      "/* Latents in the replay buffer, and the loss of the last training step. */\n"
      "int {1}_replay_count(void);\nfloat {1}_last_loss(void);\n\n",
      N, n, f.epochs);
  return text;
}

} // namespace odlc
