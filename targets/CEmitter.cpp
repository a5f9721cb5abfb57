#include "targets/CEmitter.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"
#include "targets/CSymbols.h"
#include "targets/KernelCalls.h"
#include "targets/RuntimeSources.h"
#include "targets/TargetInfo.h"
#include "targets/TextEscape.h"
#include "targets/TrainEmitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace odlc {

namespace {

std::string describe(const Graph &g, const std::vector<TensorId> &ids) {
  std::string text;
  int64_t offset = 0;
  for (TensorId id : ids) {
    const Tensor &t = g.tensor(id);
    text += fmt::format(" *   [{}, {})  \"{}\" {}\n", offset, offset + t.elements(),
                        cCommentText(t.name),
                        formatShape(t.shape));
    offset += t.elements();
  }
  return text;
}

int64_t weightBytes(const Graph &g) {
  int64_t total = 0;
  for (const Tensor &t : g.tensors)
    if (t.isConstant() && !isState(t))
      total += t.bytes();
  return total;
}

std::string emitHeader(const Graph &g, const EmitOptions &o) {
  std::string N = upperCase(o.name), n = o.name;
  const Shape &out0 = g.tensor(g.outputs[0]).shape;
  int64_t classes = out0.empty() ? 1 : out0.back();
  std::string text = banner(o);
  text += fmt::format("#ifndef {0}_H\n#define {0}_H\n\n#include <stdint.h>\n\n", N);
  text += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  text += fmt::format("/* Input: {} floats per sample, NCHW, the model's inputs in order:\n{} */\n",
                      g.totalElements(g.inputs), describe(g, g.inputs));
  text += fmt::format("#define {}_INPUT_SIZE {}\n", N, g.totalElements(g.inputs));
  text += fmt::format("/* Output: {} floats per sample, the model's outputs in order:\n{} */\n",
                      g.totalElements(g.outputs), describe(g, g.outputs));
  text += fmt::format("#define {}_OUTPUT_SIZE {}\n", N, g.totalElements(g.outputs));
  text += fmt::format("#define {}_NUM_CLASSES {}\n", N, classes);
  text += "/* Static memory (memory_plan.json has the full map). */\n";
  text += fmt::format("#define {}_ARENA_BYTES {}\n", N, g.attrs.getInt("arena_bytes"));
  text += fmt::format("#define {}_WEIGHT_BYTES {}\n\n", N, weightBytes(g));
  text += fmt::format("/* Puts the model in its start state: trained weights back to the\n"
                      " * compiled ones, replay buffer empty. Returns 0. */\n"
                      "int {}_init(void);\n\n",
                      n);
  text += fmt::format(
      "/* Runs inference on one sample: input holds {0}_INPUT_SIZE floats, output receives\n"
      " * {0}_OUTPUT_SIZE floats. Returns 0, or -1 when a pointer is NULL. Not reentrant: all\n"
      " * calls share one static arena. */\n"
      "int {1}_infer(const float *input, float *output);\n\n",
      N, n);
  text += trainHeader(g, o);
  text += "#ifdef __cplusplus\n}\n#endif\n\n";
  return text + fmt::format("#endif /* {}_H */\n", N);
}

std::string floatArray(const std::vector<float> &values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    text += i % 8 == 0 ? "\n  " : " ";
    text += cFloat(double(values[i])) + ",";
  }
  return text + "\n";
}

/// Every constant's compiled value, in flash (trainable ones are copied to RAM by init).
void emitWeights(FileSet &files, const Graph &g, const Symbols &s, const EmitOptions &o) {
  std::string guard = upperCase(o.name) + "_WEIGHTS_H";
  std::string h = banner(o) + fmt::format("#ifndef {0}\n#define {0}\n\n", guard);
  std::string c = banner(o) + fmt::format("#include <math.h>\n\n#include \"{}_weights.h\"\n",
                                          o.name);
  for (const auto &[id, symbol] : s.weights()) {
    const Tensor &t = g.tensor(id);
    h += fmt::format("/* \"{}\" {} */\nextern const float {}[{}];\n", cCommentText(t.name),
                     formatShape(t.shape),
                     symbol, std::max<int64_t>(1, t.elements()));
    c += fmt::format("\n/* \"{}\" {} */\nconst float {}[{}] = {{{}}};\n", cCommentText(t.name),
                     formatShape(t.shape), symbol, std::max<int64_t>(1, t.elements()),
                     floatArray(t.floats));
  }
  h += fmt::format("\n#endif /* {} */\n", guard);
  files[o.name + "_weights.h"] = h;
  files[o.name + "_weights.c"] = c;
}

std::string nodeComment(const Graph &g, const Node &n) {
  if (n.outputs.empty())
    return fmt::format("  /* {} ({}) */\n", cCommentText(n.name), opName(n.op));
  const Tensor &out = g.tensor(n.outputs[0]);
  return fmt::format("  /* {} ({}) -> \"{}\" {} */\n", cCommentText(n.name), opName(n.op),
                     cCommentText(out.name),
                     formatShape(out.shape));
}

/// Copies of function outputs that are not computed in place in the caller's array.
std::string outputCopies(const Graph &g, const Symbols &s, int fn) {
  std::string text;
  int64_t offset = 0;
  const std::vector<TensorId> &outs = g.functionOutputs(fn);
  for (size_t k = 0; k < outs.size(); ++k) {
    const Tensor &t = g.tensor(outs[k]);
    if (!s.computedInOutput(outs[k], fn, int(k)))
      text += fmt::format("  memcpy({}, {}, {}u); /* output \"{}\" */\n",
                          offset ? fmt::format("output + {}", offset) : std::string("output"),
                          s.ref(outs[k]), t.bytes(), cCommentText(t.name));
    offset += t.elements();
  }
  return text;
}

} // namespace

/// --channel-policy velocity: the training forward of a dynamic layer records its output for
/// the probe rows (odlc_velocity_observe_f32), from which the runtime re-selects channels.
static std::string velocityObservation(const Graph &g, const Symbols &s, const Node &n, int fn) {
  bool layer = n.op == OpKind::Conv || n.op == OpKind::Gemm;
  if (!layer || !n.attrs.has("sparse.dynamic") || fn != g.findFunction("train"))
    return "";
  return fmt::format("  odlc_velocity_observe_f32(&velocity_state, {}, {}, n);\n",
                     n.attrs.getInt("sparse.dynamic"), s.ref(n.outputs[0]));
}

FunctionCode emitFunctionBody(const Graph &g, const Symbols &s, int fn,
                              std::set<std::string> &runtimeFiles) {
  FunctionCode code;
  int index = 0;
  for (const Node &n : g.nodes) {
    ++index;
    if (n.dead || n.fn != fn)
      continue;
    std::string symbol = fmt::format("L{}_{}", index - 1, cIdentifier(n.name));
    KernelCall call = lowerToKernel(g, n, symbol, [&](TensorId id) { return s.ref(id); });
    if (call.statements.empty())
      continue;
    runtimeFiles.insert(call.runtimeFile);
    for (const std::string &d : call.declarations)
      code.declarations += d + "\n";
    code.body += nodeComment(g, n);
    for (const std::string &stmt : call.statements)
      code.body += "  " + stmt + "\n";
    code.body += velocityObservation(g, s, n, fn);
  }
  code.body += outputCopies(g, s, fn);
  return code;
}

std::string banner(const EmitOptions &o) {
  return fmt::format("/* Generated by odlc {} from {} for target {}. Do not edit. */\n",
                     kOdlcVersion, o.source.empty() ? "a model" : o.source,
                     o.target ? o.target->name : "host");
}

namespace {

std::string emitModel(const Graph &g, const Symbols &s, const EmitOptions &o,
                      std::set<std::string> &runtimeFiles) {
  FunctionCode infer = emitFunctionBody(g, s, 0, runtimeFiles);
  TrainCode train = emitTrainCode(g, s, o, runtimeFiles);
  int64_t fast = g.attrs.getInt("fast_arena_bytes", 0);
  int64_t arena = g.attrs.getInt("arena_bytes") - fast;
  std::string text = banner(o);
  text += fmt::format("#include \"{0}.h\"\n#include \"{0}_weights.h\"\n#include "
                      "\"odlc_runtime.h\"\n{1}\n#include <math.h>\n#include <stddef.h>\n"
                      "#include <string.h>\n\n",
                      o.name, train.includes);
  if (arena > 0)
    text += fmt::format("/* All activations live in this one static arena, at the offsets of\n"
                        " * memory_plan.json. */\nstatic union {{\n  uint64_t align;\n"
                        "  float f[{}];\n}} arena;\n\n",
                        (arena + 3) / 4);
  if (fast > 0)
    text += fmt::format(
        "/* The hottest activations, in the fast memory level ({0}): GCC and Clang put this\n"
        " * arena in section .bss.odlc_{0}; map that section to {0} in your linker script (it\n"
        " * links anywhere in RAM otherwise). */\nstatic union {{\n  uint64_t align;\n"
        "  float f[{1}];\n}} arena_fast\n#if defined(__GNUC__)\n"
        "    __attribute__((section(\".bss.odlc_{0}\")))\n#endif\n    ;\n\n",
        g.attrs.getString("fast_level"), (fast + 3) / 4);
  text += train.state;
  text += "/* Kernel parameters, one set per layer. */\n" + infer.declarations +
          train.declarations + "\n";
  text += fmt::format("int {}_init(void) {{\n{}  return 0;\n}}\n\n", o.name, train.init);
  text += fmt::format("int {}_infer(const float *input, float *output) {{\n", o.name);
  text += "  if (input == NULL || output == NULL)\n    return -1;\n";
  text += infer.body + "  return 0;\n}\n";
  return text + train.functions;
}

} // namespace

std::string upperCase(std::string text) {
  for (char &c : text)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string cIdentifier(const std::string &name) {
  std::string id;
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "t" + id;
  return id;
}

FileSet emitC(const Graph &g, const EmitOptions &o) {
  ODLC_ASSERT(g.attrs.has("arena_bytes"), "emitC() needs a planned graph");
  FileSet files;
  Symbols symbols(g, o.name);
  std::set<std::string> runtimeFiles;
  files[o.name + ".c"] = emitModel(g, symbols, o, runtimeFiles);
  files[o.name + ".h"] = emitHeader(g, o);
  emitWeights(files, g, symbols, o);
  runtimeFiles.insert("odlc_runtime.h");
  for (const std::string &file : runtimeFiles) {
    const std::string *text = runtimeSource(file);
    ODLC_ASSERT(text != nullptr, "runtime file {} is not embedded", file);
    files[file] = *text;
  }
  return files;
}

} // namespace odlc
