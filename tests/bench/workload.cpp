// The benchmark's changes: dossier-like records written by one ward office
// through the Store's own local commit path, so bodies, signatures, links and
// lww bases are exactly what a real node produces.
#include <chrono>
#include <cstdio>
#include <random>

#include "bench.hpp"

namespace wardsync::bench {

namespace {

const char* const kFamily[] = {"Nguyễn", "Trần", "Lê",  "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
                               "Võ",     "Đặng", "Bùi", "Đỗ",   "Hồ",    "Ngô",   "Dương", "Lý"};
const char* const kMiddle[] = {"Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thị Thu", "Hoài"};
const char* const kGiven[] = {"An",   "Bình",  "Chi",   "Dũng", "Hà",   "Hạnh", "Hùng",  "Lan",
                              "Linh", "Mai",   "Nam",   "Phương", "Quân", "Thảo", "Trang", "Tuấn",
                              "Yến",  "Khánh", "Nhung", "Sơn"};
const char* const kStreets[] = {"Nguyễn Trãi", "Lê Văn Sỹ", "Trần Hưng Đạo", "Cách Mạng Tháng Tám",
                                "Phan Đình Phùng", "Huỳnh Văn Bánh", "Nguyễn Văn Trỗi", "Hoàng Văn Thụ"};
const char* const kWards[] = {"phường 1", "phường 7", "phường 12", "phường 15", "phường 17"};
// Codes of the national catalogue of administrative procedures.
const char* const kProcedures[] = {"1.001193", "1.000894", "2.000635", "1.004227", "1.003583",
                                   "2.002516", "1.001022", "1.000656"};
// Signed-in clerks' user ids.
const char* const kClerks[] = {"clerk-0417", "clerk-0422", "clerk-0508", "clerk-0613"};

template <typename T, std::size_t N>
const T& pick(std::mt19937_64& rng, const T (&items)[N]) {
  return items[rng() % N];
}

std::string applicant_name(std::mt19937_64& rng) {
  return std::string(pick(rng, kFamily)) + " " + pick(rng, kMiddle) + " " + pick(rng, kGiven);
}

// CCCD: 3-digit province code, gender/century digit, 2-digit birth year, 6 digits.
std::string cccd(std::mt19937_64& rng) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "079%01u%02u%06u", static_cast<unsigned>(rng() % 4),
                static_cast<unsigned>(rng() % 100), static_cast<unsigned>(rng() % 1000000));
  return buf;
}

std::string phone(std::mt19937_64& rng) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "09%08u", static_cast<unsigned>(rng() % 100000000));
  return buf;
}

std::string address(std::mt19937_64& rng) {
  return "Số " + std::to_string(1 + rng() % 300) + "/" + std::to_string(1 + rng() % 40) + " " +
         pick(rng, kStreets) + ", " + pick(rng, kWards) + ", Phú Nhuận";
}

}  // namespace

Schema dossier_schema(bool index_cccd, bool searchable) {
  Schema schema(1);
  Status s = schema.add(CollectionSpec{kCollection,
                                       {
                                           {"procedure", MergeType::kLww, false},
                                           {"applicant_name", MergeType::kLww, false, searchable},
                                           {"cccd", MergeType::kLww, index_cccd},
                                           {"phone", MergeType::kLww, false},
                                           {"address", MergeType::kLww, false, searchable},
                                       }});
  if (!s.is_ok()) {
    std::fprintf(stderr, "bench schema: %s\n", s.to_string().c_str());
    std::abort();
  }
  return schema;
}

bool generate_workload(std::size_t n, std::size_t group, const Schema& schema,
                       const std::filesystem::path& db_path, Workload& out, std::string& error) {
  auto start = std::chrono::steady_clock::now();
  std::array<std::uint8_t, kSeedBytes> seed{};
  seed.fill(0x5e);  // the sending ward office
  Identity sender_id = Identity::from_seed(seed);
  SystemClock wall;
  StoreOptions options;
  options.path = db_path.string();
  options.durable = false;
  auto opened = Store::open(options, schema, sender_id, wall);
  if (!opened.is_ok()) {
    error = "sender store: " + opened.status().to_string();
    return false;
  }
  Store& sender = *opened.value();

  std::mt19937_64 rng(20261122);
  std::vector<RecordId> created;
  created.reserve(n);
  std::vector<Transaction> txns;
  std::vector<const Transaction*> ptrs;
  out = Workload{};
  std::size_t done = 0;
  while (done < n) {
    std::size_t count = std::min(group, n - done);
    txns.clear();
    std::vector<bool> is_create;
    for (std::size_t i = 0; i < count; ++i) {
      Transaction& t = txns.emplace_back(pick(rng, kClerks), kScope);
      // About one change in seven completes or corrects an earlier dossier (a
      // phone number, an address, a misspelt name); most touch recent dossiers.
      bool update = !created.empty() && rng() % 7 == 0;
      is_create.push_back(!update);
      if (!update) {
        t.create(kCollection)
            .set("procedure", pick(rng, kProcedures))
            .set("applicant_name", applicant_name(rng))
            .set("cccd", cccd(rng))
            .set("address", address(rng));
        continue;
      }
      std::size_t window = std::min<std::size_t>(created.size(), 2000);
      std::size_t idx = rng() % 10 < 7 ? created.size() - 1 - rng() % window : rng() % created.size();
      RecordWrite& w = t.update(kCollection, created[idx]);
      switch (rng() % 4) {
        case 0: w.set("phone", phone(rng)); break;
        case 1: w.set("address", address(rng)); break;
        case 2: w.set("applicant_name", applicant_name(rng)); break;
        default: w.set("address", address(rng)).set("phone", phone(rng)); break;
      }
    }
    ptrs.clear();
    for (const auto& t : txns) ptrs.push_back(&t);
    auto results = sender.commit_group(ptrs);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i].is_ok()) {
        error = "sender commit: " + results[i].status().to_string();
        return false;
      }
      if (is_create[i]) {
        created.push_back(results[i].value().records.front());
        ++out.creates;
      } else {
        ++out.updates;
      }
    }
    done += count;
  }

  out.stream = StreamKey{sender_id.public_key(), kScope};
  out.changes = sender.stream_changes(out.stream, 0, n + 1);
  if (out.changes.size() != n) {
    error = "sender stream holds " + std::to_string(out.changes.size()) + " changes, expected " +
            std::to_string(n);
    return false;
  }
  out.min_body = n > 0 ? out.changes.front().body.size() : 0;
  for (const auto& c : out.changes) {
    out.body_bytes += c.body.size();
    out.min_body = std::min(out.min_body, c.body.size());
    out.max_body = std::max(out.max_body, c.body.size());
  }
  out.sender_digest = sender.digest();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

}  // namespace wardsync::bench
