// The registry's records in the contract state (beside the accounts, products and holdings of
// contracts/ledger.h). Key layout (numbers are fixed-width lower-case hex, so key order is
// number order; <year> is 4 hex digits; <ent>, <key> are 64-hex public keys):
//
//   meta/clock                          Clock             height and time of the last block
//   gov/officers                        OfficerSet        officers, threshold M, next proposal id
//   prop/<id:016x>                      Proposal          an authority act gathering approvals
//   rules/<year>                        RulesRecord       the version in force
//   rulesv/<year>/<version:08x>         RulesRecord       every version (history)
//   skey/<key>                          address           signing key -> account (rotated keys)
//   cap/<year>                          CapRecord         cap, split, what was issued from it
//   alloc/<year>/<ent>                  AllocationRecord  method, inputs, what was issued
//   mrv/<year>/<ent>                    EmissionRecord    the current MRV state
//   mrvh/<year>/<ent>/<seq:08x>         MrvEvent          every MRV step (history)
//   proj/<id:016x>                      Project           CCER projects
//   iss/<product>/<start:016x>          IssuanceRecord    every issued batch (serial range)
//   ret/<product>/<start:016x>          RetiredRange      surrendered, cancelled or withdrawn
//   mv/<product>/<height:016x>/<tx:08x>/<leg:08x>
//                                       MoveRecord        every transfer of a serial range
//   hist/<ent>/<product>                HolderHistory     per holder and product it no longer
//                                                          holds: received as issuance, sent,
//                                                          surrendered, intervention allowances
//                                                          held (while it holds the product, the
//                                                          history is in its bal/ record:
//                                                          BalanceRecord, contracts/ledger.h)
//   ivh/<product>/<key>                 (empty)           holders of intervention allowances
//   surr/<year>/<ent>                   SurrenderTotals   surrendered against year Y
//   ctab/<year>/<ent>                   ComplianceRow     the published table, at close
//   closed/<year>                       YearClosed        set by CloseYear
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "contracts/basics.h"
#include "contracts/calls.h"
#include "contracts/rules.h"

namespace carbon::contracts {

inline constexpr std::size_t kMaxApprovals = kMaxOfficers;

struct Clock {
  Height height = 0;
  std::uint64_t time_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(height, time_ms);
  }
};

struct OfficerSet {
  std::vector<PublicKey> officers;
  std::uint8_t threshold = 1;
  std::uint64_t next_proposal_id = 1;
  std::uint64_t next_project_id = 1;  // CCER project ids are handed out here too
  bool is_officer(const PublicKey& key) const {
    for (const auto& officer : officers)
      if (officer == key) return true;
    return false;
  }
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_vector(archive, officers, kMaxOfficers, 32);
    archive(threshold, next_proposal_id, next_project_id);
  }
};

enum class ProposalStatus : std::uint8_t { kOpen = 0, kExecuted = 1 };
inline constexpr ProposalStatus kMaxProposalStatus = ProposalStatus::kExecuted;

struct Proposal {
  std::uint64_t id = 0;
  AuthorityAct act;
  PublicKey proposer;
  std::vector<PublicKey> approvals;  // officers, in order of approval; the proposer first
  std::uint8_t threshold = 1;        // M when proposed (a later SetOfficers does not change it)
  Height created_height = 0;
  std::uint64_t created_ms = 0;
  std::uint64_t expires_ms = 0;  // approvals after this time are refused
  ProposalStatus status = ProposalStatus::kOpen;
  Height executed_height = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, act, proposer);
    core::codec::bounded_vector(archive, approvals, kMaxApprovals, 32);
    archive(threshold, created_height, created_ms, expires_ms);
    enum_field<A, ProposalStatus, kMaxProposalStatus>(archive, status);
    archive(executed_height);
  }
};

struct CapRecord {
  std::uint16_t year = 0;
  std::uint64_t cap_t = 0;
  std::uint64_t free_t = 0;  // cap - reserve - auction
  std::uint64_t reserve_t = 0;
  std::uint64_t auction_t = 0;
  std::uint64_t free_issued_t = 0;     // pre-allocations and true-ups
  std::uint64_t reserve_issued_t = 0;  // ex-post adjustments
  std::uint64_t withdrawn_t = 0;       // true-up and adjustment withdrawals (cancelled)
  std::uint64_t auction_issued_t = 0;  // IssueAllowances (units for auctions), within auction_t
  template <class A>
  void serialize(A& archive) {
    archive(year, cap_t, free_t, reserve_t, auction_t, free_issued_t, reserve_issued_t,
            withdrawn_t, auction_issued_t);
  }
};

struct AllocationRecord {
  PublicKey enterprise;
  std::uint16_t year = 0;
  AllocationInputs inputs;
  std::uint64_t initial_t = 0;      // by the inputs with base production (offset limit basis)
  std::uint64_t deduction_t = 0;    // from last year's shortfall, taken off this allocation
  std::uint64_t pre_issued_t = 0;   // issued by IssuePreAllocation
  std::uint8_t trued_up = 0;
  std::uint64_t final_t = 0;        // by the inputs with verified production (after true-up)
  std::uint8_t adjusted = 0;
  std::uint64_t issued_t = 0;       // everything issued under this allocation
  std::uint64_t withdrawn_t = 0;    // everything withdrawn (true-up or adjustment)
  // 1 once IssuePreAllocation ran, even when it issued nothing (a deduction from last year's
  // shortfall can absorb the whole pre-allocation share, leaving pre_issued_t at 0).
  std::uint8_t pre_allocated = 0;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year, inputs, initial_t, deduction_t, pre_issued_t);
    flag_field(archive, trued_up);
    archive(final_t);
    flag_field(archive, adjusted);
    archive(issued_t, withdrawn_t);
    flag_field(archive, pre_allocated);  // appended: later fields go after this one
  }
};

enum class MrvStatus : std::uint8_t {
  kReported = 0,
  kVerified = 1,
  kApproved = 2,
  kEstimated = 3,
  kAssigned = 4,  // a verifier is assigned, no report yet
};
inline constexpr MrvStatus kMaxMrvStatus = MrvStatus::kAssigned;
std::string_view mrv_status_name(MrvStatus status);

struct EmissionRecord {
  PublicKey enterprise;
  std::uint16_t year = 0;
  MrvStatus status = MrvStatus::kReported;
  std::uint32_t report_version = 0;  // 0: no report
  Hash256 report_hash;
  std::uint64_t declared_t = 0;
  std::uint64_t reported_ms = 0;
  PublicKey verifier;  // all zero: none assigned
  std::uint8_t has_verifier = 0;
  std::uint32_t verification_version = 0;
  Hash256 verification_hash;
  std::uint64_t verified_t = 0;
  std::uint64_t verified_production_units = 0;
  std::uint64_t verified_ms = 0;
  std::uint32_t approval_version = 0;  // 0: no obligation yet
  std::uint64_t obligation_t = 0;      // approved (or estimated) emissions
  std::uint64_t approved_ms = 0;
  std::uint8_t estimated = 0;
  std::uint32_t next_event = 0;  // history sequence
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year);
    enum_field<A, MrvStatus, kMaxMrvStatus>(archive, status);
    archive(report_version, report_hash, declared_t, reported_ms, verifier);
    flag_field(archive, has_verifier);
    archive(verification_version, verification_hash, verified_t, verified_production_units,
            verified_ms, approval_version, obligation_t, approved_ms);
    flag_field(archive, estimated);
    archive(next_event);
  }
};

enum class MrvEventKind : std::uint8_t {
  kReport = 0,
  kVerifierAssigned = 1,
  kVerification = 2,
  kApproval = 3,
  kEstimate = 4,
};
inline constexpr MrvEventKind kMaxMrvEventKind = MrvEventKind::kEstimate;
std::string_view mrv_event_name(MrvEventKind kind);

struct MrvEvent {
  std::uint32_t seq = 0;
  MrvEventKind kind = MrvEventKind::kReport;
  Height height = 0;
  std::uint64_t time_ms = 0;
  PublicKey actor;
  std::uint32_t version = 0;  // of the report, verification or approval
  std::uint64_t figure_t = 0;
  Hash256 document_hash;
  std::uint64_t production_units = 0;
  template <class A>
  void serialize(A& archive) {
    archive(seq);
    enum_field<A, MrvEventKind, kMaxMrvEventKind>(archive, kind);
    archive(height, time_ms, actor, version, figure_t, document_hash, production_units);
  }
};

enum class ProjectStatus : std::uint8_t { kPending = 0, kApproved = 1 };
inline constexpr ProjectStatus kMaxProjectStatus = ProjectStatus::kApproved;

struct Project {
  std::uint64_t id = 0;
  PublicKey owner;
  RegisterProject details;
  ProjectStatus status = ProjectStatus::kPending;
  Height registered_height = 0;
  std::uint64_t registered_ms = 0;
  std::uint64_t approved_ms = 0;
  std::uint64_t issued_t = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, owner, details);
    enum_field<A, ProjectStatus, kMaxProjectStatus>(archive, status);
    archive(registered_height, registered_ms, approved_ms, issued_t);
  }
};

enum class IssuanceKind : std::uint8_t {
  kDirect = 0,         // IssueAllowances
  kPreAllocation = 1,
  kTrueUp = 2,
  kAdjustment = 3,     // from the government reserve
  kCcer = 4,
};
inline constexpr IssuanceKind kMaxIssuanceKind = IssuanceKind::kCcer;
std::string_view issuance_kind_name(IssuanceKind kind);

struct IssuanceRecord {
  ProductId product;
  SerialRange range;
  PublicKey to;
  IssuanceKind kind = IssuanceKind::kDirect;
  Height height = 0;
  std::uint64_t time_ms = 0;
  Hash256 reference;  // verification hash for CCERs, zero otherwise
  template <class A>
  void serialize(A& archive) {
    archive(product, range, to);
    enum_field<A, IssuanceKind, kMaxIssuanceKind>(archive, kind);
    archive(height, time_ms, reference);
  }
};

enum class RetirementKind : std::uint8_t {
  kSurrendered = 0,
  kCancelledUntraded = 1,  // never traded, at year close
  kCancelledNoBanking = 2,  // banking not allowed, at year close
  kWithdrawn = 3,           // allocation true-up or adjustment
};
inline constexpr RetirementKind kMaxRetirementKind = RetirementKind::kWithdrawn;
std::string_view retirement_kind_name(RetirementKind kind);

struct RetiredRange {
  ProductId product;
  SerialRange range;
  PublicKey owner;
  RetirementKind kind = RetirementKind::kSurrendered;
  std::uint16_t year = 0;  // compliance year it counts for (surrender) or was closed (cancel)
  Height height = 0;
  std::uint64_t time_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(product, range, owner);
    enum_field<A, RetirementKind, kMaxRetirementKind>(archive, kind);
    archive(year, height, time_ms);
  }
};

struct MoveRecord {
  SerialRange range;
  PublicKey from;
  PublicKey to;
  Height height = 0;
  std::uint64_t time_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(range, from, to, height, time_ms);
  }
};

// Per holder and product: what it received by issuance, sent by transfer and surrendered
// (the "never traded" rule at year close uses these).
struct HolderHistory {
  std::uint64_t issued_t = 0;  // received as issuance, less withdrawals
  std::uint64_t sent_t = 0;    // transferred to others
  std::uint64_t surrendered_t = 0;
  // Intervention allowances still held: bought from the reserve's intervention sales, or
  // received from a holder of them (they leave a holding first). RULES.md: never banked, so
  // cancelled at year close from whoever holds them (ivh/<product>/<key> indexes holders).
  std::uint64_t intervention_t = 0;
  friend bool operator==(const HolderHistory&, const HolderHistory&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(issued_t, sent_t, surrendered_t, intervention_t);
  }
};

// bal/<owner>/<product>: a non-zero balance and the holder's history with the product, in one
// record because a transfer changes both for its sender (one state key written, not two). When
// the balance falls to zero the history moves to hist/<owner>/<product> (a HolderHistory), so
// bal/ lists exactly what a holder holds; it moves back when the holder receives units again.
struct BalanceRecord {
  std::uint64_t held_t = 0;
  HolderHistory history;
  // Where the record was read from (not stored): tells Ledger::put_balance_record() which key to
  // erase when the record moves between bal/ and hist/, without a lookup.
  enum class Stored : std::uint8_t { kNowhere, kBalance, kHistory };
  Stored stored = Stored::kNowhere;
  template <class A>
  void serialize(A& archive) {
    archive(held_t, history);
  }
};

struct SurrenderTotals {
  std::uint64_t allowances_t = 0;
  std::uint64_t ccers_t = 0;
  std::uint64_t total() const { return allowances_t + ccers_t; }
  template <class A>
  void serialize(A& archive) {
    archive(allowances_t, ccers_t);
  }
};

enum class ComplianceStatus : std::uint8_t { kCompliant = 0, kShort = 1 };
inline constexpr ComplianceStatus kMaxComplianceStatus = ComplianceStatus::kShort;

struct ComplianceRow {
  PublicKey enterprise;
  std::string name;
  std::uint64_t obligation_t = 0;
  std::uint64_t surrendered_t = 0;
  std::uint64_t ccers_t = 0;
  ComplianceStatus status = ComplianceStatus::kCompliant;
  std::uint64_t shortfall_t = 0;
  std::uint64_t penalty_fen = 0;
  std::uint64_t deduction_t = 0;  // from next year's allocation
  std::uint64_t cancelled_t = 0;  // allowances cancelled at close
  template <class A>
  void serialize(A& archive) {
    archive(enterprise);
    core::codec::bounded_string(archive, name, kMaxNameBytes);
    archive(obligation_t, surrendered_t, ccers_t);
    enum_field<A, ComplianceStatus, kMaxComplianceStatus>(archive, status);
    archive(shortfall_t, penalty_fen, deduction_t, cancelled_t);
  }
};

struct YearClosed {
  std::uint16_t year = 0;
  Height height = 0;
  std::uint64_t time_ms = 0;
  std::uint32_t enterprises = 0;
  std::uint32_t short_enterprises = 0;
  std::uint64_t penalties_fen = 0;
  template <class A>
  void serialize(A& archive) {
    archive(year, height, time_ms, enterprises, short_enterprises, penalties_fen);
  }
};

}  // namespace carbon::contracts
