// The store's read side: version vectors and what a peer lacks, the change log,
// fork proofs, statistics and digests; and Store's public methods, which catch
// what the implementation throws.
#include "store_internal.hpp"

namespace wardsync {

// Reads

VersionVector Store::Impl::version_vector() const {
  VersionVector vv;
  for (const auto& [key, info] : streams_) {
    if (info.seq == 0 || quarantined_.count(key.origin) != 0) continue;
    vv[key] = StreamHead{info.seq, info.head};
  }
  return vv;
}

std::vector<WireChange> Store::Impl::stream_changes(const StreamKey& stream, std::uint64_t after_seq,
                                                    std::size_t limit, bool end_at_checked) const {
  std::vector<WireChange> out;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return out;
  std::size_t last_checked = 0;
  std::uint64_t next = after_seq;
  // Extend past `limit` only as far as needed to end at a verified change.
  while (true) {
    range_changes_.bind(1, it->second.id)
        .bind(2, static_cast<std::int64_t>(next))
        .bind(3, static_cast<std::int64_t>(limit));
    std::size_t got = 0;
    while (range_changes_.step()) {
      out.push_back(WireChange{range_changes_.blob(0), range_changes_.blob(1)});
      if (range_changes_.integer(2) != 0) last_checked = out.size();
      ++got;
    }
    range_changes_.reset();
    next += got;
    if (!end_at_checked || got < limit || last_checked > 0) break;
  }
  if (end_at_checked) out.resize(last_checked);
  return out;
}

std::vector<WireChange> Store::Impl::missing_for(const VersionVector& theirs, std::size_t limit,
                                                const std::vector<std::string>& scopes,
                                                const std::vector<std::string>& first) const {
  std::vector<WireChange> out;
  auto under = [](const std::string& scope, const std::vector<std::string>& prefixes) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const std::string& p) { return scope.compare(0, p.size(), p) == 0; });
  };
  auto take = [&](const StreamKey& key, const StreamInfo& info) {
    if (info.seq == 0 || quarantined_.count(key.origin) != 0) return;
    if (!scopes.empty() && !under(key.scope, scopes)) return;
    auto t = theirs.find(key);
    std::uint64_t their_seq = t == theirs.end() ? 0 : t->second.seq;
    if (their_seq > 0 && their_seq <= info.seq) {
      WireChange mine;
      Hash h{};
      if (stored_change(info.id, their_seq, mine, h) && h != t->second.head) {
        out.push_back(std::move(mine));  // they hold a different body here: show them ours
        return;
      }
    }
    if (their_seq >= info.seq) return;
    auto run = stream_changes(key, their_seq, limit - out.size(), true);
    for (auto& c : run) out.push_back(std::move(c));
  };
  // The streams under `first` (what vouches for the others: certificates) go
  // before the rest, so a receiver does not hold a catch-up waiting for them.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, info] : streams_) {
      if (out.size() >= limit) return out;
      if (first.empty() ? pass == 0 : under(key.scope, first) == (pass == 0)) take(key, info);
    }
  }
  return out;
}

bool Store::Impl::has_change(const WireChange& change) const {
  DecodedChange d;
  if (!decode_change(change, d).is_ok()) return false;
  auto it = streams_.find(d.stream);
  if (it == streams_.end()) return false;
  WireChange mine;
  Hash h{};
  return stored_change(it->second.id, d.body->seq(), mine, h) && h == d.hash &&
         mine.signature == change.signature;
}

std::vector<QuarantinedOrigin> Store::Impl::quarantined() const {
  std::vector<QuarantinedOrigin> out;
  sql::Stmt q(db_.get(), "SELECT origin, reason, a_body, a_sig, b_body, b_sig FROM quarantine");
  while (q.step()) {
    QuarantinedOrigin o;
    copy_to(q.blob_view(0), o.origin);
    o.reason = q.blob(1);
    o.proof.push_back({q.blob(2), q.blob(3)});
    o.proof.push_back({q.blob(4), q.blob(5)});
    out.push_back(std::move(o));
  }
  return out;
}

StoreStats Store::Impl::stats() const {
  StoreStats st = reader_->stats();
  st.quarantined_origins = quarantined_.size();
  return st;
}

Hash Store::Impl::digest() const {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashBytes);
  sql::Stmt q(db_.get(), "SELECT collection, id, state FROM records ORDER BY collection, id");
  while (q.step()) {
    for (int col = 0; col < 3; ++col) {
      std::string_view v = q.blob_view(col);
      std::uint64_t n = v.size();
      crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
      crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(v.data()), v.size());
    }
  }
  Hash h;
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

// ---------------------------------------------------------------------------
// Store: the public face catches what the implementation throws.

namespace {
// A read that hits a database error answers empty instead of throwing across
// the caller's boundary; writes report such errors as Status.
template <typename R, typename F>
R guarded(F&& f, R fallback) {
  try {
    return f();
  } catch (const sql::SqlError&) {
    return fallback;
  }
}
}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, const Schema& schema,
                                           const Identity& identity, Clock& clock) {
  ensure_sodium();
  auto impl = std::make_unique<Impl>(options, schema, identity, clock);
  try {
    Status s = impl->open();
    if (!s.is_ok()) return s;
  } catch (const sql::SqlError& e) {
    return Status{Code::kIo, "cannot open store: " + e.message};
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<CommitInfo> Store::commit(const Transaction& txn) {
  const Transaction* one[] = {&txn};
  auto results = impl_->commit_group(one);
  return std::move(results.front());
}

std::vector<Result<CommitInfo>> Store::commit_group(std::span<const Transaction* const> txns) {
  return impl_->commit_group(txns);
}

ApplyReport Store::apply(std::span<const WireChange> changes, VerifyMode mode) {
  return impl_->apply(changes, mode);
}
ApplyReport Store::apply(PreparedBatch& batch) { return impl_->apply(*batch.impl_); }
ApplyReport Store::retry_held() { return impl_->retry_held(); }
bool Store::tidy_search() { return impl_->tidy_search(); }
bool Store::index_backlog() const { return impl_->index_backlog(); }
Result<std::size_t> Store::catch_up_index(std::size_t max_records) {
  try {
    return impl_->catch_up_index(max_records);
  } catch (const sql::SqlError& e) {
    return Status{Code::kIo, "indexing: database error: " + e.message};
  }
}
VersionVector Store::version_vector() const { return impl_->version_vector(); }
std::vector<WireChange> Store::missing_for(const VersionVector& theirs, std::size_t limit,
                                           const std::vector<std::string>& scopes,
                                           const std::vector<std::string>& first) const {
  return guarded<std::vector<WireChange>>([&] { return impl_->missing_for(theirs, limit, scopes, first); }, {});
}
void Store::set_origin_policy(OriginPolicy policy) { impl_->origin_policy_ = std::move(policy); }
std::vector<PublicKey> Store::held_uncertified() const {
  return guarded<std::vector<PublicKey>>([&] { return impl_->reader().held_uncertified(); }, {});
}
std::optional<Record> Store::get(const std::string& collection, const RecordId& id) const {
  return guarded<std::optional<Record>>([&] { return impl_->reader().get(collection, id); }, std::nullopt);
}
std::vector<RecordId> Store::find(const std::string& collection, const std::string& field,
                                  const std::string& value, std::size_t limit,
                                  std::optional<RecordId> after) const {
  return guarded<std::vector<RecordId>>(
      [&] { return impl_->reader().find(collection, field, value, limit, after); }, {});
}
std::vector<Record> Store::list(const std::string& collection, std::optional<RecordId> after,
                                std::size_t limit) const {
  return guarded<std::vector<Record>>([&] { return impl_->reader().list(collection, after, limit); }, {});
}
std::vector<RecordId> Store::search(const std::string& collection, const std::string& query,
                                    std::size_t limit) const {
  return guarded<std::vector<RecordId>>([&] { return impl_->reader().search(collection, query, limit); }, {});
}
std::vector<RecordId> Store::with_conflicts(const std::string& collection, std::size_t limit) const {
  return guarded<std::vector<RecordId>>([&] { return impl_->reader().with_conflicts(collection, limit); }, {});
}
std::vector<WireChange> Store::stream_changes(const StreamKey& stream, std::uint64_t after_seq,
                                              std::size_t limit) const {
  return guarded<std::vector<WireChange>>([&] { return impl_->stream_changes(stream, after_seq, limit, false); },
                                          {});
}
bool Store::has_change(const WireChange& change) const {
  return guarded<bool>([&] { return impl_->has_change(change); }, false);
}
std::vector<QuarantinedOrigin> Store::quarantined() const {
  return guarded<std::vector<QuarantinedOrigin>>([&] { return impl_->quarantined(); }, {});
}
StoreStats Store::stats() const {
  return guarded<StoreStats>([&] { return impl_->stats(); }, {});
}
Hash Store::digest() const {
  return guarded<Hash>([&] { return impl_->digest(); }, {});
}
void Store::subscribe(Subscriber subscriber) { impl_->subscribers_.push_back(std::move(subscriber)); }
const PublicKey& Store::node_id() const { return impl_->identity_.public_key(); }
std::uint32_t Store::schema_version() const { return impl_->schema_.version(); }


}  // namespace wardsync
