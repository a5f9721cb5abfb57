/// \file `odlc explore --data`: measures a configuration's continual-learning accuracy by
/// compiling its generated C for the host with the embedded harness (harness/) and running it
/// on a class-incremental split of a dataset.
#pragma once

#include "driver/Explore.h"

#include <memory>
#include <string>

namespace odlc {

/// Datasets `--data` accepts, for the error message and --help.
std::string supportedDatasets();

/// The split, prepared once per sweep in a temporary directory that the destructor removes.
class AccuracyBench {
public:
  /// Checks the model fits the dataset, reads the dataset and writes the split; fail()s on a
  /// problem the user can fix (unknown dataset, missing files, wrong model shape).
  AccuracyBench(const Graph &pristine, const ExploreOptions &options);
  ~AccuracyBench();
  AccuracyBench(const AccuracyBench &) = delete;
  AccuracyBench &operator=(const AccuracyBench &) = delete;

  /// Builds `files` (one point's generated C) with the harness for the host, runs it and
  /// stores the accuracies in `point`.
  void measure(const FileSet &files, ExplorePoint &point);

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace odlc
