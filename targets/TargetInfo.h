/// \file What odlc knows about each target: its memories (the planner's budget and levels), how
/// code runs on it (QEMU machine), and facts the passes need. The only place target facts live.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace odlc {

enum class MemoryKind { Ram, Flash };

struct MemoryRegion {
  std::string name; ///< e.g. "sram", "flash"
  MemoryKind kind;
  uint64_t base;
  uint64_t size;     ///< bytes available to the program
  bool fast = false; ///< a tightly coupled / scratchpad level the planner fills first
};

struct TargetInfo {
  std::string name;
  std::string description;
  std::string qemu;  ///< how the examples run it ("" for host)
  std::string cpu;   ///< compiler CPU flags the examples use
  bool isHost = false;
  int64_t bufferAlignment = 8; ///< arena offsets are multiples of this
  std::vector<MemoryRegion> memories;

  /// Total RAM (all RAM levels) and flash; 0 on the host (unbounded).
  int64_t ramBytes() const;
  int64_t flashBytes() const;
};

/// A GNU ld script fragment (for picolibc's linker script, which sizes its regions from
/// __flash/__flash_size/__ram/__ram_size) that shrinks the target's regions to the budget, so
/// a program over budget fails to link. Empty for the host.
/// With a flash-resident replay buffer, its `reservedFlash` bytes are cut from the end of the
/// flash region and `reservedSymbol` names their start.
std::string linkerBudgetScript(const TargetInfo &target, int64_t ramBytes, int64_t flashBytes,
                               const std::string &reservedSymbol = "", int64_t reservedFlash = 0);

const std::vector<TargetInfo> &allTargets();
/// nullptr when there is no such target.
const TargetInfo *findTarget(const std::string &name);
/// "host, cortex-m4, ..." for diagnostics.
std::string targetNames();

} // namespace odlc
