// PLACEHOLDER: implemented in the registry work of issue 4 (not done yet).
#include "contracts/ledger_internal.h"

namespace carbon::contracts {

Status apply_call(Ledger&, const Context&, const RegisterProject&) {
  return Status::error(ErrorCode::kInternal, "RegisterProject is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const ApproveProject&) {
  return Status::error(ErrorCode::kInternal, "ApproveProject is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const IssueCcer&) {
  return Status::error(ErrorCode::kInternal, "IssueCcer is not implemented yet");
}

}  // namespace carbon::contracts
