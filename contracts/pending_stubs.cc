// TEMPORARY (branch h3): weak stand-ins for functions other branches implement, so that the
// node and wallet link before the merge. Delete this file at the merge; the real (strong)
// definitions in allocation.cc and compliance.cc win over these even if it stays.
#include "contracts/allocation.h"
#include "contracts/compliance.h"

namespace carbon::contracts {

[[gnu::weak]] Result<std::uint64_t> compute_allocation(const AllocationInputs&, std::uint64_t) {
  return Status::error(ErrorCode::kInternal, "compute_allocation is not implemented yet");
}

[[gnu::weak]] Result<CompliancePosition> compliance_position(const Ledger&, std::uint16_t,
                                                             const PublicKey&) {
  return Status::error(ErrorCode::kInternal, "compliance_position is not implemented yet");
}

}  // namespace carbon::contracts
