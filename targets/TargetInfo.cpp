#include "targets/TargetInfo.h"

namespace odlc {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::vector<TargetInfo> makeTargets() {
  std::vector<TargetInfo> targets;
  TargetInfo host;
  host.name = "host";
  host.description = "the build machine (native cc); no memory limits";
  host.isHost = true;
  targets.push_back(host);

  // QEMU's MPS2 boards model ZBT SSRAM1 (4 MiB at 0) as the code/flash region and SSRAM2/3
  // (4 MiB at 0x20000000) as data RAM (hw/arm/mps2.c).
  TargetInfo m4;
  m4.name = "cortex-m4";
  m4.description = "Arm Cortex-M4F (FPv4-SP), QEMU mps2-an386";
  m4.qemu = "qemu-system-arm -M mps2-an386";
  m4.cpu = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16";
  m4.memories = {{"flash", MemoryKind::Flash, 0x00000000, 4 * kMiB},
                 {"sram", MemoryKind::Ram, 0x20000000, 4 * kMiB}};
  targets.push_back(m4);

  TargetInfo m7 = m4;
  m7.name = "cortex-m7";
  m7.description = "Arm Cortex-M7 (FPv5-D16), QEMU mps2-an500";
  m7.qemu = "qemu-system-arm -M mps2-an500";
  m7.cpu = "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16";
  targets.push_back(m7);

  // virt has no execute-in-place flash: the examples use the first 4 MiB of DRAM as "flash".
  TargetInfo rv;
  rv.name = "rv32imafc";
  rv.description = "RISC-V RV32IMAFC (ilp32f), QEMU virt";
  rv.qemu = "qemu-system-riscv32 -M virt -bios none -m 128M";
  rv.cpu = "-march=rv32imafc -mabi=ilp32f";
  rv.memories = {{"flash", MemoryKind::Flash, 0x80000000, 4 * kMiB},
                 {"sram", MemoryKind::Ram, 0x80400000, 124 * kMiB}};
  targets.push_back(rv);
  return targets;
}

int64_t totalOf(const TargetInfo &t, MemoryKind kind) {
  int64_t total = 0;
  for (const MemoryRegion &m : t.memories)
    if (m.kind == kind)
      total += int64_t(m.size);
  return total;
}

} // namespace

int64_t TargetInfo::ramBytes() const { return totalOf(*this, MemoryKind::Ram); }
int64_t TargetInfo::flashBytes() const { return totalOf(*this, MemoryKind::Flash); }

const std::vector<TargetInfo> &allTargets() {
  static const std::vector<TargetInfo> targets = makeTargets();
  return targets;
}

const TargetInfo *findTarget(const std::string &name) {
  for (const TargetInfo &t : allTargets())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::string targetNames() {
  std::string names;
  for (const TargetInfo &t : allTargets())
    names += (names.empty() ? "" : ", ") + t.name;
  return names;
}

} // namespace odlc
