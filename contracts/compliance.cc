// PLACEHOLDER: implemented in the registry work of issue 4 (not done yet).
#include "contracts/ledger_internal.h"

namespace carbon::contracts {

Status apply_call(Ledger&, const Context&, const Surrender&) {
  return Status::error(ErrorCode::kInternal, "Surrender is not implemented yet");
}

Status apply_act(Ledger&, const Context&, const CloseYear&) {
  return Status::error(ErrorCode::kInternal, "CloseYear is not implemented yet");
}

}  // namespace carbon::contracts
