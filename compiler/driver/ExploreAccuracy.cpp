// odlc explore --data: one configuration's accuracy after class-incremental learning, measured
// by running its generated C on the host. The dataset is read once per sweep (idx files,
// gzip-compressed as Debian ships them: decompressed with `gzip -dc`, which every Debian system
// has) and split into raw files the harness reads: old-class samples that seed the replay
// buffer, two experiences of new classes, test images. Each point's C is compiled with the
// system C compiler (`$CC` or `cc`, -O2) and the embedded harness, in a temporary directory
// that is always removed. Every random choice in the runtime is seeded, so the same input
// gives the same numbers.
#include "driver/ExploreAccuracy.h"

#include "Diagnostics.h"
#include "driver/HarnessSources.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char **environ;

namespace odlc {

namespace fs = std::filesystem;

namespace {

constexpr int kClasses = 10;
constexpr int kFirstNew = 6;      ///< classes 0-5 are old (pretrained), 6-9 new
constexpr int64_t kSide = 28;     ///< Fashion-MNIST images are 28 x 28 grey
constexpr int64_t kPixels = kSide * kSide;
constexpr const char *kHarness = "explore_harness.c";

struct Idx {
  std::vector<uint8_t> labels;
  std::vector<uint8_t> images; ///< labels.size() x kPixels
};

struct RunResult {
  int status = 0; ///< exit code, or 128 + signal
  std::string out, err;
};

std::string readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs argv[0] (searched on PATH) with stdout and stderr captured through files in `dir`.
/// A program that cannot be started is a diagnostic naming `what`.
RunResult run(const std::vector<std::string> &argv, const fs::path &dir, const std::string &what) {
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  fs::path outPath = dir / "stdout.txt", errPath = dir / "stderr.txt";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    fail("--data: cannot run {} '{}': {}", what, argv[0], std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunResult result;
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = readText(outPath);
  result.err = readText(errPath);
  return result;
}

/// The first line of `text` that mentions an error, else its first non-empty line (what a
/// one-line diagnostic can quote).
std::string firstLine(const std::string &text) {
  std::istringstream in(text);
  std::string line, first;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    if (line.find("error") != std::string::npos)
      return line;
    if (first.empty())
      first = line;
  }
  return first.empty() ? "(no output)" : first;
}

/// The bytes of `gz`, or of `gz` without ".gz" when that exists uncompressed (`gzip -dc`
/// writes its output through a file in `scratch`).
std::vector<uint8_t> readMaybeGzip(const fs::path &gz, const fs::path &scratch) {
  std::error_code ec;
  fs::path plain = gz;
  plain.replace_extension();
  if (fs::is_regular_file(plain, ec)) {
    std::string bytes = readText(plain);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  }
  if (!fs::is_regular_file(gz, ec))
    fail("--data fashion-mnist: '{}' not found; pass --data-dir with the directory holding "
         "{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz (Debian: dataset-fashion-mnist)",
         gz.string());
  RunResult unzipped = run({"gzip", "-dc", "--", gz.string()}, scratch, "gzip");
  if (unzipped.status != 0)
    fail("--data: `gzip -dc` failed on '{}' (is it a gzip file?): {}", gz.string(),
         firstLine(unzipped.err));
  return std::vector<uint8_t>(unzipped.out.begin(), unzipped.out.end());
}

uint32_t bigEndian(const std::vector<uint8_t> &b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 |
         uint32_t(b[at + 3]);
}

/// One split of the idx files ("train" or "t10k"), checked.
Idx readIdx(const fs::path &dir, const std::string &split, const fs::path &scratch) {
  fs::path imagesPath = dir / (split + "-images-idx3-ubyte.gz");
  fs::path labelsPath = dir / (split + "-labels-idx1-ubyte.gz");
  std::vector<uint8_t> images = readMaybeGzip(imagesPath, scratch);
  std::vector<uint8_t> labels = readMaybeGzip(labelsPath, scratch);
  if (images.size() < 16 || bigEndian(images, 0) != 0x803 || bigEndian(images, 8) != kSide ||
      bigEndian(images, 12) != kSide)
    fail("--data fashion-mnist: '{}' is not an idx3 file of 28 x 28 images", imagesPath.string());
  if (labels.size() < 8 || bigEndian(labels, 0) != 0x801)
    fail("--data fashion-mnist: '{}' is not an idx1 label file", labelsPath.string());
  uint32_t count = bigEndian(labels, 4);
  if (bigEndian(images, 4) != count || labels.size() != 8 + size_t(count) ||
      images.size() != 16 + size_t(count) * kPixels)
    fail("--data fashion-mnist: '{}' and '{}' do not hold the same number of samples",
         imagesPath.string(), labelsPath.string());
  Idx idx;
  idx.labels.assign(labels.begin() + 8, labels.end());
  idx.images.assign(images.begin() + 16, images.end());
  for (uint8_t l : idx.labels)
    if (l >= kClasses)
      fail("--data fashion-mnist: '{}' has label {}; Fashion-MNIST has 10 classes",
           labelsPath.string(), int(l));
  return idx;
}

void writeBytes(const fs::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  out.close();
  if (!out)
    fail("--data: cannot write '{}'", path.string());
}

/// Writes NAME.img and NAME.lbl: samples `picked` of `idx`, in that order.
void writeSplit(const fs::path &dir, const std::string &name, const Idx &idx,
                const std::vector<size_t> &picked) {
  std::string images, labels;
  for (size_t i : picked) {
    images.append(reinterpret_cast<const char *>(&idx.images[i * kPixels]), kPixels);
    labels.push_back(char(idx.labels[i]));
  }
  writeBytes(dir / (name + ".img"), images);
  writeBytes(dir / (name + ".lbl"), labels);
}

/// The first `perClass` samples of each class in [first, last], in dataset order.
std::vector<size_t> firstOfClasses(const Idx &idx, int first, int last, int64_t perClass,
                                   const char *flag) {
  std::vector<size_t> picked;
  std::array<int64_t, kClasses> taken{};
  for (size_t i = 0; i < idx.labels.size(); ++i) {
    int label = idx.labels[i];
    if (label < first || label > last || taken[label] >= perClass)
      continue;
    taken[label] += 1;
    picked.push_back(i);
  }
  for (int c = first; c <= last; ++c)
    if (taken[c] < perClass)
      fail("{} {} is more than the {} training samples of class {}", flag, perClass, taken[c],
           c);
  return picked;
}

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
  TempDir() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec)
      base = "/tmp";
    std::string pattern = (base / "odlc-explore-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      fail("--data: cannot create a temporary directory in '{}': {}", base.string(),
           std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const fs::path &path() const { return path_; }

private:
  fs::path path_;
};

void makeDirectory(const fs::path &path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec)
    fail("--data: cannot create '{}': {}", path.string(), ec.message());
}

/// `$CC` split at spaces, or `cc`.
std::vector<std::string> hostCompiler() {
  const char *cc = std::getenv("CC");
  std::vector<std::string> words;
  std::istringstream in(cc != nullptr && *cc != '\0' ? cc : "cc");
  std::string w;
  while (in >> w)
    words.push_back(w);
  return words;
}

/// "RESULT after old=0.9 new=0.5 all=0.7": the value after `key=` on the line starting `tag`.
bool resultValue(const std::string &out, const std::string &tag, const std::string &key,
                 double &value) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(tag, 0) != 0)
      continue;
    size_t at = line.find(" " + key + "=");
    if (at == std::string::npos)
      return false;
    value = std::strtod(line.c_str() + at + key.size() + 2, nullptr);
    return true;
  }
  return false;
}

} // namespace

std::string supportedDatasets() { return "fashion-mnist"; }

void checkDataOptions(const DataOptions &d) {
  if (d.name != "fashion-mnist")
    fail("--data '{}' is not supported; supported: {}", d.name, supportedDatasets());
  if (d.newPerClass < 1 || d.newPerClass > 6000)
    fail("--new-per-class {} is out of range; use 1 to 6000", d.newPerClass);
  if (d.oldPerClass < 0 || d.oldPerClass > 6000)
    fail("--old-per-class {} is out of range; use 0 to 6000", d.oldPerClass);
  if (d.testImages < 1 || d.testImages > 10000)
    fail("--test-images {} is out of range; use 1 to 10000", d.testImages);
  if (!(d.stddev > 0) || !std::isfinite(d.stddev) || !std::isfinite(d.mean))
    fail("--data-mean {} / --data-std {}: the mean must be finite and the std positive", d.mean,
         d.stddev);
}

struct AccuracyBench::State {
  TempDir temp;
  fs::path data; ///< the split files
  const ExploreOptions *options = nullptr;
  bool haveBefore = false;
  double oldBefore = 0;
  int run = 0;
};

AccuracyBench::AccuracyBench(const Graph &pristine, const ExploreOptions &o)
    : state_(std::make_unique<State>()) {
  const DataOptions &d = o.data;
  checkDataOptions(d);
  int64_t in = pristine.totalElements(pristine.inputs);
  int64_t out = pristine.totalElements(pristine.outputs);
  if (in != kPixels || out != kClasses)
    fail("--data fashion-mnist needs a model with 784 input elements (1 x 28 x 28) and 10 "
         "outputs; '{}' has {} and {}",
         o.base.model, in, out);
  state_->options = &o;
  state_->data = state_->temp.path() / "data";
  makeDirectory(state_->data);
  fs::path dir = d.dir;
  Idx train = readIdx(dir, "train", state_->temp.path());
  Idx test = readIdx(dir, "t10k", state_->temp.path());
  if (int64_t(test.labels.size()) < d.testImages)
    fail("--test-images {} is more than the {} test images", d.testImages, test.labels.size());
  std::vector<size_t> seed;
  // One old class after another, as a device would offer what it was trained on.
  for (int c = 0; c < kFirstNew && d.oldPerClass > 0; ++c) {
    std::vector<size_t> one = firstOfClasses(train, c, c, d.oldPerClass, "--old-per-class");
    seed.insert(seed.end(), one.begin(), one.end());
  }
  writeSplit(state_->data, "seed", train, seed);
  writeSplit(state_->data, "exp1", train,
             firstOfClasses(train, 6, 7, d.newPerClass, "--new-per-class"));
  writeSplit(state_->data, "exp2", train,
             firstOfClasses(train, 8, 9, d.newPerClass, "--new-per-class"));
  std::vector<size_t> first(size_t(d.testImages));
  for (size_t i = 0; i < first.size(); ++i)
    first[i] = i;
  writeSplit(state_->data, "test", test, first);
}

AccuracyBench::~AccuracyBench() = default;

namespace {

/// FNV-1a 64 of `text`, continuing from `hash`.
uint64_t fnv1a(const std::string &text, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text)
    hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A runtime file (copied from runtime/, the same for most points) rather than model code.
bool isRuntimeFile(const std::string &name) { return name.rfind("odlc_", 0) == 0; }

} // namespace

void AccuracyBench::measure(const FileSet &files, ExplorePoint &point) {
  State &s = *state_;
  fs::path work = s.temp.path() / fmt::format("point{}", s.run++);
  fs::path out = work / "out", objects = s.temp.path() / "objects";
  makeDirectory(out);
  makeDirectory(objects);
  std::string where = fmt::format("cut '{}' p={:g}", point.cut, point.p);
  std::vector<std::string> compiler = hostCompiler();
  auto compile = [&](std::vector<std::string> args) {
    std::vector<std::string> cc = compiler;
    cc.insert(cc.end(), {"-std=c99", "-O2", "-I" + out.string()});
    cc.insert(cc.end(), args.begin(), args.end());
    RunResult built = run(cc, work, "the host C compiler (set CC to choose another)");
    if (built.status != 0)
      fail("--data: the host C compiler '{}' failed on the code generated for {}: {}", cc[0],
           where, firstLine(built.err));
  };
  // The runtime's sources rarely change between points: their objects are cached by content
  // (the file and every runtime header), which saves most of a point's compile time.
  uint64_t headers = fnv1a("");
  for (const auto &[name, text] : files) {
    writeBytes(out / name, text);
    if (isRuntimeFile(name) && endsWith(name, ".h"))
      headers = fnv1a(name + text, headers);
  }
  std::vector<std::string> link{"-o", (work / "harness").string()};
  for (const auto &[name, text] : files) {
    if (!endsWith(name, ".c"))
      continue;
    if (!isRuntimeFile(name)) {
      link.push_back((out / name).string());
      continue;
    }
    fs::path object = objects / fmt::format("{:016x}.o", fnv1a(name + text, headers));
    std::error_code ec;
    if (!fs::exists(object, ec)) {
      fs::path partial = object;
      partial += ".tmp";
      compile({"-c", (out / name).string(), "-o", partial.string()});
      fs::rename(partial, object, ec);
      if (ec)
        fail("--data: cannot write '{}': {}", object.string(), ec.message());
    }
    link.push_back(object.string());
  }
  const std::string *harness = harnessSource(kHarness);
  ODLC_ASSERT(harness != nullptr, "the explore harness {} is not embedded", kHarness);
  writeBytes(work / kHarness, *harness);
  link.push_back((work / kHarness).string());
  link.push_back("-lm");
  compile(link);
  const DataOptions &d = s.options->data;
  RunResult ran = run({(work / "harness").string(), s.data.string(), fmt::format("{:.9g}", d.mean),
                       fmt::format("{:.9g}", d.stddev), std::to_string(kFirstNew),
                       s.haveBefore ? "0" : "1"},
                      work, "the accuracy harness");
  double oldAcc = 0, newAcc = 0, allAcc = 0;
  if (ran.status != 0 || !resultValue(ran.out, "RESULT after", "old", oldAcc) ||
      !resultValue(ran.out, "RESULT after", "new", newAcc) ||
      !resultValue(ran.out, "RESULT after", "all", allAcc))
    fail("--data: the host run of {} failed (exit {}): {}", where, ran.status,
         firstLine(ran.err + ran.out));
  if (!s.haveBefore) {
    if (!resultValue(ran.out, "RESULT before", "old", s.oldBefore))
      fail("--data: the host run of {} printed no accuracy before learning", where);
    s.haveBefore = true;
  }
  point.measured = true;
  point.accuracyOld = oldAcc;
  point.accuracyNew = newAcc;
  point.accuracyAll = allAcc;
  point.accuracyOldBefore = s.oldBefore;
  std::error_code ec;
  fs::remove_all(work, ec); // keep the temporary directory small during a long sweep
}

} // namespace odlc
