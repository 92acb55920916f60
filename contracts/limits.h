// Named bounds of the contracts layer. Every variable-length field and every loop over state
// has one; a transaction or record that would exceed a bound is refused, never truncated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace carbon::contracts {

// Largest encoded SignedTx accepted by decode_signed_tx (and so by the mempool and blocks).
inline constexpr std::size_t kMaxTxBytes = 4096;
// Signatures on one transaction (M-of-N officer signatures for authority acts fit in this).
inline constexpr std::size_t kMaxSignatures = 8;
inline constexpr std::size_t kMaxChainIdBytes = 64;
// A participant's display name, in UTF-8 bytes (Chinese names take 3 bytes per character).
inline constexpr std::size_t kMaxNameBytes = 128;
// Receipt messages are truncated to this many bytes before they are stored.
inline constexpr std::size_t kMaxReceiptMessageBytes = 256;

// Vintages (compliance years) that may be issued at all.
inline constexpr std::uint16_t kMinVintageYear = 2005;
inline constexpr std::uint16_t kMaxVintageYear = 2100;
// Most tonnes one issuance or transfer may move (far above any real cap: 10^12 t).
inline constexpr std::uint64_t kMaxQuantityPerTx = 1'000'000'000'000ULL;
// Most serial ranges a single transfer may consume from the sender's holdings; a transfer
// needing more fails with a message telling the holder to transfer in smaller parts.
inline constexpr std::size_t kMaxRangesPerTransfer = 1024;
// Chunks of kMaxRangesPerTransfer ranges one withdrawal or cancellation may retire, or one
// trade may deliver.
inline constexpr std::size_t kMaxRetireChunks = 16;
// Serial ranges one transaction may move in all (an order filled against many makers whose
// holdings are scattered): bounds the work and the move records of one transaction.
inline constexpr std::size_t kMaxRangesMovedPerTx = 16'384;
// The mempool accepts nonces at most this far ahead of the sender's next expected nonce.
inline constexpr std::uint64_t kMaxNonceGap = 1024;
// Page size for full-state scans (rebuilding the Merkle tree, invariant checks).
inline constexpr std::size_t kScanPageSize = 1024;

}  // namespace carbon::contracts
