// Every bound the consensus layer enforces, by name. A message over any of these is dropped
// and counted (see DropCounters), never trusted and never a crash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace carbon::consensus {

inline constexpr std::size_t kMaxValidators = 128;
inline constexpr std::size_t kMaxChainIdBytes = 64;
// A block's opaque payload (a batch of encoded transactions, for the node).
inline constexpr std::size_t kMaxPayloadBytes = 4u * 1024u * 1024u;
// Any single encoded consensus message, payloads included.
inline constexpr std::size_t kMaxMessageBytes = 12u * 1024u * 1024u;
// Votes and timeouts are stored only for rounds up to this far beyond the current round.
// (Certificates inside messages from further ahead are still checked and used: they are proof.)
inline constexpr std::uint64_t kMaxRoundsAhead = 64;
// Rounds behind the current one for which collected votes are kept.
inline constexpr std::uint64_t kVoteRoundsKept = 2;
// Blocks held in memory that are not yet committed (the block tree), plus fetched ones
// waiting for their parent.
inline constexpr std::size_t kMaxPendingBlocks = 2048;
// Committed blocks kept in memory to answer block sync; older ones the driver serves from
// its store (Effect ServeCommittedBlocks).
inline constexpr std::size_t kCommittedBlocksKept = 256;
// Blocks in one sync response.
inline constexpr std::size_t kMaxSyncBlocks = 64;
// Proposals held while their missing ancestors are fetched.
inline constexpr std::size_t kMaxStashedProposals = 16;
// The pacemaker doubles the round timeout after each round that ends without a QC, up to
// this many doublings.
inline constexpr std::uint32_t kMaxBackoffExponent = 6;

}  // namespace carbon::consensus
