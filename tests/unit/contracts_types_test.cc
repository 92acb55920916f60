// Transaction encoding (round trip, bounds, canonical form) and the stateless signature check.
#include <gtest/gtest.h>

#include "contracts/ledger_internal.h"
#include "contracts/types.h"
#include "contracts_harness.h"
#include "crafted_signature.h"

namespace carbon::contracts {
namespace {

using testing::make_tx;
using testing::test_key;

std::vector<Call> sample_calls() {
  return {
      Propose{RegisterParticipant{test_key(1).public_key(), "湖北某钢铁有限公司", Role::kCoveredEnterprise}},
      Propose{IssueAllowances{test_key(2).public_key(), 2025, 1'000'000}},
      TransferUnits{test_key(3).public_key(), ProductId::allowance(2024), 500},
      TransferUnits{test_key(3).public_key(), ProductId{ProductKind::kCcer, 2023, 77}, 5},
      Propose{SetFrozen{test_key(4).public_key(), 1}},
      Approve{42},
      RotateKey{test_key(5).public_key()},
      SubmitReport{2025, core::sha3_256(core::as_bytes(std::string_view("report"))), 123'456},
      SubmitVerification{test_key(6).public_key(), 2025, Hash256{}, 120'000, 5'000},
      RegisterProject{"大别山林业碳汇", "AR-CM-001", ProjectType::kForestryCarbonSink, "HB", 2020, 2029},
      Surrender{2025, ProductId::allowance(2025), 100},
      Propose{SetRules{2025, default_rules(2025)}},
      Propose{SetAllocation{test_key(6).public_key(), 2025,
                            AllocationInputs{AllocationMethod::kBenchmark, 0, 1'000'000, 0, 850'000, 1'000}}},
      Propose{CloseYear{2025}},
  };
}

// State keys are built piece by piece in one buffer (contracts/key_text.h); their text is the
// state's layout, so it is pinned here character by character.
TEST(ContractsTypes, StateKeysHaveTheirDocumentedText) {
  PublicKey owner;
  for (std::size_t i = 0; i < owner.bytes.size(); ++i) owner.bytes[i] = static_cast<std::uint8_t>(0xF0 + i);
  const std::string owner_hex = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f";
  ASSERT_EQ(owner.to_hex(), owner_hex);
  const ProductId hbea = ProductId::allowance(2025);
  const ProductId ccer{ProductKind::kCcer, 65535, 18446744073709551615ULL};
  EXPECT_EQ(hbea.code(), "HBEA-2025");
  EXPECT_EQ(ccer.code(), "CCER-18446744073709551615-65535");
  EXPECT_EQ(ProductId::from_code(ccer.code()).value(), ccer);
  EXPECT_EQ(keys::account(owner), "acct/" + owner_hex);
  EXPECT_EQ(keys::balance(owner, ccer), "bal/" + owner_hex + "/CCER-18446744073709551615-65535");
  EXPECT_EQ(keys::holdings_prefix(owner, hbea), "hold/" + owner_hex + "/HBEA-2025/");
  EXPECT_EQ(keys::holding(owner, hbea, 0x1234), "hold/" + owner_hex + "/HBEA-2025/0000000000001234");
  EXPECT_EQ(keys::hex16(~0ULL), "ffffffffffffffff");
  EXPECT_EQ(keys::hex8(0xABCDEF), "00abcdef");
  EXPECT_EQ(keys::year(2025), "07e9");
  EXPECT_EQ(keys::move(hbea, 7, 3, 1), "mv/HBEA-2025/0000000000000007/00000003/00000001");
  EXPECT_EQ(keys::rules_version(2025, 2), "rulesv/07e9/00000002");
}

TEST(ContractsTypes, SignedTxRoundTripsForEveryCall) {
  for (const Call& call : sample_calls()) {
    const SignedTx signed_tx = make_tx(test_key(0), 7, call, 99);
    const Bytes encoded = encode_signed_tx(signed_tx);
    EXPECT_LE(encoded.size(), kMaxTxBytes);
    auto decoded = decode_signed_tx(encoded);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, signed_tx) << call_name(call);
    EXPECT_EQ(tx_id(*decoded), tx_id(signed_tx));
    EXPECT_TRUE(check_signatures(*decoded).is_ok());
  }
}

TEST(ContractsTypes, ReceiptRoundTrips) {
  const Receipt receipt{core::sha3_256(core::as_bytes("x")), ErrorCode::kConflict,
                        "not enough units"};
  auto decoded = decode_receipt(encode_receipt(receipt));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, receipt);
}

TEST(ContractsTypes, DecodeRejectsMalformedInput) {
  const SignedTx signed_tx =
      make_tx(test_key(0), 1, IssueAllowances{test_key(2).public_key(), 2025, 10});
  const Bytes good = encode_signed_tx(signed_tx);

  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode_signed_tx(trailing).is_ok());

  Bytes truncated(good.begin(), good.end() - 1);
  EXPECT_FALSE(decode_signed_tx(truncated).is_ok());
  EXPECT_FALSE(decode_signed_tx({}).is_ok());

  Bytes oversize(kMaxTxBytes + 1, 0);
  auto too_big = decode_signed_tx(oversize);
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_EQ(too_big.status().code(), ErrorCode::kOutOfBounds);

  // The call's variant index follows the archive's endianness byte (1), chain id (4 + len),
  // sender (32), nonce (8), expiry (8).
  const std::size_t index_offset = 1 + 4 + signed_tx.tx.chain_id.size() + 32 + 8 + 8;
  ASSERT_EQ(good[index_offset], 1);  // IssueAllowances
  Bytes bad_index = good;
  bad_index[index_offset] = 9;
  EXPECT_FALSE(decode_signed_tx(bad_index).is_ok());

  SignedTx unsigned_tx = signed_tx;
  unsigned_tx.signatures.clear();
  EXPECT_FALSE(decode_signed_tx(encode_signed_tx(unsigned_tx)).is_ok());
}

TEST(ContractsTypes, DecodeRejectsOutOfRangeEnumAndFlag) {
  SignedTx with_role =
      make_tx(test_key(0), 1, RegisterParticipant{test_key(1).public_key(), "n", kMaxRole});
  Bytes bytes = encode_signed_tx(with_role);
  // The role byte is the last byte of the call, right before the signature count (4 bytes)
  // and one signature (96 bytes).
  const std::size_t role_offset = bytes.size() - 4 - 96 - 1;
  ASSERT_EQ(bytes[role_offset], static_cast<std::uint8_t>(kMaxRole));
  bytes[role_offset] = static_cast<std::uint8_t>(kMaxRole) + 1;
  EXPECT_FALSE(decode_signed_tx(bytes).is_ok());

  SignedTx with_flag = make_tx(test_key(0), 1, SetFrozen{test_key(1).public_key(), 1});
  Bytes flag_bytes = encode_signed_tx(with_flag);
  const std::size_t flag_offset = flag_bytes.size() - 4 - 96 - 1;
  ASSERT_EQ(flag_bytes[flag_offset], 1);
  flag_bytes[flag_offset] = 2;
  EXPECT_FALSE(decode_signed_tx(flag_bytes).is_ok());
}

TEST(ContractsTypes, DecodeRejectsTooManySignatures) {
  SignedTx signed_tx = make_tx(test_key(0), 1, SetFrozen{test_key(1).public_key(), 0});
  for (std::uint32_t i = 1; i < kMaxSignatures; ++i) sign_tx(signed_tx, test_key(100 + i));
  ASSERT_EQ(signed_tx.signatures.size(), kMaxSignatures);
  EXPECT_TRUE(decode_signed_tx(encode_signed_tx(signed_tx)).is_ok());
  EXPECT_TRUE(check_signatures(signed_tx).is_ok());
  // One more than the limit: encode it by hand (encode() refuses to write it).
  Bytes bytes = encode_signed_tx(signed_tx);
  const std::size_t count_offset = bytes.size() - 96 * kMaxSignatures - 4;
  bytes[count_offset] = static_cast<std::uint8_t>(kMaxSignatures + 1);
  const Bytes extra = encode_signed_tx(signed_tx);
  bytes.insert(bytes.end(), extra.end() - 96, extra.end());
  EXPECT_FALSE(decode_signed_tx(bytes).is_ok());
}

TEST(ContractsTypes, CheckSignaturesRules) {
  const Call call = TransferUnits{test_key(3).public_key(), ProductId::allowance(2025), 5};
  const SignedTx good = make_tx(test_key(1), 1, call);
  EXPECT_TRUE(check_signatures(good).is_ok());

  struct Case {
    const char* name;
    SignedTx tx;
    const char* message_part;
  };
  std::vector<Case> cases;
  {
    SignedTx tx = good;
    tx.signatures.clear();
    cases.push_back({"unsigned", tx, "not signed"});
  }
  // Whether the sender's current key signed depends on the state (keys rotate): the executor's
  // check_signer covers it (ContractsRules.TableOfRejections, "sender did not sign").
  {
    SignedTx tx = good;
    tx.signatures.push_back(tx.signatures[0]);
    cases.push_back({"duplicate signer", tx, "signed twice"});
  }
  {
    SignedTx tx = good;
    tx.tx.nonce = 2;  // signed over nonce 1
    cases.push_back({"tampered transaction", tx, "does not verify"});
  }
  {
    SignedTx tx = good;
    tx.signatures[0].signature.bytes[10] ^= 0x01;
    cases.push_back({"corrupted signature", tx, "does not verify"});
  }
  {
    SignedTx tx = good;
    sign_tx(tx, test_key(2));
    tx.signatures[1].signature = tx.signatures[0].signature;
    cases.push_back({"co-signer's signature invalid", tx, "does not verify"});
  }
  {
    SignedTx tx = make_tx(test_key(1), 1, call, 1'000'000, "other-chain");
    tx.tx.chain_id = testing::kTestChain;  // a signature for another chain
    cases.push_back({"signed for another chain", tx, "does not verify"});
  }
  for (const auto& c : cases) {
    const Status status = check_signatures(c.tx);
    EXPECT_FALSE(status.is_ok()) << c.name;
    EXPECT_EQ(status.code(), ErrorCode::kBadSignature) << c.name;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos)
        << c.name << ": " << status.message();
  }

  SignedTx co_signed = good;
  sign_tx(co_signed, test_key(2));
  EXPECT_TRUE(check_signatures(co_signed).is_ok());
}

TEST(ContractsTypes, DigestAndIdAreDistinctAndBindEverything) {
  const SignedTx a = make_tx(test_key(1), 1, SetFrozen{test_key(2).public_key(), 1});
  EXPECT_NE(signing_digest(a.tx), tx_id(a));
  SignedTx b = a;
  sign_tx(b, test_key(5));
  EXPECT_EQ(signing_digest(a.tx), signing_digest(b.tx));
  EXPECT_NE(tx_id(a), tx_id(b));
  SignedTx c = make_tx(test_key(1), 1, SetFrozen{test_key(2).public_key(), 0});
  EXPECT_NE(signing_digest(a.tx), signing_digest(c.tx));
}

TEST(ContractsTypes, ProductCodesAndRoles) {
  EXPECT_EQ(ProductId::allowance(2025).code(), "HBEA-2025");
  EXPECT_EQ((ProductId{ProductKind::kCcer, 2023, 42}).code(), "CCER-42-2023");
  for (const ProductId& product :
       {ProductId::allowance(2025), ProductId{ProductKind::kCcer, 2023, 42},
        ProductId{ProductKind::kCcer, 65535, UINT64_MAX}}) {
    auto parsed = ProductId::from_code(product.code());
    ASSERT_TRUE(parsed.is_ok()) << product.code();
    EXPECT_EQ(*parsed, product);
  }
  for (const char* bad : {"", "HBEA", "HBEA-", "HBEA-02025", "HBEA-65536", "HBEA-20x5", "hbea-2025",
                          "CCER-2025", "CCER--2025", "CCER-01-2025", "CCER-1-",
                          "CCER-18446744073709551616-2025", "XYZ-2025", "HBEA-2025/"}) {
    EXPECT_FALSE(ProductId::from_code(bad).is_ok()) << bad;
  }
  // One product, one id: an allowance carries no project (code() and the state keys leave it
  // out, so another value would reach HBEA-2025's records under an id unequal to HBEA-2025's).
  const ProductId alias{ProductKind::kAllowance, 2025, 1};
  const auto refused = core::codec::decode<ProductId>(core::codec::encode(alias));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("no project id"), std::string::npos) << refused.status().message();
  EXPECT_TRUE(core::codec::decode<ProductId>(core::codec::encode(ProductId::allowance(2025))).is_ok());
  PlaceOrder order;
  order.product = alias;
  order.price_fen = 2000;
  order.quantity_t = 10;
  const SignedTx aliased = make_tx(test_key(1), 1, order);
  const auto decoded = decode_signed_tx(encode_signed_tx(aliased));
  ASSERT_FALSE(decoded.is_ok());  // refused at admission, before any contract sees it
  EXPECT_NE(decoded.status().message().find("no project id"), std::string::npos) << decoded.status().message();
  EXPECT_TRUE(role_may_hold(Role::kCoveredEnterprise, ProductKind::kAllowance));
  EXPECT_TRUE(role_may_hold(Role::kReserve, ProductKind::kAllowance));
  EXPECT_TRUE(role_may_hold(Role::kVoluntary, ProductKind::kCcer));
  EXPECT_TRUE(role_may_hold(Role::kProjectOwner, ProductKind::kCcer));
  EXPECT_FALSE(role_may_hold(Role::kProjectOwner, ProductKind::kAllowance));
  EXPECT_FALSE(role_may_hold(Role::kAuthority, ProductKind::kAllowance));
  EXPECT_FALSE(role_may_hold(Role::kVerifier, ProductKind::kAllowance));
  EXPECT_FALSE(role_may_hold(Role::kReportingEnterprise, ProductKind::kAllowance));
  EXPECT_EQ(role_name(Role::kSettlementBank), "settlement_bank");
}

// check_signatures_many gives every transaction check_signatures' own verdict, batch or not.
TEST(ContractsTypes, CheckSignaturesManyGivesEachTransactionCheckSignaturesVerdict) {
  std::vector<SignedTx> txs;
  for (std::uint32_t i = 0; i < 150; ++i) {
    txs.push_back(make_tx(test_key(i % 7), i + 1, TransferUnits{test_key(9).public_key(), ProductId::allowance(2025), i + 1}, 50));
  }
  // Spoilt ones: a flipped bit in a signature, a second signature by the same signer, none at all.
  txs[3].signatures[0].signature.bytes[40] ^= 0x10;
  txs[70].signatures.push_back(txs[70].signatures[0]);
  txs[140].signatures.clear();
  // Co-signed by two keys, valid.
  sign_tx(txs[100], test_key(11));
  std::vector<const SignedTx*> pointers;
  for (const auto& tx : txs) pointers.push_back(&tx);
  const std::vector<Status> verdicts = check_signatures_many(pointers);
  ASSERT_EQ(verdicts.size(), txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    const Status alone = check_signatures(txs[i]);
    EXPECT_EQ(verdicts[i].is_ok(), alone.is_ok()) << i;
    EXPECT_EQ(verdicts[i].code(), alone.code()) << i;
    EXPECT_EQ(verdicts[i].message(), alone.message()) << i;
  }
  EXPECT_FALSE(verdicts[3].is_ok());
  EXPECT_EQ(verdicts[3].code(), ErrorCode::kBadSignature);
  EXPECT_FALSE(verdicts[70].is_ok());
  EXPECT_FALSE(verdicts[140].is_ok());
  EXPECT_TRUE(verdicts[100].is_ok());
  EXPECT_TRUE(verdicts[0].is_ok());
  EXPECT_FALSE(all_pass_check_signatures(pointers));
  // Without the spoilt ones, all pass, in one call as in many.
  std::vector<const SignedTx*> good;
  for (std::size_t i = 0; i < txs.size(); ++i) {
    if (i != 3 && i != 70 && i != 140) good.push_back(&txs[i]);
  }
  EXPECT_TRUE(all_pass_check_signatures(good));
  for (const Status& verdict : check_signatures_many(good)) EXPECT_TRUE(verdict.is_ok());
  EXPECT_TRUE(check_signatures_many({}).empty());
  EXPECT_TRUE(all_pass_check_signatures({}));
}

// signatures_verified() (GET /status) counts each signature checked, so that a benchmark can show
// whether a node checks any twice: a batch that passes counts its signatures once; one that
// fails is checked again one by one and counts them again.
TEST(ContractsTypes, SignaturesVerifiedCountsEverySignatureChecked) {
  std::vector<SignedTx> txs;
  for (std::uint32_t i = 0; i < 10; ++i) {
    txs.push_back(make_tx(test_key(i), i + 1, TransferUnits{test_key(20).public_key(), ProductId::allowance(2025), 1}, 50));
  }
  sign_tx(txs[4], test_key(21));  // co-signed: two signatures
  std::vector<const SignedTx*> pointers;
  for (const auto& tx : txs) pointers.push_back(&tx);
  std::uint64_t before = signatures_verified();
  for (const Status& verdict : check_signatures_many(pointers)) EXPECT_TRUE(verdict.is_ok());
  EXPECT_EQ(signatures_verified() - before, 11u);
  before = signatures_verified();
  EXPECT_TRUE(all_pass_check_signatures(pointers));
  EXPECT_EQ(signatures_verified() - before, 11u);
  before = signatures_verified();
  EXPECT_TRUE(check_signatures(txs[4]).is_ok());
  EXPECT_EQ(signatures_verified() - before, 2u);
  // One bad signature: the batch (11) fails, then each transaction is checked alone (11 more).
  txs[7].signatures[0].signature.bytes[40] ^= 0x10;
  before = signatures_verified();
  const std::vector<Status> verdicts = check_signatures_many(pointers);
  EXPECT_FALSE(verdicts[7].is_ok());
  EXPECT_EQ(signatures_verified() - before, 22u);
}

// A signature with a small-order part in R, which only its key's owner can make: every path
// judges it the same (accepted), so no two nodes can disagree on it, whichever path each took.
TEST(ContractsTypes, ASignatureOnlyTheCofactoredRuleAcceptsIsJudgedAlikeOnEveryPath) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 3;
  seed[31] = 0xC0;  // test_key(3)'s seed (contracts_harness.h)
  SignedTx crafted = make_tx(test_key(3), 1, TransferUnits{test_key(9).public_key(), ProductId::allowance(2025), 5}, 50);
  crafted.signatures[0].signature = test_crypto::sign_with_small_order_part(seed, signing_digest(crafted.tx).bytes);
  ASSERT_EQ(crafted.signatures[0].signer, test_key(3).public_key());
  EXPECT_FALSE(core::verify_signature(test_key(3).public_key(), signing_digest(crafted.tx).bytes,
                                      crafted.signatures[0].signature));
  EXPECT_TRUE(check_signatures(crafted).is_ok());
  std::vector<SignedTx> plain;
  for (std::uint32_t i = 0; i < 4; ++i) {
    plain.push_back(make_tx(test_key(4 + i), 1, TransferUnits{test_key(9).public_key(), ProductId::allowance(2025), 5}, 50));
  }
  // Two signatures: checked one at a time. Five: as a batch.
  for (const std::size_t others : {1u, 4u}) {
    std::vector<const SignedTx*> set = {&crafted};
    for (std::size_t i = 0; i < others; ++i) set.push_back(&plain[i]);
    EXPECT_TRUE(all_pass_check_signatures(set)) << others;
    for (const Status& verdict : check_signatures_many(set)) EXPECT_TRUE(verdict.is_ok()) << others;
  }
}

}  // namespace
}  // namespace carbon::contracts
