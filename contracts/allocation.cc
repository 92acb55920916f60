// PLACEHOLDER: implemented in the registry work of issue 4 (not done yet).
#include "contracts/ledger_internal.h"

namespace carbon::contracts {

Status apply_act(Ledger&, const Context&, const SetCap&) {
  return Status::error(ErrorCode::kInternal, "SetCap is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const SetAllocation&) {
  return Status::error(ErrorCode::kInternal, "SetAllocation is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const IssuePreAllocation&) {
  return Status::error(ErrorCode::kInternal, "IssuePreAllocation is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const TrueUpAllocation&) {
  return Status::error(ErrorCode::kInternal, "TrueUpAllocation is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const AdjustAllocation&) {
  return Status::error(ErrorCode::kInternal, "AdjustAllocation is not implemented yet");
}

}  // namespace carbon::contracts
