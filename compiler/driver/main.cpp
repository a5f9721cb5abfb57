// The odlc command line: compile, targets, plan-buffers. Every error is one line on stderr
// (`odlc: error: ...`) and exit code 1.
#include "Cuts.h"
#include "Diagnostics.h"
#include "PassManager.h"
#include "driver/Compile.h"
#include "driver/Explore.h"
#include "import/OnnxImporter.h"
#include "solvers/BufferPlanner.h"
#include "targets/TargetInfo.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

using namespace odlc;

namespace {

int runTargets() {
  fmt::print("{:<11} {:<44} {}\n", "target", "description", "memories");
  for (const TargetInfo &t : allTargets()) {
    std::string memories;
    for (const MemoryRegion &m : t.memories)
      memories += fmt::format("{}{} {} KiB @ 0x{:08x}{}", memories.empty() ? "" : ", ", m.name,
                              m.size / 1024, m.base, m.fast ? " (fast)" : "");
    fmt::print("{:<11} {:<44} {}\n", t.name, t.description,
               memories.empty() ? "unbounded" : memories);
  }
  return 0;
}

/// Canonicalizes the model (the passes before replay-cut) and lists its latent-replay cuts.
int runCuts(const std::string &model, int64_t batch, bool json,
            const std::vector<std::string> &inputShapes) {
  ImportOptions import;
  for (const std::string &spec : inputShapes) {
    auto [name, shape] = parseInputShape(spec);
    import.inputShapes[name] = shape;
  }
  if (batch < 1 || batch > 4096)
    fail("--batch {} is out of range; use 1 to 4096", batch);
  std::vector<CutInfo> cuts = listCuts(importOnnxFile(model, import), batch);
  if (json) {
    std::string text = "[\n";
    for (size_t i = 0; i < cuts.size(); ++i) {
      const CutInfo &c = cuts[i];
      text += fmt::format(
          "  {{\"name\": {}, \"latent_elements\": {}, \"latent_bytes_fp32\": {}, "
          "\"latent_bytes_uint8\": {}, \"latent_bytes_1bit\": {}, \"trainable_params\": {}, "
          "\"trainable_layers\": {}, \"forward_macs\": {}, \"backward_macs\": {}, "
          "\"training_bytes_eq5\": {}}}{}\n",
          nlohmann::json(c.name).dump(), c.latentElements, 4 * c.latentElements, c.latentElements,
          (c.latentElements + 7) / 8, c.trainableParams, c.trainableLayers, c.forwardMacs,
          c.backwardMacs, c.trainingBytes, i + 1 < cuts.size() ? "," : "");
    }
    fmt::print("{}]\n", text);
    return 0;
  }
  fmt::print("{:>3}  {:<44} {:>9} {:>9} {:>8} {:>10} {:>7} {:>12} {:>12} {:>11}\n", "#", "cut",
             "fp32 B", "uint8 B", "1-bit B", "params", "layers", "fwd MACs", "bwd MACs",
             "eq5 bytes");
  for (size_t i = 0; i < cuts.size(); ++i) {
    const CutInfo &c = cuts[i];
    std::string name = c.name.size() > 44 ? "..." + c.name.substr(c.name.size() - 41) : c.name;
    fmt::print("{:>3}  {:<44} {:>9} {:>9} {:>8} {:>10} {:>7} {:>12} {:>12} {:>11}\n", i, name,
               4 * c.latentElements, c.latentElements, (c.latentElements + 7) / 8,
               c.trainableParams, c.trainableLayers, c.forwardMacs, c.backwardMacs,
               c.trainingBytes);
  }
  fmt::print("per sample; eq5 bytes: seed 003 eq. 5 for a batch of {} (weights + their "
             "gradients + kept activations, fp32)\n",
             batch);
  return 0;
}

int runPlanBuffers(const std::string &in, const std::string &out, const std::string &capacity,
                   int64_t searchNodes) {
  if (searchNodes < 0)
    fail("--search-nodes {} is negative; give 0 for the heuristics alone, or more for a closer "
         "plan",
         searchNodes);
  std::ifstream file(in);
  if (!file)
    fail("cannot open '{}': {}", in, std::strerror(errno));
  std::vector<PlanBuffer> buffers;
  try {
    buffers = readPlanCsv(file);
  } catch (const std::exception &e) {
    fail("'{}': {}", in, e.what());
  }
  PlanOptions options;
  if (!capacity.empty())
    options.capacity = parseSize(capacity, "--capacity", "for no limit");
  options.searchBudget = searchNodes;
  PlanResult result = planBuffers(buffers, options);
  if (!result.ok && result.lowerBound > options.capacity)
    fail("'{}': {} bytes are live at one step, more than --capacity {}; raise the capacity", in,
         result.lowerBound, options.capacity);
  if (!result.ok && !capacity.empty())
    fail("'{}': no plan found within --capacity {} (best arena {} bytes, lower bound {}); raise "
         "the capacity",
         in, options.capacity, result.arenaBytes, result.lowerBound);
  if (!result.ok)  // with no capacity given, only an arena beyond int64 fails
    fail("'{}': more bytes are live at one time than a 64-bit offset can address", in);
  if (std::string problem = verifyPlan(buffers, options.capacity); !problem.empty())
    internalError("plan-buffers produced an invalid plan: " + problem, __FILE__, __LINE__);
  if (!out.empty()) {
    // Written beside OUT and renamed: a failed write leaves no partial file.
    std::string tmp = out + ".odlc-tmp-" + std::to_string(getpid());
    std::ofstream o(tmp);
    writePlanCsv(o, buffers);
    o.close();
    std::error_code ec;
    if (o)
      std::filesystem::rename(tmp, out, ec);
    if (!o || ec) {
      std::filesystem::remove(tmp, ec);
      fail("cannot write '{}'", out);
    }
  }
  std::string quality = "optimal";
  if (result.arenaBytes != result.lowerBound)
    quality = fmt::format("{:.2f} % above the bound, {}",
                          100.0 * double(result.arenaBytes - result.lowerBound) /
                              double(result.lowerBound),
                          result.provedOptimal ? "proved optimal"
                                               : "not proved optimal: more --search-nodes may "
                                                 "lower it");
  fmt::print("arena {} bytes, lower bound {} bytes ({})\n", result.arenaBytes, result.lowerBound,
             quality);
  return 0;
}

/// The flags `compile` and `explore` share, from their text.
void applyShapesAndBudgets(CompileOptions &options, const std::vector<std::string> &inputShapes,
                           const std::string &ram, const std::string &flash) {
  for (const std::string &spec : inputShapes) {
    auto [name, shape] = parseInputShape(spec);
    options.import.inputShapes[name] = shape;
  }
  if (!ram.empty())
    options.ramBudget = parseSize(ram, "--ram");
  if (!flash.empty())
    options.flashBudget = parseSize(flash, "--flash");
}

int runCompile(CompileOptions &options, const std::vector<std::string> &inputShapes,
               const std::string &ram, const std::string &flash) {
  applyShapesAndBudgets(options, inputShapes, ram, flash);
  if (options.outDir.empty() && options.printAfter.empty() && options.stopAfter.empty())
    fail("missing -o OUT: the directory to write the generated C into");
  validateOptions(options);
  CompileResult result = compileModel(options);
  std::cout << result.printedIr;
  if (!options.outDir.empty() && !result.files.empty())
    writeOutputDir(result.files, options.outDir);
  return 0;
}

/// "1,0.75,0.5" -> densities in (0, 1].
std::vector<double> parseDensities(const std::string &text) {
  std::vector<double> densities;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    std::string item = text.substr(start, end == std::string::npos ? end : end - start);
    char *stop = nullptr;
    double p = std::strtod(item.c_str(), &stop);
    if (item.empty() || *stop != '\0' || !(p > 0 && p <= 1))
      fail("--p '{}' is not a list of densities in (0, 1], e.g. 1,0.75,0.5", text);
    densities.push_back(p);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return densities;
}

/// "93.1" (percent) for a measured accuracy, "-" otherwise.
std::string percent(const ExplorePoint &p, double value) {
  return p.measured ? fmt::format("{:.1f}", 100 * value) : "-";
}

int runExplore(ExploreOptions &options, const std::vector<std::string> &inputShapes,
               const std::string &ram, const std::string &flash, const std::string &densities) {
  CompileOptions &base = options.base;
  applyShapesAndBudgets(base, inputShapes, ram, flash);
  options.densities = parseDensities(densities);
  validateExploreOptions(options);
  bool data = !options.data.name.empty();
  if (data)
    checkDataOptions(options.data);
  Graph graph = importOnnxFile(base.model, base.import);
  options.progress = true;
  std::vector<ExplorePoint> points = explore(graph, options);
  std::string head = fmt::format("{:>3} {:<40} {:>5} {:>10} {:>9} {:>10} {:>14}", "#", "cut", "p",
                                 "RAM B", "flash KiB", "params", "instr/sample");
  if (data)
    head += fmt::format(" {:>6} {:>6} {:>6}", "old %", "new %", "all %");
  fmt::print("{}  \n", head);
  for (const ExplorePoint &p : points) {
    std::string name = p.cut.size() > 40 ? "..." + p.cut.substr(p.cut.size() - 37) : p.cut;
    if (!p.trainable) {
      fmt::print("{:>3} {:<40} {:>5g}  cannot train: {}\n", p.cutIndex, name, p.p, p.error);
      continue;
    }
    std::string row = fmt::format("{:>3} {:<40} {:>5g} {:>10} {:>9} {:>10} {:>14.0f}", p.cutIndex,
                                  name, p.p, p.ramBytes, p.flashBytes / 1024, p.trainableParams,
                                  p.instructionsPerSample);
    if (data)
      row += fmt::format(" {:>6} {:>6} {:>6}", percent(p, p.accuracyOld), percent(p, p.accuracyNew),
                         percent(p, p.accuracyAll));
    fmt::print("{}  {}\n", row, p.pareto ? "pareto" : p.fits ? "" : "over budget");
  }
  if (data)
    for (const ExplorePoint &p : points)
      if (p.measured) {
        fmt::print("accuracy: {} test images after learning classes 6-9 from {} samples each "
                   "(two experiences); old classes 0-5 before learning: {:.1f}%\n",
                   options.data.testImages, options.data.newPerClass,
                   100 * p.accuracyOldBefore);
        break;
      }
  writeOutputDir(exploreReport(points, options), options.outDir);
  fmt::print("wrote {}/explore.json and {}/explore.svg\n", options.outDir, options.outDir);
  return 0;
}

/// CLI11 reports parse errors in several lines; odlc's contract is one.
/// Messages may quote names from the model, which can hold line breaks.
std::string oneLine(std::string text) {
  for (char &c : text)
    if (c == '\n' || c == '\r')
      c = ' ';
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"odlc: compiles ONNX models into static C that infers and learns on "
               "microcontrollers"};
  app.set_version_flag("--version", "odlc 0.1.0");
  app.require_subcommand(1);

  CompileOptions options;
  std::vector<std::string> inputShapes;
  std::string ram, flash;
  CLI::App *compile = app.add_subcommand("compile", "compile MODEL.onnx into C sources in OUT");
  compile->add_option("model", options.model, "the ONNX model")->required();
  compile->add_option("-o,--output", options.outDir, "output directory (created or replaced)");
  compile->add_option("--target", options.target, "target (see `odlc targets`)")
      ->capture_default_str();
  compile->add_option("--name", options.name, "prefix of the generated C API")
      ->capture_default_str();
  compile->add_option("--input-shape", inputShapes,
                      "static shape for a dynamic input: NAME=D0,D1,... (repeatable)");
  compile->add_option("--ram", ram, "RAM budget: 262144, 256K, 256KiB, 1M");
  compile->add_option("--flash", flash, "flash budget: 1048576, 1M, 1MiB");
  compile->add_option("--print-ir-after", options.printAfter,
                      "print the IR after this pass (or 'all') to stdout");
  compile->add_option("--stop-after", options.stopAfter, "stop the pipeline after this pass");
  TrainOptions &train = options.train;
  compile->add_option("--train-from", train.trainFrom,
                      "latent-replay cut: auto, none, classifier or a tensor name (odlc cuts)")
      ->capture_default_str();
  compile->add_option("--batch", train.batch, "samples per SGD step")->capture_default_str();
  compile->add_option("--lr", train.lr, "SGD learning rate")->capture_default_str();
  compile->add_option("--momentum", train.momentum, "SGD momentum")->capture_default_str();
  compile->add_option("--epochs", train.epochs, "epochs of model_learn")->capture_default_str();
  compile->add_option("--replay-samples", train.replaySamples, "latents in the replay buffer")
      ->capture_default_str();
  compile->add_option("--replay-bits", train.replayBits, "replay storage: 32 (float) or 8 (uint8)")
      ->capture_default_str();
  compile->add_option("--replay-in", train.replayIn,
                      "where replayed latents live: ram, or flash (written through a hook)")
      ->capture_default_str();
  compile->add_option("--replay-per-batch", train.replayPerBatch,
                      "replayed latents per model_learn batch (0: batch / 4)");
  compile->add_option("--learn-cache", train.learnCache,
                      "new-sample latents model_learn caches (0: rerun the prefix every epoch)")
      ->capture_default_str();
  compile->add_flag("--class-weighted", train.classWeighted,
                    "inverse-frequency class weights in model_learn's loss");
  compile->add_option("--sparse", train.sparse,
                      "sparse update: none, auto (a deeper cut with p per layer under --ram), "
                      "bias (biases only) or P in (0, 1], the fraction of each layer's channels "
                      "that update")
      ->capture_default_str();
  compile->add_option("--channel-policy", train.channelPolicy,
                      "which channels a sparse update picks: first, magnitude, random or "
                      "velocity (re-chosen every epoch of model_learn)")
      ->capture_default_str();

  app.add_subcommand("targets", "list targets and their memories");

  std::string cutsModel;
  int64_t cutsBatch = 8;
  bool cutsJson = false;
  std::vector<std::string> cutsShapes;
  CLI::App *cuts = app.add_subcommand("cuts", "list the valid latent-replay cuts and their costs");
  cuts->add_option("model", cutsModel, "the ONNX model")->required();
  cuts->add_option("--batch", cutsBatch, "batch for the training-memory column")
      ->capture_default_str();
  cuts->add_flag("--json", cutsJson, "print JSON");
  cuts->add_option("--input-shape", cutsShapes, "static shape for a dynamic input");

  ExploreOptions exploreOptions;
  std::vector<std::string> exploreShapes;
  std::string exploreRam, exploreFlash, exploreDensities = "1";
  CLI::App *explore = app.add_subcommand(
      "explore", "sweep cuts x update density: training RAM vs instructions, Pareto front");
  CompileOptions &eb = exploreOptions.base;
  explore->add_option("model", eb.model, "the ONNX model")->required();
  explore->add_option("-o,--output", exploreOptions.outDir, "directory for explore.json/svg")
      ->capture_default_str();
  explore->add_option("--target", eb.target, "target (see `odlc targets`)")->capture_default_str();
  explore->add_option("--ram", exploreRam, "RAM budget that marks what fits");
  explore->add_option("--flash", exploreFlash, "flash budget that marks what fits");
  explore->add_option("--cuts", exploreOptions.cuts,
                      "cuts to sweep, by number (odlc cuts) or tensor name, e.g. --cuts 6,11 "
                      "(default: all)")
      ->delimiter(',');
  explore->add_option("--p", exploreDensities, "update densities to sweep, e.g. 1,0.75,0.5")
      ->capture_default_str();
  explore->add_option("--batch", eb.train.batch, "samples per SGD step")->capture_default_str();
  explore->add_option("--epochs", eb.train.epochs, "epochs of model_learn")
      ->capture_default_str();
  explore->add_option("--replay-samples", eb.train.replaySamples, "latents in the replay buffer")
      ->capture_default_str();
  explore->add_option("--replay-bits", eb.train.replayBits, "replay storage: 32 or 8")
      ->capture_default_str();
  explore->add_option("--channel-policy", eb.train.channelPolicy,
                      "which channels a sparse update picks: first, magnitude, random or velocity")
      ->capture_default_str();
  explore->add_option("--lr", eb.train.lr, "SGD learning rate")->capture_default_str();
  explore->add_option("--momentum", eb.train.momentum, "SGD momentum")->capture_default_str();
  explore->add_option("--replay-per-batch", eb.train.replayPerBatch,
                      "replayed latents per model_learn batch (0: batch / 4)");
  explore->add_option("--learn-cache", eb.train.learnCache,
                      "new-sample latents model_learn caches (0: rerun the prefix every epoch)")
      ->capture_default_str();
  explore->add_flag("--class-weighted", eb.train.classWeighted,
                    "inverse-frequency class weights in model_learn's loss");
  explore->add_option("--input-shape", exploreShapes, "static shape for a dynamic input");
  DataOptions &data = exploreOptions.data;
  CLI::Option *dataOption = explore->add_option(
      "--data", data.name,
      "measure accuracy on the host on a class-incremental split of this dataset: fashion-mnist "
      "(classes 0-5 old, 6-7 then 8-9 learned)");
  explore->add_option("--data-dir", data.dir, "directory of the dataset's idx(.gz) files")
      ->capture_default_str()
      ->needs(dataOption);
  explore->add_option("--new-per-class", data.newPerClass,
                      "training samples of each new class")
      ->capture_default_str()
      ->needs(dataOption);
  explore->add_option("--old-per-class", data.oldPerClass,
                      "samples of each old class offered to the replay buffer before learning")
      ->capture_default_str()
      ->needs(dataOption);
  explore->add_option("--test-images", data.testImages, "test images accuracy is measured on")
      ->capture_default_str()
      ->needs(dataOption);
  explore->add_option("--data-mean", data.mean, "input normalization: (pixel/255 - mean) / std")
      ->capture_default_str()
      ->needs(dataOption);
  explore->add_option("--data-std", data.stddev, "input normalization: (pixel/255 - mean) / std")
      ->capture_default_str()
      ->needs(dataOption);

  std::string csvIn, csvOut, csvCapacity;
  int64_t csvSearchNodes = PlanOptions{}.searchBudget;
  CLI::App *plan = app.add_subcommand("plan-buffers", "run the memory planner on a CSV");
  plan->add_option("input", csvIn, "CSV with id,lower,upper,size")->required();
  plan->add_option("-o,--output", csvOut, "write the plan (adds an offset column)");
  plan->add_option("--capacity", csvCapacity,
                   "SIZE the arena must fit in (MiniMalloc's capacity); default: none");
  plan->add_option("--search-nodes", csvSearchNodes,
                   "N: search work per core, in nodes (not seconds, so plans are repeatable); "
                   "0: heuristics only")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::cerr << "odlc: error: " << oneLine(e.what()) << "; see odlc --help\n";
    return 1;
  }
  try {
    if (app.got_subcommand("targets"))
      return runTargets();
    if (app.got_subcommand("cuts"))
      return runCuts(cutsModel, cutsBatch, cutsJson, cutsShapes);
    if (app.got_subcommand("explore"))
      return runExplore(exploreOptions, exploreShapes, exploreRam, exploreFlash,
                        exploreDensities);
    if (app.got_subcommand("plan-buffers"))
      return runPlanBuffers(csvIn, csvOut, csvCapacity, csvSearchNodes);
    return runCompile(options, inputShapes, ram, flash);
  } catch (const Error &e) {
    std::cerr << "odlc: error: " << oneLine(e.what()) << "\n";
  } catch (const std::exception &e) {
    std::cerr << "odlc: error: internal error: " << oneLine(e.what()) << "; please report this\n";
  }
  return 1;
}
