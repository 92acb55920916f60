#include "tests/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <sstream>

#include "consensus/core.h"
#include "consensus/verifier.h"
#include "core/hash.h"

namespace carbon::sim {
namespace {

using namespace carbon::consensus;  // NOLINT(google-build-using-namespace): test code

// xoshiro256** seeded by splitmix64: small, fast, and identical on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [lo, hi].
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }
  bool percent(std::uint64_t p) { return next() % 100 < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4]{};
};

// A keyed hash standing in for Ed25519 in the simulator: sig = SHA3(secret || digest). The
// verifier knows every secret; a replica's signer knows only its own.
struct SimKeyring {
  std::map<PublicKey, Hash256> secret_by_key;
};

class SimSigner final : public Signer {
 public:
  SimSigner(PublicKey key, Hash256 secret) : key_(key), secret_(secret) {}
  PublicKey public_key() const override { return key_; }
  Signature sign(const Hash256& digest) const override { return make(secret_, digest); }
  static Signature make(const Hash256& secret, const Hash256& digest) {
    core::Sha3Hasher hasher;
    hasher.update(secret.bytes).update(digest.bytes);
    const Hash256 mac = hasher.finish();
    Signature out;
    std::copy(mac.bytes.begin(), mac.bytes.end(), out.bytes.begin());
    return out;
  }

 private:
  PublicKey key_;
  Hash256 secret_;
};

class SimVerifier final : public SignatureVerifier {
 public:
  explicit SimVerifier(const SimKeyring& keyring) : keyring_(keyring) {}
  bool verify(const PublicKey& key, const Hash256& digest, const Signature& signature) const override {
    auto it = keyring_.secret_by_key.find(key);
    return it != keyring_.secret_by_key.end() && SimSigner::make(it->second, digest) == signature;
  }

 private:
  const SimKeyring& keyring_;
};

struct Persisted {
  std::optional<Bytes> safety;  // encoded SafetyData, as the node would write it
  std::vector<Block> committed;  // committed[0] is genesis
  std::map<Hash256, Block> uncommitted;  // PersistBlockEffect, pruned on commit
};

struct Process {
  std::size_t id = 0;  // position in processes_
  ValidatorIndex index = 0;
  ByzantineKind kind = ByzantineKind::kNone;
  std::unique_ptr<Signer> signer;
  std::unique_ptr<ConsensusCore> core;
  bool alive = true;
  std::uint64_t incarnation = 0;
  std::uint64_t timer_generation = 0;
  Persisted persisted;
  int partition_group = 0;
  bool faulty() const { return kind != ByzantineKind::kNone; }
};

struct SimEvent {
  enum class Kind : std::uint8_t { kDeliver, kTimer, kPayload, kCrash, kRestart, kPartition, kHeal };
  std::uint64_t time_ms = 0;
  std::uint64_t sequence = 0;
  Kind kind = Kind::kDeliver;
  std::size_t process = 0;
  ValidatorIndex from = 0;
  std::uint64_t incarnation = 0;
  std::uint64_t generation = 0;
  Round round = 0;
  Hash256 parent_id;  // kPayload: the parent the payload is built for
  std::shared_ptr<const Bytes> bytes;
  bool operator>(const SimEvent& other) const {
    return time_ms != other.time_ms ? time_ms > other.time_ms : sequence > other.sequence;
  }
};

constexpr std::uint64_t kTickMs = 1;             // one pacemaker tick = 1 simulated ms
constexpr std::uint64_t kBaseTimeoutTicks = 400;  // round timeout before backoff
constexpr std::size_t kMaxQueuedEvents = 2'000'000;

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : options_(options), rng_(options.seed) {}

  SimResult run();

 private:
  void choose_scenario();
  void build_processes();
  void start_process(Process& process);
  void schedule(SimEvent event);
  void handle(const SimEvent& event);
  void deliver(Process& process, ValidatorIndex from, const Bytes& bytes);
  void step(Process& process, Event event);
  void perform(Process& process, Effects effects);
  void send_bytes(const Process& sender, std::size_t to_process, std::shared_ptr<const Bytes> bytes,
                  std::uint64_t extra_delay_ms = 0);
  void send_to_index(const Process& sender, ValidatorIndex to, const Message& message);
  void broadcast_from(Process& sender, const Message& message);
  void on_commit(Process& process, const CommitEffect& commit);
  void record_signed(const Process& process, const Message& message);
  void equivocate(Process& sender, const Message& message, const Proposal& proposal);
  const Block* find_seen(const Hash256& id) const;
  bool leads_as_equivocator(Round round) const;  // an equivocating leader leads `round`
  void fail(const std::string& what);
  void trace(const std::string& line);
  bool heal_complete() const;
  void check_liveness();
  Bytes make_payload(const Process& process, Round round);

  SimOptions options_;
  Rng rng_;
  SimResult result_;
  std::string chain_id_ = "carbon-sim";
  ValidatorSet validators_;
  Block genesis_;
  SimKeyring keyring_;
  std::unique_ptr<SignatureVerifier> signature_verifier_;
  std::unique_ptr<MessageVerifier> message_verifier_;
  std::vector<Process> processes_;
  std::vector<ByzantineKind> faulty_kind_by_index_;

  std::priority_queue<SimEvent, std::vector<SimEvent>, std::greater<>> queue_;
  std::uint64_t now_ms_ = 0;
  std::uint64_t next_sequence_ = 0;

  // Network profile (chaos phase; after heal: no loss, no duplication, no partitions).
  std::uint64_t min_delay_ms_ = 1;
  std::uint64_t max_delay_ms_ = 20;
  std::uint64_t loss_percent_ = 0;
  std::uint64_t duplicate_percent_ = 0;
  bool partitioned_ = false;
  bool healed_ = false;

  // Checks.
  std::map<Height, std::pair<Hash256, std::size_t>> honest_commits_;  // height -> (id, first process)
  std::map<std::pair<ValidatorIndex, Round>, Hash256> honest_votes_;
  std::map<std::pair<ValidatorIndex, Round>, Hash256> honest_proposals_;
  Height heal_height_ = 0;
  Round heal_round_ = 0;
  std::uint64_t liveness_rounds_ = 0;
  std::uint64_t payload_counter_ = 0;
  // Every proposed block, so Byzantine replicas can build forks from old blocks. Bounded by
  // the simulation's length (a few thousand blocks).
  std::map<Hash256, Block> seen_blocks_;
};

const char* kind_label(ByzantineKind kind) { return byzantine_kind_name(kind); }

std::string describe(const Message& message) {
  std::string out = message_kind(message);
  if (const auto* p = std::get_if<Proposal>(&message)) {
    out += " r=" + std::to_string(p->block.header.round) + " h=" + std::to_string(p->block.header.height) +
           " id=" + p->block.id().short_hex() + " qc=r" + std::to_string(p->block.parent_qc.round) +
           (p->last_round_tc ? " tc=r" + std::to_string(p->last_round_tc->round) : "");
  } else if (const auto* v = std::get_if<Vote>(&message)) {
    out += " r=" + std::to_string(v->round) + " block=" + v->block_id.short_hex();
  } else if (const auto* t = std::get_if<Timeout>(&message)) {
    out += " r=" + std::to_string(t->round) + " high_qc=r" + std::to_string(t->high_qc.round) +
           (t->last_round_tc ? " tc=r" + std::to_string(t->last_round_tc->round) : "");
  } else if (const auto* q = std::get_if<SyncRequest>(&message)) {
    out += " from_h=" + std::to_string(q->from_height) + " target=" + q->target_id.short_hex();
  } else if (const auto* r = std::get_if<SyncResponse>(&message)) {
    out += " blocks=" + std::to_string(r->blocks.size()) + " first_h=" + std::to_string(r->blocks.front().header.height);
  }
  return out;
}

void Simulation::fail(const std::string& what) {
  if (!result_.ok) return;  // keep the first failure
  result_.ok = false;
  std::ostringstream out;
  out << "seed=" << options_.seed << " n=" << options_.validators << " t=" << now_ms_ << "ms: " << what;
  result_.failure = out.str();
  trace("FAIL " + what);
}

void Simulation::trace(const std::string& line) {
  if (options_.trace) std::printf("[%7llu ms] %s\n", static_cast<unsigned long long>(now_ms_), line.c_str());
}

void Simulation::choose_scenario() {
  const std::size_t n = options_.validators;
  const std::size_t f = (n - 1) / 3;
  faulty_kind_by_index_.assign(n, ByzantineKind::kNone);
  std::ostringstream scenario;
  if (options_.no_faults) {
    loss_percent_ = options_.loss_percent >= 0 ? static_cast<std::uint64_t>(options_.loss_percent) : 0;
    min_delay_ms_ = 1;
    max_delay_ms_ = 10;
    scenario << "no faults, loss " << loss_percent_ << "%, delay 1-10ms";
    result_.scenario = scenario.str();
    return;
  }
  // The seed picks the network profile...
  min_delay_ms_ = rng_.range(1, 5);
  max_delay_ms_ = min_delay_ms_ + rng_.range(5, 60);
  loss_percent_ = options_.loss_percent >= 0 ? static_cast<std::uint64_t>(options_.loss_percent) : rng_.range(0, 20);
  duplicate_percent_ = rng_.range(0, 5);
  // ...and up to f faulty validators, each with a Byzantine behaviour.
  const std::size_t faulty = rng_.range(0, 3) == 0 ? 0 : f;
  std::vector<ValidatorIndex> indices(n);
  for (std::size_t i = 0; i < n; ++i) indices[i] = static_cast<ValidatorIndex>(i);
  for (std::size_t i = 0; i < faulty; ++i) {
    const std::size_t pick = i + rng_.range(0, n - 1 - i);
    std::swap(indices[i], indices[pick]);
    ByzantineKind kind = static_cast<ByzantineKind>(rng_.range(1, 3));
    if (options_.force_byzantine >= 0) kind = static_cast<ByzantineKind>(options_.force_byzantine);
    faulty_kind_by_index_[indices[i]] = kind;
  }
  scenario << "delay " << min_delay_ms_ << "-" << max_delay_ms_ << "ms, loss " << loss_percent_ << "%, dup "
           << duplicate_percent_ << "%, faulty:";
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (faulty_kind_by_index_[i] != ByzantineKind::kNone) {
      scenario << " v" << i << "=" << kind_label(faulty_kind_by_index_[i]);
      any = true;
    }
  }
  if (!any) scenario << " none";
  if (options_.unsafe_disable_safety_rules) scenario << " [UNSAFE: safety rules disabled]";
  result_.scenario = scenario.str();
}

void Simulation::build_processes() {
  const std::size_t n = options_.validators;
  validators_.epoch = 1;
  std::vector<Hash256> secrets(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string seed_text = "sim-key/" + std::to_string(options_.seed) + "/" + std::to_string(i);
    secrets[i] = core::sha3_256(core::as_bytes(seed_text));
    Validator validator;
    if (options_.ed25519) {
      validator.key = core::SecretKey(secrets[i].bytes).public_key();
    } else {
      const Hash256 public_part = core::sha3_256(secrets[i].bytes);
      std::copy(public_part.bytes.begin(), public_part.bytes.end(), validator.key.bytes.begin());
    }
    validator.name = "v" + std::to_string(i);
    keyring_.secret_by_key[validator.key] = secrets[i];
    validators_.validators.push_back(validator);
  }
  genesis_ = make_genesis_block(chain_id_, validators_.epoch, 1'700'000'000'000ULL);
  if (options_.ed25519) {
    signature_verifier_ = std::make_unique<Ed25519Verifier>();
  } else {
    signature_verifier_ = std::make_unique<SimVerifier>(keyring_);
  }
  message_verifier_ =
      std::make_unique<MessageVerifier>(chain_id_, validators_, genesis_.id(), *signature_verifier_);

  for (std::size_t i = 0; i < n; ++i) {
    const ByzantineKind kind = faulty_kind_by_index_[i];
    const int copies = kind == ByzantineKind::kTwins ? 2 : 1;
    for (int copy = 0; copy < copies; ++copy) {
      Process process;
      process.id = processes_.size();
      process.index = static_cast<ValidatorIndex>(i);
      process.kind = kind;
      if (options_.ed25519) {
        process.signer = std::make_unique<Ed25519Signer>(core::SecretKey(secrets[i].bytes));
      } else {
        process.signer = std::make_unique<SimSigner>(validators_.validators[i].key, secrets[i]);
      }
      process.persisted.committed.push_back(genesis_);
      processes_.push_back(std::move(process));
    }
  }
}

void Simulation::start_process(Process& process) {
  RestoredState state;
  if (process.persisted.safety) {
    auto decoded = decode_safety_data(*process.persisted.safety);
    if (!decoded) {
      fail("persisted safety data does not decode: " + decoded.status().to_string());
      return;
    }
    state.safety = std::move(decoded).value();
  }
  state.committed_tip = process.persisted.committed.back();
  for (const auto& [id, block] : process.persisted.uncommitted) state.uncommitted_blocks.push_back(block);
  CoreConfig config;
  config.chain_id = chain_id_;
  config.validators = validators_;
  config.self = process.index;
  config.base_timeout_ticks = kBaseTimeoutTicks;
  config.unsafe_disable_safety_rules = options_.unsafe_disable_safety_rules && !process.faulty();
  process.core = std::make_unique<ConsensusCore>(std::move(config), *process.signer, std::move(state));
  process.alive = true;
  ++process.incarnation;
  const auto begin = std::chrono::steady_clock::now();
  Effects effects = process.core->start();
  result_.core_cpu_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ++result_.steps;
  perform(process, std::move(effects));
}

void Simulation::schedule(SimEvent event) {
  if (queue_.size() >= kMaxQueuedEvents) {
    fail("event queue over its bound (message storm)");
    return;
  }
  event.sequence = next_sequence_++;
  queue_.push(std::move(event));
}

Bytes Simulation::make_payload(const Process& process, Round round) {
  const std::string text = "tx-batch r" + std::to_string(round) + " p" + std::to_string(process.id) + " #" +
                           std::to_string(++payload_counter_);
  return Bytes(text.begin(), text.end());
}

void Simulation::step(Process& process, Event event) {
  const auto begin = std::chrono::steady_clock::now();
  Effects effects = process.core->step(std::move(event));
  result_.core_cpu_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ++result_.steps;
  result_.max_round = std::max<std::uint64_t>(result_.max_round, process.core->current_round());
  perform(process, std::move(effects));
  if (process.core && process.core->halted_on_conflict() && !process.faulty()) {
    // The two-chain rule certified, as committed, a block conflicting with this replica's
    // committed chain: two conflicting commits exist, even though the core refused the second.
    fail("SAFETY VIOLATION: honest p" + std::to_string(process.id) +
         " saw a two-chain commit of a block conflicting with its committed chain (height " +
         std::to_string(process.core->committed_height()) + ")");
  }
}

void Simulation::send_bytes(const Process& sender, std::size_t to_process, std::shared_ptr<const Bytes> bytes,
                            std::uint64_t extra_delay_ms) {
  Process& receiver = processes_[to_process];
  ++result_.messages_sent;
  const int copies = (!healed_ && rng_.percent(duplicate_percent_)) ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    if (partitioned_ && sender.partition_group != receiver.partition_group) {
      ++result_.messages_dropped;
      continue;
    }
    if (!healed_ && rng_.percent(loss_percent_)) {
      ++result_.messages_dropped;
      continue;
    }
    SimEvent event;
    event.kind = SimEvent::Kind::kDeliver;
    event.time_ms = now_ms_ + extra_delay_ms + rng_.range(min_delay_ms_, max_delay_ms_);
    event.process = to_process;
    event.from = sender.index;
    event.bytes = bytes;
    schedule(std::move(event));
  }
}

void Simulation::send_to_index(const Process& sender, ValidatorIndex to, const Message& message) {
  auto bytes = std::make_shared<const Bytes>(encode_message(message));
  for (const Process& receiver : processes_) {
    if (receiver.index == to && receiver.id != sender.id) send_bytes(sender, receiver.id, bytes);
  }
}

void Simulation::broadcast_from(Process& sender, const Message& message) {
  if (std::holds_alternative<Timeout>(message) && sender.kind == ByzantineKind::kEquivocatingLeader) {
    return;  // its timeouts would reveal the QC it hides in attack (c); it sends none at all
  }
  const auto* proposal = std::get_if<Proposal>(&message);
  if (proposal != nullptr && sender.kind == ByzantineKind::kEquivocatingLeader) {
    equivocate(sender, message, *proposal);
    return;
  }
  auto bytes = std::make_shared<const Bytes>(encode_message(message));
  for (const Process& receiver : processes_) {
    if (receiver.id != sender.id) send_bytes(sender, receiver.id, bytes);
  }
}

void Simulation::equivocate(Process& sender, const Message& message, const Proposal& proposal) {
  // Three attacks, chosen per round:
  //  (a) a second block with the same parent, to half of the replicas;
  //  (b) both blocks to everyone, in opposite orders;
  //  (c) a fork below a block that one honest replica will commit. The leader of round r+1
  //      holds the only QC for round r. It sends the real proposal (carrying that QC, which
  //      completes a two-chain over the round r-1 block G) to one honest replica, late, and
  //      to the others it sends a timeout for round r, so that they form a TC and enter round
  //      r+1 without ever seeing QC(r); then a block F at G's height that extends G's parent.
  //      Honest replicas refuse F by the voting rule (its QC is older than the TC's highest,
  //      and not from the previous round). With the rule disabled they certify F, the next
  //      leader's two-chain commits F, and the one replica that committed G disagrees.
  Proposal evil = proposal;
  const std::uint64_t attack = rng_.range(0, 2);
  bool fork_made = false;
  const Block* parent = find_seen(proposal.block.parent_qc.block_id);  // B_r, certified by QC(r)
  const Block* grandparent = parent != nullptr ? find_seen(parent->header.parent_id) : nullptr;  // G
  if (attack == 2 && grandparent != nullptr && grandparent->header.height > 0 &&
      parent->header.round == grandparent->header.round + 1) {
    evil.block.parent_qc = grandparent->parent_qc;
    evil.block.header.parent_id = grandparent->parent_qc.block_id;
    evil.block.header.parent_round = grandparent->parent_qc.round;
    evil.block.header.height = grandparent->header.height;
    evil.block.header.timestamp_ms = grandparent->header.timestamp_ms + 1;
    evil.last_round_tc.reset();
    fork_made = true;
  }
  const std::string text = "equivocation r" + std::to_string(evil.block.header.round);
  evil.block.payload.assign(text.begin(), text.end());
  evil.block.header.payload_digest = core::sha3_256(evil.block.payload);
  evil.block.proposer_signature = sender.signer->sign(signing_digest_block(evil.block.id()));
  const Message evil_message = evil;
  auto good_bytes = std::make_shared<const Bytes>(encode_message(message));
  auto evil_bytes = std::make_shared<const Bytes>(encode_message(evil_message));
  std::shared_ptr<const Bytes> timeout_bytes;
  if (fork_made) {
    Timeout timeout;
    timeout.chain_id = chain_id_;
    timeout.epoch = validators_.epoch;
    timeout.round = parent->header.round;
    timeout.high_qc = parent->parent_qc;  // QC(r-1): hides QC(r)
    timeout.author = sender.index;
    timeout.signature = sender.signer->sign(
        signing_digest_timeout(chain_id_, timeout.epoch, timeout.round, timeout.high_qc.round));
    timeout_bytes = std::make_shared<const Bytes>(encode_message(Message(timeout)));
  }
  std::size_t position = 0;
  for (const Process& receiver : processes_) {
    if (receiver.id == sender.id) continue;
    const bool first_half = position % 2 == 0;
    if (fork_made) {
      if (position == 0) {
        send_bytes(sender, receiver.id, good_bytes, kBaseTimeoutTicks + kBaseTimeoutTicks / 4);
      } else {
        send_bytes(sender, receiver.id, timeout_bytes);
        // Re-sent until the victims have entered round r+1 through their TC.
        for (std::uint64_t wait_ms = kBaseTimeoutTicks / 2; wait_ms <= 16 * kBaseTimeoutTicks; wait_ms *= 2) {
          send_bytes(sender, receiver.id, evil_bytes, wait_ms);
        }
      }
    } else if (attack == 1) {
      send_bytes(sender, receiver.id, first_half ? good_bytes : evil_bytes);
      send_bytes(sender, receiver.id, first_half ? evil_bytes : good_bytes);
    } else {
      send_bytes(sender, receiver.id, first_half ? good_bytes : evil_bytes);
    }
    ++position;
  }
  // The Byzantine leader votes for the block it wants certified (its core's own vote for the
  // real block is suppressed in perform()).
  const Block& backed = fork_made ? evil.block : proposal.block;
  Vote vote;
  vote.chain_id = chain_id_;
  vote.epoch = validators_.epoch;
  vote.round = backed.header.round;
  vote.block_id = backed.id();
  vote.voter = sender.index;
  vote.signature = sender.signer->sign(signing_digest_vote(chain_id_, vote.epoch, vote.round, vote.block_id));
  auto vote_bytes = std::make_shared<const Bytes>(encode_message(Message(vote)));
  for (const Process& receiver : processes_) {
    if (receiver.id == sender.id) continue;  // votes go to every validator
    if (fork_made) {
      for (std::uint64_t wait_ms = kBaseTimeoutTicks / 2; wait_ms <= 16 * kBaseTimeoutTicks; wait_ms *= 2) {
        send_bytes(sender, receiver.id, vote_bytes, wait_ms);
      }
    } else {
      send_bytes(sender, receiver.id, vote_bytes);
    }
  }
  trace("v" + std::to_string(sender.index) + (fork_made ? " FORKS below its parent" : " EQUIVOCATES") + " in round " +
        std::to_string(evil.block.header.round) + ": " + describe(evil_message));
}

bool Simulation::leads_as_equivocator(Round round) const {
  const ValidatorIndex leader = validators_.leader(round);
  return std::any_of(processes_.begin(), processes_.end(), [&](const Process& process) {
    return process.index == leader && process.kind == ByzantineKind::kEquivocatingLeader;
  });
}

const Block* Simulation::find_seen(const Hash256& id) const {
  auto it = seen_blocks_.find(id);
  return it == seen_blocks_.end() ? nullptr : &it->second;
}

void Simulation::record_signed(const Process& process, const Message& message) {
  if (process.faulty()) return;
  if (const auto* vote = std::get_if<Vote>(&message)) {
    auto [it, inserted] = honest_votes_.emplace(std::make_pair(vote->voter, vote->round), vote->block_id);
    if (!inserted && it->second != vote->block_id && !options_.unsafe_disable_safety_rules) {
      fail("honest v" + std::to_string(vote->voter) + " signed two different votes in round " +
           std::to_string(vote->round));
    }
  } else if (const auto* proposal = std::get_if<Proposal>(&message)) {
    const Hash256 id = proposal->block.id();
    auto [it, inserted] =
        honest_proposals_.emplace(std::make_pair(proposal->block.header.proposer, proposal->block.header.round), id);
    if (!inserted && it->second != id) {
      fail("honest v" + std::to_string(proposal->block.header.proposer) + " proposed two blocks in round " +
           std::to_string(proposal->block.header.round));
    }
  }
}

void Simulation::perform(Process& process, Effects effects) {
  for (Effect& effect : effects) {
    if (!process.alive) return;
    if (auto* send = std::get_if<SendEffect>(&effect)) {
      if (options_.trace) trace("p" + std::to_string(process.id) + " -> v" + std::to_string(send->to) + ": " + describe(send->message));
      record_signed(process, send->message);
      send_to_index(process, send->to, send->message);
    } else if (auto* cast = std::get_if<BroadcastEffect>(&effect)) {
      const auto* own_vote = std::get_if<Vote>(&cast->message);
      if (own_vote != nullptr && process.kind == ByzantineKind::kEquivocatingLeader &&
          validators_.leader(own_vote->round) == process.index) {
        continue;  // the equivocator casts its own vote in equivocate()
      }
      if (options_.trace) trace("p" + std::to_string(process.id) + " -> all: " + describe(cast->message));
      if (const auto* proposed = std::get_if<Proposal>(&cast->message)) {
        seen_blocks_.emplace(proposed->block.id(), proposed->block);
      }
      record_signed(process, cast->message);
      if (own_vote != nullptr && leads_as_equivocator(own_vote->round + 1)) {
        // The network is the adversary's before it heals: it brings the votes of a round whose
        // successor an equivocating leader leads to that leader at once and to the others late,
        // so that the leader can hold the only QC, which attack (c) in equivocate() needs.
        auto bytes = std::make_shared<const Bytes>(encode_message(cast->message));
        for (const Process& receiver : processes_) {
          if (receiver.id == process.id) continue;
          const bool to_leader = receiver.index == validators_.leader(own_vote->round + 1);
          send_bytes(process, receiver.id, bytes, to_leader || healed_ ? 0 : 16 * kBaseTimeoutTicks);
        }
        continue;
      }
      broadcast_from(process, cast->message);
    } else if (auto* timer = std::get_if<SetTimerEffect>(&effect)) {
      SimEvent event;
      event.kind = SimEvent::Kind::kTimer;
      event.time_ms = now_ms_ + timer->duration_ticks * kTickMs;
      event.process = process.id;
      event.incarnation = process.incarnation;
      event.generation = ++process.timer_generation;
      event.round = timer->round;
      schedule(std::move(event));
    } else if (auto* persist = std::get_if<PersistSafetyEffect>(&effect)) {
      process.persisted.safety = encode_safety_data(persist->data);
    } else if (auto* block = std::get_if<PersistBlockEffect>(&effect)) {
      process.persisted.uncommitted.emplace(block->block.id(), block->block);
    } else if (auto* commit = std::get_if<CommitEffect>(&effect)) {
      on_commit(process, *commit);
      const Height committed = process.persisted.committed.back().header.height;
      std::erase_if(process.persisted.uncommitted,
                    [committed](const auto& entry) { return entry.second.header.height <= committed; });
    } else if (auto* need = std::get_if<NeedPayloadEffect>(&effect)) {
      SimEvent event;
      event.kind = SimEvent::Kind::kPayload;
      event.time_ms = now_ms_ + 1;
      event.process = process.id;
      event.incarnation = process.incarnation;
      event.round = need->round;
      event.parent_id = need->parent_id;
      schedule(std::move(event));
    } else if (auto* serve = std::get_if<ServeCommittedBlocksEffect>(&effect)) {
      // The driver's job: answer from the committed-block store.
      SyncResponse response;
      response.chain_id = chain_id_;
      response.epoch = validators_.epoch;
      for (Height h = std::max<Height>(serve->from_height, 1);
           h < process.persisted.committed.size() && response.blocks.size() < serve->max_blocks; ++h) {
        response.blocks.push_back(process.persisted.committed[h]);
      }
      if (!response.blocks.empty()) send_to_index(process, serve->to, response);
    }
  }
}

void Simulation::on_commit(Process& process, const CommitEffect& commit) {
  auto& log = process.persisted.committed;
  for (const Block& block : commit.blocks) {
    const Block& tip = log.back();
    if (block.header.height != tip.header.height + 1 || block.header.parent_id != tip.id()) {
      fail("p" + std::to_string(process.id) + " committed height " + std::to_string(block.header.height) +
           " that does not extend its committed tip " + std::to_string(tip.header.height) +
           " (rollback or gap)");
      return;
    }
    log.push_back(block);
    const Hash256 id = block.id();
    result_.max_committed_height = std::max<std::uint64_t>(result_.max_committed_height, block.header.height);
    trace("p" + std::to_string(process.id) + " (v" + std::to_string(process.index) + ") commits h=" +
          std::to_string(block.header.height) + " r=" + std::to_string(block.header.round) + " id=" + id.short_hex());
    if (process.faulty()) continue;
    auto [it, inserted] = honest_commits_.emplace(block.header.height, std::make_pair(id, process.id));
    if (!inserted && it->second.first != id) {
      fail("SAFETY VIOLATION: height " + std::to_string(block.header.height) + " committed as " +
           it->second.first.short_hex() + " by p" + std::to_string(it->second.second) + " and as " + id.short_hex() +
           " by p" + std::to_string(process.id));
      return;
    }
  }
}

void Simulation::deliver(Process& process, ValidatorIndex from, const Bytes& bytes) {
  auto decoded = decode_message(bytes);
  if (!decoded) {
    ++result_.messages_dropped;
    return;
  }
  if (auto rejection = message_verifier_->verify(from, *decoded)) {
    ++result_.messages_dropped;
    trace("p" + std::to_string(process.id) + " drops " + message_kind(*decoded) + " from v" + std::to_string(from) +
          ": " + drop_reason_name(rejection->reason) + " " + rejection->detail);
    return;
  }
  if (process.kind == ByzantineKind::kDoubleVoter) {
    if (const auto* proposal = std::get_if<Proposal>(&*decoded)) {
      Vote vote;
      vote.chain_id = chain_id_;
      vote.epoch = validators_.epoch;
      vote.round = proposal->block.header.round;
      vote.block_id = proposal->block.id();
      vote.voter = process.index;
      vote.signature = process.signer->sign(signing_digest_vote(chain_id_, vote.epoch, vote.round, vote.block_id));
      broadcast_from(process, vote);  // to every validator
    }
  }
  step(process, MessageEvent{from, std::move(decoded).value()});
}

void Simulation::handle(const SimEvent& event) {
  switch (event.kind) {
    case SimEvent::Kind::kDeliver: {
      Process& process = processes_[event.process];
      if (process.alive) deliver(process, event.from, *event.bytes);
      break;
    }
    case SimEvent::Kind::kTimer: {
      Process& process = processes_[event.process];
      if (!process.alive || event.incarnation != process.incarnation || event.generation != process.timer_generation) {
        break;
      }
      trace("p" + std::to_string(process.id) + " timer for round " + std::to_string(event.round));
      step(process, TimerEvent{event.round});
      break;
    }
    case SimEvent::Kind::kPayload: {
      Process& process = processes_[event.process];
      if (!process.alive || event.incarnation != process.incarnation) break;
      trace("p" + std::to_string(process.id) + " payload for round " + std::to_string(event.round));
      step(process, PayloadEvent{event.round, event.parent_id, make_payload(process, event.round), now_ms_});
      break;
    }
    case SimEvent::Kind::kCrash: {
      Process& process = processes_[event.process];
      if (!process.alive || healed_) break;
      trace("p" + std::to_string(process.id) + " CRASHES (loses everything not persisted)");
      process.alive = false;
      process.core.reset();
      SimEvent restart;
      restart.kind = SimEvent::Kind::kRestart;
      restart.time_ms = now_ms_ + rng_.range(200, 3000);
      restart.process = process.id;
      schedule(std::move(restart));
      break;
    }
    case SimEvent::Kind::kRestart: {
      Process& process = processes_[event.process];
      if (process.alive) break;
      trace("p" + std::to_string(process.id) + " RESTARTS from persisted state");
      start_process(process);
      break;
    }
    case SimEvent::Kind::kPartition: {
      if (healed_) break;
      if (event.round == 1) {  // the end of a partition
        partitioned_ = false;
        trace("partition ends");
        break;
      }
      partitioned_ = true;
      std::string groups;
      for (Process& process : processes_) {
        process.partition_group = static_cast<int>(rng_.range(0, 1));
        groups += " p" + std::to_string(process.id) + ":" + std::to_string(process.partition_group);
      }
      trace("PARTITION" + groups);
      SimEvent end_event;
      end_event.kind = SimEvent::Kind::kPartition;
      end_event.time_ms = now_ms_ + rng_.range(300, 3000);
      end_event.round = 1;
      schedule(std::move(end_event));
      break;
    }
    case SimEvent::Kind::kHeal: {
      healed_ = true;
      partitioned_ = false;
      trace("HEAL: no more loss, duplication, partitions or crashes; crashed replicas restart");
      for (Process& process : processes_) {
        if (!process.alive) start_process(process);
      }
      heal_height_ = 0;
      heal_round_ = 0;
      for (const Process& process : processes_) {
        if (process.faulty()) continue;
        heal_height_ = std::max<Height>(heal_height_, process.persisted.committed.back().header.height);
        heal_round_ = std::max<Round>(heal_round_, process.core->current_round());
      }
      break;
    }
  }
}

bool Simulation::heal_complete() const {
  for (const Process& process : processes_) {
    if (process.faulty()) continue;
    if (process.persisted.committed.back().header.height <= heal_height_) return false;
  }
  return true;
}

void Simulation::check_liveness() {
  if (!healed_ || options_.unsafe_disable_safety_rules) return;
  for (const Process& process : processes_) {
    if (process.faulty() || !process.alive) continue;
    if (process.core->current_round() > heal_round_ + liveness_rounds_) {
      std::string heights;
      for (const Process& p : processes_) {
        heights += " p" + std::to_string(p.id) + "=h" + std::to_string(p.persisted.committed.back().header.height) +
                   "/r" + std::to_string(p.core ? p.core->current_round() : 0);
      }
      fail("LIVENESS: no new commit at every honest replica within " + std::to_string(liveness_rounds_) +
           " rounds after healing at round " + std::to_string(heal_round_) + " (height " +
           std::to_string(heal_height_) + "):" + heights);
      return;
    }
  }
}

SimResult Simulation::run() {
  CARBON_ASSERT(options_.validators >= 1 && options_.validators <= kMaxValidators);
  choose_scenario();
  build_processes();
  // Liveness bound after healing: enough rounds for every leader to have had two turns, plus
  // the f faulty leaders' rounds and the sync of replicas that restarted.
  liveness_rounds_ = options_.liveness_rounds != 0 ? options_.liveness_rounds : 4 * options_.validators + 8;
  trace("scenario: " + result_.scenario);

  const bool judge_liveness = options_.fixed_duration_ms == 0;
  const std::uint64_t chaos_ms = (options_.no_faults || !judge_liveness) ? 0 : options_.chaos_ms;
  if (chaos_ms > 0) {
    // Crashes (of any replica, even more than f at once: safety must hold regardless).
    const std::uint64_t crashes = rng_.range(0, 2 * options_.validators);
    for (std::uint64_t i = 0; i < crashes; ++i) {
      SimEvent crash;
      crash.kind = SimEvent::Kind::kCrash;
      crash.time_ms = rng_.range(0, chaos_ms);
      crash.process = rng_.range(0, processes_.size() - 1);
      schedule(std::move(crash));
    }
    const std::uint64_t partitions = rng_.range(0, 3);
    for (std::uint64_t i = 0; i < partitions; ++i) {
      SimEvent partition;
      partition.kind = SimEvent::Kind::kPartition;
      partition.time_ms = rng_.range(0, chaos_ms);
      schedule(std::move(partition));
    }
  }
  SimEvent heal;
  heal.kind = SimEvent::Kind::kHeal;
  heal.time_ms = chaos_ms;
  if (judge_liveness) schedule(heal);

  for (Process& process : processes_) start_process(process);

  const std::uint64_t end_ms = judge_liveness ? options_.max_sim_ms : options_.fixed_duration_ms;
  while (!queue_.empty() && result_.ok) {
    SimEvent event = queue_.top();
    queue_.pop();
    if (event.time_ms > end_ms) break;
    now_ms_ = event.time_ms;
    handle(event);
    if (judge_liveness && healed_) {
      if (heal_complete()) break;
      check_liveness();
    }
  }
  if (result_.ok && judge_liveness && !options_.unsafe_disable_safety_rules && !heal_complete()) {
    fail(queue_.empty() ? "LIVENESS: the cluster went silent after healing"
                        : "LIVENESS: no new commit at every honest replica before the simulation time limit");
  }
  result_.sim_ms = now_ms_;
  Height min_height = UINT64_MAX;
  for (const Process& process : processes_) {
    if (!process.faulty()) min_height = std::min<Height>(min_height, process.persisted.committed.back().header.height);
  }
  result_.min_honest_committed_height = min_height == UINT64_MAX ? 0 : min_height;
  return result_;
}

}  // namespace

const char* byzantine_kind_name(ByzantineKind kind) {
  switch (kind) {
    case ByzantineKind::kNone: return "honest";
    case ByzantineKind::kEquivocatingLeader: return "equivocating-leader";
    case ByzantineKind::kDoubleVoter: return "double-voter";
    case ByzantineKind::kTwins: return "twins";
  }
  return "unknown";
}

SimResult run_simulation(const SimOptions& options) {
  Simulation simulation(options);
  return simulation.run();
}

}  // namespace carbon::sim
