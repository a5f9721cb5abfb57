// odlc_conformance: runs ONNX's backend test data (libonnx-testdata: the node, pytorch-converted
// and pytorch-operator suites) through odlc and checks the generated C against the reference
// outputs (DESIGN.md section 5).
//
// Per test directory (model.onnx + test_data_set_N/{input,output}_K.pb), per data set:
//  1. every graph input but the first run-time one becomes an initializer from its input_K.pb
//     (weights, indices, shapes and second operands are constants for odlc); the first one keeps
//     the data set's shape and must be float32;
//  2. a model using an op that odlc::supportedOnnxOps() does not list is UNSUPPORTED ("op X")
//     without compiling; otherwise it is compiled in-process: an odlc Unsupported error is
//     UNSUPPORTED with its message, any other error is a FAILURE (odlc rejected a valid model);
//  3. the emitted files plus harness.c are built with the host C compiler, run on the input,
//     and every output (concatenated in graph order) is compared with output_K.pb under
//     numpy.allclose semantics, rtol=1e-3, atol=1e-7 (the ONNX backend-test defaults).
// Tests run in parallel; the report is printed in sorted order, the last line being
// `N passed, N failed, N unsupported`. Exit code 0 iff nothing failed, 77 if the data is absent.
#include "Diagnostics.h"
#include "driver/Compile.h"
#include "import/OnnxImporter.h"

#include "harness_source.h" // kHarnessSource: harness.c, embedded at build time

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace fs = std::filesystem;

namespace {

constexpr double kRtol = 1e-3; // onnx/backend/test/case/test_case.py defaults
constexpr double kAtol = 1e-7;
constexpr int kBuildTimeout = 300; // seconds; generous for sanitizer builds on a loaded machine
constexpr int kRunTimeout = 120;
constexpr int kSkipExitCode = 77; // ctest SKIP_RETURN_CODE when the data directory is absent

const char *const kSuites[] = {"node", "pytorch-converted", "pytorch-operator"};

struct Options {
  std::string data = "/usr/share/libonnx-testdata/data";
  std::string work;
  std::string filter;
  std::string cc = "cc";
  std::string json;
  std::string expect; ///< file of pinned outcomes (see readExpectations)
  unsigned jobs = 0;
  bool keep = false;
};

enum class Status { Pass, Fail, Unsupported };

const char *statusName(Status s) {
  return s == Status::Pass ? "PASS" : s == Status::Fail ? "FAIL" : "UNSUPPORTED";
}

struct TestCase {
  std::string suite, name; // name: test directory name
  fs::path dir;
  std::string id() const { return suite + "/" + name; }
};

struct Result {
  Status status = Status::Pass;
  std::string reason;
  double maxRelError = 0, maxAbsError = 0;
  int dataSets = 0;
  double seconds = 0;
  std::vector<std::string> ops; // op types of the model (nested graphs included), sorted
};

/// Thrown inside a test to end it with a status.
struct Outcome {
  Status status;
  std::string reason;
};

[[noreturn]] void unsupportedCase(const std::string &why) { throw Outcome{Status::Unsupported, why}; }
[[noreturn]] void failCase(const std::string &why) { throw Outcome{Status::Fail, why}; }

std::string readFile(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    failCase("cannot read " + path.string());
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void writeFile(const fs::path &path, const std::string &text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  file.close();
  if (!file)
    failCase("cannot write " + path.string());
}

std::string oneLine(std::string text, size_t limit = 400) {
  for (char &c : text)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text.size() > limit ? text.substr(0, limit) + "..." : text;
}

std::string shapeText(const std::vector<int64_t> &dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

const char *typeName(int32_t type) {
  return onnx::TensorProto_DataType_IsValid(type)
             ? onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(type)).c_str()
             : "UNKNOWN";
}

// ---- Test data ---------------------------------------------------------------------------------

onnx::TensorProto readTensor(const fs::path &path) {
  onnx::TensorProto tensor;
  if (!tensor.ParseFromString(readFile(path)))
    failCase("cannot parse " + path.string() + " as a TensorProto");
  return tensor;
}

std::vector<int64_t> dimsOf(const onnx::TensorProto &t) {
  return std::vector<int64_t>(t.dims().begin(), t.dims().end());
}

int64_t elementsOf(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// The values of a float32 TensorProto (raw little-endian bytes or float_data).
std::vector<float> floatsOf(const onnx::TensorProto &t, const std::string &what) {
  if (t.data_type() != onnx::TensorProto::FLOAT)
    failCase(what + " is " + typeName(t.data_type()) + ", expected FLOAT");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    failCase(what + " uses external data");
  size_t n = size_t(elementsOf(dimsOf(t)));
  std::vector<float> values(n);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != n * sizeof(float))
      failCase(what + ": raw_data has the wrong size");
    if (n > 0) // host is little-endian
      std::memcpy(values.data(), t.raw_data().data(), n * sizeof(float));
  } else {
    if (size_t(t.float_data_size()) != n)
      failCase(what + ": float_data has the wrong size");
    std::copy(t.float_data().begin(), t.float_data().end(), values.begin());
  }
  return values;
}

std::vector<fs::path> dataSets(const fs::path &dir) {
  std::vector<fs::path> sets;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end(), [](const fs::path &a, const fs::path &b) {
    auto index = [](const fs::path &p) {
      return std::stoi(p.filename().string().substr(std::strlen("test_data_set_")));
    };
    return index(a) < index(b);
  });
  return sets;
}

void collectOps(const onnx::GraphProto &graph, std::set<std::string> &ops) {
  for (const auto &node : graph.node()) {
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    ops.insert(defaultDomain ? node.op_type() : node.domain() + "." + node.op_type());
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        collectOps(attr.g(), ops);
      for (const auto &g : attr.graphs())
        collectOps(g, ops);
    }
  }
}

// ---- Subprocesses ------------------------------------------------------------------------------

struct ProcessResult {
  bool timedOut = false;
  int exitCode = -1; // valid when signal == 0
  int signal = 0;
  std::string output; // stdout and stderr
};

/// Runs argv[0] (looked up in PATH) with stdout and stderr to `log`, killing it after
/// `timeout` seconds. posix_spawn keeps this safe in a multi-threaded process.
ProcessResult runProcess(const std::vector<std::string> &args, const fs::path &log, int timeout) {
  std::vector<char *> argv;
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attrs;
  posix_spawnattr_init(&attrs);
  posix_spawnattr_setflags(&attrs, POSIX_SPAWN_SETPGROUP); // own group: kill takes children too
  posix_spawnattr_setpgroup(&attrs, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attrs, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attrs);
  ProcessResult result;
  if (rc != 0) {
    result.output = std::string("cannot run ") + args[0] + ": " + std::strerror(rc);
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  int status = 0;
  auto pause = std::chrono::microseconds(500);
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (done < 0 && errno != EINTR) {
      result.output = std::string("waitpid: ") + std::strerror(errno);
      return result;
    }
    if (std::chrono::steady_clock::now() > deadline && !result.timedOut) {
      result.timedOut = true;
      kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  if (WIFEXITED(status))
    result.exitCode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  std::ifstream file(log, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  result.output = text.str();
  return result;
}

std::vector<std::string> splitWords(const std::string &text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

/// The first line that looks like a compiler or sanitizer diagnostic, else the first line.
std::string firstProblem(const std::string &output) {
  std::istringstream in(output);
  std::string first;
  for (std::string line; std::getline(in, line);) {
    if (first.empty() && !line.empty())
      first = line;
    if (line.find("error") != std::string::npos || line.find("runtime error") != std::string::npos ||
        line.find("Sanitizer") != std::string::npos)
      return oneLine(line, 300);
  }
  return oneLine(first, 300);
}

bool sanitizerReport(const std::string &output) {
  return output.find("runtime error:") != std::string::npos ||
         output.find("ERROR: AddressSanitizer") != std::string::npos ||
         output.find("ERROR: LeakSanitizer") != std::string::npos ||
         output.find("ERROR: UndefinedBehaviorSanitizer") != std::string::npos;
}

// ---- One test ----------------------------------------------------------------------------------

struct Comparison {
  bool ok = true;
  std::string problem;
  double maxRel = 0, maxAbs = 0;
};

/// numpy.testing.assert_allclose(actual, expected, rtol, atol) with equal_nan=True.
void compareValues(const float *actual, const std::vector<float> &expected, size_t output,
                   Comparison &c) {
  for (size_t i = 0; i < expected.size(); ++i) {
    double a = actual[i], e = expected[i];
    bool ok;
    if (std::isnan(e) || std::isnan(a))
      ok = std::isnan(e) && std::isnan(a);
    else if (std::isinf(e) || std::isinf(a))
      ok = a == e;
    else {
      double diff = std::fabs(a - e);
      ok = diff <= kAtol + kRtol * std::fabs(e);
      c.maxAbs = std::max(c.maxAbs, diff);
      if (e != 0)
        c.maxRel = std::max(c.maxRel, diff / std::fabs(e));
    }
    if (!ok && c.ok) {
      c.ok = false;
      char text[200];
      std::snprintf(text, sizeof text, "output %zu element %zu: expected %.9g, got %.9g", output,
                    i, e, a);
      c.problem = text;
    }
  }
}

class Runner {
public:
  explicit Runner(const Options &options) : options_(options) {
    for (const std::string &op : odlc::supportedOnnxOps())
      supported_.insert(op);
    ccWords_ = splitWords(options.cc);
  }

  Result run(const TestCase &test, const fs::path &workDir) {
    auto start = std::chrono::steady_clock::now();
    Result result;
    try {
      runDataSets(test, workDir, result);
      result.status = Status::Pass;
    } catch (const Outcome &outcome) {
      result.status = outcome.status;
      result.reason = oneLine(outcome.reason);
    } catch (const std::exception &e) {
      result.status = Status::Fail;
      result.reason = "runner exception: " + oneLine(e.what());
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

private:
  void runDataSets(const TestCase &test, const fs::path &workDir, Result &result) {
    onnx::ModelProto model;
    if (!model.ParseFromString(readFile(test.dir / "model.onnx")))
      failCase("model.onnx does not parse");

    std::set<std::string> ops;
    collectOps(model.graph(), ops);
    result.ops.assign(ops.begin(), ops.end());
    std::string missing;
    for (const std::string &op : ops)
      if (!supported_.count(op))
        missing += (missing.empty() ? "op " : ", op ") + op;
    if (!missing.empty())
      unsupportedCase(missing);

    std::vector<fs::path> sets = dataSets(test.dir);
    if (sets.empty())
      failCase("no test_data_set_* directory");
    std::string builtKey;
    for (const fs::path &set : sets) {
      runDataSet(test, model, set, workDir, builtKey, result);
      ++result.dataSets;
    }
  }

  void runDataSet(const TestCase &test, const onnx::ModelProto &original, const fs::path &set,
                  const fs::path &workDir, std::string &builtKey, Result &result) {
    onnx::ModelProto model = original;
    onnx::GraphProto &graph = *model.mutable_graph();
    std::set<std::string> initialized;
    for (const auto &init : graph.initializer())
      initialized.insert(init.name());
    std::vector<int> runtimeInputs; // indices into graph.input()
    for (int i = 0; i < graph.input_size(); ++i)
      if (!initialized.count(graph.input(i).name()))
        runtimeInputs.push_back(i);
    if (runtimeInputs.empty())
      unsupportedCase("the model has no run-time input");

    // input_K.pb is the K-th graph input that is not an initializer.
    const onnx::ValueInfoProto &first = graph.input(runtimeInputs[0]);
    if (!first.type().has_tensor_type())
      unsupportedCase("the first input is not a tensor");
    int32_t firstType = first.type().tensor_type().elem_type();
    if (firstType != onnx::TensorProto::FLOAT)
      unsupportedCase(std::string("the first input is ") + typeName(firstType) +
                      ", not FLOAT");
    onnx::TensorProto input = readTensor(set / "input_0.pb");
    std::vector<float> inputValues = floatsOf(input, "input_0.pb");
    std::string key = shapeText(dimsOf(input));
    for (size_t k = 1; k < runtimeInputs.size(); ++k) {
      const onnx::ValueInfoProto &info = graph.input(runtimeInputs[k]);
      fs::path file = set / ("input_" + std::to_string(k) + ".pb");
      if (!info.type().has_tensor_type())
        unsupportedCase("input '" + info.name() + "' is not a tensor");
      if (!fs::exists(file))
        failCase("missing " + file.filename().string());
      onnx::TensorProto value = readTensor(file);
      int32_t declared = info.type().tensor_type().elem_type();
      // numpy has no bfloat16: ONNX stores such test data as its UINT16 bit patterns.
      if (declared == onnx::TensorProto::BFLOAT16 && value.data_type() == onnx::TensorProto::UINT16)
        value.set_data_type(declared);
      // The data is what a backend is fed: the input's declared type follows it (a few data
      // sets disagree with the declaration, e.g. for inputs the graph never reads).
      auto *type = graph.mutable_input(runtimeInputs[k])->mutable_type()->mutable_tensor_type();
      type->set_elem_type(value.data_type());
      type->mutable_shape()->clear_dim();
      for (int64_t d : value.dims())
        type->mutable_shape()->add_dim()->set_dim_value(d);
      key += "|" + value.SerializeAsString();
      value.set_name(info.name());
      *graph.add_initializer() = std::move(value);
    }

    std::vector<onnx::TensorProto> references;
    for (int k = 0; k < graph.output_size(); ++k) {
      std::string name = "output_" + std::to_string(k) + ".pb";
      if (!fs::exists(set / name))
        failCase("missing " + name);
      references.push_back(readTensor(set / name));
    }

    fs::path binary = workDir / "run";
    if (key != builtKey) {
      std::vector<std::vector<int64_t>> outputDims = compile(test, model, first.name(), input,
                                                             workDir);
      // odlc accepted the model: its outputs must be the reference's float32 tensors.
      for (size_t k = 0; k < references.size(); ++k) {
        if (references[k].data_type() != onnx::TensorProto::FLOAT)
          failCase("odlc compiled output " + std::to_string(k) + " as float32, the reference is " +
                   typeName(references[k].data_type()));
        if (k >= outputDims.size() || outputDims[k] != dimsOf(references[k]))
          failCase("output " + std::to_string(k) + " has shape " +
                   (k < outputDims.size() ? shapeText(outputDims[k]) : "(none)") +
                   ", expected " + shapeText(dimsOf(references[k])));
      }
      build(workDir);
      builtKey = key;
    }
    std::vector<std::vector<float>> expected;
    for (size_t k = 0; k < references.size(); ++k)
      expected.push_back(floatsOf(references[k], "output_" + std::to_string(k) + ".pb"));

    std::string tag = set.filename().string();
    fs::path in = workDir / (tag + ".in.bin"), out = workDir / (tag + ".out.bin");
    writeFile(in, std::string(reinterpret_cast<const char *>(inputValues.data()),
                              inputValues.size() * sizeof(float)));
    fs::remove(out);
    ProcessResult run = runProcess({binary.string(), in.string(), out.string()},
                                   workDir / (tag + ".run.log"), kRunTimeout);
    if (run.timedOut)
      failCase(tag + ": the model timed out after " + std::to_string(kRunTimeout) + " s");
    if (run.signal != 0)
      failCase(tag + ": the model crashed with signal " + std::to_string(run.signal) + " (" +
               strsignal(run.signal) + ")" +
               (run.output.empty() ? "" : ": " + firstProblem(run.output)));
    if (run.exitCode != 0)
      failCase(tag + ": the harness exited with " + std::to_string(run.exitCode) + ": " +
               firstProblem(run.output));
    if (sanitizerReport(run.output))
      failCase(tag + ": sanitizer report: " + firstProblem(run.output));

    std::string bytes = readFile(out);
    size_t total = 0;
    for (const auto &e : expected)
      total += e.size();
    if (bytes.size() != total * sizeof(float))
      failCase(tag + ": the model wrote " + std::to_string(bytes.size() / sizeof(float)) +
               " floats, expected " + std::to_string(total));
    std::vector<float> actual(total);
    if (total > 0)
      std::memcpy(actual.data(), bytes.data(), bytes.size());
    Comparison c;
    size_t offset = 0;
    for (size_t k = 0; k < expected.size(); ++k) {
      compareValues(actual.data() + offset, expected[k], k, c);
      offset += expected[k].size();
    }
    result.maxRelError = std::max(result.maxRelError, c.maxRel);
    result.maxAbsError = std::max(result.maxAbsError, c.maxAbs);
    if (!c.ok) {
      char stats[120];
      std::snprintf(stats, sizeof stats, " (max abs error %.3g, max rel error %.3g)", c.maxAbs,
                    c.maxRel);
      failCase(tag + ": mismatch: " + c.problem + stats);
    }
  }

  /// Imports and compiles in-process; writes the files into workDir. Returns the output shapes.
  std::vector<std::vector<int64_t>> compile(const TestCase &test, onnx::ModelProto &model,
                                            const std::string &inputName,
                                            const onnx::TensorProto &input,
                                            const fs::path &workDir) {
    odlc::CompileOptions options;
    options.model = (test.dir / "model.onnx").string();
    options.target = "host";
    options.name = "model";
    options.train.trainFrom = "none"; // ONNX's tests check inference
    options.import.inputShapes[inputName] = dimsOf(input);
    std::vector<std::vector<int64_t>> outputDims;
    odlc::CompileResult compiled;
    try {
      odlc::Graph graph = odlc::importOnnxModel(model, test.id(), options.import);
      for (odlc::TensorId id : graph.outputs)
        outputDims.push_back(graph.tensor(id).shape);
      compiled = odlc::compileGraph(graph, options);
    } catch (const odlc::Error &e) {
      switch (e.kind()) {
      case odlc::ErrorKind::Unsupported: unsupportedCase(e.what());
      case odlc::ErrorKind::User: failCase(std::string("odlc rejected the model: ") + e.what());
      case odlc::ErrorKind::Internal: failCase(std::string("odlc internal error: ") + e.what());
      }
    }
    fs::create_directories(workDir);
    for (const auto &[name, text] : compiled.files)
      writeFile(workDir / name, text);
    writeFile(workDir / "harness.c", kHarnessSource);
    return outputDims;
  }

  void build(const fs::path &workDir) {
    std::vector<std::string> args = ccWords_;
    args.insert(args.end(), {"-std=c99", "-O1", "-I", workDir.string(), "-o",
                             (workDir / "run").string()});
    std::vector<std::string> sources;
    for (const auto &entry : fs::directory_iterator(workDir))
      if (entry.path().extension() == ".c")
        sources.push_back(entry.path().string());
    std::sort(sources.begin(), sources.end());
    args.insert(args.end(), sources.begin(), sources.end());
    args.push_back("-lm");
    ProcessResult cc = runProcess(args, workDir / "build.log", kBuildTimeout);
    if (cc.timedOut)
      failCase("the C build timed out");
    if (cc.signal != 0 || cc.exitCode != 0)
      failCase("the generated C does not build: " + firstProblem(cc.output));
  }

  const Options &options_;
  std::set<std::string> supported_;
  std::vector<std::string> ccWords_;
};

// ---- Reporting ---------------------------------------------------------------------------------

/// The reason with names taken out, so that equal causes group together: quoted names become
/// '*', and "node '*' (Op): " becomes "Op: ".
std::string reasonGroup(const std::string &reason) {
  std::string text;
  for (size_t i = 0; i < reason.size(); ++i) {
    if (reason[i] == '\'') {
      size_t close = reason.find('\'', i + 1);
      if (close != std::string::npos) {
        text += "'*'";
        i = close;
        continue;
      }
    }
    text += reason[i];
  }
  // Shapes ([2,3,5,5,5]) and plain numbers inside them vary per test.
  std::string shapes;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t close = text[i] == '[' ? text.find(']', i) : std::string::npos;
    if (close != std::string::npos &&
        text.find_first_not_of("0123456789,- ", i + 1) == close) {
      shapes += "[*]";
      i = close;
      continue;
    }
    shapes += text[i];
  }
  text = shapes;
  const std::string node = "node '*' (";
  for (size_t at; (at = text.find(node)) != std::string::npos;) {
    size_t close = text.find(')', at);
    std::string op = text.substr(at + node.size(), close - at - node.size());
    text.replace(at, close + 1 - at, op);
  }
  return text;
}

/// Pinned outcomes: `STATUS suite/test [text the reason must contain]` per line, `#` comments.
/// A test that ends otherwise is a failure: passing tests must keep passing, and regression
/// cases keep their precise "unsupported" reason.
struct Expectation {
  Status status;
  std::string reason;
};

std::map<std::string, Expectation> readExpectations(const std::string &path) {
  std::map<std::string, Expectation> pins;
  std::ifstream file(path);
  if (!file) {
    std::cerr << "odlc_conformance: cannot read " << path << "\n";
    std::exit(2);
  }
  int lineNo = 0;
  for (std::string line; std::getline(file, line);) {
    ++lineNo;
    std::istringstream in(line);
    std::string status, name;
    if (!(in >> status) || status[0] == '#')
      continue;
    Expectation e;
    if (status == "PASS")
      e.status = Status::Pass;
    else if (status == "UNSUPPORTED")
      e.status = Status::Unsupported;
    else if (status == "FAIL")
      e.status = Status::Fail;
    else {
      std::cerr << path << ":" << lineNo << ": unknown status '" << status << "'\n";
      std::exit(2);
    }
    if (!(in >> name)) {
      std::cerr << path << ":" << lineNo << ": missing test name\n";
      std::exit(2);
    }
    std::getline(in >> std::ws, e.reason);
    pins[name] = e;
  }
  return pins;
}

/// Turns a result that contradicts its pin into a failure.
void applyExpectation(const Expectation &e, Result &r) {
  bool statusOk = r.status == e.status;
  bool reasonOk = r.reason.find(e.reason) != std::string::npos;
  if (statusOk && reasonOk)
    return;
  std::string want = statusName(e.status);
  if (!e.reason.empty())
    want += " (\"" + e.reason + "\")";
  r.reason = "expected " + want + ", got " + statusName(r.status) +
             (r.reason.empty() ? "" : ": " + r.reason);
  r.status = Status::Fail;
}

struct Counts {
  int passed = 0, failed = 0, unsupported = 0;
  void add(Status s) { (s == Status::Pass ? passed : s == Status::Fail ? failed : unsupported)++; }
  nlohmann::json json() const {
    return {{"passed", passed}, {"failed", failed}, {"unsupported", unsupported}};
  }
};

[[noreturn]] void usage(const std::string &problem) {
  std::cerr << "odlc_conformance: " << problem << "\n"
            << "usage: odlc_conformance [--data DIR] [--work DIR] [--filter SUBSTRING] "
               "[--jobs N] [--json FILE] [--expect FILE] [--cc \"CC FLAGS...\"] [--keep]\n";
  std::exit(2);
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data")
      o.data = value();
    else if (arg == "--work")
      o.work = value();
    else if (arg == "--filter")
      o.filter = value();
    else if (arg == "--cc")
      o.cc = value();
    else if (arg == "--json")
      o.json = value();
    else if (arg == "--expect")
      o.expect = value();
    else if (arg == "--keep")
      o.keep = true;
    else if (arg == "--jobs") {
      std::string v = value();
      char *end = nullptr;
      long jobs = std::strtol(v.c_str(), &end, 10);
      if (*end || jobs < 1 || jobs > 1024)
        usage("--jobs needs a positive number");
      o.jobs = unsigned(jobs);
    } else if (arg == "-h" || arg == "--help")
      usage("runs the ONNX backend test data through odlc");
    else
      usage("unknown argument '" + arg + "'");
  }
  if (splitWords(o.cc).empty())
    usage("--cc is empty");
  if (o.jobs == 0)
    o.jobs = std::max(1u, std::thread::hardware_concurrency());
  return o;
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseArgs(argc, argv);
  std::error_code ec;
  if (!fs::is_directory(options.data, ec)) {
    std::cout << "odlc_conformance: data directory " << options.data
              << " is absent (install libonnx-testdata); skipping\n";
    return kSkipExitCode;
  }
  std::vector<TestCase> tests;
  for (const char *suite : kSuites) {
    fs::path dir = fs::path(options.data) / suite;
    if (!fs::is_directory(dir, ec))
      continue;
    for (const auto &entry : fs::directory_iterator(dir)) {
      TestCase t{suite, entry.path().filename().string(), entry.path()};
      if (entry.is_directory() && fs::exists(entry.path() / "model.onnx") &&
          t.id().find(options.filter) != std::string::npos)
        tests.push_back(t);
    }
  }
  std::sort(tests.begin(), tests.end(),
            [](const TestCase &a, const TestCase &b) { return a.id() < b.id(); });

  bool ownWork = options.work.empty();
  fs::path work;
  if (ownWork) {
    std::string pattern = (fs::temp_directory_path() / "odlc-conformance-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      std::cerr << "odlc_conformance: cannot create a work directory: " << std::strerror(errno)
                << "\n";
      return 2;
    }
    work = pattern;
  } else {
    work = fs::absolute(options.work);
    fs::create_directories(work, ec);
  }

  auto start = std::chrono::steady_clock::now();
  Runner runner(options);
  std::vector<Result> results(tests.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned j = 0; j < std::min<size_t>(options.jobs, std::max<size_t>(1, tests.size()));
       ++j)
    workers.emplace_back([&]() {
      for (size_t i; (i = next.fetch_add(1)) < tests.size();) {
        fs::path dir = work / tests[i].suite / tests[i].name;
        std::error_code ignored;
        fs::remove_all(dir, ignored);
        results[i] = runner.run(tests[i], dir);
        if (results[i].status != Status::Fail && !options.keep)
          fs::remove_all(dir, ignored);
      }
    });
  for (std::thread &w : workers)
    w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!options.expect.empty()) {
    std::map<std::string, Expectation> pins = readExpectations(options.expect);
    for (size_t i = 0; i < tests.size(); ++i) {
      auto it = pins.find(tests[i].id());
      if (it == pins.end())
        continue;
      applyExpectation(it->second, results[i]);
      pins.erase(it);
    }
    for (const auto &[name, pin] : pins)
      if (options.filter.empty() || name.find(options.filter) != std::string::npos)
        std::cerr << "odlc_conformance: note: " << options.expect << " pins " << name
                  << ", which is not in the data\n";
  }

  Counts total;
  std::map<std::string, Counts> perSuite;
  std::map<std::string, int> reasons;
  nlohmann::json jsonTests = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) {
    const Result &r = results[i];
    std::cout << statusName(r.status) << " " << tests[i].id()
              << (r.reason.empty() ? "" : " " + r.reason) << "\n";
    total.add(r.status);
    perSuite[tests[i].suite].add(r.status);
    if (r.status == Status::Unsupported)
      ++reasons[reasonGroup(r.reason)];
    jsonTests.push_back({{"name", tests[i].id()},
                         {"suite", tests[i].suite},
                         {"status", statusName(r.status)},
                         {"reason", r.reason},
                         {"data_sets", r.dataSets},
                         {"max_rel_error", r.maxRelError},
                         {"max_abs_error", r.maxAbsError},
                         {"seconds", r.seconds},
                         {"ops", r.ops}});
  }
  std::vector<std::pair<std::string, int>> grouped(reasons.begin(), reasons.end());
  std::stable_sort(grouped.begin(), grouped.end(),
                   [](const auto &a, const auto &b) { return a.second > b.second; });
  std::cout << "\nUnsupported reasons:\n";
  for (const auto &[reason, count] : grouped)
    std::cout << "  " << count << "  " << reason << "\n";
  std::cout << "\nPer suite:\n";
  for (const auto &[suite, c] : perSuite)
    std::cout << "  " << suite << ": " << c.passed << " passed, " << c.failed << " failed, "
              << c.unsupported << " unsupported\n";
  char timeText[80];
  std::snprintf(timeText, sizeof timeText, "%.1f s with %u jobs", seconds, options.jobs);
  std::cout << "Time: " << timeText << "\n";

  if (!options.json.empty()) {
    nlohmann::json doc;
    doc["data"] = options.data;
    doc["cc"] = options.cc;
    doc["jobs"] = options.jobs;
    doc["seconds"] = seconds;
    doc["tolerance"] = {{"rtol", kRtol}, {"atol", kAtol}};
    doc["counts"] = total.json();
    for (const auto &[suite, c] : perSuite)
      doc["suites"][suite] = c.json();
    doc["unsupported_reasons"] = nlohmann::json::array();
    for (const auto &[reason, count] : grouped)
      doc["unsupported_reasons"].push_back({{"reason", reason}, {"count", count}});
    doc["tests"] = jsonTests;
    std::ofstream file(options.json);
    file << doc.dump(2) << "\n";
    if (!file)
      std::cerr << "odlc_conformance: cannot write " << options.json << "\n";
  }

  if (total.failed > 0)
    std::cerr << "odlc_conformance: files of the failing tests are in " << work.string() << "\n";
  else if (ownWork && !options.keep)
    fs::remove_all(work, ec);
  std::cout << total.passed << " passed, " << total.failed << " failed, " << total.unsupported
            << " unsupported" << std::endl;
  return total.failed == 0 ? 0 : 1;
}
