// PLACEHOLDER: implemented in the registry work of issue 4 (not done yet).
#include "contracts/ledger_internal.h"

namespace carbon::contracts {

Status apply_act(Ledger&, const Context&, const AssignVerifier&) {
  return Status::error(ErrorCode::kInternal, "AssignVerifier is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const ApproveEmissions&) {
  return Status::error(ErrorCode::kInternal, "ApproveEmissions is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const EstimateEmissions&) {
  return Status::error(ErrorCode::kInternal, "EstimateEmissions is not implemented yet");
}

Status apply_call(Ledger&, const Context&, const SubmitReport&) {
  return Status::error(ErrorCode::kInternal, "SubmitReport is not implemented yet");
}

Status apply_call(Ledger&, const Context&, const SubmitVerification&) {
  return Status::error(ErrorCode::kInternal, "SubmitVerification is not implemented yet");
}

}  // namespace carbon::contracts
