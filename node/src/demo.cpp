#include "demo.hpp"

#include <sodium.h>

#include <cstdio>
#include <deque>
#include <vector>

#include "domain/clerks.hpp"
#include "domain/dossiers.hpp"
#include "domain/kiosk.hpp"
#include "domain/ratings.hpp"
#include "domain/tickets.hpp"
#include "reader_pool.hpp"
#include "schema.hpp"

namespace wardsync::node {

namespace {

const char* kNames[] = {"Nguyễn Văn An",   "Trần Thị Bích",  "Lê Hoàng Nam",   "Phạm Minh Châu", "Đặng Thu Hà",
                        "Võ Quốc Bảo",     "Huỳnh Ngọc Lan", "Bùi Đức Thắng",  "Đỗ Thị Mai",     "Hồ Văn Phúc",
                        "Ngô Thanh Tùng",  "Dương Thị Hồng", "Lý Gia Huy",     "Phan Thị Yến",   "Trương Công Định",
                        "Đinh Khánh Linh", "Mai Xuân Trường", "Tạ Thị Ngọc Ánh", "Châu Minh Khoa", "Lâm Bảo Trân"};
const char* kStreets[] = {"Lê Lợi", "Nguyễn Huệ", "Pasteur", "Lý Tự Trọng", "Hàm Nghi", "Tôn Đức Thắng", "Đồng Khởi"};

std::string cccd_for(std::size_t i) {
  char buf[16];
  // 079 = born in TP.HCM; digit 4: 0/1 male/female 1900s, 2/3 2000s (DOMAIN-FACTS §4).
  std::snprintf(buf, sizeof buf, "079%01zu%02zu%06zu", (i % 4), (60 + i * 7) % 100, (123457 * (i + 1)) % 1000000);
  return buf;
}

NewDossier dossier_for(NodeContext& ctx, std::size_t i) {
  auto catalogue = ctx.catalogues.procedures();
  const auto& procs = catalogue->procedures();
  const Procedure& p = procs[i % procs.size()];
  NewDossier n;
  n.applicant.name = kNames[i % std::size(kNames)];
  n.applicant.cccd = cccd_for(i);
  char dob[16];
  std::snprintf(dob, sizeof dob, "%04zu-%02zu-%02zu", 1960 + (i * 7) % 45, 1 + i % 12, 1 + (i * 3) % 28);
  n.applicant.dob = dob;
  n.applicant.phone = "09" + std::to_string(10000000 + (i * 7919) % 89999999);
  n.applicant.address = "Số " + std::to_string(10 + i % 180) + " đường " + kStreets[i % std::size(kStreets)] +
                        ", Phường Bến Thành, Thành phố Hồ Chí Minh";
  n.procedure_code = p.code;
  n.channel = i % 5 == 0 ? "online" : (i % 7 == 0 ? "kiosk" : "counter");
  for (const auto& c : p.components)
    if (c.mandatory) n.components.push_back(c.name_vi);
  return n;
}

bool report(NodeContext& ctx, const DomainError& e, const char* what) {
  ctx.log.error("demo", std::string(what) + ": " + e.code + " " + e.message_en +
                            (e.fields.empty() ? "" : " (" + e.fields.front().field + ": " + e.fields.front().message_en + ")"));
  return false;
}

}  // namespace

bool seed_demo(NodeContext& ctx) {
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return false;
    if (!reader->list(kClerks, std::nullopt, 1).empty()) {
      ctx.log.info("demo", "demo data present; not seeding again");
      return true;
    }
  }
  struct C {
    const char* user;
    const char* name;
    const char* role;
  };
  const C clerks[] = {{"admin", "Quản trị CNTT Nguyễn Hải", "it_admin"},
                      {"lanhdao", "Phó Chủ tịch Trần Văn Hùng", "leader"},
                      {"chuyenvien", "Chuyên viên Lê Thị Thu", "specialist"},
                      {"chuyenvien2", "Chuyên viên Phạm Quang Vinh", "specialist"},
                      {"motcua", "Cán bộ một cửa Đặng Ngọc Anh", "clerk"},
                      {"motcua2", "Cán bộ một cửa Võ Minh Tâm", "clerk"}};
  for (const auto& c : clerks) {
    auto r = add_clerk(ctx, "demo", {c.user, c.name, c.role, kDemoPassword});
    if (!r.ok()) return report(ctx, r.error(), "clerk");
  }
  Actor desk{"", "motcua", "", Role::kClerk};
  Actor desk2{"", "motcua2", "", Role::kClerk};
  Actor spec{"", "chuyenvien", "", Role::kSpecialist};
  Actor spec2{"", "chuyenvien2", "", Role::kSpecialist};
  Actor lead{"", "lanhdao", "", Role::kLeader};
  std::int64_t now = now_seconds(ctx);
  // Five working days back, 9:00 + i*25 min each day.
  std::vector<Date> days;
  for (Date d = local_from_unix_seconds(now).date; days.size() < 5; d = add_days(d, -1)) {
    auto w = ctx.catalogues.calendar()->is_working_day(d);
    if (w.is_ok() && w.value()) days.push_back(d);
  }
  std::size_t i = 0;
  for (std::size_t di = days.size(); di-- > 0;) {
    bool today = di == 0;
    std::size_t per_day = today ? 6 : 10;
    for (std::size_t k = 0; k < per_day; ++k, ++i) {
      LocalDateTime at{days[di], 8 + static_cast<int>(k * 25) / 60, static_cast<int>(k * 25) % 60, 0};
      std::int64_t when = unix_seconds_from_local(at);
      if (today && when > now) when = now - static_cast<std::int64_t>((per_day - k) * 300);
      NewDossier n = dossier_for(ctx, i);
      n.received_unix_seconds = when;
      auto d = create_dossier(ctx, k % 2 ? desk2 : desk, n);
      if (!d.ok()) return report(ctx, d.error(), "dossier");
      std::string id = d.value().id;
      const Actor& s = i % 2 ? spec2 : spec;
      auto step = [&](const Actor& who, const char* action, const char* note) {
        auto r = transition_dossier(ctx, who, id, action, note);
        if (!r.ok()) report(ctx, r.error(), action);
        return r.ok();
      };
      // Older dossiers are further along; a mix of every state.
      std::size_t age = di;
      std::size_t mode = (i * 7) % 10;
      if (age == 0 && mode < 6) continue;  // today's: mostly just received
      if (mode == 6 && age == 3) {
        if (!step(desk, "cancel", "Người nộp rút hồ sơ")) return false;
        continue;
      }
      auto a = assign_dossier(ctx, desk, id, s.username);
      if (!a.ok()) return report(ctx, a.error(), "assign");
      if (!step(s, "start", "")) return false;
      if (mode == 1 && age >= 1) {
        if (!step(s, "request_supplement", "Thiếu bản sao giấy chứng sinh")) return false;
        continue;
      }
      if (mode == 2 && age >= 2) {
        auto ap = apologize(ctx, lead, id, format_date(add_days(days[0], 3 + static_cast<int>(i % 2))),
                            "Cần xác minh thông tin tại nơi đăng ký trước đây");
        if (!ap.ok()) report(ctx, ap.error(), "apology");
        continue;
      }
      if (age == 0 || mode == 3) continue;  // in progress
      if (!step(lead, mode == 4 ? "reject" : "approve", mode == 4 ? "Hồ sơ không đủ điều kiện theo quy định" : "")) return false;
      if (mode == 5) continue;  // decided, waiting to be returned
      if (!step(desk, "return", "")) return false;
      if (mode != 4 && i % 3 != 0) {
        NewRating rt{id, desk.username, i % 11 == 0 ? "unsatisfied" : (i % 4 == 0 ? "acceptable" : "satisfied"), ""};
        auto rr = add_rating(ctx, kiosk_actor(), rt);  // the citizen, at the kiosk
        if (!rr.ok()) return report(ctx, rr.error(), "rating");
      }
    }
  }
  // Today's queue at counters 1 and 2.
  for (int k = 0; k < 12; ++k) {
    auto t = issue_ticket(ctx, desk, k % 3 == 2 ? "2" : "1");
    if (!t.ok()) return report(ctx, t.error(), "ticket");
  }
  for (int k = 0; k < 4; ++k) {
    auto c = call_next(ctx, desk, "1");
    if (!c.ok()) return report(ctx, c.error(), "call");
    auto s = ticket_action(ctx, desk, c.value().id, k == 2 ? "skip" : "serve");
    if (!s.ok()) return report(ctx, s.error(), "serve");
  }
  auto c = call_next(ctx, desk, "1");
  if (!c.ok()) return report(ctx, c.error(), "call");
  auto v = kiosk_rate_visit(ctx, "1", 1, "satisfied");  // the first citizen of the day, at the kiosk
  if (!v.ok()) return report(ctx, v.error(), "rating");
  ctx.log.info("demo", "seeded " + std::to_string(i) + " dossiers, 12 tickets, 6 clerks");
  return true;
}

bool seed_bulk_dossiers(NodeContext& ctx, std::size_t count) {
  // Codes: one day per 2,000 dossiers going back from 40 days ago, so per-day
  // sequences stay at 4 digits and never meet the codes of the demo's recent
  // days or of today (bulk codes bypass the Sequencer to write fast).
  const std::size_t per_day = 2000;
  const std::size_t in_flight = 4000;
  std::int64_t now = now_seconds(ctx);
  Date today = local_from_unix_seconds(now).date;
  std::deque<std::future<Result<CommitInfo>>> pending;
  std::size_t done = 0;
  for (std::size_t i = 0; i < count; ++i) {
    Date day = add_days(today, -40 - static_cast<std::int64_t>(i / per_day));
    std::size_t seq = i % per_day + 1;
    NewDossier n = dossier_for(ctx, i);
    char code[64];
    std::snprintf(code, sizeof code, "%s-%02d%02d%02d-%d%04zu", ctx.config.office_code.c_str(), day.year % 100,
                  day.month, day.day, ctx.config.node_number, seq);
    LocalDateTime at{day, 9, static_cast<int>(seq % 60), 0};
    std::string received = iso_local(unix_seconds_from_local(at));
    Transaction txn("demo", ctx.config.scope);
    RecordWrite& w = txn.create(kDossiers);
    w.set_once("code", code)
        .set_once("lookup_code", "DEMO" + std::to_string(i % 100))
        .set("applicant_name", n.applicant.name + " " + std::to_string(i))
        .set("cccd", n.applicant.cccd)
        .set("dob", n.applicant.dob)
        .set("phone", n.applicant.phone)
        .set("address", n.applicant.address)
        .set("procedure_code", n.procedure_code)
        .set("channel", n.channel)
        .set_once("received_at", received)
        .set_once("received_day", format_date(day))
        .set_once("received_by", "motcua")
        .set_once("appointment", format_date(day) + "T17:00:00+07:00")
        .set_once("due_day", format_date(day))
        .set_rank("status", Rank{1, kStageReceived, false, "received"})
        .append("history", "received\t");
    pending.push_back(ctx.writer.commit(std::move(txn)));
    while (pending.size() >= in_flight || (i + 1 == count && !pending.empty())) {
      auto r = pending.front().get();
      pending.pop_front();
      if (!r.is_ok()) {
        ctx.log.error("demo", "bulk commit: " + r.status().to_string());
        return false;
      }
      if (++done % 100000 == 0) ctx.log.info("demo", "bulk: " + std::to_string(done) + " dossiers");
    }
  }
  ctx.log.info("demo", "bulk: wrote " + std::to_string(done) + " dossiers");
  return true;
}

}  // namespace wardsync::node
