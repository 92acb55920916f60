// TEMPORARY COPY (branch h3): only what the node needs to compile, until the compliance work
// is merged. The real contracts/compliance.h replaces this file (its CompliancePosition wins;
// node/app.cc position_json() is the one place that reads the fields guessed here).
#pragma once

#include <cstdint>

#include "contracts/ledger.h"

namespace carbon::contracts {

struct CompliancePosition {
  PublicKey enterprise;
  std::uint16_t year = 0;
  std::uint64_t obligation_t = 0;
  std::uint64_t surrendered_allowances_t = 0;
  std::uint64_t surrendered_ccers_t = 0;
  std::uint64_t offset_limit_t = 0;
  std::uint64_t shortfall_t = 0;
};

Result<CompliancePosition> compliance_position(const Ledger& ledger, std::uint16_t year,
                                               const PublicKey& enterprise);

}  // namespace carbon::contracts
