#include "driver/Compile.h"

#include "driver/BudgetAdvice.h"

#include "Diagnostics.h"
#include "PassManager.h"
#include "SparseChannels.h"
#include "targets/CEmitter.h"
#include "targets/TargetInfo.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>

namespace odlc {

namespace fs = std::filesystem;

namespace {

/// The runtime's functions start with odlc_ and its macros with ODLC_ (and C reserves names
/// starting with _): a model named like that would clash with them.
bool isReservedPrefix(const std::string &name) {
  std::string upper = upperCase(name);
  return name[0] == '_' || upper == "ODLC" || upper.rfind("ODLC_", 0) == 0;
}

bool isCIdentifier(const std::string &name) {
  static const std::set<std::string> keywords = {
      "auto",     "break",  "case",    "char",   "const",    "continue", "default",  "do",
      "double",   "else",   "enum",    "extern", "float",    "for",      "goto",     "if",
      "inline",   "int",    "long",    "register", "restrict", "return", "short",    "signed",
      "sizeof",   "static", "struct",  "switch", "typedef",  "union",    "unsigned", "void",
      "volatile", "while",  "_Bool",   "_Complex", "_Imaginary"};
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return !keywords.count(name);
}

const char *kMarker = ".odlc-output";

void validateSparseOptions(const TrainOptions &t) {
  ChannelPolicy policy;
  if (!channelPolicyFromName(t.channelPolicy, policy))
    fail("--channel-policy '{}' is not a policy; use first, magnitude, random or velocity",
         t.channelPolicy);
  if (policy == ChannelPolicy::Velocity && (t.sparse == "none" || t.sparse == "bias"))
    fail("--channel-policy velocity re-selects the channels of a sparse update; use it with "
         "--sparse P or --sparse auto");
  if (t.sparse == "none" || t.sparse == "bias" || t.sparse == "auto")
    return;
  if (!sparseFraction(t.sparse))
    fail("--sparse '{}' is not none, auto, bias or a fraction P in (0, 1]", t.sparse);
}

void validateTrainOptions(const TrainOptions &t) {
  if (t.batch < 1 || t.batch > 4096)
    fail("--batch {} is out of range; use 1 to 4096", t.batch);
  if (!(t.lr > 0) || t.lr > 1e6)
    fail("--lr {} must be a positive number", t.lr);
  if (!(t.momentum >= 0 && t.momentum < 1))
    fail("--momentum {} must be in [0, 1)", t.momentum);
  if (t.replaySamples < 0 || t.replaySamples > 1000000)
    fail("--replay-samples {} is out of range; use 0 to 1000000", t.replaySamples);
  if (t.replayBits != 32 && t.replayBits != 8)
    fail("--replay-bits {} is not supported; use 32 (float) or 8 (uint8)", t.replayBits);
  if (t.epochs < 1 || t.epochs > 100000)
    fail("--epochs {} is out of range; use 1 to 100000", t.epochs);
  if (t.replayIn != "ram" && t.replayIn != "flash")
    fail("--replay-in '{}' is not a memory; use ram or flash", t.replayIn);
  if (t.learnCache < 0 || t.learnCache > 1000000)
    fail("--learn-cache {} is out of range; use 0 to 1000000", t.learnCache);
  if (t.replayPerBatch < 0 || t.replayPerBatch >= t.batch)
    fail("--replay-per-batch {} must be smaller than --batch {}", t.replayPerBatch, t.batch);
  validateSparseOptions(t);
}

} // namespace

PassContext passContextFor(const CompileOptions &o) {
  PassContext context;
  context.target = findTarget(o.target);
  context.ramBudget = o.ramBudget;
  context.flashBudget = o.flashBudget;
  context.train = o.train;
  return context;
}

TrialPlan tryPlan(const Graph &pristine, const CompileOptions &o) {
  Graph g = pristine;
  PassContext context = passContextFor(o);
  try {
    runPipeline(g, context, {});
  } catch (const Error &) {
    return {false, context.ramNeeded > 0 ? context.ramNeeded : -1, context.largestConsumers};
  }
  PlanSummary plan = summarizePlan(g, *context.target, o.ramBudget, o.flashBudget);
  return {fitsFlash(plan), g.attrs.getInt("arena_bytes", 0) + g.attrs.getInt("static_ram_bytes", 0),
          ""};
}

void validateOptions(const CompileOptions &o) {
  if (!findTarget(o.target))
    fail("unknown target '{}'; targets: {} (see `odlc targets`)", o.target, targetNames());
  if (!isCIdentifier(o.name) || isReservedPrefix(o.name))
    fail("--name '{}' is not usable as a C prefix: use letters, digits and _ , not starting with "
         "a digit, '_' or 'odlc_', not 'odlc' (in any case), and not a C keyword",
         o.name);
  const TargetInfo &target = *findTarget(o.target);
  if (!target.isHost && o.ramBudget > target.ramBytes())
    fail("--ram {} is more than the {} bytes of RAM target {} has; use at most --ram {} (see "
         "`odlc targets`)",
         o.ramBudget, target.ramBytes(), target.name, target.ramBytes());
  if (!target.isHost && o.flashBudget > target.flashBytes())
    fail("--flash {} is more than the {} bytes of flash target {} has; use at most --flash {} "
         "(see `odlc targets`)",
         o.flashBudget, target.flashBytes(), target.name, target.flashBytes());
  std::vector<std::string> names = passNames();
  auto checkPass = [&](const std::string &pass, const char *flag) {
    if (pass == "all" || std::find(names.begin(), names.end(), pass) != names.end())
      return;
    std::string list;
    for (const std::string &n : names)
      list += (list.empty() ? "" : ", ") + n;
    fail("{} names unknown pass '{}'; passes: {}", flag, pass, list);
  };
  for (const std::string &pass : o.printAfter)
    checkPass(pass, "--print-ir-after");
  validateTrainOptions(o.train);
  if (o.train.replayIn == "flash" && findTarget(o.target)->isHost)
    fail("--replay-in flash needs a target with flash; the host has none (use --replay-in ram)");
  if (!o.stopAfter.empty())
    checkPass(o.stopAfter, "--stop-after");
}

CompileResult compileGraph(Graph &graph, const CompileOptions &o) {
  validateOptions(o);
  Graph pristine = graph; // to try what would fit if the plan does not
  const TargetInfo &target = *findTarget(o.target);
  PassContext context = passContextFor(o);
  // Each cut's largest buffers in the last plan replay-cut asked for: when no cut fits, the
  // error names those of the smallest plan.
  std::map<std::string, std::string> largestOfCut;
  context.ramForCut = [&](const std::string &cut, const std::string &sparse,
                          const std::vector<double> &densities) -> int64_t {
    CompileOptions alt = o;
    alt.train.trainFrom = cut;
    alt.train.sparse = sparse;
    alt.train.layerDensities = densities;
    alt.printAfter.clear();
    alt.stopAfter.clear();
    TrialPlan trial = tryPlan(pristine, alt);
    largestOfCut[cut] = trial.largest;
    return trial.ramBytes;
  };
  CompileResult result;
  PassManagerOptions pm;
  pm.printAfter = o.printAfter;
  pm.stopAfter = o.stopAfter;
  pm.print = [&](const std::string &text) { result.printedIr += text; };
  try {
    runPipeline(graph, context, pm);
  } catch (const Error &e) {
    if (context.ramNeeded <= 0)
      throw;
    if (context.largestConsumers.empty() && !context.ramNeededCut.empty())
      context.largestConsumers = largestOfCut[context.ramNeededCut];
    throw Error(ErrorKind::User, e.what() + budgetAdvice(pristine, o, context));
  }
  if (!o.stopAfter.empty() && o.stopAfter != passNames().back())
    return result;
  EmitOptions emit;
  emit.name = o.name;
  emit.source = fs::path(o.model).filename().string();
  emit.target = &target;
  result.files = emitC(graph, emit);
  result.plan = summarizePlan(graph, target, o.ramBudget, o.flashBudget);
  if (!fitsFlash(result.plan))
    fail("the weights{} need {} bytes but the flash budget is {} bytes{}",
         result.plan.replayFlashBytes ? " and the flash-resident replay buffer" : "",
         flashNeeded(result.plan), result.plan.flashBudget,
         flashAdvice(pristine, o, result.plan));
  writePlanReport(result.files, result.plan);
  std::string script = linkerBudgetScript(target, result.plan.ramBudget, result.plan.flashBudget,
                                          o.name + "_replay_flash", result.plan.replayFlashBytes);
  if (!script.empty())
    result.files["odlc_memory.ld"] = script;
  return result;
}

CompileResult compileModel(const CompileOptions &o) {
  validateOptions(o);
  Graph graph = importOnnxFile(o.model, o.import);
  return compileGraph(graph, o);
}

std::vector<CutInfo> listCuts(Graph graph, int64_t batch) {
  PassContext context;
  context.target = findTarget("host");
  for (const std::string &name : passNames()) {
    if (name == "replay-cut")
      break;
    runPass(*createPass(name), graph, context);
  }
  return findCuts(graph, batch);
}

void writeOutputDir(const FileSet &files, const std::string &outDir) {
  std::error_code ec;
  fs::path out = fs::path(outDir).lexically_normal();
  if (out.filename().empty())
    out = out.parent_path();
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec))
      fail("output '{}' exists and is not a directory", outDir);
    if (!fs::is_empty(out, ec) && !fs::exists(out / kMarker, ec))
      fail("output directory '{}' is not empty and was not made by odlc; choose another "
           "directory or empty it",
           outDir);
  }
  fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec)
    fail("cannot create output directory '{}': {}", parent.string(), ec.message());
  fs::path tmp = parent / (out.filename().string() + ".odlc-tmp-" + std::to_string(getpid()));
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec)
    fail("cannot create output directory '{}': {}", outDir,
         ec ? ec.message() : std::string("it already exists"));
  auto writeFile = [&](const fs::path &path, const std::string &text) {
    std::ofstream file(path, std::ios::binary);
    file << text;
    file.close();
    if (!file) {
      fs::remove_all(tmp, ec);
      fail("cannot write '{}'", path.string());
    }
  };
  for (const auto &[name, text] : files)
    writeFile(tmp / name, text);
  writeFile(tmp / kMarker, "This directory was generated by odlc and is replaced on rebuild.\n");
  fs::path old = parent / (out.filename().string() + ".odlc-old-" + std::to_string(getpid()));
  bool hadOld = fs::exists(out, ec);
  if (hadOld)
    fs::rename(out, old, ec);
  if (!ec)
    fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    fail("cannot replace output directory '{}': {}", outDir, ec.message());
  }
  if (hadOld)
    fs::remove_all(old, ec);
}

int64_t parseSize(const std::string &text, const std::string &flag, const std::string &leftOut) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  std::string unit = text.substr(digits);
  for (char &c : unit)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  int64_t scale = unit.empty()                                       ? 1
                  : unit == "K" || unit == "KB" || unit == "KIB"     ? 1024
                  : unit == "M" || unit == "MB" || unit == "MIB"     ? 1024 * 1024
                  : unit == "G" || unit == "GB" || unit == "GIB"     ? 1024 * 1024 * 1024
                                                                     : 0;
  if (digits == 0 || digits > 12 || scale == 0)
    fail("{} '{}' is not a size; use bytes or K/KiB/M/MiB, e.g. 262144, 256K, 256KiB, 1M", flag,
         text);
  int64_t size = std::stoll(text.substr(0, digits)) * scale;
  if (size == 0)  // 0 would read as "no budget" further on
    fail("{} 0 leaves no room; give a positive size, or leave {} out {}", flag, flag, leftOut);
  return size;
}

std::pair<std::string, Shape> parseInputShape(const std::string &text) {
  size_t eq = text.rfind('=');
  std::string name = eq == std::string::npos ? "" : text.substr(0, eq);
  std::string dims = eq == std::string::npos ? text : text.substr(eq + 1);
  Shape shape;
  size_t pos = 0;
  while (pos <= dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos
                                                                    : comma - pos);
    bool ok = !item.empty() && item.size() < 10 &&
              std::all_of(item.begin(), item.end(), [](char c) { return std::isdigit(c); });
    if (!ok || std::stoll(item) <= 0)
      fail("--input-shape '{}' is not NAME=D0,D1,... with positive dimensions", text);
    shape.push_back(std::stoll(item));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return {name, shape};
}

} // namespace odlc
