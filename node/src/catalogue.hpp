// The procedure catalogue (danh mục thủ tục hành chính): what a citizen can file at the
// one-stop desk, how long the law gives the office, which papers to bring and what it
// costs. Loaded from node/data/procedures.json, which seeds a node until the province's
// catalogue is synced down.
//
// Every entry is validated on load; one bad entry rejects the file with an error naming
// the file and the entry, because a wrong processing time would print wrong appointment
// dates on every receipt.
//
// Thread safety: Catalogue is immutable after loading; share it freely between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardsync/node/calendar.hpp"
#include "wardsync/sync/status.hpp"

namespace wardsync::node {

// How sure we are of a fact (see /work/shared/DOMAIN-FACTS.md): a clerk-facing screen
// can flag unverified facts, and a reviewer knows what to check first.
enum class SourceStatus { kVerified, kSecondary, kUnverified };
const char* source_status_name(SourceStatus status);

struct SourceStatuses {
  std::optional<SourceStatus> code;  // only for national DVC codes, not our own slugs
  SourceStatus processing_time = SourceStatus::kUnverified;
  SourceStatus fee = SourceStatus::kUnverified;
  SourceStatus components = SourceStatus::kUnverified;
};

// One paper in the dossier (thành phần hồ sơ).
struct Component {
  std::string name_vi;
  bool mandatory = true;
  std::string note_vi;                        // empty if none
  std::optional<SourceStatus> source_status;  // overrides the procedure's components status
};

enum class FeeKind {
  kFree,        // miễn
  kFixed,       // amount_vnd per unit_vi
  kPerPage,     // certified copies: by pages of the original, with a cap per copy
  kProvincial,  // set by the provincial People's Council (HĐND cấp tỉnh); varies
};
const char* fee_kind_name(FeeKind kind);

struct Fee {
  FeeKind kind = FeeKind::kProvincial;
  std::string description_vi;
  // kFixed
  std::int64_t amount_vnd = 0;
  std::string unit_vi;
  // kPerPage (TT 226/2016 Art 4: 2.000 đ/page, from page 3 1.000 đ/page, ≤ 200.000 đ/copy)
  std::int64_t per_page_vnd = 0;
  int reduced_from_page = 0;
  std::int64_t reduced_per_page_vnd = 0;
  std::int64_t max_per_copy_vnd = 0;
};

// The fee for `copies` certified copies of an original of `pages` pages under a
// kPerPage fee. kInvalidArgument for another kind, or pages/copies outside 1..10000.
[[nodiscard]] Result<std::int64_t> copy_fee_vnd(const Fee& fee, int pages, int copies);

struct Procedure {
  std::string code;  // national DVC code ("1.001193") or our stable slug ("ct-chu-ky")
  std::string name_vi;
  std::string name_en;
  std::string field_vi;  // lĩnh vực: "Hộ tịch", "Chứng thực"
  ProcessingTime processing_time;
  // Longer total time the law allows in a stated case (usually when verification is needed).
  std::optional<ProcessingTime> extended_processing_time;
  std::string extension_condition_vi;
  // "Received after 15:00 → next working day" applies (same-day procedures only).
  bool same_day_cutoff = false;
  std::vector<Component> components;
  Fee fee;
  std::string legal_basis;
  std::string notes_vi;
  SourceStatuses source_status;
};

class Catalogue {
 public:
  static constexpr std::uintmax_t kFileBytesMax = 4 * 1024 * 1024;
  static constexpr std::size_t kProceduresMax = 5000;  // a province lists ~2,000 TTHC in all
  static constexpr std::size_t kComponentsMax = 50;

  // kNotFound (missing file), kIo, kInvalidArgument (bad JSON or an invalid entry; the
  // message names the file and the entry, e.g. "procedures.json: procedures[3] (1.000881): ...").
  [[nodiscard]] static Result<Catalogue> load_file(const std::filesystem::path& path);
  [[nodiscard]] static Result<Catalogue> parse(std::string_view json_text,
                                               std::string_view source_name);

  const std::vector<Procedure>& procedures() const { return procedures_; }
  // nullptr if no procedure has this code. The pointer lives as long as the Catalogue.
  const Procedure* find(std::string_view code) const;

 private:
  Catalogue() = default;
  // parse() without its guard: a value Poco cannot convert (an integer beyond
  // 64 bits) throws here and becomes a kInvalidArgument in parse().
  static Result<Catalogue> parse_json(std::string_view json_text, const std::string& source);
  std::vector<Procedure> procedures_;  // file order
};

}  // namespace wardsync::node
