#include "replication.hpp"

#include <algorithm>
#include <limits>

#include "data_file.hpp"
#include "schema.hpp"
#include "trust_files.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::node {

namespace {

constexpr auto kTrustScanInterval = std::chrono::seconds(2);
constexpr auto kCatalogueLookInterval = std::chrono::seconds(10);
constexpr auto kHeldRetryInterval = std::chrono::seconds(60);
constexpr std::size_t kRecordsReadMax = 1000000;  // bound on what one start reads per collection
constexpr std::size_t kPublicationsReadMax = 10000;  // catalogue records read per look
constexpr std::size_t kChangesPerPublicationMax = 16;  // changes read per catalogue record
constexpr std::size_t kRefusalsLoggedMax = 16;
constexpr std::size_t kPublicationBytesMax = 200 * 1024;  // under the change body limit (256 KiB)
constexpr const char* kProcedures = "procedures";
constexpr const char* kHolidays = "holidays";

std::string digest_hex(const std::string& bytes) {
  return to_hex(hash_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
}

std::string hex_of(const std::string& bytes) {
  return to_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

std::optional<std::string> bytes_of_hex(const std::string& hex) {
  if (hex.size() % 2 != 0 || hex.size() > 2 * kMaxTrustFileBytes) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  if (!from_hex(hex, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()})) return std::nullopt;
  return out;
}

}  // namespace

bool fetchable_collection(const std::string& collection) { return collection == kDossiers; }

std::vector<std::string> subscribed_scopes(const Config& config) {
  if (config.tier == "city") return {""};
  return {config.scope, kSharedScopePrefix};
}

Result<std::unique_ptr<NodeReplication>> NodeReplication::start(NodeContext& ctx) {
  const Config& config = ctx.config;
  auto peers = all_peers(config);
  if (!peers.is_ok()) return peers.status();
  if (config.sync_listen.empty() && peers.value().empty()) return std::unique_ptr<NodeReplication>();
  auto keys = load_or_create_transport_key(config, true);
  if (!keys.is_ok()) return keys.status();

  std::unique_ptr<NodeReplication> r(new NodeReplication(ctx));
  r->transport_public_ = keys.value().public_z85();
  r->scopes_ = subscribed_scopes(config);
  // Trust records already replicated to us, then the files (which records the
  // files' items that are not replicated yet).
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return Status{Code::kIo, "cannot read the store"};
    std::optional<RecordId> after;
    std::lock_guard<std::mutex> lock(r->mu_);
    for (std::size_t seen = 0; seen < kRecordsReadMax;) {
      std::vector<Record> page = reader->list(kTrustRecords, after, 500);
      if (page.empty()) break;
      for (const Record& rec : page) {
        r->recorded_.insert(rec.text("digest"));
        if (auto bytes = bytes_of_hex(rec.text("signed"))) r->add_signed(*bytes);
      }
      seen += page.size();
      after = page.back().id;
    }
    after.reset();
    for (std::size_t seen = 0; seen < kRecordsReadMax;) {
      std::vector<Record> page = reader->list(kAttachments, after, 1000);
      if (page.empty()) break;
      for (const Record& rec : page) r->note_attachment(rec);
      seen += page.size();
      after = page.back().id;
    }
  }
  r->scan_files();
  {
    std::lock_guard<std::mutex> lock(r->mu_);
    if (r->authorities_ == 0 && !config.sync_listen.empty())
      return Status{Code::kInvalidArgument, "sync_listen is set but " + config.path_of(config.trust_dir).string() +
                                                " holds no authority key (*.pub): no peer could ever be admitted; "
                                                "install one with 'wardnode cert install --dir DIR authority.pub'"};
  }
  TrustFigures t = r->trust();
  if (!t.own_certificate_valid) ctx.log.warning("sync", "own certificate: " + t.own_certificate);
  for (const auto& e : t.file_errors) ctx.log.warning("sync", "trust file skipped: " + e);

  // Received trust records join the trust store as they are applied. The
  // subscriber runs on the writer thread; the destructor unhooks it there.
  NodeReplication* self = r.get();
  ctx.writer.run([self](Store& store) {
    store.subscribe([self, &store](const std::vector<AppliedChange>& changes) {
      if (self->unhooked_) return;
      for (const AppliedChange& c : changes) {
        if (c.collection == kAttachments) {
          auto rec = store.get(kAttachments, c.record);
          std::lock_guard<std::mutex> lock(self->mu_);
          if (rec) self->note_attachment(*rec);
          continue;
        }
        // (A new trust item raises it too, in add_signed: a publisher's certificate.)
        if (!c.local && c.collection == kCatalogues) self->catalogues_changed_ = true;
        if (c.local || c.collection != kTrustRecords) continue;
        auto rec = store.get(kTrustRecords, c.record);
        if (!rec) continue;
        auto bytes = bytes_of_hex(rec->text("signed"));
        std::lock_guard<std::mutex> lock(self->mu_);
        self->recorded_.insert(rec->text("digest"));
        if (bytes) self->add_signed(*bytes);
      }
      if (self->retry_due_.exchange(false)) self->retry_held();
    });
    // Changes of an origin that may not write their stream wait, held, until it
    // may (docs/replication.md, "Who may write what").
    store.set_origin_policy([self](const PublicKey& origin, const std::string& scope,
                                   std::span<const WireChange* const> changes) -> std::optional<std::string> {
      if (self->unhooked_) return "replication is stopping";
      return self->writer_refusal(origin, scope, changes);
    });
  }).get();

  {
    std::lock_guard<std::mutex> lock(r->mu_);
    const char* own = r->publishes_ ? " (published)" : "";
    r->sources_[kProcedures] = "file " + config.procedures_file + own;
    r->sources_[kHolidays] = "file " + config.holidays_file + own;
  }
  if (r->publishes_) r->publish_catalogues();
  r->catalogues_changed_ = false;
  r->adopt_catalogues();

  ReplicatorOptions ro;
  ro.listen = config.sync_listen;
  for (const SyncPeer& p : peers.value()) {
    PeerConfig pc;
    pc.endpoint = p.endpoint;
    (void)curve_key_from_z85(p.curve_z85, pc.server_public);  // validated with the config
    r->configured_keys_.insert(pc.server_public);
    ro.peers.push_back(pc);
  }
  ro.keys = keys.value();
  ro.scopes = r->scopes_;
  ro.send_first = {kSharedScopePrefix};  // trust records first: they vouch for the rest
  ro.admit = [self](const CurveKey& key) { return self->admit(key); };
  ro.grant = [self](const CurveKey& key, const PublicKey& node) { return self->grant(key, node); };
  r->blobs_ = std::make_unique<BlobStore>(config.path_of(config.blob_dir));
  ro.blobs = r->blobs_.get();
  ro.wanted_blobs = [self] { return self->wanted_blobs(); };
  ro.blob_bytes_per_second = config.sync_blob_bytes_per_second;
  ro.heartbeat = std::chrono::milliseconds(config.sync_heartbeat_ms);
  ro.peer_timeout = std::chrono::milliseconds(config.sync_peer_timeout_ms);
  ro.schema_version = kNodeSchemaVersion;
  ro.on_link = [self](const PeerStatus& p, bool up) {
    std::string who = p.name + (p.node_id_hex.empty() ? "" : " (node " + p.node_id_hex.substr(0, 16) + ")");
    if (up)
      self->ctx_.log.info("sync", "link up: " + who);
    else
      self->ctx_.log.warning("sync", "link down: " + who + (p.last_error.empty() ? "" : ": " + p.last_error));
  };
  ro.may_fetch = [self](const PublicKey& requester, const std::string& collection) {
    bool ok = fetchable_collection(collection);
    // An audit trail of who read what across offices (ids only, no personal data).
    self->ctx_.log.info("sync", std::string(ok ? "serving" : "refused") + " a fetch of " + collection + " for node " +
                                    to_hex(requester).substr(0, 16));
    return ok;
  };
  auto rep = Replicator::start(ctx.writer, std::move(ro));
  if (!rep.is_ok()) return rep.status();
  r->replicator_ = std::move(rep).value();
  r->retry_held();  // held at an earlier run, for certificates that have arrived since
  r->watcher_ = std::thread([self] { self->watch(); });
  std::string where = config.sync_listen.empty() ? "connect only" : "listening on " + config.sync_listen;
  ctx.log.info("sync", "replicating (" + where + ", " + std::to_string(peers.value().size()) +
                           " peer(s)); transport key " + r->transport_public_);
  return r;
}

NodeReplication::~NodeReplication() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  replicator_.reset();
  // After this runs on the writer thread, the store's subscriber never touches us again.
  ctx_.writer.run([this](Store&) { unhooked_ = true; }).get();
}

void NodeReplication::watch() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  auto next_look = std::chrono::steady_clock::now();
  auto next_retry = next_look + kHeldRetryInterval;
  while (!stop_cv_.wait_for(lock, kTrustScanInterval, [this] { return stopping_; })) {
    lock.unlock();
    scan_files();
    log_expiring();
    if (retry_due_.exchange(false) || std::chrono::steady_clock::now() >= next_retry) {
      next_retry = std::chrono::steady_clock::now() + kHeldRetryInterval;  // clock skew, too
      retry_held();
    }
    // A look reads every catalogue record on the writer thread: however many
    // arrive (a flood from a misbehaving node), at most one look per interval.
    if (std::chrono::steady_clock::now() >= next_look && catalogues_changed_.exchange(false)) {
      next_look = std::chrono::steady_clock::now() + kCatalogueLookInterval;
      try {
        adopt_catalogues();
      } catch (const std::exception& e) {  // never the watcher's end: it also re-reads trust files
        ctx_.log.error("sync", std::string("catalogues: ") + e.what());
      }
    }
    lock.lock();
  }
}

void NodeReplication::add_signed(const std::string& bytes) {
  if (!known_.insert(bytes).second) return;
  catalogues_changed_ = true;  // a publisher's certificate, or its revocation
  Status s = trust_.add(bytes);
  if (!s.is_ok()) {
    known_.erase(bytes);
    ctx_.log.warning("sync", "trust item refused: " + s.message());
    return;
  }
  if (read_certificate(bytes).is_ok()) {
    retry_due_ = true;  // changes held for want of it may be merged now
  } else {
    ++revocations_;
  }
}

void NodeReplication::retry_held() {
  // Queued, never waited for: the subscriber calls this on the writer thread.
  (void)ctx_.writer.run([self = this](Store& store) {
    if (self->unhooked_) return;
    ApplyReport r = store.retry_held();
    if (r.applied > 0) self->ctx_.log.info("sync", "merged " + std::to_string(r.applied) + " held change(s)");
    if (r.expired > 0) {
      self->ctx_.log.warning("sync", "dropped " + std::to_string(r.expired) +
                                         " held change(s) older than the held limit (their senders resend them)");
      if (self->replicator_) self->replicator_->resync();
    }
  });
}

std::optional<std::string> NodeReplication::writer_refusal(const PublicKey& origin, const std::string& scope,
                                                           std::span<const WireChange* const> changes) {
  std::lock_guard<std::mutex> lock(mu_);
  // The run is in sequence order: its last change has the highest (one parse,
  // not one per change: this runs on the writer for every received run).
  std::uint64_t last_seq = std::numeric_limits<std::uint64_t>::max();
  if (!changes.empty()) {
    Result<ChangeHeader> h = parse_header(*changes.back());
    if (h.is_ok()) last_seq = h.value().seq;
  }
  std::optional<std::string> why = refusal_locked(origin, scope, last_seq);
  if (!why) return why;
  // A node's certificate travels in its own shared stream: read the trust
  // items of these (verified) changes first. Each is checked on its own
  // signature by the trust store, whoever carries it.
  bool added = false;
  for (const WireChange* c : changes) {
    Result<ChangeHeader> h = parse_header(*c);
    if (!h.is_ok() || h.value().collection != kTrustRecords) continue;
    auto signed_hex = h.value().sets.find("signed");
    if (signed_hex == h.value().sets.end()) continue;
    if (auto bytes = bytes_of_hex(signed_hex->second)) {
      add_signed(*bytes);
      added = true;
    }
  }
  return added ? refusal_locked(origin, scope, last_seq) : why;
}

std::optional<std::string> NodeReplication::refusal_locked(const PublicKey& origin, const std::string& scope,
                                                           std::uint64_t last_seq) const {
  const std::string who = "node " + to_hex(origin).substr(0, 16);
  std::vector<CertificateInfo> certs = trust_.enrolled_certificates(origin);
  if (certs.empty()) {
    if (trust_.has_revocation_for(origin)) {
      // What it wrote while trusted stays valid, as far as its revocation keeps it
      // (the history a replacement box of the office must see).
      const std::uint64_t kept = trust_.kept_through(origin, scope);
      for (const CertificateInfo& c : trust_.revoked_certificates(origin)) {
        bool covers = scope_within(scope, c.scope) || scope_within(scope, kSharedScopePrefix + c.scope);
        if (covers && last_seq <= kept) return std::nullopt;
      }
      return who + " is revoked" + (kept > 0 ? " (its changes after " + std::to_string(kept) + " in " + scope +
                                                   " are not believed)"
                                             : "");
    }
    if (trust_.knows_certificate_of(origin)) return who + " has no certificate from an authority trusted here";
    return who + " has no certificate known here";
  }
  for (const CertificateInfo& c : certs) {
    if (scope_within(scope, c.scope) || scope_within(scope, kSharedScopePrefix + c.scope)) return std::nullopt;
  }
  return who + " (certified for scope " + certs.front().scope + ") may not write scope " + scope;
}

void NodeReplication::scan_files() {
  const Config& c = ctx_.config;
  std::vector<std::string> errors;
  std::vector<TrustItem> items = read_trust_dir(c.path_of(c.trust_dir), errors);
  std::error_code ec;
  std::filesystem::path own = c.path_of(c.certificate_file);
  if (std::filesystem::exists(own, ec)) {
    auto item = read_trust_file(own);
    if (item.is_ok()) items.push_back(std::move(item).value());
    else errors.push_back(item.status().message());
  }
  std::vector<TrustItem> to_record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    file_errors_ = errors;
    for (const TrustItem& item : items) {
      if (item.kind == TrustItem::Kind::kAuthority) {
        PublicKey root{};
        std::copy(item.bytes.begin(), item.bytes.end(), root.begin());
        if (roots_.insert(root).second) {
          trust_.add_root(root);
          ++authorities_;
        }
        continue;
      }
      add_signed(item.bytes);
      if (recorded_.count(digest_hex(item.bytes)) == 0) to_record.push_back(item);
    }
  }
  // Write what the files hold and the store does not, so it replicates.
  for (const TrustItem& item : to_record) {
    std::string digest = digest_hex(item.bytes);
    Transaction txn("trust", kSharedScopePrefix + c.scope);
    txn.create(kTrustRecords)
        .set_once("kind", item.kind == TrustItem::Kind::kCertificate ? "certificate" : "revocation")
        .set_once("signed", hex_of(item.bytes))
        .set_once("digest", digest);
    auto done = ctx_.writer.commit(std::move(txn)).get();
    if (!done.is_ok()) {
      ctx_.log.warning("sync", "cannot record a trust item: " + done.status().message());
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    recorded_.insert(digest);
    ctx_.log.info("sync", std::string("recorded a ") +
                              (item.kind == TrustItem::Kind::kCertificate ? "certificate" : "revocation") +
                              " for replication (digest " + digest.substr(0, 16) + ")");
  }
}

// Each change that sets a catalogue record's kind and content is a publication
// of its own origin, read from the change itself: another writer's changes to
// the record (a different content, a tombstone) neither alter nor hide it.
std::optional<NodeReplication::Publication> NodeReplication::newest_publication(
    const std::string& kind, const std::function<std::optional<std::string>(const PublicKey&)>& refusal,
    std::vector<Refused>& refused) const {
  return ctx_.writer.run_get<std::optional<Publication>>([&](Store& store) {
    std::optional<Publication> best;
    std::optional<RecordId> after;
    for (std::size_t seen = 0; seen < kPublicationsReadMax;) {
      std::vector<Record> page = store.list(kCatalogues, after, 20);
      if (page.empty()) break;
      seen += page.size();
      after = page.back().id;
      for (const Record& rec : page) {
        for (const WireChange& c : store.record_changes(kCatalogues, rec.id, kChangesPerPublicationMax)) {
          auto h = parse_header(c);
          if (!h.is_ok() || h.value().tombstone) continue;
          const ChangeHeader& head = h.value();
          auto k = head.sets.find("kind");
          auto content = head.sets.find("content");
          if (k == head.sets.end() || k->second != kind || content == head.sets.end()) continue;
          if (best && head.hlc <= best->created) continue;
          if (auto why = refusal(head.stream.origin)) {
            if (refused.size() < kRefusalsLoggedMax) refused.push_back({rec.id, head.stream.origin, *why});
            continue;
          }
          best = Publication{head.hlc, content->second, head.stream.origin};
        }
      }
    }
    return best;
  });
}

std::optional<std::string> NodeReplication::publisher_refusal(const PublicKey& origin) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto cert = trust_.valid_certificate(origin, ctx_.clock.now_ms());
  if (!cert) return std::string("no valid certificate of its node is known here (yet)");
  if (!publishes_catalogues(cert->tier)) return "its certificate is of tier " + cert->tier + ", not city or province";
  // A district may issue certificates for its wards, whatever tier they ask for:
  // only an authority's word makes a city.
  if (roots_.count(cert->issuer) == 0) return std::string("its certificate was issued by a delegated node");
  const std::string& own = ctx_.config.scope;
  if (!scope_within(own, cert->scope)) return "its scope " + cert->scope + " is not above this node's (" + own + ")";
  return std::nullopt;
}

void NodeReplication::publish_catalogues() {
  const Config& c = ctx_.config;
  for (const auto& [kind, file] : {std::pair{kProcedures, c.procedures_file}, std::pair{kHolidays, c.holidays_file}}) {
    auto text = read_small_file(c.path_of(file), kPublicationBytesMax);
    if (!text.is_ok()) {
      ctx_.log.warning("sync", std::string("cannot publish the ") + kind + " catalogue: " + text.status().message());
      std::lock_guard<std::mutex> lock(mu_);
      sources_[kind] = "file " + file + " (not published: " + text.status().message() + ")";
      continue;
    }
    std::vector<Refused> not_mine;
    auto last = newest_publication(kind, [this](const PublicKey& o) {
      return o == ctx_.node_id ? std::nullopt : std::optional<std::string>("");
    }, not_mine);
    if (last && last->content == text.value()) continue;  // published already
    std::string digest = digest_hex(text.value());
    Transaction txn("catalogue", kSharedScopePrefix + c.scope);
    txn.create(kCatalogues).set_once("kind", kind).set_once("content", text.value()).set_once("digest", digest);
    auto done = ctx_.writer.commit(std::move(txn)).get();
    if (!done.is_ok()) {
      ctx_.log.warning("sync", std::string("cannot publish the ") + kind + " catalogue: " + done.status().message());
      continue;
    }
    ctx_.log.info("sync", std::string("published the ") + kind + " catalogue of " + file + " (digest " +
                              digest.substr(0, 16) + ") for the nodes below");
  }
}

void NodeReplication::adopt_catalogues() {
  if (publishes_) return;  // a city works with the files it publishes
  for (const std::string kind : {kProcedures, kHolidays}) {
    std::vector<Refused> refused;
    auto best = newest_publication(kind, [this](const PublicKey& o) { return publisher_refusal(o); }, refused);
    for (const Refused& r : refused) {
      if (ignored_.insert({r.record, r.origin}).second)
        ctx_.log.warning("sync", "ignored a " + kind + " catalogue published by node " + to_hex(r.origin).substr(0, 16) +
                                     ": " + r.reason);
    }
    if (!best) continue;
    std::string digest = digest_hex(best->content);
    if (adopted_[kind] == digest) continue;
    adopted_[kind] = digest;  // a bad one is reported once, not every scan
    std::string source = kind + " published by node " + to_hex(best->origin).substr(0, 16);
    Status s;
    std::size_t count = 0;
    if (kind == kProcedures) {
      auto cat = Catalogue::parse(best->content, source);
      if (cat.is_ok()) {
        count = cat.value().procedures().size();
        ctx_.catalogues.replace(std::move(cat).value());
      }
      s = cat.status();
    } else {
      auto cal = Calendar::parse(best->content, source);
      if (cal.is_ok()) {
        count = static_cast<std::size_t>(cal.value().last_year() - cal.value().first_year() + 1);
        ctx_.catalogues.replace(std::move(cal).value());
      }
      s = cal.status();
    }
    if (!s.is_ok()) {
      ctx_.log.warning("sync", "kept the " + kind + " catalogue in use: the " + source + " is invalid: " + s.message());
      continue;
    }
    ctx_.log.info("sync", "now using the " + source + " (digest " + digest.substr(0, 16) + ", " +
                              std::to_string(count) + (kind == kProcedures ? " procedures)" : " years)"));
    std::lock_guard<std::mutex> lock(mu_);
    sources_[kind] = "published by node " + to_hex(best->origin).substr(0, 16) + " (digest " + digest.substr(0, 16) + ")";
  }
}

std::vector<std::string> NodeReplication::uncertified_origins(const VersionVector& held) const {
  std::set<PublicKey> origins;
  for (const auto& [stream, head] : held) origins.insert(stream.origin);
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(mu_);
  const std::uint64_t now = ctx_.clock.now_ms();
  for (const PublicKey& o : origins) {
    if (o != ctx_.node_id && !trust_.valid_certificate(o, now)) out.push_back(to_hex(o));
  }
  return out;
}

std::map<std::string, std::string> NodeReplication::catalogue_sources() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_;
}

bool NodeReplication::admit(const CurveKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  bool ok = trust_.admits_transport_key(key, ctx_.clock.now_ms());
  if (!ok) ctx_.log.warning("sync", "refused a connection: its transport key is not bound to a valid certificate");
  return ok;
}

std::optional<PeerGrant> NodeReplication::grant(const CurveKey& key, const PublicKey& node) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t now = ctx_.clock.now_ms();
  if (auto cert = trust_.certificate_for_transport_key(key, now)) {
    if (cert->node_id != node) return std::nullopt;  // a key lent to another node
    return PeerGrant{{cert->scope, kSharedScopePrefix}};
  }
  // A peer this node was configured to connect to, whose certificate we have
  // not seen yet (it arrives with the first records): trusted by configuration
  // unless a certificate for it is known and no longer valid (revoked, expired).
  if (configured_keys_.count(key) != 0 && !trust_.knows_certificate_of(node)) return PeerGrant{{""}};
  return std::nullopt;
}

void NodeReplication::log_expiring() {
  for (const std::string& w : trust().expiring) {
    // Once per message: the day count in it changes daily, so it is repeated daily.
    if (warned_.insert(w).second) ctx_.log.warning("sync", w + "; renew it (wardnode cert request, then cert install)");
  }
}

TrustFigures NodeReplication::trust() const {
  std::vector<PeerStatus> peers = replicator_ ? replicator_->status() : std::vector<PeerStatus>{};
  std::lock_guard<std::mutex> lock(mu_);
  TrustFigures t;
  const std::uint64_t now = ctx_.clock.now_ms();
  constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
  auto days_left = [&](const CertificateInfo& c) {
    return (static_cast<std::int64_t>(c.not_after_ms) - static_cast<std::int64_t>(now)) / kDayMs;
  };
  if (auto own = trust_.valid_certificate(ctx_.node_id, now)) {
    t.own_certificate_days_left = days_left(*own);
    if (t.own_certificate_days_left < kCertificateWarnDays)
      t.expiring.push_back("this node's certificate expires in " + std::to_string(t.own_certificate_days_left) +
                           " day(s)");
  }
  std::set<PublicKey> seen;
  for (const PeerStatus& p : peers) {
    PublicKey node{};
    if (!p.connected || !from_hex(p.node_id_hex, node) || !seen.insert(node).second) continue;
    auto cert = trust_.valid_certificate(node, now);
    if (!cert || days_left(*cert) >= kCertificateWarnDays) continue;
    t.expiring.push_back("the certificate of peer " + p.node_id_hex.substr(0, 16) + " (office " + cert->office_code +
                         ") expires in " + std::to_string(days_left(*cert)) + " day(s)");
  }
  t.authorities = authorities_;
  t.certificates = trust_.certificate_count();
  t.revocations = revocations_;
  t.file_errors = file_errors_;
  auto own = trust_.valid_certificate(ctx_.node_id, ctx_.clock.now_ms());
  if (own) {
    t.own_certificate_valid = own->curve_public == own_curve();
    t.own_certificate = t.own_certificate_valid ? describe_certificate(*own)
                                                : "the certificate binds another transport key than " +
                                                      ctx_.config.transport_key_file;
  } else {
    t.own_certificate = "none valid (install one: wardnode cert request, then cert install; a certificate issued "
                        "by a district is valid once the district's own certificate is known)";
  }
  return t;
}

void NodeReplication::note_attachment(const Record& record) {
  Hash h{};
  if (from_hex(record.text("blob"), h)) referenced_.insert(h);
}

std::vector<Hash> NodeReplication::wanted_blobs() {
  std::vector<Hash> referenced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    referenced.assign(referenced_.begin(), referenced_.end());
  }
  std::vector<Hash> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hash& h : referenced) {
    // Blobs here for good leave the list (content-addressed: they never change).
    if (blobs_->has(h)) referenced_.erase(h);
    else out.push_back(h);
  }
  missing_ = out.size();
  return out;
}

std::size_t NodeReplication::blobs_missing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return missing_;
}

FetchResult NodeReplication::fetch(FetchRequest request) const {
  auto wait = std::chrono::milliseconds(ctx_.config.sync_fetch_wait_ms);
  std::future<FetchResult> f = replicator_->fetch(std::move(request), wait);
  // The session thread answers by the deadline; the slack only guards a stuck writer.
  if (f.wait_for(wait + std::chrono::seconds(2)) != std::future_status::ready) {
    FetchResult r;
    r.detail = "no answer from the replication thread";
    return r;
  }
  try {
    FetchResult r = f.get();
    if (r.outcome == FetchOutcome::kFound) {
      std::lock_guard<std::mutex> lock(refreshed_mu_);
      note_refreshed(r.id, std::chrono::steady_clock::now());
    }
    return r;
  } catch (const std::future_error&) {  // the replicator is stopping (broken promise)
    FetchResult r;
    r.detail = "replication is stopping";
    return r;
  }
}

bool NodeReplication::refresh_due(const RecordId& id) const {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(refreshed_mu_);
  auto it = refreshed_.find(id);
  if (it != refreshed_.end() && now - it->second < kPinnedRefreshEvery) return false;
  note_refreshed(id, now);  // now, not when it lands: a second reader does not ask too
  return true;
}

void NodeReplication::note_refreshed(const RecordId& id, std::chrono::steady_clock::time_point at) const {
  constexpr std::size_t kRememberedMax = 4096;
  if (refreshed_.size() >= kRememberedMax) {
    std::erase_if(refreshed_, [&](const auto& kv) { return at - kv.second >= kPinnedRefreshEvery; });
    if (refreshed_.size() >= kRememberedMax) refreshed_.clear();  // all recent: forget rather than grow
  }
  refreshed_[id] = at;
}

bool NodeReplication::outside_scopes(const std::string& scope) const {
  for (const std::string& p : scopes_) {
    if (scope.compare(0, p.size(), p) == 0) return false;
  }
  return true;
}

CurveKey NodeReplication::own_curve() const {
  CurveKey k{};
  (void)curve_key_from_z85(transport_public_, k);
  return k;
}

}  // namespace wardsync::node
